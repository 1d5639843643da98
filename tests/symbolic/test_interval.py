"""Property tests of the interval arithmetic: every enclosure holds the exact results."""

from __future__ import annotations

from fractions import Fraction

import mpmath
from hypothesis import given, settings
from hypothesis import strategies as st

from convexcheck.symbolic import interval as iv
from convexcheck.symbolic import interval_powers as ivp
from convexcheck.symbolic.atoms import UNARY_ATOMS
from convexcheck.symbolic.interval import (
    INF,
    NEGATIVE,
    NONNEG,
    NONPOS,
    POSITIVE,
    REALS,
    Interval,
)

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True)

finite = st.builds(
    Fraction,
    st.integers(min_value=-50, max_value=50),
    st.sampled_from([1, 1, 1, 2, 3, 7, 10]),
)


@st.composite
def intervals(draw, allow_inf: bool = True) -> Interval:
    a = draw(finite)
    b = draw(finite)
    if draw(st.booleans()) and a != b:
        a, b = sorted((a, b))
    else:
        a, b = min(a, b), max(a, b)
    lo: Fraction | float = a
    hi: Fraction | float = b
    if allow_inf and draw(st.integers(0, 4)) == 0:
        lo = -INF
    if allow_inf and draw(st.integers(0, 4)) == 0:
        hi = INF
    lo_open = draw(st.booleans())
    hi_open = draw(st.booleans())
    if lo == hi:
        lo_open = hi_open = False
    lo = lo.numerator if isinstance(lo, Fraction) and lo.denominator == 1 else lo
    hi = hi.numerator if isinstance(hi, Fraction) and hi.denominator == 1 else hi
    return Interval(lo, hi, lo_open, hi_open)


def point_in(draw, r: Interval) -> Fraction:
    """An exact rational point of ``r`` (ends included when closed)."""
    lo = Fraction(r.lo) if r.lo != -INF else None
    hi = Fraction(r.hi) if r.hi != INF else None
    choice = draw(st.integers(0, 5))
    if lo is not None and hi is not None:
        if choice == 0 and not r.lo_open:
            return lo
        if choice == 1 and not r.hi_open:
            return hi
        t = Fraction(draw(st.integers(1, 999)), 1000)
        if choice == 2:
            t = Fraction(1, 10**9)
        if choice == 3:
            t = 1 - Fraction(1, 10**9)
        x = lo + (hi - lo) * t
        if lo == hi:
            return lo
        return x
    step = draw(st.sampled_from([Fraction(1, 10**9), Fraction(1, 3), Fraction(7), Fraction(10**6)]))
    if lo is None and hi is None:
        return draw(finite) * draw(st.sampled_from([1, 1000]))
    if lo is None:
        return hi if (choice == 0 and not r.hi_open) else hi - step
    return lo if (choice == 0 and not r.lo_open) else lo + step


@st.composite
def interval_and_point(draw, allow_inf: bool = True):
    r = draw(intervals(allow_inf))
    x = point_in(draw, r)
    assert r.contains(x), (r, x)
    return r, x


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------


@SETTINGS
@given(interval_and_point(), interval_and_point())
def test_add(ax, by):
    (a, x), (b, y) = ax, by
    assert iv.add(a, b).contains(x + y)
    assert iv.sum_all([a, b]).contains(x + y)


@SETTINGS
@given(st.lists(interval_and_point(), min_size=0, max_size=5))
def test_sum_all(items):
    total = iv.sum_all([r for r, _ in items])
    assert total.contains(sum((x for _, x in items), Fraction(0)))


@SETTINGS
@given(interval_and_point())
def test_neg(ax):
    a, x = ax
    assert iv.neg(a).contains(-x)
    assert iv.neg(iv.neg(a)) == a


@SETTINGS
@given(interval_and_point(), finite)
def test_scale(ax, q):
    a, x = ax
    assert iv.scale(a, q).contains(q * x)


@SETTINGS
@given(interval_and_point(), interval_and_point())
def test_mul(ax, by):
    (a, x), (b, y) = ax, by
    assert iv.mul(a, b).contains(x * y), (a, b, x, y, iv.mul(a, b))


@SETTINGS
@given(interval_and_point())
def test_reciprocal(ax):
    a, x = ax
    r = iv.reciprocal(a)
    if a.contains(0):
        assert r is None
        return
    if r is None:
        return
    assert r.contains(1 / x), (a, x, r)


@SETTINGS
@given(interval_and_point(), st.integers(-4, 6))
def test_ipow_int(ax, n):
    a, x = ax
    r = ivp.ipow_int(a, n)
    if n < 0 and a.contains(0):
        assert r is None
    if r is None:
        assert n < 0
        return
    if x == 0 and n < 0:
        return
    assert r.contains(x**n), (a, n, x, r)


RATIONAL_EXPONENTS = [
    Fraction(1, 2),
    Fraction(1, 3),
    Fraction(2, 3),
    Fraction(3, 2),
    Fraction(5, 2),
    Fraction(-1, 2),
    Fraction(-1, 3),
    Fraction(-3, 2),
    Fraction(7, 5),
]


def mpf(q) -> mpmath.mpf:
    if isinstance(q, Fraction):
        return mpmath.mpf(q.numerator) / q.denominator
    return mpmath.mpf(q)


@SETTINGS
@given(interval_and_point(), st.sampled_from(RATIONAL_EXPONENTS))
def test_ipow_rational(ax, p):
    a, x = ax
    r = ivp.ipow_rational(a, p)
    if a.lo < 0 or (p < 0 and not a.positive):
        assert r is None
        return
    assert r is not None
    if x == 0:
        assert p > 0
        assert r.lo <= 0
        return
    with mpmath.workdps(60):
        true = mpmath.power(mpf(x), mpf(p))
        assert r.lo == -INF or mpf(r.lo) <= true, (a, p, x, r)
        assert r.hi == INF or true <= mpf(r.hi), (a, p, x, r)


@SETTINGS
@given(interval_and_point(), intervals())
def test_hull(ax, b):
    a, x = ax
    h = iv.hull(a, b)
    assert h.contains(x)
    assert a.within(h) and b.within(h)
    assert iv.hull(b, a) == h


@SETTINGS
@given(interval_and_point(), interval_and_point())
def test_intersect(ax, by):
    (a, x), (b, y) = ax, by
    c = iv.intersect(a, b)
    for z in (x, y):
        if a.contains(z) and b.contains(z):
            assert c is not None and c.contains(z)
        elif c is not None:
            assert not c.contains(z)
    if c is not None:
        assert c.within(a) and c.within(b)
        assert iv.intersect(b, a) == c


@SETTINGS
@given(interval_and_point(), intervals())
def test_within_is_consistent_with_contains(ax, b):
    a, x = ax
    if a.within(b):
        assert b.contains(x)
    assert a.within(a)


@SETTINGS
@given(intervals())
def test_sign_predicates(a):
    assert a.positive == (a.contains(0) is False and a.lo >= 0)
    assert a.negative == (a.contains(0) is False and a.hi <= 0)
    assert a.nonneg == (a.lo >= 0)
    assert a.nonpos == (a.hi <= 0)
    assert a.sign() in ("positive", "nonnegative", "negative", "nonpositive", "zero", "unknown")


# ---------------------------------------------------------------------------------------------
# Open ends and edge cases
# ---------------------------------------------------------------------------------------------


def test_open_ends_of_products_and_reciprocals():
    half_open = Interval(0, 1, True, False)
    assert iv.mul(half_open, half_open) == half_open
    assert iv.mul(Interval(0, 1), half_open) == Interval(0, 1)
    assert iv.mul(POSITIVE, POSITIVE) == POSITIVE
    assert iv.mul(NEGATIVE, NEGATIVE) == POSITIVE
    assert iv.mul(POSITIVE, NEGATIVE) == NEGATIVE
    assert iv.mul(Interval(0, 0), REALS) == Interval(0, 0)
    assert iv.reciprocal(POSITIVE) == POSITIVE
    assert iv.reciprocal(NEGATIVE) == NEGATIVE
    assert iv.reciprocal(Interval(2, INF)) == Interval(0, Fraction(1, 2), True, False)
    assert iv.reciprocal(Interval(0, 2, True, False)) == Interval(Fraction(1, 2), INF)
    assert iv.reciprocal(NONNEG) is None
    assert iv.reciprocal(Interval(-1, 1)) is None
    assert iv.reciprocal(Interval(0, 0)) is None
    assert ivp.ipow_int(NEGATIVE, -2) == POSITIVE
    assert ivp.ipow_int(Interval(-2, 1), 2) == Interval(0, 4)
    assert ivp.ipow_int(Interval(-1, 3, True, True), 2) == Interval(0, 9, False, True)
    assert ivp.ipow_int(Interval(-3, 3, True, True), 2) == Interval(0, 9, False, True)
    assert ivp.ipow_int(Interval(-3, 3, False, True), 2) == Interval(0, 9)
    assert ivp.ipow_int(REALS, 3) == REALS
    assert ivp.ipow_int(REALS, -1) is None
    assert ivp.ipow_rational(NONNEG, Fraction(1, 2)) == NONNEG
    assert ivp.ipow_rational(POSITIVE, Fraction(-1, 2)) == POSITIVE
    assert ivp.ipow_rational(NONNEG, Fraction(-1, 2)) is None
    assert ivp.ipow_rational(Interval(-1, 1), Fraction(1, 3)) is None
    assert ivp.ipow_rational(Interval(4, 9), Fraction(1, 2)) == Interval(2, 3)
    assert ivp.ipow_rational(Interval(4, 9, True, True), Fraction(3, 2)) == Interval(
        8, 27, True, True
    )


def test_atom_images_of_whole_domains():
    assert UNARY_ATOMS["exp"].image_of(REALS) == Interval(0, INF, True, True)
    log_image = UNARY_ATOMS["log"].image_of(Interval(1, INF))
    assert log_image.lo == 0 and not log_image.lo_open and log_image.hi == INF
    assert UNARY_ATOMS["log"].image_of(Interval(1, INF, True, True)).lo_open
    assert UNARY_ATOMS["log"].image_of(POSITIVE) == REALS


def test_within():
    assert Interval(0, 1).within(Interval(0, 1))
    assert not Interval(0, 1).within(Interval(0, 1, True, False))
    assert Interval(0, 1, True, False).within(Interval(0, 1))
    assert POSITIVE.within(NONNEG)
    assert not NONNEG.within(POSITIVE)
    assert NEGATIVE.within(NONPOS)
    assert not NONPOS.within(NEGATIVE)
    assert Interval(0, 0).within(NONNEG) and Interval(0, 0).within(NONPOS)
    assert not Interval(0, 0).within(POSITIVE)
    assert REALS.within(REALS)
    assert Interval(-INF, 5).within(REALS)
    assert not REALS.within(Interval(-INF, 5))


def test_sign_predicate_edges():
    zero = Interval(0, 0)
    assert zero.nonneg and zero.nonpos and not zero.positive and not zero.negative
    assert zero.sign() == "zero" and zero.is_point
    assert POSITIVE.positive and POSITIVE.nonneg and not POSITIVE.nonpos
    assert NONNEG.nonneg and not NONNEG.positive and NONNEG.sign() == "nonnegative"
    assert NEGATIVE.negative and NEGATIVE.sign() == "negative"
    assert NONPOS.nonpos and not NONPOS.negative and NONPOS.sign() == "nonpositive"
    assert Interval(0, 1, True, False).positive
    assert not Interval(0, 1, False, True).positive
    assert Interval(-1, 0, False, True).negative
    assert Interval(Fraction(1, 10**30), 1).positive
    assert REALS.sign() == "unknown" and not REALS.bounded
    assert Interval(-1, 1).sign() == "unknown"
    # infinite ends are always open
    assert Interval(-INF, INF, False, False) == REALS
    assert not Interval(0, INF).contains(INF)


def test_contains_and_str():
    r = Interval(Fraction(1, 3), 2, True, False)
    assert not r.contains(Fraction(1, 3)) and r.contains(2) and r.contains(1)
    assert str(Interval(0, INF, True, True)) == "(0, oo)"
    assert str(Interval(1, 1)) == "{1}"
    assert Interval(1, 2).to_json() == ["1", "2", False, False]


def test_huge_rationals_are_rounded_outward():
    big = Fraction(1, 3) ** 300
    r = iv.make(big, 1 + big)
    assert r.contains(big) and r.contains(1 + big)
    s = iv.add(Interval(big, big), Interval(big, big))
    assert s.contains(2 * big)
    m = iv.mul(Interval(big, 1), Interval(big, 1))
    assert m.contains(big * big)


def test_ipow_rational_of_huge_endpoints():
    r = ivp.ipow_rational(Interval(10**400, 10**401), Fraction(1, 2))
    assert r is not None and r.contains(10**200)


huge = st.builds(
    lambda k, e, s: Fraction(s * k, 3**e),
    st.integers(1, 10**6),
    st.integers(150, 400),
    st.sampled_from([1, -1]),
)


@st.composite
def huge_interval_and_point(draw):
    a = draw(st.one_of(huge, finite))
    b = draw(st.one_of(huge, finite))
    a, b = sorted((a, b))
    t = Fraction(draw(st.integers(0, 1000)), 1000)
    r = iv.make(a, b, draw(st.booleans()) and a != b, draw(st.booleans()) and a != b)
    x = a + (b - a) * t
    if not r.contains(x):
        x = (a + b) / 2 if a != b else a
    return r, x


@SETTINGS
@given(huge_interval_and_point(), huge_interval_and_point())
def test_oversized_rationals_are_rounded_outward(ax, by):
    """Endpoints with > 256-bit denominators are rounded to floats, outward."""
    (a, x), (b, y) = ax, by
    assert a.contains(x)
    assert iv.add(a, b).contains(x + y)
    assert iv.mul(a, b).contains(x * y)
    assert iv.scale(a, Fraction(-7, 3)).contains(Fraction(-7, 3) * x)
    r = iv.reciprocal(a)
    if r is not None and x != 0:
        assert r.contains(1 / x)
    sq = ivp.ipow_int(a, 2)
    assert sq is not None and sq.contains(x * x)
