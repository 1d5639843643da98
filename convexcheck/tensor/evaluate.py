"""Evaluating a tensor expression: batched float64 for the search, rigorous for the verdict.

:class:`Program` is the expression compiled once into a flat list of instructions (children
before parents, constants pre-loaded), so the Jensen search evaluates thousands of points per
NumPy call per node instead of re-walking the tree for every point. Every value carries a
leading batch axis (size ``B``, or 1 for constants, which NumPy broadcasting pairs with ``B``).

:func:`enclose_at` evaluates the same tree at one point with the rows' rigorous interval
enclosures (and :mod:`convexcheck.tensor.matrix_points` for eigenvalue atoms), checking every
row's domain on the way: this is what a witness must pass before it is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from convexcheck.tensor import atoms_nonlinear  # noqa: F401  (registers the nonlinear rows)
from convexcheck.tensor.atoms import ROWS, Row, constant_range
from convexcheck.tensor.expr import TExpr, postorder
from convexcheck.tensor.intervals import IArray


@dataclass(frozen=True)
class Instruction:
    node: TExpr
    row: Row | None
    args: tuple[int, ...]


class Program:
    """A tensor expression compiled for batched evaluation."""

    def __init__(self, root: TExpr) -> None:
        self.root = root
        order = list(postorder(root))
        self.index = {id(n): i for i, n in enumerate(order)}
        self.code = [
            Instruction(
                n,
                None if n.op in ("variable", "constant") else ROWS[n.op],
                tuple(self.index[id(a)] for a in n.args),
            )
            for n in order
        ]
        self.constants = {
            i: np.asarray(ins.node.value)[None]
            for i, ins in enumerate(self.code)
            if ins.node.op == "constant"
        }
        self.variables = {
            ins.node.variable.name: i
            for i, ins in enumerate(self.code)
            if ins.node.op == "variable"  # type: ignore[union-attr]
        }
        self.evaluations = 0  # points evaluated, for the effort counts in the evidence

    def root_nodes(self) -> list[TExpr]:
        """Every node of the program (for sizing batches by the largest value)."""
        return [ins.node for ins in self.code]

    def __call__(self, points: Mapping[str, np.ndarray]) -> np.ndarray:
        """``f`` at a batch: ``points[name]`` has shape ``(B, *shape)``; returns shape
        ``(B, *f.shape)`` (NaN where the value is undefined or not finite)."""
        values: list[np.ndarray | None] = [None] * len(self.code)
        batch = 1
        for name, i in self.variables.items():
            arr = np.asarray(points[name], dtype=np.float64)
            values[i] = arr
            batch = max(batch, arr.shape[0])
        for i, arr in self.constants.items():
            values[i] = arr
        with np.errstate(all="ignore"):
            for i, ins in enumerate(self.code):
                if ins.row is None:
                    continue
                values[i] = ins.row.numpy(ins.node, [values[j] for j in ins.args])  # type: ignore[misc]
        out = np.asarray(values[-1], dtype=np.float64)
        out = np.broadcast_to(out, (batch,) + self.root.shape).astype(np.float64)
        self.evaluations += batch
        return np.where(np.isfinite(out), out, np.nan)


@dataclass(frozen=True)
class Enclosure:
    """The rigorous value of the expression at one point, or why it is not defined there."""

    value: IArray | None
    undefined: str | None = None


def enclose_at(root: TExpr, point: Mapping[str, np.ndarray]) -> Enclosure:
    """A rigorous enclosure of ``f(point)``; ``undefined`` names the first row whose domain the
    point leaves (the enclosure is then meaningless and ``value`` is ``None``)."""
    from convexcheck.tensor.matrix_points import MATRIX_ROWS, enclose_matrix_atom

    ranges: dict[int, IArray] = {}
    for node in postorder(root):
        if node.op == "variable":
            info = node.variable
            assert info is not None
            value = np.asarray(point[info.name], dtype=np.float64).reshape(node.shape)
            box = IArray(info.lo, info.hi, info.lo_open, info.hi_open)
            if not np.all(box.contains(value)):
                return Enclosure(None, f"the point leaves the domain of {info.name}")
            ranges[id(node)] = IArray.point(value)
            continue
        if node.op == "constant":
            ranges[id(node)] = constant_range(node.value)
            continue
        row = ROWS[node.op]
        args = [ranges[id(a)] for a in node.args]
        why = row.domain(node, args)
        if why:
            return Enclosure(None, why)
        if node.op in MATRIX_ROWS:
            out, why = enclose_matrix_atom(node, args)
            if out is None:
                return Enclosure(None, why)
            ranges[id(node)] = out
        else:
            ranges[id(node)] = row.interval(node, args)
    return Enclosure(ranges[id(root)])
