"""The tensor atom table: one row of facts per operation, and nothing else.

A row declares, for its operation: the shape rule, the atom's own curvature on the argument
ranges, its monotonicity in each argument *per entry* (it may depend on that entry's range:
``abs`` is increasing where its argument is nonnegative), the argument domain it needs, a
rigorous interval enclosure of its value (used both for ranges over the domain and for checking
a witness at three points), and a batched NumPy evaluation (used by the witness search). The
composition rule that combines these facts is written once, in :mod:`convexcheck.tensor.dcp`,
and ``tests/tensor/test_tensor_atoms.py`` checks every row against independent numerics.

This module holds the row type and the affine rows; the elementwise, reduction and matrix rows
live in :mod:`convexcheck.tensor.atoms_nonlinear` and register into the same :data:`ROWS`.

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
    shape = row.shape([a.shape for a in args], params)
    return TExpr(op, args, shape, params)


# ---- helpers shared by the rows ----------------------------------------------------------------
AFFINE: Curvature = (True, True, "")


def affine_curvature(node: TExpr, ranges: list[IArray]) -> Curvature:
    """A linear map with constant coefficients is affine when at most one factor varies."""
    varying = [a for a in node.args if a.op != "constant" and not _constant_tree(a)]
    if len(varying) <= 1 or node.op in ("add", "hstack", "vstack", "concatenate", "stack"):
        return AFFINE
    return (False, False, f"{node.op} of two non-constant expressions is not a DCP composition")


def _constant_tree(node: TExpr) -> bool:
    if node.op == "constant":
        return True
    if node.op == "variable":
        return False
    return all(_constant_tree(a) for a in node.args)


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


def _cumsum_interval(node: TExpr, r: list[IArray]) -> IArray:
    x = r[0]
    axis = node.params[0] if node.params else 0
    n = x.shape[axis] if x.shape else 1
    parts = []
    for k in range(n):
        idx = [slice(None)] * x.ndim
        idx[axis] = slice(0, k + 1)
        parts.append(iv.sum(x[tuple(idx)], axis=axis, keepdims=True))
    return iv.concatenate(parts, axis=axis)


register(
    Row(
        "cumsum",
        "affine",
        lambda shapes, params: shapes[0],
        affine_curvature,
        increasing,
        _cumsum_interval,
        lambda node, xs: np.cumsum(
            xs[0],
            axis=((node.params[0] if node.params else 0) % max(1, len(node.args[0].shape))) + 1,
        ),
        cvxpy="cumsum",
    )
)


def _index_shape(shapes, params):
    probe = np.empty(shapes[0], dtype=np.int8)
    try:
        return probe[params[0]].shape
    except (IndexError, TypeError) as exc:
        raise ConvexcheckInputError(f"bad index for shape {shapes[0]}: {exc}") from None


def _index_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    return np.full(node.args[0].shape, INC, dtype=np.int8)


register(
    Row(
        "index",
        "affine",
        _index_shape,
        affine_curvature,
        _index_mono,
        lambda node, r: r[0][node.params[0]],
        lambda node, xs: xs[0][(slice(None),) + _as_tuple(node.params[0])],
        cvxpy="[]",
    )
)


def _as_tuple(key: Any) -> tuple:
    return key if isinstance(key, tuple) else (key,)


def _reshape_shape(shapes, params):
    shape = tuple(params[0])
    if int(np.prod(shape, dtype=np.int64)) != int(np.prod(shapes[0], dtype=np.int64)):
        raise ConvexcheckInputError(f"cannot reshape {shapes[0]} into {shape}")
    return shape


register(
    Row(
        "reshape",
        "affine",
        _reshape_shape,
        affine_curvature,
        increasing,
        lambda node, r: reshape_interval(r[0], node.shape, node.params[1]),
        lambda node, xs: _batched_reshape(xs[0], node.shape, node.params[1]),
        cvxpy="reshape",
    )
)


def reshape_interval(r: IArray, shape: tuple[int, ...], order: str = "C") -> IArray:
    return IArray(
        np.reshape(r.lo, shape, order=order),  # type: ignore[call-overload]
        np.reshape(r.hi, shape, order=order),  # type: ignore[call-overload]
        np.reshape(r.lo_open, shape, order=order),  # type: ignore[call-overload]
        np.reshape(r.hi_open, shape, order=order),  # type: ignore[call-overload]
    )


def _batched_reshape(x: np.ndarray, shape: tuple[int, ...], order: str) -> np.ndarray:
    b = x.shape[0]
    if order == "C":
        return x.reshape((b,) + shape)
    # Fortran order per batch entry: reverse the per-entry axes, reshape in C order, reverse back
    per = x.reshape((b,) + x.shape[1:])
    flipped = np.transpose(per, (0,) + tuple(range(per.ndim - 1, 0, -1))).reshape((b, -1))
    out = flipped.reshape((b,) + tuple(reversed(shape)))
    return np.transpose(out, (0,) + tuple(range(out.ndim - 1, 0, -1)))


register(
    Row(
        "transpose",
        "affine",
        lambda shapes, params: tuple(reversed(shapes[0])),
        affine_curvature,
        increasing,
        lambda node, r: r[0].transpose(),
        lambda node, xs: np.transpose(xs[0], (0,) + tuple(range(xs[0].ndim - 1, 0, -1))),
        cvxpy="T",
    )
)


def _promote_shape(shapes, params):
    shape = tuple(params[0])
    broadcast_shapes(shapes[0], shape)
    return shape


register(
    Row(
        "promote",
        "affine",
        _promote_shape,
        affine_curvature,
        increasing,
        lambda node, r: r[0].broadcast_to(node.shape),
        lambda node, xs: np.broadcast_to(
            xs[0].reshape(
                (xs[0].shape[0],) + (1,) * (len(node.shape) - xs[0].ndim + 1) + xs[0].shape[1:]
            ),
            (xs[0].shape[0],) + node.shape,
        ),
        cvxpy="promote",
    )
)


def _stack_shape(shapes, params):
    axis = params[0]
    try:
        return np.concatenate([np.empty(s, dtype=np.int8) for s in shapes], axis=axis).shape
    except ValueError as exc:
        raise ConvexcheckInputError(f"cannot concatenate shapes {shapes}: {exc}") from None


register(
    Row(
        "concatenate",
        "affine",
        _stack_shape,
        affine_curvature,
        increasing,
        lambda node, r: iv.concatenate(list(r), axis=node.params[0]),
        lambda node, xs: _concatenate_numpy(node, xs),
        cvxpy="hstack/vstack",
    )
)


def _concatenate_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    batch = max(x.shape[0] for x in xs)
    parts = [np.broadcast_to(x, (batch,) + x.shape[1:]) for x in xs]
    return np.concatenate(parts, axis=(node.params[0] % len(node.shape)) + 1)


def _diag_vec_interval(node: TExpr, r: list[IArray]) -> IArray:
    x = r[0]
    n = x.shape[0]
    z = IArray.point(np.zeros((n, n)))
    lo, hi = z.lo.copy(), z.hi.copy()
    lo[np.arange(n), np.arange(n)] = x.lo
    hi[np.arange(n), np.arange(n)] = x.hi
    lo_open = np.zeros((n, n), dtype=bool)
    hi_open = np.zeros((n, n), dtype=bool)
    lo_open[np.arange(n), np.arange(n)] = x.lo_open
    hi_open[np.arange(n), np.arange(n)] = x.hi_open
    return IArray(lo, hi, lo_open, hi_open)


def _diag_vec_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    x = xs[0]
    n = x.shape[1]
    out = np.zeros((x.shape[0], n, n))
    out[:, np.arange(n), np.arange(n)] = x
    return out


register(
    Row(
        "diag_vec",
        "affine",
        lambda shapes, params: (shapes[0][0], shapes[0][0]),
        affine_curvature,
        increasing,
        _diag_vec_interval,
        _diag_vec_numpy,
        cvxpy="diag",
    )
)


def _diag_mat_interval(node: TExpr, r: list[IArray]) -> IArray:
    n = r[0].shape[0]
    return r[0][np.arange(n), np.arange(n)]


def _diag_mat_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    n = node.args[0].shape[0]
    out = np.full((n, n), BOTH, dtype=np.int8)
    out[np.arange(n), np.arange(n)] = INC
    return out


def _square_shape(shape) -> int:
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ConvexcheckInputError(f"expected a square matrix, got shape {shape}")
    return shape[0]


register(
    Row(
        "diag_mat",
        "affine",
        lambda shapes, params: (_square_shape(shapes[0]),),
        affine_curvature,
        _diag_mat_mono,
        _diag_mat_interval,
        lambda node, xs: np.diagonal(xs[0], axis1=1, axis2=2).copy(),
        cvxpy="diag",
    )
)
register(
    Row(
        "trace",
        "affine",
        lambda shapes, params: _square_shape(shapes[0]) and (),
        affine_curvature,
        _diag_mat_mono,
        lambda node, r: iv.sum(_diag_mat_interval(node, r)),
        lambda node, xs: np.trace(xs[0], axis1=1, axis2=2),
        cvxpy="trace",
    )
)


def _conv_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    bits = int(np.bitwise_and.reduce(np.ravel(sign_bits(r[1 - i])))) if r[1 - i].size else BOTH
    return np.full(node.args[i].shape, bits, dtype=np.int8)


def _conv_interval(node: TExpr, r: list[IArray]) -> IArray:
    c, x = node.args
    if c.op != "constant":
        raise ConvexcheckInputError("conv/convolve needs a constant first argument")
    cv = np.ravel(c.value)
    n = x.size
    m = cv.size
    toeplitz = np.zeros((n + m - 1, n))
    for j in range(n):
        toeplitz[j : j + m, j] = cv
    return iv.mul_const_matmul(toeplitz, r[1].reshape((n,))).reshape(node.shape)


def _conv_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    c, x = xs  # the first argument is a constant (batch axis of size 1)
    kernel = np.ravel(c[0])
    xb = x.reshape((x.shape[0], -1))
    out = np.stack([np.convolve(kernel, row) for row in xb])
    return out.reshape((x.shape[0],) + node.shape)


register(
    Row(
        "conv",
        "affine",
        lambda shapes, params: (
            (int(np.prod(shapes[0])) + int(np.prod(shapes[1])) - 1,)
            if len(params) == 0 or params[0] == 1
            else (int(np.prod(shapes[0])) + int(np.prod(shapes[1])) - 1, 1)
        ),
        affine_curvature,
        _conv_mono,
        _conv_interval,
        _conv_numpy,
        cvxpy="convolve",
    )
)


def _kron_interval(node: TExpr, r: list[IArray]) -> IArray:
    a, b = node.args
    ra, rb = r
    m, n = a.shape
    p, q = b.shape
    big_a = ra.reshape((m, 1, n, 1)).broadcast_to((m, p, n, q))
    big_b = rb.reshape((1, p, 1, q)).broadcast_to((m, p, n, q))
    return iv.mul(big_a, big_b).reshape((m * p, n * q))


def _kron_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    xa, xb = xs
    out = xa[:, :, None, :, None] * xb[:, None, :, None, :]
    return out.reshape((out.shape[0],) + node.shape)


def _kron_shape(shapes, params):
    if len(shapes[0]) != 2 or len(shapes[1]) != 2:
        raise ConvexcheckInputError("kron needs two matrices")
    return (shapes[0][0] * shapes[1][0], shapes[0][1] * shapes[1][1])


register(
    Row(
        "kron",
        "affine",
        _kron_shape,
        affine_curvature,
        _conv_mono,
        _kron_interval,
        _kron_numpy,
        cvxpy="kron",
    )
)
