"""Powers of intervals, integer and rational, rounded outward.

Kept apart from :mod:`convexcheck.symbolic.interval` (the interval type and its arithmetic)
because powers need a regime of their own: exact while the result is small, and past that
rounded outward by repeated squaring with bounded precision, so that ``x**1000000001`` at
``x = 3/7`` does not compute a 3-gigabit integer in one uninterruptible C call.
"""

from __future__ import annotations

import math
from fractions import Fraction

from convexcheck.symbolic.interval import (
    INF,
    Endpoint,
    Interval,
    _norm_simple,
    exact,
    float_down,
    float_up,
    make,
    point,
    reciprocal,
    widen_down,
    widen_up,
)

# x**n is computed exactly only while the result has at most this many bits; past it, by
# repeated squaring rounded outward to _POW_PREC bits, with magnitudes beyond 2**±_POW_RANGE
# replaced by a bound (0, a tiny number, the largest float or oo).
_EXACT_POW_BITS = 4096
_POW_PREC = 160
_POW_RANGE = 1100


def ipow_int(a: Interval, n: int) -> Interval | None:
    """``a**n`` for an integer ``n``; ``None`` if ``n < 0`` and ``a`` contains 0.

    Exact while the powers are small (see :data:`_EXACT_POW_BITS`), else rounded outward; a
    rounded end is closed.
    """
    if n == 0:
        return point(1)
    if n < 0:
        positive_power = ipow_int(a, -n)
        if not (a.positive or a.negative) or positive_power is None:
            return None
        return reciprocal(positive_power)
    lo_l, hi_l, exact_l = _power_bounds(a.lo, n)
    lo_h, hi_h, exact_h = _power_bounds(a.hi, n)
    if n % 2 == 1 or a.lo >= 0:  # increasing on the whole interval
        return make(lo_l, hi_h, a.lo_open and exact_l, a.hi_open and exact_h)
    if a.hi <= 0:
        return make(lo_h, hi_l, a.hi_open and exact_h, a.lo_open and exact_l)
    # 0 strictly inside: the image is [0, max(|lo|**n, hi**n)]
    if not (exact_l and exact_h):
        return make(0, max(hi_l, hi_h), False, False)
    left, right = hi_l, hi_h
    if left > right:
        return make(0, left, False, a.lo_open)
    if right > left:
        return make(0, right, False, a.hi_open)
    return make(0, left, False, a.lo_open and a.hi_open)


def _power_bounds(x: Endpoint, n: int) -> tuple[Endpoint, Endpoint, bool]:
    """``(lo, hi, exact)`` with ``lo <= x**n <= hi`` for an integer ``n >= 1``."""
    if isinstance(x, float):  # +-inf
        v = x if n % 2 else INF
        return v, v, True
    if x == 0:
        return 0, 0, True
    q = Fraction(x)
    mag = abs(q)
    bits = max(mag.numerator.bit_length(), mag.denominator.bit_length())
    if mag == 1 or bits * n <= _EXACT_POW_BITS:
        v = _norm_simple(q**n)
        return v, v, True
    lo, hi = _rounded_power(mag, n)
    if q < 0 and n % 2 == 1:
        return _neg_end(hi), _neg_end(lo), False
    return lo, hi, False


def _neg_end(q: Endpoint) -> Endpoint:
    return -q


def _round_down(q: Fraction) -> Fraction:
    """The largest ``m / 2**k`` with ``_POW_PREC``-bit ``m`` that is ``<= q`` (``q > 0``)."""
    a, b = q.numerator, q.denominator
    shift = _POW_PREC - (a.bit_length() - b.bit_length())
    if shift >= 0:
        return Fraction((a << shift) // b, 1 << shift)
    return Fraction((a // (b << -shift)) << -shift)


def _round_up(q: Fraction) -> Fraction:
    a, b = q.numerator, q.denominator
    shift = _POW_PREC - (a.bit_length() - b.bit_length())
    if shift >= 0:
        return Fraction(-((-(a << shift)) // b), 1 << shift)
    return Fraction((-((-a) // (b << -shift))) << -shift)


_BIG = Fraction(2) ** _POW_RANGE
_TINY = 1 / _BIG


def _rounded_power(mag: Fraction, n: int) -> tuple[Endpoint, Endpoint]:
    """An enclosure ``[lo, hi]`` of ``mag**n`` (``mag > 0``, ``mag != 1``) by square-and-
    multiply, every step rounded outward, sizes bounded: a lower bound above ``2**1100`` is
    frozen there (it only grows for ``mag > 1``: still a lower bound), an upper bound past it
    becomes oo; below ``2**-1100`` a lower bound becomes 0 and an upper bound is frozen."""
    base_lo, base_hi = _round_down(mag), _round_up(mag)
    lo: Fraction = Fraction(1)
    hi: Fraction | float = Fraction(1)
    for bit in bin(n)[2:]:
        lo = lo * lo
        hi = hi * hi if not isinstance(hi, float) else hi
        if bit == "1":
            lo = lo * base_lo
            hi = hi * base_hi if not isinstance(hi, float) else hi
        lo = _round_down(lo) if lo > 0 else lo
        if not isinstance(hi, float):
            hi = _round_up(hi)
        if lo > _BIG:
            lo = _BIG
        if lo != 0 and lo < _TINY:
            lo = Fraction(0)
        if not isinstance(hi, float):
            if hi > _BIG:
                hi = INF
            elif hi < _TINY:
                hi = _TINY
    return _norm_simple(lo), hi if isinstance(hi, float) else _norm_simple(hi)


def _pow_float(x: float, p: float) -> float:
    try:
        return x**p
    except OverflowError:
        return INF
    except ZeroDivisionError:
        return INF


def ipow_rational(a: Interval, p: Fraction) -> Interval | None:
    """``a**p`` for a non-integer rational ``p``: needs ``a >= 0`` (``a > 0`` when ``p < 0``).

    The result uses floats rounded outward by a relative margin that covers the error of
    converting ``a``'s ends and ``p`` to floats and of ``pow`` itself: at most
    ``(|p| * 746 + 2) * 2**-53`` relative, for finite positive results.
    """
    if a.lo < 0 or (p < 0 and not a.positive):
        return None
    if abs(p) > 2**64:  # float(p) overflows or pow loses every digit: keep only the sign
        return Interval(0, INF, a.positive, True)
    margin = 2e-13 * (1 + abs(float(p)))

    def down(x: Endpoint) -> Endpoint:
        if x == 0:
            return 0 if p > 0 else INF
        if x == INF:
            return INF if p > 0 else 0
        v = _pow_float(float_down(x), float(p))
        if v in (0.0, INF):
            return 0 if v == 0.0 else exact(1.7976931348623157e308)
        return exact(max(widen_down(v * (1 - margin), 1), 0.0))

    def up(x: Endpoint) -> Endpoint:
        if x == 0:
            return 0 if p > 0 else INF
        if x == INF:
            return INF if p > 0 else 0
        v = _pow_float(float_up(x), float(p))
        if v == INF:
            return INF
        return exact(widen_up(v * (1 + margin), 1) if v > 0 else math.ulp(0.0) * 4)

    exact_lo = _exact_rational_power(a.lo, p)
    exact_hi = _exact_rational_power(a.hi, p)
    if p > 0:
        lo = exact_lo if exact_lo is not None else down(a.lo)
        hi = exact_hi if exact_hi is not None else up(a.hi)
        lo_open = a.lo_open if exact_lo is not None or a.lo == 0 else False
        hi_open = a.hi_open if exact_hi is not None or a.hi == INF else False
        return make(lo, hi, lo_open, hi_open)
    lo = exact_hi if exact_hi is not None else down(a.hi)
    hi = exact_lo if exact_lo is not None else up(a.lo)
    lo_open = a.hi_open if exact_hi is not None or a.hi == INF else False
    hi_open = a.lo_open if exact_lo is not None or a.lo == 0 else False
    return make(lo, hi, lo_open, hi_open)


def _exact_rational_power(x: Endpoint, p: Fraction) -> Endpoint | None:
    if isinstance(x, float):
        return None
    if x == 0:
        return 0 if p > 0 else None
    if x == 1:
        return 1
    return exact_power(x, p)


# Folding a numeric power is capped so that "10**10**10" cannot exhaust memory.
MAX_FOLD_BITS = 4096


def exact_power(base: int | Fraction, exponent: int | Fraction) -> int | Fraction | None:
    """``base**exponent`` exactly when it is rational and small, else ``None``.

    Integer exponents fold while the result has at most :data:`MAX_FOLD_BITS` bits (``0**-1``
    is undefined: ``None``); rational exponents ``p/q`` fold only exact roots of nonnegative
    numbers. The expression tree folds numeric powers with this (``ir.power``), and the
    interval powers use it for exact ends, so both agree on which powers are exact.
    """
    if isinstance(exponent, int) or Fraction(exponent).denominator == 1:
        exponent = int(exponent)
        if base == 0 and exponent < 0:
            return None
        magnitude = abs(Fraction(base))
        bits = max(magnitude.numerator.bit_length(), magnitude.denominator.bit_length())
        if bits * abs(exponent) > MAX_FOLD_BITS:
            return None
        return _normal(Fraction(base) ** exponent)
    if base < 0 or (base == 0 and exponent < 0):
        return None
    if base in (0, 1):
        return _normal(Fraction(base))
    p, q = exponent.numerator, exponent.denominator
    if q > 64:
        return None
    b = Fraction(base)
    root_n = _exact_root(b.numerator, q)
    root_d = _exact_root(b.denominator, q)
    if root_n is None or root_d is None:
        return None
    return exact_power(Fraction(root_n, root_d), p)


def _normal(q: Fraction) -> int | Fraction:
    return q.numerator if q.denominator == 1 else q


def _exact_root(n: int, q: int) -> int | None:
    if n.bit_length() > MAX_FOLD_BITS:
        return None
    r = round(n ** (1.0 / q)) if n.bit_length() < 1000 else None
    if r is None:
        return None
    for candidate in (r - 1, r, r + 1):
        if candidate >= 0 and candidate**q == n:
            return candidate
    return None
