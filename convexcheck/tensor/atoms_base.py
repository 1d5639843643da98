"""What every tensor atom row is made of: the row type, the registry, and the helpers rows share.

A :class:`Row` declares, for its operation: the shape rule, the atom's own curvature on the
argument ranges, its monotonicity in each argument *per entry* (it may depend on that entry's
range: ``abs`` is increasing where its argument is nonnegative), the argument domain it needs, a
rigorous interval enclosure of its value (used both for ranges over the domain and for checking
a witness at three points), and a batched NumPy evaluation (used by the witness search).

The row modules (:mod:`.atoms_affine`, :mod:`.atoms_structural`, :mod:`.atoms_nonlinear`,
:mod:`.atoms_reductions`, :mod:`.atoms_matrix`) import this module and register into
:data:`ROWS`; none imports another row module or the table :mod:`convexcheck.tensor.atoms`,
which imports them all, so the rows' dependencies run one way.

Batched evaluation: every array carries a leading batch axis (``(B, *shape)``), so a Jensen
search evaluates thousands of points in one NumPy call per node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from convexcheck.errors import ConvexcheckInputError
from convexcheck.tensor import intervals as iv
from convexcheck.tensor.elementwise import DEC, INC
from convexcheck.tensor.expr import TExpr
from convexcheck.tensor.intervals import IArray

BOTH = INC | DEC  # constant in that entry (a zero coefficient)

Curvature = tuple[bool, bool, str]  # (convex?, concave?, why not, when one is False)


@dataclass(frozen=True)
class Row:
    """Facts about one operation (see the module docstring)."""

    name: str
    family: str  # affine | elementwise | reduction | matrix | product
    shape: Callable[[list[tuple[int, ...]], tuple], tuple[int, ...]]
    curvature: Callable[[TExpr, list[IArray]], Curvature]
    monotonicity: Callable[[TExpr, int, list[IArray]], np.ndarray]
    interval: Callable[[TExpr, list[IArray]], IArray]
    numpy: Callable[[TExpr, list[np.ndarray]], np.ndarray]
    domain: Callable[[TExpr, list[IArray]], str | None] = lambda node, ranges: None
    cvxpy: str = ""
    description: str = ""
    # CVXPY's convention for atoms with a domain (log, sqrt, entr, quad_over_lin, log_det...):
    # the domain is part of the function, which is +inf (convex atom) or -inf (concave atom)
    # outside it. ``arg_domain(node, i)`` is argument i's domain: ``(lo, open)`` for the
    # half-line above lo, "psd" for the PSD cone, or None where argument i is unrestricted.
    arg_domain: Callable[[TExpr, int], Any] | None = None


ROWS: dict[str, Row] = {}


def register(row: Row) -> Row:
    ROWS[row.name] = row
    return row


def constant_range(value: np.ndarray) -> IArray:
    """The point enclosure of a constant, sharing its (read-only) data instead of copying it:
    a 2,000 x 10,000 data matrix would otherwise be copied twice per analysis."""
    out = object.__new__(IArray)
    closed = np.broadcast_to(np.False_, value.shape)
    out.lo = value  # type: ignore[misc]
    out.hi = value  # type: ignore[misc]
    out.lo_open = closed  # type: ignore[misc]
    out.hi_open = closed  # type: ignore[misc]
    return out


# ---- helpers shared by the rows ----------------------------------------------------------------
AFFINE: Curvature = (True, True, "")
CONVEX: Curvature = (True, False, "")
CONCAVE: Curvature = (False, True, "")


def affine_curvature(node: TExpr, ranges: list[IArray]) -> Curvature:
    """A linear map with constant coefficients is affine when at most one factor varies."""
    if node.op in ("add", "concatenate"):
        return AFFINE
    varying = [a for a in node.args if a.op != "constant" and not constant_tree(a)]
    if len(varying) <= 1:
        return AFFINE
    return (False, False, f"{node.op} of two non-constant expressions is not a DCP composition")


_CONSTANT_TREES: dict[int, tuple[TExpr, bool]] = {}


def constant_tree(node: TExpr) -> bool:
    """Whether no variable occurs below ``node``: iterative (a chain of 1,000 negations is a
    deep tree) and memoised (cleared when a check ends)."""
    hit = _CONSTANT_TREES.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    stack, seen, found = [node], set(), False
    while stack and not found:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        known = _CONSTANT_TREES.get(id(n))
        if known is not None and known[0] is n:
            found = not known[1]
            continue
        found = n.op == "variable"
        stack.extend(n.args)
    if len(_CONSTANT_TREES) > 1_000_000:
        _CONSTANT_TREES.clear()
    _CONSTANT_TREES[id(node)] = (node, not found)
    return not found


def increasing(node: TExpr, i: int, ranges: list[IArray]) -> np.ndarray:
    return np.full(node.args[i].shape, INC, dtype=np.int8)


def decreasing(node: TExpr, i: int, ranges: list[IArray]) -> np.ndarray:
    return np.full(node.args[i].shape, DEC, dtype=np.int8)


def sign_bits(r: IArray) -> np.ndarray:
    """Per entry: INC where provably >= 0, DEC where <= 0, BOTH where exactly 0, else 0."""
    nonneg = r.lo >= 0
    nonpos = r.hi <= 0
    return (np.where(nonneg, INC, 0) | np.where(nonpos, DEC, 0)).astype(np.int8)


def reduce_bits(bits: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Fold per-output-entry bits onto an argument broadcast into the output: an argument entry
    keeps a bit only if every output entry it feeds has it."""
    bits = np.asarray(bits, dtype=np.int8)
    if bits.shape == tuple(shape):
        return bits
    lead = bits.ndim - len(shape)
    if lead > 0:
        bits = np.bitwise_and.reduce(bits, axis=tuple(range(lead))) if bits.size else bits
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and bits.shape[i] != 1)
    if axes:
        bits = np.bitwise_and.reduce(bits, axis=axes, keepdims=True)
    return np.broadcast_to(bits, shape).astype(np.int8)


def align(node: TExpr, xs: list[np.ndarray]) -> list[np.ndarray]:
    """Batched arguments of a broadcasting op, each reshaped to ``(B, 1.., *shape)`` so that
    NumPy broadcasts entry axes with entry axes; plain right-aligned broadcasting would pair
    the batch axis of a vector with the rows of a matrix."""
    out = []
    rank = len(node.shape)
    for x, arg in zip(xs, node.args):
        k = rank - len(arg.shape)
        out.append(x.reshape(x.shape[:1] + (1,) * k + x.shape[1:]) if k > 0 else x)
    return out


def batch_axis(axis: int | None, ndim: int) -> int | tuple[int, ...]:
    """An axis of the unbatched array as an axis of the batched one."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    return (axis % ndim) + 1


def interval_matmul(a: IArray, b: IArray) -> IArray:
    """``a @ b`` for two interval operands, as a sum of elementwise products (small sizes)."""
    if a.ndim == 1 and b.ndim == 1:
        return iv.sum(iv.mul(a, b))
    if a.ndim == 1:
        a2 = a.reshape((1,) + a.shape)
        return interval_matmul(a2, b).reshape((b.shape[1],))
    if b.ndim == 1:
        b2 = b.reshape(b.shape + (1,))
        return interval_matmul(a, b2).reshape((a.shape[0],))
    m, k = a.shape
    _, n = b.shape
    if m * k * n > 5_000_000:
        raise ConvexcheckInputError(
            "a product of two non-constant matrices this large is not supported"
        )
    prod = iv.mul(
        a.reshape((m, k, 1)).broadcast_to((m, k, n)), b.reshape((1, k, n)).broadcast_to((m, k, n))
    )
    return iv.sum(prod, axis=1)


def clear_caches() -> None:
    """Forget the memo of constant subtrees (when a check ends: ids may be reused)."""
    _CONSTANT_TREES.clear()


__all__ = [
    "AFFINE",
    "BOTH",
    "CONCAVE",
    "CONVEX",
    "ROWS",
    "Curvature",
    "Row",
    "affine_curvature",
    "align",
    "batch_axis",
    "clear_caches",
    "constant_range",
    "constant_tree",
    "decreasing",
    "increasing",
    "interval_matmul",
    "reduce_bits",
    "register",
    "sign_bits",
]
