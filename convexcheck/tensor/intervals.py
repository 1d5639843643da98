"""Vectorised rigorous interval arithmetic over NumPy float64 arrays (layer 0 of the tensor engine).

Every sub-expression of a vector or matrix expression gets an :class:`IArray`: per entry, an
interval enclosing all values the entry takes over the variables' domain. An enclosure may be
too wide (a weaker proof) but never too narrow (a wrong proof). This module is the public
face: the class and the piecewise-linear operations live in :mod:`.iarray`, the nonlinear
functions in :mod:`.interval_functions`; sums and products with constant matrices are here.

Rounding rules
--------------
* NumPy's ``+ - * /`` and ``sqrt`` are IEEE round-to-nearest, so the exact result is within
  half a unit in the last place. An end is moved one float outward (``np.nextafter``) unless
  the operation is proven exact (Knuth's TwoSum for ``+``, Dekker's product in a safe exponent
  range for ``*``, a zero or infinite factor, ``r*r == x`` for ``sqrt``), or its error sign
  shows the float result already lies on the safe side.
* Trust assumption: NumPy's ``exp``, ``log``, ``log1p`` and ``power`` (libm or NumPy's SIMD
  code) are within 4 units in the last place of the exact value, and exact at IEEE special
  values (``exp(-inf) = 0``, ``log(inf) = inf``, ``exp(0) = 1``, ``log(1) = 0``, ``1**p = 1``).
  Their results are moved 8 floats outward (8 steps cover 4 ulps even where the spacing halves
  at a power of two).
* Sums of ``n`` terms do not trust NumPy's (pairwise, SIMD) summation order: with ``u = 2**-53``
  and ``S = fl(sum |x_i|)``, ``|fl(sum x_i) - sum x_i| <= gamma_{n-1} sum |x_i| <=
  2 n u S`` (for ``n u <= 1/4``), which is rounded up and added outward. A sum is exact (no
  widening) when all terms are multiples of a power of two ``Q`` with ``S <= 2**52 Q``.
* ``A @ x`` for a constant matrix uses midpoint-radius: ``c, r`` with ``[c-r, c+r]``
  containing ``[lo, hi]``, ``mid = fl(A @ c)``, radius ``fl(|A| @ r)`` plus
  ``g * fl(|A| @ |c|)`` scaled by ``(1 + g)``, ``g = 4 (n+2) u``, plus ``(n+1) 2**-1021`` for
  underflow, every step rounded up. Trust assumption: BLAS computes each entry as a dot product
  in some order (FMA allowed, no Strassen-like fast algorithm) and does not treat subnormal
  inputs as zero. Infinite ends, and finite ends
  beyond ``2**1020``, are handled apart: an exactly zero coefficient contributes 0, any other
  coefficient makes the matching end of the result infinite.
* Overflow to ``±inf`` is outward and so safe; ``inf - inf`` gives the whole line; no
  operation returns NaN (an :class:`IArray` with NaN cannot be built).

Open and closed ends
--------------------
Closed is always safe; an end is marked open only when that is proven: an infinite end; an
exact end whose value is not attained (``(0, 1] + [0, 1]`` is ``(0, 2]``, corners of ``*``);
a rounded end strictly beyond every value (every rounded end here is); and the sign facts that
matter for strict positivity, restored after rounding: ``exp``, ``logistic`` and ``reciprocal``
of a positive entry are positive, ``x**p`` and ``sqrt`` of a positive entry are positive, a
sum or constant matrix product whose terms are all ``>= 0`` is ``>= 0``, and positive if
some term (with a nonzero coefficient) is positive. The ends of ``entr``, ``xexp``,
``rel_entr`` and ``kl_div`` are closed apart from these sign facts.

Domains: functions defined on part of the line (``log``, ``sqrt``, ``reciprocal``, negative
and non-integer powers, ``entr``, ``rel_entr``, ``kl_div``) return ``None`` when some entry's
interval is not inside the domain, rather than an enclosure of partly undefined values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from convexcheck.tensor.iarray import (
    INF,
    IArray,
    Operand,
    U,
    abs_,
    add,
    as_iarray,
    concatenate,
    down,
    hull,
    maximum,
    minimum,
    mul,
    neg,
    neg_part,
    pos,
    quiet,
    scale,
    stack,
    sub,
    up,
)
from convexcheck.tensor.interval_functions import (
    entr,
    exp,
    huber,
    kl_div,
    log,
    logistic,
    power_int,
    power_real,
    reciprocal,
    rel_entr,
    sqrt,
    square,
    xexp,
)

__all__ = [
    "IArray",
    "abs_",
    "add",
    "as_iarray",
    "concatenate",
    "entr",
    "exp",
    "huber",
    "hull",
    "kl_div",
    "log",
    "logistic",
    "matmul",
    "matmul_const_right",
    "maximum",
    "minimum",
    "mul",
    "mul_const_matmul",
    "neg",
    "neg_part",
    "pos",
    "power_int",
    "power_real",
    "reciprocal",
    "rel_entr",
    "scale",
    "sqrt",
    "square",
    "stack",
    "sub",
    "sum",
    "sum_squares",
    "xexp",
]

_BIG = 2.0**1020  # finite ends beyond this are treated as infinite in A @ x (no overflow in c, r)


# ---- sums ----------------------------------------------------------------------------------
def _axes(axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    items = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in items:
        if not -ndim <= ax < ndim:
            raise ValueError(f"axis {ax} is out of bounds for an array of dimension {ndim}")
        out.append(int(ax) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(out)


def _sum_is_exact(w: np.ndarray, s_abs: np.ndarray, axes: tuple, keepdims: bool) -> np.ndarray:
    """Where every partial sum is a float: all terms are multiples of a power of two ``Q``
    and ``fl(sum |w|) <= 2**52 Q`` (so the exact ``sum |w| <= 2**53 Q``), any order."""
    m, e = np.frexp(w)
    mant = np.abs(m * 2.0**53).astype(np.int64)  # an exact 53-bit integer
    low = (mant & -mant).astype(np.float64)  # its lowest set bit
    quantum = np.where(w == 0, INF, np.ldexp(low, e - 53))
    q = np.min(quantum, axis=axes, keepdims=keepdims, initial=INF)
    return (s_abs <= q * 2.0**52) & (s_abs <= 2.0**1000)


def _sum_end(v: np.ndarray, axes: tuple, keepdims: bool, n: int, lower: bool):
    """A bound of the exact sum of ``v`` along ``axes`` (``lower``: from below) and its
    exactness. Infinite terms are all of one sign (all ``-inf`` for lower ends)."""
    infinite = np.isinf(v)
    w = np.where(infinite, 0.0, v)
    s = np.sum(w, axis=axes, keepdims=keepdims)
    s_abs = np.sum(np.abs(w), axis=axes, keepdims=keepdims)
    exact = _sum_is_exact(w, s_abs, axes, keepdims) & np.isfinite(s)
    err = up(s_abs * (2.0 * n * U))  # >= gamma_{n-1} * (exact sum of |w|)
    rounded = down(s - err) if lower else up(s + err)
    bad = ~np.isfinite(rounded)  # overflow (or inf - inf): give up on this side
    rounded = np.where(bad, -INF if lower else INF, rounded)
    bound = np.where(exact, s, rounded)
    any_inf = np.any(infinite, axis=axes, keepdims=keepdims)
    return np.where(any_inf, -INF if lower else INF, bound), exact & ~any_inf


@quiet
def sum(a: Operand, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> IArray:
    """The rigorous sum of entries along ``axis`` (all axes by default), as ``np.sum``."""
    a = as_iarray(a)
    axes = _axes(axis, a.ndim)
    n = math.prod(a.shape[ax] for ax in axes)
    if n == 0:
        return IArray.point(np.sum(np.zeros(a.shape), axis=axes, keepdims=keepdims))
    if n * U > 0.25:
        raise ValueError("too many terms for the summation error bound")
    lo, lo_exact = _sum_end(a.lo, axes, keepdims, n, lower=True)
    hi, hi_exact = _sum_end(a.hi, axes, keepdims, n, lower=False)
    red = {"axis": axes, "keepdims": keepdims}
    lo_open = np.where(lo_exact, np.any(a.lo_open, **red), True)
    hi_open = np.where(hi_exact, np.any(a.hi_open, **red), True)
    # sign facts: all terms >= 0 gives a sum >= 0, and > 0 when some term is > 0
    all_nonneg, any_pos = np.all(a.nonneg(), **red), np.any(a.positive(), **red)
    all_nonpos, any_neg = np.all(a.nonpos(), **red), np.any(a.negative(), **red)
    lo_open = np.where(all_nonneg & (lo <= 0), any_pos, lo_open)
    lo = np.where(all_nonneg, np.maximum(lo, 0.0), lo)
    hi_open = np.where(all_nonpos & (hi >= 0), any_neg, hi_open)
    hi = np.where(all_nonpos, np.minimum(hi, 0.0), hi)
    return IArray(lo, hi, lo_open, hi_open)


def sum_squares(a: Operand, axis: int | Sequence[int] | None = None) -> IArray:
    """``sum(a**2)`` along ``axis``."""
    return sum(square(a), axis)


# ---- products with constant matrices ---------------------------------------------------------
_ABS: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _abs_of(A: np.ndarray) -> np.ndarray:
    """``|A|``, kept for a large read-only matrix (a constant node's data is multiplied at each
    of the three points of every witness check). The key is the memory ``A`` views; the cache
    holds ``A`` itself, so that memory cannot be freed and reused under the same key."""
    if A.size < 100_000 or A.flags.writeable:
        return np.abs(A)
    key = (A.__array_interface__["data"][0], A.shape, A.strides)
    hit = _ABS.get(key)
    if hit is None:
        if len(_ABS) >= 4:
            _ABS.clear()
        hit = _ABS[key] = (A, np.abs(A))
    return hit[1]


def clear_caches() -> None:
    """Drop the kept ``|A|`` copies (called when a check ends: memory stays proportional to
    the data of the check in progress)."""
    _ABS.clear()


def _signed_count(A: np.ndarray, positive: bool, mask: np.ndarray) -> np.ndarray:
    """``(A > 0) @ mask`` (or ``(A < 0) @ mask``) as exact counts, shape (m, k), without
    materialising a float copy of the sign pattern of a large ``A`` when ``mask`` is all false
    or all true (the common cases: no unbounded entry, or every entry unbounded above)."""
    m, k = A.shape[0], mask.shape[1]
    if not mask.any():
        return np.zeros((m, k))
    signs = (A > 0) if positive else (A < 0)
    if mask.all():
        return np.broadcast_to(signs.sum(axis=1, dtype=np.float64)[:, None], (m, k))
    return signs.astype(np.float64) @ mask.astype(np.float64)


def _count(A: np.ndarray, mask_pos: np.ndarray, mask_neg: np.ndarray) -> np.ndarray:
    """Per output entry, how many terms have ``A > 0`` on a ``mask_pos`` entry or ``A < 0`` on a
    ``mask_neg`` entry (exact: 0/1 sums far below 2**53)."""
    return _signed_count(A, True, mask_pos) + _signed_count(A, False, mask_neg)


@quiet
def _matmul2(A: np.ndarray, x: IArray) -> IArray:
    """``A @ x`` for 2-D ``A`` (m, n) and a 2-D interval array ``x`` (n, k)."""
    n = A.shape[1]
    big = (np.abs(x.lo) > _BIG) | (np.abs(x.hi) > _BIG)
    unb_lo = np.isinf(x.lo) | big
    unb_hi = np.isinf(x.hi) | big
    minus_inf = _count(A, unb_lo, unb_hi) > 0
    plus_inf = _count(A, unb_hi, unb_lo) > 0
    # finite stand-ins: a replaced end only feeds result ends already set to ±inf above
    lo = np.where(unb_lo, np.where(unb_hi, 0.0, x.hi), x.lo)
    hi = np.where(unb_hi, np.where(unb_lo, 0.0, x.lo), x.hi)
    c = 0.5 * lo + 0.5 * hi
    r = np.maximum(up(c - lo), up(hi - c))  # [c - r, c + r] contains [lo, hi]
    abs_a = _abs_of(A)
    mid = A @ c
    g = 4.0 * (n + 2) * U
    rad = up(up(abs_a @ r) + up((abs_a @ np.abs(c)) * g))
    rad = up(up(rad * (1.0 + g)) + (n + 1) * 2.0**-1021)  # underflow, even flushed to 0
    out_lo, out_hi = down(mid - rad), up(mid + rad)
    unknown = ~np.isfinite(mid) | ~np.isfinite(rad)
    out_lo = np.where(minus_inf | unknown | np.isnan(out_lo), -INF, out_lo)
    out_hi = np.where(plus_inf | unknown | np.isnan(out_hi), INF, out_hi)
    # sign facts: every term A_il x_l >= 0 gives >= 0, and > 0 if some term is > 0. They can
    # only change an entry whose enclosure meets 0, so only those rows of A are examined.
    lo_open = np.zeros(out_lo.shape, dtype=bool)
    hi_open = np.zeros(out_lo.shape, dtype=bool)
    rows = np.flatnonzero(np.any((out_lo <= 0) & (out_hi >= 0), axis=1))
    if rows.size:
        sub = A[rows]
        nonneg_terms = _count(sub, x.lo < 0, x.hi > 0) == 0
        pos_term = _count(sub, x.positive(), x.negative()) > 0
        nonpos_terms = _count(sub, x.hi > 0, x.lo < 0) == 0
        neg_term = _count(sub, x.negative(), x.positive()) > 0
        sub_lo, sub_hi = out_lo[rows], out_hi[rows]
        lo_open[rows] = nonneg_terms & (sub_lo <= 0) & pos_term
        hi_open[rows] = nonpos_terms & (sub_hi >= 0) & neg_term
        out_lo[rows] = np.where(nonneg_terms, np.maximum(sub_lo, 0.0), sub_lo)
        out_hi[rows] = np.where(nonpos_terms, np.minimum(sub_hi, 0.0), sub_hi)
    return IArray(out_lo, out_hi, lo_open, hi_open)


def _const(A: ArrayLike) -> np.ndarray:
    A = np.asarray(A, dtype=np.float64)
    if A.ndim not in (1, 2):
        raise ValueError(f"a constant matrix must be 1-D or 2-D, not {A.ndim}-D")
    # a read-only array is a constant node's data, validated finite when the node was built;
    # re-checking 2*10^7 entries at every product would cost as much as the product
    if A.flags.writeable and not np.all(np.isfinite(A)):
        raise ValueError("a constant matrix must be finite")
    return A


def mul_const_matmul(A: ArrayLike, x: Operand) -> IArray:
    """``A @ x`` for a constant float64 ``A`` (1-D or 2-D) and an interval vector or matrix
    ``x``, with NumPy's matmul shapes: (m,n)@(n,) -> (m,), (m,n)@(n,k) -> (m,k), (n,)@(n,) -> ()."""
    A, x = _const(A), as_iarray(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"x must be 1-D or 2-D, not {x.ndim}-D")
    A2 = A if A.ndim == 2 else A[None, :]
    x2 = x if x.ndim == 2 else x.reshape(-1, 1)
    if A2.shape[1] != x2.shape[0]:
        raise ValueError(f"matmul: shapes {A.shape} and {x.shape} do not align")
    out = _matmul2(A2, x2)
    if x.ndim == 1:
        out = out[:, 0]
    return out[0] if A.ndim == 1 else out


def matmul_const_right(x: Operand, A: ArrayLike) -> IArray:
    """``x @ A`` for an interval vector or matrix ``x`` and a constant ``A``, NumPy shapes:
    (n,)@(n,k) -> (k,), (m,n)@(n,k) -> (m,k), (m,n)@(n,) -> (m,)."""
    A, x = _const(A), as_iarray(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"x must be 1-D or 2-D, not {x.ndim}-D")
    A2 = A if A.ndim == 2 else A[:, None]  # (n, k)
    x2 = x if x.ndim == 2 else x.reshape(1, -1)  # (m, n)
    if x2.shape[1] != A2.shape[0]:
        raise ValueError(f"matmul: shapes {x.shape} and {A.shape} do not align")
    out = _matmul2(A2.T, x2.T).T  # (m, k)
    if A.ndim == 1:
        out = out[:, 0]
    return out[0] if x.ndim == 1 else out


def matmul(a: Operand, b: Operand) -> IArray:
    """``a @ b`` for two interval arrays (1-D or 2-D), from elementwise products and a
    rigorous sum; a constant side is better passed to :func:`mul_const_matmul`."""
    a, b = as_iarray(a), as_iarray(b)
    if not (1 <= a.ndim <= 2 and 1 <= b.ndim <= 2):
        raise ValueError("matmul takes 1-D or 2-D interval arrays")
    a2 = a if a.ndim == 2 else a.reshape(1, -1)
    b2 = b if b.ndim == 2 else b.reshape(-1, 1)
    if a2.shape[1] != b2.shape[0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align")
    out = sum(mul(a2[:, :, None], b2[None, :, :]), axis=1)
    if b.ndim == 1:
        out = out[:, 0]
    return out[0] if a.ndim == 1 else out
