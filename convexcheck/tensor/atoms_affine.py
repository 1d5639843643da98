"""The arithmetic affine rows of the tensor atom table: add, neg, multiply, divide, matmul, sum.

Each is affine when at most one factor varies (:func:`~.atoms_base.affine_curvature`); the
per-entry monotonicity comes from the signs of the constant operand (a large data matrix's signs
are computed once per array, see ``_constant_sign_bits``).
"""

from __future__ import annotations

import numpy as np

from convexcheck.tensor import intervals as iv
from convexcheck.tensor.atoms_base import (
    AFFINE,
    Curvature,
    Row,
    affine_curvature,
    align,
    batch_axis,
    constant_tree,
    decreasing,
    increasing,
    interval_matmul,
    reduce_bits,
    register,
    sign_bits,
)
from convexcheck.tensor.elementwise import DEC, INC
from convexcheck.tensor.expr import TExpr, broadcast_shapes, matmul_shape, reduced_shape
from convexcheck.tensor.intervals import IArray


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
    if constant_tree(node.args[1]):
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


def clear_caches() -> None:
    """Forget the sign bits of large constant operands (when a check ends: ids may be reused)."""
    _SIGN_CACHE.clear()
