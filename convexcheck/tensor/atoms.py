"""The tensor atom table: one row of facts per operation, and nothing else.

A row declares, for its operation: the shape rule, the atom's own curvature on the argument
ranges, its monotonicity in each argument *per entry* (it may depend on that entry's range:
``abs`` is increasing where its argument is nonnegative), the argument domain it needs, a
rigorous interval enclosure of its value (used both for ranges over the domain and for checking
a witness at three points), and a batched NumPy evaluation (used by the witness search). The
composition rule that combines these facts is written once, in :mod:`convexcheck.tensor.dcp`,
and ``tests/tensor/test_tensor_atoms.py`` checks every row against independent numerics.

This module holds the row type and the arithmetic affine rows (add, neg, multiply, divide,
matmul, sum); the structural rows live in :mod:`~convexcheck.tensor.atoms_structural`, the
elementwise ones in :mod:`~convexcheck.tensor.atoms_nonlinear`, the reductions in
:mod:`~convexcheck.tensor.atoms_reductions` and the matrix atoms in
:mod:`~convexcheck.tensor.atoms_matrix`; all register into the same :data:`ROWS`.

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
from convexcheck.tensor.expr import TExpr, broadcast_shapes, matmul_shape, reduced_shape
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


def make(op: str, args: list[TExpr] | tuple[TExpr, ...], params: tuple = ()) -> TExpr:
    """Build a node, applying the row's shape rule (raises a one-line input error)."""
    row = ROWS.get(op)
    if row is None:
        raise ConvexcheckInputError(f"unknown tensor operation {op!r}")
    args = tuple(args)
    _check_arguments(op, row, args, tuple(params))
    try:
        shape = row.shape([a.shape for a in args], params)
    except ConvexcheckInputError:
        raise
    except (IndexError, TypeError, ValueError, KeyError) as exc:
        raise ConvexcheckInputError(f"{op}: bad arguments or parameters ({exc})") from None
    return TExpr(op, args, shape, params)


# how many arguments each row takes (None: one or more)
_ARITY = {
    "neg": 1, "sum": 1, "cumsum": 1, "index": 1, "reshape": 1, "transpose": 1, "permute": 1,
    "promote": 1,
    "diag_vec": 1, "diag_mat": 1, "trace": 1, "exp": 1, "log": 1, "abs": 1, "logistic": 1,
    "xlogx": 1, "xexp": 1, "power": 1, "huber": 1, "log_sum_exp": 1, "max": 1, "min": 1,
    "sum_largest": 1, "pnorm": 1, "geo_mean": 1, "sum_squares": 1, "lambda_max": 1,
    "lambda_sum_largest": 1, "log_det": 1, "tr_inv": 1, "sigma_max": 1, "normNuc": 1,
    "multiply": 2, "divide": 2, "matmul": 2, "conv": 2, "kron": 2, "kl_div": 2, "rel_entr": 2,
    "quad_over_lin": 2, "quad_form": 2, "matrix_frac": 2,
}  # fmt: skip


def _check_arguments(op: str, row: Row, args: tuple[TExpr, ...], params: tuple) -> None:
    """Argument counts, parameters and the shapes a row's shape rule does not see, as one-line
    input errors (a tree built with ``make`` is refused here, not half-judged later)."""
    n = _ARITY.get(op)
    if (n is not None and len(args) != n) or (n is None and not args):
        want = f"{n} argument{'s' if n != 1 else ''}" if n is not None else "arguments"
        raise ConvexcheckInputError(f"{op} takes {want}, got {len(args)}")
    if op in ("power", "huber", "sum_largest", "lambda_sum_largest", "geo_mean") and not params:
        raise ConvexcheckInputError(f"{op} needs its parameter")
    shapes = [a.shape for a in args]
    if op == "quad_form":
        x, p = shapes
        if len(x) != 1 or p != (x[0], x[0]):
            raise ConvexcheckInputError(
                f"quad_form needs x of shape (n,) and P (n, n), got {x}, {p}"
            )
    if op == "matrix_frac":
        x, p = shapes
        if len(p) != 2 or p[0] != p[1] or not x or x[0] != p[0] or len(x) > 2:
            raise ConvexcheckInputError(
                f"matrix_frac needs X with {p[0] if p else '?'} rows and a square P, got {x}, {p}"
            )
    if op == "quad_over_lin" and shapes[1] != ():
        raise ConvexcheckInputError(
            f"quad_over_lin needs a scalar denominator, got shape {shapes[1]}"
        )
    if op == "geo_mean" and len(params[0]) != args[0].size:
        raise ConvexcheckInputError(
            f"geo_mean has {len(params[0])} weights for {args[0].size} entries"
        )
    if op == "conv" and (len(shapes[0]) > 1 or len(shapes[1]) > 1):
        raise ConvexcheckInputError("conv takes two vectors")
    if op == "diag_vec" and len(shapes[0]) != 1:
        raise ConvexcheckInputError(f"diag_vec takes a vector, got shape {shapes[0]}")
    if op == "cumsum":
        axis = params[0] if params else 0
        if not -max(1, len(shapes[0])) <= int(axis) < max(1, len(shapes[0])):
            raise ConvexcheckInputError(f"cumsum axis {axis} is out of range for shape {shapes[0]}")
    if op == "pnorm" and len(params) > 2 and params[2] == 0:
        raise ConvexcheckInputError("pnorm needs p != 0")


# ---- helpers shared by the rows ----------------------------------------------------------------
AFFINE: Curvature = (True, True, "")


def affine_curvature(node: TExpr, ranges: list[IArray]) -> Curvature:
    """A linear map with constant coefficients is affine when at most one factor varies."""
    if node.op in ("add", "concatenate"):
        return AFFINE
    varying = [a for a in node.args if a.op != "constant" and not _constant_tree(a)]
    if len(varying) <= 1:
        return AFFINE
    return (False, False, f"{node.op} of two non-constant expressions is not a DCP composition")


_CONSTANT_TREES: dict[int, tuple[TExpr, bool]] = {}


def _constant_tree(node: TExpr) -> bool:
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


# ---- affine rows -------------------------------------------------------------------------------
def _add_interval(node: TExpr, r: list[IArray]) -> IArray:
    out = r[0].broadcast_to(node.shape)
    for x in r[1:]:
        out = iv.add(out, x.broadcast_to(node.shape))
    return out


def _add_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    xs = align(node, xs)
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def _add_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    return increasing(node, i, r)


register(
    Row(
        "add",
        "affine",
        lambda shapes, params: broadcast_shapes(*shapes),
        affine_curvature,
        _add_mono,
        _add_interval,
        _add_numpy,
        cvxpy="+",
        description="sum of arguments (NumPy broadcasting)",
    )
)
register(
    Row(
        "neg",
        "affine",
        lambda shapes, params: shapes[0],
        affine_curvature,
        decreasing,
        lambda node, r: iv.neg(r[0]),
        lambda node, xs: -xs[0],
        cvxpy="-",
    )
)


def _const_sign_bits(c: IArray) -> np.ndarray:
    """Monotonicity of ``c*u`` in ``u`` per entry, from the sign of the constant ``c``."""
    return sign_bits(c)


def _multiply_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    other = r[1 - i].broadcast_to(node.shape)
    return reduce_bits(_const_sign_bits(other), node.args[i].shape)


register(
    Row(
        "multiply",
        "affine",
        lambda shapes, params: broadcast_shapes(*shapes),
        affine_curvature,
        _multiply_mono,
        lambda node, r: iv.mul(r[0].broadcast_to(node.shape), r[1].broadcast_to(node.shape)),
        lambda node, xs: _binary(node, xs, np.multiply),
        cvxpy="multiply",
        description="elementwise product (affine when one factor is constant)",
    )
)


def _binary(node: TExpr, xs: list[np.ndarray], op) -> np.ndarray:
    a, b = align(node, xs)
    return op(a, b)


def _divide_curvature(node: TExpr, r: list[IArray]) -> Curvature:
    if _constant_tree(node.args[1]):
        return AFFINE
    return (False, False, "division by a non-constant expression is not a DCP composition")


def _divide_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    if i == 1:
        return np.zeros(node.args[1].shape, dtype=np.int8)
    den = r[1].broadcast_to(node.shape)
    positive = den.positive()
    negative = den.negative()
    bits = np.where(positive, INC, 0) | np.where(negative, DEC, 0)
    return reduce_bits(bits, node.args[0].shape)


def _divide_interval(node: TExpr, r: list[IArray]) -> IArray:
    inv = iv.reciprocal(r[1].broadcast_to(node.shape))
    return iv.mul(r[0].broadcast_to(node.shape), inv)


def _divide_domain(node: TExpr, r: list[IArray]) -> str | None:
    den = r[1]
    if np.all(den.positive() | den.negative()):
        return None
    return "a denominator may be 0"


register(
    Row(
        "divide",
        "affine",
        lambda shapes, params: broadcast_shapes(*shapes),
        _divide_curvature,
        _divide_mono,
        _divide_interval,
        lambda node, xs: _binary(node, xs, np.divide),
        _divide_domain,
        cvxpy="/",
    )
)


_SIGN_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _constant_sign_bits(node: TExpr, r: IArray) -> np.ndarray:
    """Sign bits of a constant operand, computed once per data array (a large ``A`` is
    reused by the monotonicity and range rules of every node it appears in)."""
    if node.op != "constant" or node.value is None or node.size < 10_000:
        return sign_bits(r)
    hit = _SIGN_CACHE.get(id(node.value))
    if hit is None or hit[0] is not node.value:
        if len(_SIGN_CACHE) > 16:
            _SIGN_CACHE.clear()
        hit = _SIGN_CACHE[id(node.value)] = (node.value, sign_bits(r))
    return hit[1]


def _matmul_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    """``A @ u`` is nondecreasing in entry ``u_j`` if every coefficient multiplying it is >= 0."""
    other = _constant_sign_bits(node.args[1 - i], r[1 - i])
    shape = node.args[i].shape
    if not node.args[1 - i].shape:  # a scalar operand: a scaling
        return np.full(shape, int(np.bitwise_and.reduce(np.ravel(other))), dtype=np.int8)
    if i == 1:  # u on the right: entry u[k, j] meets A[:, k] (u 2-D) or u[k] meets A[..., k]
        col = np.bitwise_and.reduce(other.reshape(-1, other.shape[-1]), axis=0)  # per k
        return np.broadcast_to(col.reshape((-1,) + (1,) * (len(shape) - 1)), shape).astype(np.int8)
    # u on the left: entry u[i, k] (or u[k]) meets B[k, :] (or B[k])
    row = other if other.ndim == 1 else np.bitwise_and.reduce(other, axis=1)
    return np.broadcast_to(row, shape).astype(np.int8)


def _unbounded(r: IArray) -> bool:
    return bool(np.all(r.lo == -np.inf)) and bool(np.all(r.hi == np.inf))


def _matmul_interval(node: TExpr, r: list[IArray]) -> IArray:
    a, b = node.args
    if a.op == "constant" and a.value is not None and a.value.ndim == 2 and _unbounded(r[1]):
        # the common case of a free variable: an output entry is unbounded unless its row of
        # A is all zeros (then it is exactly 0)
        zero_rows = ~np.any(a.value != 0, axis=1)
        shape = node.shape
        lo = np.where(zero_rows.reshape((-1,) + (1,) * (len(shape) - 1)), 0.0, -np.inf)
        lo = np.broadcast_to(lo, shape)
        return IArray(lo, -lo)
    if not a.shape or not b.shape:
        return iv.mul(r[0].broadcast_to(node.shape), r[1].broadcast_to(node.shape))
    if a.op == "constant":
        return iv.mul_const_matmul(a.value, r[1])
    if b.op == "constant":
        return iv.matmul_const_right(r[0], b.value)
    return interval_matmul(r[0], r[1])


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


def batched_matmul(x: np.ndarray, y: np.ndarray, a_ndim: int, b_ndim: int) -> np.ndarray:
    """``a @ b`` per batch entry; ``x`` and ``y`` carry a leading batch axis of size B or 1 (a
    constant), and NumPy broadcasting pairs them. A constant matrix times a batch of vectors is
    one matrix-matrix product (``Y @ A.T``), not B matrix-vector products."""
    if a_ndim == 0:
        return x.reshape(x.shape + (1,) * b_ndim) * y
    if b_ndim == 0:
        return x * y.reshape(y.shape + (1,) * a_ndim)
    if a_ndim == 1 and b_ndim == 1:
        return np.sum(x * y, axis=-1)
    if a_ndim == 2 and b_ndim == 1:
        if x.shape[0] == 1:  # (A @ Y^T)^T: BLAS is much faster this way round than Y @ A^T
            return (x[0] @ y.T).T
        return np.matmul(x, y[:, :, None])[..., 0]
    if a_ndim == 1 and b_ndim == 2:
        if y.shape[0] == 1:
            return x @ y[0]
        return np.matmul(x[:, None, :], y)[:, 0, :]
    return np.matmul(x, y)


register(
    Row(
        "matmul",
        "affine",
        lambda shapes, params: matmul_shape(shapes[0], shapes[1]),
        affine_curvature,
        _matmul_mono,
        _matmul_interval,
        lambda node, xs: batched_matmul(
            xs[0], xs[1], len(node.args[0].shape), len(node.args[1].shape)
        ),
        cvxpy="@",
    )
)


def _sum_params(params: tuple) -> tuple[int | None, bool]:
    return (params[0] if params else None), (bool(params[1]) if len(params) > 1 else False)


register(
    Row(
        "sum",
        "affine",
        lambda shapes, params: reduced_shape(shapes[0], *_sum_params(params)),
        affine_curvature,
        increasing,
        lambda node, r: iv.sum(
            r[0], axis=_sum_params(node.params)[0], keepdims=_sum_params(node.params)[1]
        ),
        lambda node, xs: np.sum(
            xs[0],
            axis=batch_axis(_sum_params(node.params)[0], len(node.args[0].shape)),
            keepdims=_sum_params(node.params)[1],
        ),
        cvxpy="sum",
    )
)


# the structural rows (indexing, reshape, stacking, diag, conv, kron...) register on import
from convexcheck.tensor import atoms_structural as _structural  # noqa: E402, F401
