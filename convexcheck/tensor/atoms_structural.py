"""Tensor rows for structural affine operations: cumsum, indexing, reshape, transpose,
promotion, concatenation, diag both ways, trace, convolution and kron with a constant.

They move or combine entries with constant coefficients, so each is affine and nondecreasing
in every entry it reads (a sign-dependent constant factor for conv and kron); same row type and
composition rule as :mod:`convexcheck.tensor.atoms`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from convexcheck.errors import ConvexcheckInputError
from convexcheck.tensor import intervals as iv
from convexcheck.tensor.atoms_base import (
    BOTH,
    Row,
    affine_curvature,
    increasing,
    register,
    sign_bits,
)
from convexcheck.tensor.elementwise import INC
from convexcheck.tensor.expr import TExpr, broadcast_shapes
from convexcheck.tensor.intervals import IArray


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


def _permute_shape(shapes, params):
    axes = tuple(params[0])
    if sorted(axes) != list(range(len(shapes[0]))):
        raise ConvexcheckInputError(
            f"permute: {axes} is not a permutation of the axes of {shapes[0]}"
        )
    return tuple(shapes[0][a] for a in axes)


# torch's ``permute``/``transpose(d0, d1)`` on tensors of any rank (the ``transpose`` row above
# reverses every axis, CVXPY's meaning); ``params[0]`` is the new order of the axes
register(
    Row(
        "permute",
        "affine",
        _permute_shape,
        affine_curvature,
        increasing,
        lambda node, r: r[0].transpose(tuple(node.params[0])),
        lambda node, xs: np.transpose(xs[0], (0,) + tuple(a + 1 for a in node.params[0])),
        cvxpy="transpose(axes)",
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
