"""Iterative walks over expression trees (trees may be 10^5 nodes wide or deep).

Apart from :mod:`convexcheck.symbolic.ir` so that the printer, which the tree's ``__str__``
calls, can walk a tree without importing the tree module back (no import cycle). The walk
needs nothing of a node but its ``args``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convexcheck.symbolic.ir import Node


def postorder(root: Node) -> Iterator[Node]:
    """Each distinct node once, children before parents."""
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in seen:
            continue
        if expanded or not node.args:
            seen.add(id(node))
            yield node
            continue
        stack.append((node, True))
        for child in reversed(node.args):
            if id(child) not in seen:
                stack.append((child, False))
