"""Interval arrays for the checker's tensor evaluator: ``mpmath.iv`` intervals in NumPy object
arrays, and exact products of float64 data.

Every entry is an ``mpmath.iv`` interval at :data:`PREC` bits. Products of float64 arrays
(``A @ x`` with ``x`` a point, quadratic forms at a point: the bulk of the work) are computed
exactly in Python integers (a float64 is an integer times a power of two) and rounded outward
once, which is both rigorous and far faster than interval arithmetic entry by entry.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from mpmath.libmp import from_float, from_man_exp, round_ceiling, round_floor

PREC = 200  # bits for every interval and every matrix computation

iv = mpmath.iv


class Undefined(Exception):
    """The function has no certified real value at the point (or the check cannot show one)."""


@contextmanager
def precision(bits: int = PREC):
    """``mpmath.iv`` and ``mpmath.mp`` at ``bits`` (the interval context has no ``workprec``)."""
    old_iv, old_mp = iv.prec, mpmath.mp.prec
    iv.prec, mpmath.mp.prec = bits, bits
    try:
        yield
    finally:
        iv.prec, mpmath.mp.prec = old_iv, old_mp


# ---- object arrays of intervals -------------------------------------------------------------
def _obj(shape: tuple[int, ...], items: list[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out.reshape(shape)


def _wrap(x: Any) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x
    out = np.empty((), dtype=object)
    out[()] = x
    return out


def _map(fn: Callable[..., Any], *arrays: np.ndarray) -> np.ndarray:
    arrs = np.broadcast_arrays(*arrays)
    flat = [fn(*vals) for vals in zip(*(np.ravel(a) for a in arrs), strict=True)]
    return _obj(arrs[0].shape, flat)


def _total(items: list[Any]) -> Any:
    s = iv.mpf(0)
    for v in items:
        s = s + v
    return s


def _lo(x: Any) -> mpmath.mpf:
    return mpmath.mpf(x.a)


def _hi(x: Any) -> mpmath.mpf:
    return mpmath.mpf(x.b)


def _between(lo: Any, hi: Any) -> Any:
    return iv.mpf([mpmath.mpf(lo), mpmath.mpf(hi)])


def _imax(x: Any, y: Any) -> Any:
    return _between(max(_lo(x), _lo(y)), max(_hi(x), _hi(y)))


def _imin(x: Any, y: Any) -> Any:
    return _between(min(_lo(x), _lo(y)), min(_hi(x), _hi(y)))


def _fraction(q: Fraction) -> Any:
    return iv.mpf(q.numerator) / q.denominator


def _point(x: float) -> Any:
    raw = from_float(x)  # exact: PREC >= 53
    return iv.make_mpf((raw, raw))


def to_intervals(values: Any) -> np.ndarray:
    """float64 (exact) or :class:`~fractions.Fraction` entries as an object array of intervals."""
    arr = np.asarray(values, dtype=object)
    flat = [_fraction(v) if isinstance(v, Fraction) else _point(float(v)) for v in np.ravel(arr)]
    return _obj(arr.shape, flat)


# ---- exact products of float64 data (the bulk of A @ x): integers, then one outward rounding ---
MAX_SHIFT = 4000  # bits between the smallest and largest exponent of one operand


def _dyadic(values: np.ndarray) -> tuple[np.ndarray, int] | None:
    """``values`` (float64) as Python integers ``m`` and one exponent ``e``: ``values = m * 2**e``
    exactly (a float64's mantissa times 2**53 is an integer)."""
    mant, exp = np.frexp(np.asarray(values, dtype=np.float64))
    ints = (mant * 2.0**53).astype(np.int64)
    e = exp.astype(np.int64) - 53
    nonzero = ints != 0
    if not nonzero.any():
        return np.zeros(values.shape, dtype=object), 0
    e0 = int(e[nonzero].min())
    if int(e[nonzero].max()) - e0 > MAX_SHIFT:
        return None
    flat = [
        m << (k - e0) if m else 0
        for m, k in zip(ints.ravel().tolist(), e.ravel().tolist(), strict=True)
    ]
    return _obj(values.shape, flat), e0


def _from_exact(ints: Any, exponent: int) -> np.ndarray:
    """Exact dyadic values ``ints * 2**exponent`` as intervals, rounded outward once."""
    arr = np.asarray(ints, dtype=object)
    flat = [
        iv.make_mpf(
            (
                from_man_exp(int(m), exponent, PREC, round_floor),
                from_man_exp(int(m), exponent, PREC, round_ceiling),
            )
        )
        for m in np.ravel(arr)
    ]
    return _obj(arr.shape, flat)


def exact_matmul(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """``x @ y`` for float64 arrays (1-D or 2-D), computed exactly; ``None`` if the exponent
    spread is too wide for integers."""
    dx, dy = _dyadic(x), _dyadic(y)
    if dx is None or dy is None:
        return None
    return _wrap(_from_exact(np.dot(dx[0], dy[0]), dx[1] + dy[1]))


def exact_quad_form(x: np.ndarray, p: np.ndarray) -> np.ndarray | None:
    dx, dp = _dyadic(np.ravel(x)), _dyadic(p)
    if dx is None or dp is None:
        return None
    total = int(np.dot(dx[0], np.dot(dp[0], dx[0])))
    return _wrap(_from_exact(total, 2 * dx[1] + dp[1]))


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise Undefined(message)


def _symmetric_part(x: np.ndarray) -> np.ndarray:
    _need(x.ndim == 2 and x.shape[0] == x.shape[1], "a matrix atom needs a square matrix")
    return _map(lambda u, v: (u + v) / 2, x, x.T)


__all__ = [
    "PREC",
    "Undefined",
    "exact_matmul",
    "exact_quad_form",
    "iv",
    "precision",
    "to_intervals",
]
