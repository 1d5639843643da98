"""Nonlinear elementwise functions of interval arrays: powers, exp/log, entropy-like atoms.

Each function encloses the image of every entry's interval, using the function's
monotonicity on known pieces and outward rounding (see :mod:`convexcheck.tensor.intervals`
for the rules and the trust placed in NumPy's transcendental functions). Functions defined on
part of the line return ``None`` when some entry's interval is not inside the domain: the
expression is then not defined everywhere, so no range (and no proof) should be built on it.

Known facts that rounding would lose are restored by clamps: ``exp > 0``, ``log >= 0`` on
``[1, oo)``, ``x**p > 0`` for ``x > 0``, ``entr >= 0`` on ``[0, 1]`` and so on.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from convexcheck.tensor.iarray import (
    INF,
    IArray,
    Operand,
    abs_,
    add,
    add_bounds,
    as_iarray,
    clamp_hi,
    clamp_lo,
    down,
    ends,
    mul_bounds,
    product_is,
    quiet,
    sub,
    up,
)

# Floats an end of exp/log/log1p/power is moved outward: covers an error of up to 4 units of
# the result's last place even where the float spacing halves at a power of two.
STEPS = 8
_INV_E_UP = float(up(np.float64(math.exp(-1.0)), STEPS))  # >= 1/e
_LOG_RANGE = 746  # |log x| < 746 for every positive float x


def _eval(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, exact: np.ndarray, steps: int = STEPS
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``f(x)``: the float value where ``exact``, else moved ``steps`` floats out."""
    v = f(x)
    nan = np.isnan(v)
    lo = np.where(exact, v, down(v, steps))
    hi = np.where(exact, v, up(v, steps))
    return np.where(nan, -INF, lo), np.where(nan, INF, hi)


def _monotone(
    a: IArray,
    f: Callable[[np.ndarray], np.ndarray],
    exact_at: Callable[[np.ndarray], np.ndarray],
    increasing: bool,
    steps: int = STEPS,
) -> IArray:
    lo_dn, lo_up = _eval(f, a.lo, exact_at(a.lo), steps)
    hi_dn, hi_up = _eval(f, a.hi, exact_at(a.hi), steps)
    if increasing:
        return ends(lo_dn, lo_up, a.lo_open, hi_dn, hi_up, a.hi_open)
    return ends(hi_dn, hi_up, a.hi_open, lo_dn, lo_up, a.lo_open)


def _exp_exact(x: np.ndarray) -> np.ndarray:
    """Where NumPy's exp is exact: ``exp(0) = 1``, ``exp(-oo) = 0``, ``exp(oo) = oo``."""
    return np.isinf(x) | (x == 0)


def _log_exact(x: np.ndarray) -> np.ndarray:
    """Where NumPy's log and power are exact: ``log 1 = 0``, ``log 0 = -oo``, ``1**p = 1``."""
    return np.isinf(x) | (x == 0) | (x == 1)


# ---- reciprocal and powers ------------------------------------------------------------------
@quiet
def reciprocal(a: Operand) -> IArray | None:
    """``1/a``; ``None`` when some entry's interval contains 0 (where 1/x is undefined).

    An open end at 0 maps to an infinite end: ``1/(0, 1] = [1, oo)``.
    """
    a = as_iarray(a)
    pos = a.positive()
    if not np.all(pos | a.negative()):
        return None

    def at(x: np.ndarray, at_zero: float) -> tuple[np.ndarray, np.ndarray]:
        r = np.where(x == 0, at_zero, 1.0 / x)
        exact = np.isinf(x) | (x == 0) | product_is(r, x, 1.0)
        return np.where(exact, r, down(r)), np.where(exact, r, up(r))

    # decreasing on each side of 0: the lower end comes from a.hi, the upper from a.lo
    lo_dn, lo_up = at(a.hi, -INF)  # a.hi == 0 only as the open end of a negative entry
    hi_dn, hi_up = at(a.lo, INF)  # a.lo == 0 only as the open end of a positive entry
    r = ends(lo_dn, lo_up, a.hi_open, hi_dn, hi_up, a.lo_open)
    return clamp_hi(clamp_lo(r, pos, 0.0, True), ~pos, 0.0, True)


def _pow_nonneg(v: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``v**n`` for ``v >= 0``, ``n >= 1``: binary powering, rounded per product."""
    rd = ru = np.ones_like(v)
    bd = bu = v
    while True:
        if n & 1:
            rd, ru = mul_bounds(rd, bd)[0], mul_bounds(ru, bu)[1]
        n >>= 1
        if not n:
            return rd, ru
        bd, bu = mul_bounds(bd, bd)[0], mul_bounds(bu, bu)[1]


def power_int(a: Operand, n: int) -> IArray | None:
    """``a**n`` for an integer ``n``; ``x**0 = 1``; ``None`` for ``n < 0`` when 0 is possible."""
    a = as_iarray(a)
    n = operator.index(n)
    if n == 0:
        return IArray.point(np.ones(a.shape))
    if n < 0:
        return reciprocal(power_int(a, -n))
    if n == 1:
        return a
    if n % 2 == 0:  # increasing in |x|
        m = abs_(a)
        lo_dn, lo_up = _pow_nonneg(m.lo, n)
        hi_dn, hi_up = _pow_nonneg(m.hi, n)
        return ends(lo_dn, lo_up, m.lo_open, hi_dn, hi_up, m.hi_open)

    def odd(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d, u = _pow_nonneg(np.abs(v), n)
        negative = v < 0
        return np.where(negative, -u, d), np.where(negative, -d, u)

    lo_dn, lo_up = odd(a.lo)
    hi_dn, hi_up = odd(a.hi)
    return ends(lo_dn, lo_up, a.lo_open, hi_dn, hi_up, a.hi_open)


def square(a: Operand) -> IArray:
    """``a**2`` (tight: ``[-1, 2]**2 = [0, 4]``, not ``[-2, 4]``)."""
    return power_int(a, 2)


@quiet
def sqrt(a: Operand) -> IArray | None:
    """``sqrt(a)``; ``None`` unless every entry is ``>= 0``. IEEE sqrt is correctly rounded."""
    a = as_iarray(a)
    if not a.all_nonneg():
        return None

    def exact_at(x: np.ndarray) -> np.ndarray:
        r = np.sqrt(x)
        return np.isinf(x) | (x == 0) | product_is(r, r, x)

    r = _monotone(a, np.sqrt, exact_at, True, steps=1)
    return clamp_lo(r, True, 0.0, a.positive())


@quiet
def power_real(a: Operand, p: Fraction | int | float) -> IArray | None:
    """``a**p`` for a rational ``p`` (a float ``p`` is taken as its exact value).

    Integer ``p`` goes to :func:`power_int` (any sign of base). Otherwise the domain is
    ``x >= 0`` for ``p > 0`` and ``x > 0`` for ``p < 0``, and ``None`` is returned when an entry
    may leave it. NumPy computes ``x**float(p)``; when ``float(p) != p`` the result is widened
    by the factor ``x**(p - float(p))``, which lies within ``exp(±746 |p - float(p)|)``.
    """
    a = as_iarray(a)
    p = Fraction(p)
    if p.denominator == 1:
        return power_int(a, int(p))
    if p == Fraction(1, 2):
        return sqrt(a)
    if not (a.all_nonneg() if p > 0 else a.all_positive()):
        return None
    pf = float(p)
    delta = abs(p - Fraction(pf))
    if delta * _LOG_RANGE > Fraction(1, 4):  # p is too large for its float: only the sign
        return IArray(0.0, np.full(a.shape, INF), a.positive(), True)
    k = math.nextafter(float(delta) * 2000.0, INF) if delta else 0.0  # >= 2 * 746 * delta
    lo_dn, lo_up = _eval(lambda x: np.power(x, pf), a.lo, _log_exact(a.lo))
    hi_dn, hi_up = _eval(lambda x: np.power(x, pf), a.hi, _log_exact(a.hi))
    if k:
        shrink, grow = float(down(np.float64(1.0 - k))), float(up(np.float64(1.0 + k)))

        def widen(d: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            exact = d == u
            d2 = np.where(exact, d, mul_bounds(d, shrink)[0])
            return d2, np.where(exact, u, mul_bounds(u, grow)[1])

        lo_dn, lo_up = widen(lo_dn, lo_up)
        hi_dn, hi_up = widen(hi_dn, hi_up)
    if p > 0:
        r = ends(lo_dn, lo_up, a.lo_open, hi_dn, hi_up, a.hi_open)
    else:
        r = ends(hi_dn, hi_up, a.hi_open, lo_dn, lo_up, a.lo_open)
    return clamp_lo(r, True, 0.0, a.positive())


# ---- exp, log and friends ---------------------------------------------------------------------
@quiet
def exp(a: Operand) -> IArray:
    """``exp(a)``: always positive (an underflowed lower end is the open end 0)."""
    a = as_iarray(a)
    r = _monotone(a, np.exp, _exp_exact, True)
    r = clamp_lo(r, True, 0.0, True)
    r = clamp_lo(r, a.lo >= 0, 1.0, (a.lo > 0) | a.lo_open)
    return clamp_hi(r, a.hi <= 0, 1.0, (a.hi < 0) | a.hi_open)


@quiet
def log(a: Operand) -> IArray | None:
    """``log(a)``; ``None`` unless every entry is positive (``log 0`` is not a real number).

    An open end at 0 gives the lower end ``-oo``; the sign facts ``log >= 0`` on ``[1, oo)``
    and ``log <= 0`` on ``(0, 1]`` survive rounding.
    """
    a = as_iarray(a)
    if not a.all_positive():
        return None
    r = _monotone(a, np.log, _log_exact, True)
    r = clamp_lo(r, a.lo >= 1, 0.0, (a.lo > 1) | a.lo_open)
    return clamp_hi(r, a.hi <= 1, 0.0, (a.hi < 1) | a.hi_open)


def _softplus_at(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))``, overflow-free."""
    e = np.exp(-np.abs(x))
    e_dn, e_up = np.maximum(down(e, STEPS), 0.0), np.minimum(up(e, STEPS), 1.0)
    l_dn = np.maximum(down(np.log1p(e_dn), STEPS), 0.0)
    l_up = up(np.log1p(e_up), STEPS)
    m = np.maximum(x, 0.0)
    dn, upb = add_bounds(m, l_dn)[0], add_bounds(m, l_up)[1]
    at_minus_inf = x == -INF  # the limit 0
    return np.where(at_minus_inf, 0.0, dn), np.where(at_minus_inf, 0.0, upb)


@quiet
def logistic(a: Operand) -> IArray:
    """``log(1 + exp(a))`` (increasing, positive)."""
    a = as_iarray(a)
    lo_dn, lo_up = _softplus_at(a.lo)
    hi_dn, hi_up = _softplus_at(a.hi)
    r = ends(lo_dn, lo_up, a.lo_open, hi_dn, hi_up, a.hi_open)
    return clamp_lo(r, True, 0.0, True)


def _log_at(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _eval(np.log, x, _log_exact(x))


def _entr_at(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``-x log x`` for ``x >= 0`` (0 at ``x = 0``, the continuous extension)."""
    ld, lu = _log_at(x)
    return mul_bounds(x, -lu)[0], mul_bounds(x, -ld)[1]


@quiet
def entr(a: Operand) -> IArray | None:
    """``-a log a`` (``entr(0) = 0``); ``None`` unless every entry is ``>= 0``.

    Concave with its peak ``1/e`` at ``x = 1/e``: the minimum is at an end, the maximum at an
    end only where the interval lies on one side of ``1/e``. Ends are closed.
    """
    a = as_iarray(a)
    if not a.all_nonneg():
        return None
    lo_dn, lo_up = _entr_at(a.lo)
    hi_dn, hi_up = _entr_at(a.hi)
    upper = np.where(a.hi <= 0.36, hi_up, np.where(a.lo >= 0.37, lo_up, _INV_E_UP))
    r = IArray(np.minimum(lo_dn, hi_dn), upper)
    inside_unit = (a.hi < 1) | ((a.hi == 1) & a.hi_open)
    r = clamp_lo(r, a.hi <= 1, 0.0, a.positive() & inside_unit)
    return clamp_hi(r, a.lo >= 1, 0.0, (a.lo > 1) | a.lo_open)


def _xexp_at(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ed, eu = _eval(np.exp, x, _exp_exact(x))
    ed = np.maximum(ed, 0.0)
    nonneg = x >= 0  # x < 0: x*e is decreasing in e
    dn = np.where(nonneg, mul_bounds(x, ed)[0], mul_bounds(x, eu)[0])
    upb = np.where(nonneg, mul_bounds(x, eu)[1], mul_bounds(x, ed)[1])
    return dn, upb


@quiet
def xexp(a: Operand) -> IArray:
    """``a * exp(a)``: decreasing on ``(-oo, -1]``, increasing after, minimum ``-1/e``."""
    a = as_iarray(a)
    lo_dn, lo_up = _xexp_at(a.lo)
    hi_dn, hi_up = _xexp_at(a.hi)
    lower = np.where(a.lo >= -1, lo_dn, np.where(a.hi <= -1, hi_dn, -_INV_E_UP))
    r = IArray(lower, np.maximum(lo_up, hi_up))
    r = clamp_lo(r, a.lo >= 0, 0.0, a.positive())
    return clamp_hi(r, a.hi <= 0, 0.0, a.negative())


def _rel_entr_at(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``x (log x - log y)`` for ``x >= 0``, ``y >= 0`` (0 where ``x = 0``)."""
    lxd, lxu = _log_at(x)
    lyd, lyu = _log_at(y)
    dd = add_bounds(lxd, -lyu)[0]
    du = add_bounds(lxu, -lyd)[1]
    return mul_bounds(x, dd)[0], mul_bounds(x, du)[1]


@quiet
def rel_entr(x: Operand, y: Operand) -> IArray | None:
    """``x log(x/y)`` elementwise (``0`` at ``x = 0``); ``None`` unless ``x >= 0`` and ``y > 0``.

    It is decreasing in ``y``; in ``x`` it falls to ``-y/e`` at ``x = y/e``, then rises.
    So the maximum over a box is at ``y.lo`` and an end of ``x``, the minimum at ``y.hi``.
    Ends are closed.
    """
    x, y = as_iarray(x), as_iarray(y)
    if not (x.all_nonneg() and y.all_positive()):
        return None
    upper = np.maximum(_rel_entr_at(x.lo, y.lo)[1], _rel_entr_at(x.hi, y.lo)[1])
    falls = x.hi <= mul_bounds(y.hi, 0.36)[0]  # x <= y/e for every x: decreasing in x
    rises = x.lo >= mul_bounds(y.hi, 0.37)[1]  # x >= y/e for every x: increasing in x
    valley = -mul_bounds(y.hi, _INV_E_UP)[1]  # <= -y/e, the global minimum over x
    lower = np.where(
        falls,
        _rel_entr_at(x.hi, y.hi)[0],
        np.where(rises, _rel_entr_at(x.lo, y.hi)[0], valley),
    )
    r = IArray(lower, upper)
    r = clamp_hi(r, x.hi <= y.lo, 0.0)
    return clamp_lo(r, x.lo >= y.hi, 0.0)


def kl_div(x: Operand, y: Operand) -> IArray | None:
    """``x log(x/y) - x + y`` (always ``>= 0``); same domain as :func:`rel_entr`."""
    r = rel_entr(x, y)
    if r is None:
        return None
    return clamp_lo(add(sub(r, x), y), True, 0.0)


def _huber_at(m: np.ndarray, big_m: float) -> tuple[np.ndarray, np.ndarray]:
    qd, qu = mul_bounds(m, m)
    sq_dn, sq_up = mul_bounds(big_m, big_m)
    ld = add_bounds(mul_bounds(2.0 * big_m, m)[0], -sq_up)[0]
    lu = add_bounds(mul_bounds(2.0 * big_m, m)[1], -sq_dn)[1]
    quad = m <= big_m
    return np.where(quad, qd, ld), np.where(quad, qu, lu)


@quiet
def huber(a: Operand, M: float = 1.0) -> IArray:
    """``x**2`` for ``|x| <= M``, ``2M|x| - M**2`` beyond (increasing in ``|x|``)."""
    M = float(M)
    if not (M > 0 and math.isfinite(2.0 * M)):
        raise ValueError(f"huber needs a finite M > 0, not {M!r}")
    m = abs_(as_iarray(a))
    lo_dn, lo_up = _huber_at(m.lo, M)
    hi_dn, hi_up = _huber_at(m.hi, M)
    r = ends(lo_dn, lo_up, m.lo_open, hi_dn, hi_up, m.hi_open)
    return clamp_lo(r, True, 0.0, m.positive())
