"""What the DCP engine records per node: a :class:`Step`, and a :class:`Failure` per open question.

These are the engine's data, kept apart from the walk (:mod:`.dcp`) and from the rules
(:mod:`.dcp_generic`, :mod:`.patterns`, :mod:`.patterns_rewrites`, :mod:`.piecewise`) so that
every rule module reads the same two types without importing the engine that calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from convexcheck.symbolic.interval import Interval
from convexcheck.symbolic.ir import Node
from convexcheck.symbolic.printer import to_str

QUESTIONS = ("convex", "concave")


class Failure:
    """Why a question could not be settled at a node; ``cause`` is the child to look at next.

    The sentence is built lazily (``text`` may be a zero-argument callable): a large convex sum
    has a "not concave" failure at every term, and formatting them all eagerly would cost more
    than the analysis itself.
    """

    __slots__ = ("_text", "cause")

    def __init__(self, text: str | Callable[[], str], cause: Node | None = None) -> None:
        self._text = text
        self.cause = cause

    @property
    def text(self) -> str:
        if callable(self._text):
            self._text = self._text()
        return self._text

    def __repr__(self) -> str:
        return f"Failure({self.text!r})"


@dataclass(eq=False, slots=True)
class Step:
    node: Node
    range: Interval | None
    convex: bool
    concave: bool
    rule: str
    atom: str | None = None
    atom_curvature: str | None = None
    monotonicity: tuple[str, ...] = ()
    children: tuple[Node, ...] = ()
    failures: dict[str, Failure] = field(default_factory=dict)
    detail: dict[str, Any] | None = None
    # set by a pattern whose failure explains more than the generic rule's (an indefinite
    # quadratic form is a more precise reason than "a product of non-constant factors")
    specific: bool = False

    @property
    def curvature(self) -> str:
        if self.convex and self.concave:
            return "constant" if self.node.is_const else "affine"
        if self.convex:
            return "convex"
        if self.concave:
            return "concave"
        return "unknown"

    def proves(self, question: str) -> bool:
        return self.convex if question == "convex" else self.concave

    @property
    def score(self) -> int:
        return int(self.convex) + int(self.concave)


def curvature_words(step: Step) -> str:
    """``convex``, ``affine``... or ``of unknown curvature`` (for sentences about ``step``)."""
    c = step.curvature
    return "of unknown curvature" if c == "unknown" else c


def short(node: Node) -> str:
    """A node's text cut to 80 characters, as failure sentences quote it."""
    return to_str(node, limit=80)


def article(word: str) -> str:
    """'a' or 'an' before ``word`` (failure sentences say "an affine argument")."""
    return "an" if word[:1].lower() in "aeiou" else "a"


__all__ = ["QUESTIONS", "Failure", "Step", "article", "curvature_words", "short"]
