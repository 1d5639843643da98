"""Property tests of the interval arrays: every enclosure holds the exact value at every point.

Random interval arrays (huge, tiny, subnormal, zero and infinite ends, mixed signs, open and
closed) and random points inside them; each operation is evaluated exactly at the points
(``Fraction`` for rational operations, sums and matrix products; mpmath at 300 bits for
transcendental functions) and the exact value must lie in the computed enclosure, strictly
inside any end marked open. ``IV_HUNT=1`` runs the properties unseeded and ten times longer.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convexcheck.tensor import intervals as iv
from convexcheck.tensor.iarray import add_bounds, mul_bounds
from convexcheck.tensor.intervals import INF, IArray

HUNT = bool(os.environ.get("IV_HUNT"))
SETTINGS = settings(max_examples=2000 if HUNT else 200, deadline=None, derandomize=not HUNT)
mpmath.mp.prec = 300

SPECIAL = [
    0.0,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    1e-300,
    -1e-300,
    1e-17,
    0.1,
    0.25,
    1 / 3,
    0.5,
    1.0,
    -1.0,
    2.0,
    3.0,
    -0.5,
    -2.0,
    0.36787944117144233,
    1e16,
    -1e16,
    1e300,
    -1e300,
    1.7976931348623157e308,
    -1.7976931348623157e308,
]
FINITE = st.one_of(
    st.sampled_from(SPECIAL),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-10.0, 10.0),
    st.integers(-20, 20).map(float),
)
SHAPES = st.sampled_from([(), (1,), (3,), (2, 3), (4,), (2, 1)])


@st.composite
def point_in(draw, lo: float, hi: float, lo_open: bool, hi_open: bool) -> Fraction:
    """An exact (dyadic) point of the interval, often an end or next to one."""
    options: list[float] = []
    if not lo_open:
        options.append(lo)
    if not hi_open:
        options.append(hi)
    for v in (math.nextafter(lo, INF), math.nextafter(hi, -INF)):
        if math.isfinite(v) and lo < v < hi:
            options.append(v)
    if not options:  # open adjacent floats (or beyond the largest float): no float between
        if math.isinf(lo):
            return Fraction(hi) - 1
        if math.isinf(hi):
            return Fraction(lo) + 1
        return (Fraction(lo) + Fraction(hi)) / 2
    inner = st.floats(
        min_value=lo if math.isfinite(lo) else None,
        max_value=hi if math.isfinite(hi) else None,
        exclude_min=math.isfinite(lo),
        exclude_max=math.isfinite(hi),
        allow_nan=False,
        allow_infinity=False,
    )
    if lo < hi and math.nextafter(lo, INF) < hi:
        return Fraction(draw(st.one_of(st.sampled_from(options), inner)))
    return Fraction(draw(st.sampled_from(options)))


@st.composite
def entry(draw, kind: str = "any") -> tuple[float, float, bool, bool, Fraction]:
    """``kind``: "any", "nonneg" (lo >= 0) or "positive" (lo > 0 or open at 0)."""
    a, b = draw(FINITE), draw(FINITE)
    if kind != "any":
        a, b = abs(a), abs(b)
    lo, hi = min(a, b) + 0.0, max(a, b) + 0.0
    if kind == "any" and draw(st.integers(0, 5)) == 0:
        lo = -INF
    if draw(st.integers(0, 5)) == 0:
        hi = INF
    lo_open = draw(st.booleans()) or math.isinf(lo) or (kind == "positive" and lo == 0)
    hi_open = draw(st.booleans()) or math.isinf(hi)
    if lo == hi:
        if kind == "positive" and lo == 0:
            lo = hi = 1.0
        lo_open = hi_open = False
    return lo, hi, lo_open, hi_open, draw(point_in(lo, hi, lo_open, hi_open))


@st.composite
def iarrays(draw, shape=None, kind: str = "any") -> tuple[IArray, np.ndarray]:
    """An IArray and an object array of exact points inside it."""
    shape = draw(SHAPES) if shape is None else shape
    items = [draw(entry(kind)) for _ in range(math.prod(shape))]
    cols = list(zip(*items)) if items else [[]] * 5
    types = (np.float64, np.float64, bool, bool)
    arr = IArray(*(np.array(c, dtype=t).reshape(shape) for c, t in zip(cols, types)))
    pts = np.empty(shape, dtype=object)
    for i, idx in enumerate(np.ndindex(shape)):
        pts[idx] = items[i][4]
    return arr, pts


@st.composite
def pairs(draw, kind_a: str = "any", kind_b: str = "any"):
    """Two interval arrays of broadcast-compatible shapes, with points."""
    shape = draw(SHAPES)
    other = draw(st.sampled_from([shape, (), shape[-1:]]))
    if draw(st.booleans()):
        shape, other = other, shape
    return draw(iarrays(shape, kind_a)), draw(iarrays(other, kind_b))


class JustAbove:
    """An exact value ``base + t`` with ``0 < t`` far below any float spacing near ``base``
    (``log(1 + exp(x))`` for large ``x``, which no fixed precision can separate from ``x``)."""

    def __init__(self, base) -> None:
        self.base = base

    def above(self, end: float) -> bool:
        return self.base >= end

    def below(self, end: float) -> bool:
        return self.base < end

    def __str__(self) -> str:
        return f"{self.base} + tiny"


def assert_encloses(r: IArray, exact: np.ndarray, what: str = "") -> None:
    """Every exact value lies in its entry's interval (strictly inside open ends)."""
    exact = np.broadcast_to(np.asarray(exact, dtype=object), r.shape)
    for idx in np.ndindex(r.shape):
        v = exact[idx]
        lo, hi = float(r.lo[idx]), float(r.hi[idx])
        if isinstance(v, JustAbove):
            above, below = v.above(lo), v.below(hi)
        else:
            above = v > lo or (v == lo and not r.lo_open[idx])
            below = v < hi or (v == hi and not r.hi_open[idx])
        if not (above and below):
            ends = f"{'(' if r.lo_open[idx] else '['}{lo!r}, {hi!r}{')' if r.hi_open[idx] else ']'}"
            pytest.fail(f"{what}: exact value {v} at {idx} is outside {ends}")


def emap(f, *arrays: np.ndarray) -> np.ndarray:
    """``f`` applied elementwise to broadcast object arrays."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=object) for a in arrays))
    out = np.empty(arrays[0].shape, dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = f(*(a[idx] for a in arrays))
    return out


def mp(q: Fraction) -> mpmath.mpf:
    return mpmath.mpf(q.numerator) / q.denominator


def precise(f, *qs: Fraction):
    """``f`` at exact points, to 300 bits, or to 2400 bits where the value is within 2**-240
    of a float (only then could 300 bits misplace it relative to a float end)."""
    v = f(*(mp(q) for q in qs))
    if isinstance(v, JustAbove):
        return v
    if mpmath.isfinite(v) and abs(v - mpmath.mpf(float(v))) <= abs(v) * mpmath.mpf(2) ** -240:
        with mpmath.workprec(2400):
            v = f(*(mp(q) for q in qs))
    return v


# ---- the arithmetic -----------------------------------------------------------------------------
BINARY = {
    "add": (iv.add, lambda x, y: x + y),
    "sub": (iv.sub, lambda x, y: x - y),
    "mul": (iv.mul, lambda x, y: x * y),
    "maximum": (iv.maximum, max),
    "minimum": (iv.minimum, min),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data())
def test_binary_encloses(name, data):
    (a, pa), (b, pb) = data.draw(pairs())
    op, exact = BINARY[name]
    assert_encloses(op(a, b), emap(exact, pa, pb), name)


UNARY_EXACT = {
    "neg": (iv.neg, lambda x: -x),
    "abs_": (iv.abs_, abs),
    "pos": (iv.pos, lambda x: max(x, 0)),
    "neg_part": (iv.neg_part, lambda x: max(-x, 0)),
    "square": (iv.square, lambda x: x * x),
    "huber": (lambda a: iv.huber(a, 1.0), lambda x: x * x if abs(x) <= 1 else 2 * abs(x) - 1),
    "huber_M": (
        lambda a: iv.huber(a, 0.3),
        lambda x: (
            x * x if abs(x) <= Fraction(0.3) else 2 * Fraction(0.3) * abs(x) - Fraction(0.3) ** 2
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(UNARY_EXACT))
@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data())
def test_unary_exact_encloses(name, data):
    a, pa = data.draw(iarrays())
    op, exact = UNARY_EXACT[name]
    assert_encloses(op(a), emap(exact, pa), name)


@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data(), n=st.integers(-5, 9))
def test_power_int_encloses(data, n):
    a, pa = data.draw(iarrays())
    r = iv.power_int(a, n)
    if r is None:
        assert n < 0 and not np.all(a.positive() | a.negative())
        return
    assert_encloses(r, emap(lambda x: x**n, pa), f"power_int {n}")


@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data())
def test_reciprocal_encloses(data):
    a, pa = data.draw(iarrays())
    r = iv.reciprocal(a)
    if r is None:
        assert not np.all(a.positive() | a.negative())
        return
    assert_encloses(r, emap(lambda x: 1 / x, pa), "reciprocal")


@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data())
def test_scale_encloses(data):
    a, pa = data.draw(iarrays())
    c = data.draw(st.sampled_from([0.0, 1.0, -1.0, 1e-300, -3.5, 1e300]))
    assert_encloses(iv.scale(a, c), emap(lambda x: Fraction(c) * x, pa), "scale")


@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data())
def test_hull_holds_both(data):
    (a, pa), (b, pb) = data.draw(pairs())
    h = iv.hull(a, b)
    assert_encloses(h, pa, "hull a")
    assert_encloses(h, pb, "hull b")


@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data())
def test_structure_moves_points_along(data):
    a, pa = data.draw(iarrays(shape=(2, 3)))
    b, pb = data.draw(iarrays(shape=(2, 3)))
    assert_encloses(a.T, pa.T, "T")
    assert_encloses(a.reshape(3, 2), pa.reshape(3, 2), "reshape")
    assert_encloses(a[1], pa[1], "getitem")
    assert_encloses(a[:, [2, 0]], pa[:, [2, 0]], "fancy getitem")
    assert_encloses(a.broadcast_to((4, 2, 3)), np.broadcast_to(pa, (4, 2, 3)), "broadcast")
    assert_encloses(iv.concatenate([a, b], 1), np.concatenate([pa, pb], 1), "concatenate")
    assert_encloses(iv.stack([a, b]), np.stack([pa, pb]), "stack")


# ---- sums and matrix products -------------------------------------------------------------------
@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(
    data=st.data(),
    axis=st.sampled_from([None, 0, 1, -1, (0, 1)]),
    keepdims=st.booleans(),
)
def test_sum_encloses(data, axis, keepdims):
    a, pa = data.draw(iarrays(shape=data.draw(st.sampled_from([(2, 3), (4, 1), (1, 5), (3, 0)]))))
    r = iv.sum(a, axis, keepdims)
    exact = np.sum(pa, axis=axis, keepdims=keepdims) if pa.size else np.zeros(r.shape, object)
    assert r.shape == np.sum(np.zeros(a.shape), axis=axis, keepdims=keepdims).shape
    assert_encloses(r, emap(Fraction, exact), "sum")


MATRIX_ENTRY = st.one_of(
    st.sampled_from([0.0, 0.0, 0.0, 1.0, -1.0, 0.5, 3.0, 1e-300, -1e300, 5e-324]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-4.0, 4.0),
)


def matrices(shape):
    return st.lists(MATRIX_ENTRY, min_size=math.prod(shape), max_size=math.prod(shape)).map(
        lambda v: np.array(v, dtype=np.float64).reshape(shape)
    )


def exact_matmul(A: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.matmul(emap(Fraction, A), x)


@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data(), shapes=st.sampled_from([((3, 4), (4,)), ((3, 4), (4, 2)), ((4,), (4,))]))
def test_mul_const_matmul_encloses(data, shapes):
    A = data.draw(matrices(shapes[0]))
    x, px = data.draw(iarrays(shapes[1]))
    r = iv.mul_const_matmul(A, x)
    assert r.shape == np.matmul(A, np.zeros(shapes[1])).shape
    assert_encloses(r, exact_matmul(A, px), "A @ x")


@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data(), shapes=st.sampled_from([((4,), (4, 3)), ((2, 4), (4, 3)), ((2, 4), (4,))]))
def test_matmul_const_right_encloses(data, shapes):
    x, px = data.draw(iarrays(shapes[0]))
    A = data.draw(matrices(shapes[1]))
    r = iv.matmul_const_right(x, A)
    assert r.shape == np.matmul(np.zeros(shapes[0]), A).shape
    assert_encloses(r, np.matmul(px, emap(Fraction, A)), "x @ A")


@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data(), shapes=st.sampled_from([((2, 3), (3,)), ((3,), (3, 2)), ((3,), (3,))]))
def test_interval_matmul_encloses(data, shapes):
    a, pa = data.draw(iarrays(shapes[0]))
    b, pb = data.draw(iarrays(shapes[1]))
    assert_encloses(iv.matmul(a, b), np.matmul(pa, pb), "a @ b")


# ---- transcendental functions (mpmath reference) ------------------------------------------------
def _xlogy(x, y):
    return mpmath.mpf(0) if x == 0 else x * mpmath.log(x / y)


def _softplus(x):
    if x > 800:  # x + exp(-x) is beyond any working precision
        return JustAbove(x)
    return max(x, 0) + mpmath.log1p(mpmath.exp(-abs(x)))


TRANSCENDENTAL = {
    "exp": ("any", iv.exp, mpmath.exp),
    "log": ("positive", iv.log, mpmath.log),
    "sqrt": ("nonneg", iv.sqrt, mpmath.sqrt),
    "logistic": ("any", iv.logistic, lambda x: _softplus(x)),
    "entr": ("nonneg", iv.entr, lambda x: -_xlogy(x, 1)),
    "xexp": ("any", iv.xexp, lambda x: x * mpmath.exp(x)),
}


@pytest.mark.parametrize("name", sorted(TRANSCENDENTAL))
@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data())
def test_transcendental_encloses(name, data):
    kind, op, ref = TRANSCENDENTAL[name]
    a, pa = data.draw(iarrays(kind=kind))
    r = op(a)
    assert r is not None
    assert_encloses(r, emap(lambda q: precise(ref, q), pa), name)


@pytest.mark.parametrize("name", ["log", "sqrt", "entr"])
@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data())
def test_outside_domain_is_none(name, data):
    kind, op, _ = TRANSCENDENTAL[name]
    a, _ = data.draw(iarrays())
    inside = a.all_positive() if kind == "positive" else a.all_nonneg()
    assert (op(a) is None) == (not inside)


POWERS = [
    Fraction(1, 2),
    Fraction(3, 2),
    Fraction(1, 3),
    Fraction(2, 3),
    Fraction(-1, 2),
    Fraction(5, 4),
    Fraction(-1, 3),
    Fraction(7, 3),
    Fraction(10**6 + 1, 3),
]


@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data(), p=st.sampled_from(POWERS))
def test_power_real_encloses(data, p):
    a, pa = data.draw(iarrays(kind="positive" if p < 0 else "nonneg"))
    r = iv.power_real(a, p)
    assert r is not None
    exact = emap(
        lambda q: precise(lambda x: mpmath.power(x, mpmath.mpf(p.numerator) / p.denominator), q), pa
    )
    assert_encloses(r, exact, f"power_real {p}")


@pytest.mark.parametrize("name", ["rel_entr", "kl_div"])
@pytest.mark.slow  # a many-example property (SETTINGS): exact values at every point
@SETTINGS
@given(data=st.data())
def test_rel_entr_encloses(name, data):
    (x, px), (y, py) = data.draw(pairs("nonneg", "positive"))
    if name == "rel_entr":
        r, ref = iv.rel_entr(x, y), _xlogy
    else:
        r, ref = iv.kl_div(x, y), lambda a, b: _xlogy(a, b) - a + b
    assert r is not None
    assert_encloses(r, emap(lambda a, b: precise(ref, a, b), px, py), name)


# ---- the invariant behind open ends: unequal bounds are strict ----------------------------------
@SETTINGS
@given(x=FINITE, y=FINITE)
def test_rounding_primitives_are_exact_or_strict(x, y):
    for (dn, hi), exact in (
        (mul_bounds(x, y), Fraction(x) * Fraction(y)),
        (add_bounds(x, y), Fraction(x) + Fraction(y)),
    ):
        dn, hi = float(dn), float(hi)
        if dn == hi:
            assert exact == Fraction(dn)
        else:
            assert dn < exact < hi or (dn < exact and hi == INF) or (dn == -INF and exact < hi)


# ---- deterministic unit tests ----------------------------------------------------------------
def box(lo, hi, lo_open=False, hi_open=False) -> IArray:
    return IArray.from_bounds(lo, hi, lo_open, hi_open)


def ends_of(a: IArray) -> list:
    return [
        (lo, hi, lo_o, hi_o)
        for lo, hi, lo_o, hi_o in zip(
            a.lo.ravel().tolist(),
            a.hi.ravel().tolist(),
            a.lo_open.ravel().tolist(),
            a.hi_open.ravel().tolist(),
        )
    ]


def test_construction_rejects_empty_and_nan_and_freezes():
    for bad in ((1.0, 0.0), (np.nan, 1.0), (INF, INF), (-INF, -INF)):
        with pytest.raises(ValueError):
            box(*bad)
    with pytest.raises(ValueError):
        box(1.0, 1.0, True)
    a = box([-INF, -0.0], [0.0, INF])
    assert a.lo_open.tolist() == [True, False] and a.hi_open.tolist() == [False, True]
    assert math.copysign(1.0, a.lo[1]) == 1.0  # -0.0 was normalised
    with pytest.raises(ValueError):
        a.lo[0] = 1.0
    with pytest.raises(ValueError):
        IArray.point([1.0, INF])
    user = np.array([1.0, 2.0])
    IArray.point(user)
    user[0] = 3.0  # the caller's array is copied, not frozen


def test_predicates_and_contains():
    a = box([0.0, 0.0, -1.0, -INF], [1.0, 2.0, 0.0, INF], [True, False, False, False], [0, 0, 1, 0])
    assert a.positive().tolist() == [True, False, False, False]
    assert a.nonneg().tolist() == [True, True, False, False]
    assert a.negative().tolist() == [False, False, True, False]
    assert a.bounded().tolist() == [True, True, True, False]
    assert a.contains([0.0, 0.0, 0.0, 1e308]).tolist() == [False, True, False, True]
    assert not a.all_nonneg() and a[:2].all_nonneg() and a[:1].all_positive()
    assert a.reshape(2, 2).T.shape == (2, 2) and len(a) == 4 and a.size == 4 and a.ndim == 1


def test_exact_arithmetic_stays_exact():
    assert ends_of(iv.add(box(1.0, 2.0), box(3.0, 4.0))) == [(4.0, 6.0, False, False)]
    assert ends_of(iv.add(box(0.0, 1.0, True), box(0.0, 1.0))) == [(0.0, 2.0, True, False)]
    assert ends_of(iv.mul(2.0, box(0.5, 1.0))) == [(1.0, 2.0, False, False)]
    assert ends_of(iv.sub(iv.mul(2.0, box(0.5, 1.0)), 1.0)) == [(0.0, 1.0, False, False)]
    assert ends_of(iv.mul(0.0, box(-INF, INF))) == [(0.0, 0.0, False, False)]
    assert ends_of(iv.square(box(-1.0, 2.0))) == [(0.0, 4.0, False, False)]
    assert ends_of(iv.power_int(box(-2.0, 1.0), 3)) == [(-8.0, 1.0, False, False)]
    assert ends_of(iv.abs_(box(-3.0, 2.0, True))) == [(0.0, 3.0, False, True)]
    assert ends_of(iv.maximum(box(-1.0, 1.0), 0.0)) == [(0.0, 1.0, False, False)]


def test_positivity_survives_rounding_and_underflow():
    positive = box(0.0, INF, True, True)
    tiny = box(1e-200, 1e-200)
    assert iv.add(positive, box(0.0, 1.0)).all_positive()
    assert iv.mul(positive, positive).all_positive()
    assert iv.mul(tiny, tiny).all_positive()  # 1e-400 underflows to 0, still > 0
    assert iv.scale(positive, 1e-300).all_positive()
    assert iv.exp(box(-2000.0, -1000.0)).all_positive()
    assert iv.sqrt(box(0.0, 1.0, True)).all_positive()
    assert iv.power_real(positive, Fraction(1, 3)).all_positive()
    assert iv.logistic(box(-INF, 0.0, True)).all_positive()
    assert iv.reciprocal(box(1.0, INF)).all_positive()
    assert iv.sum(box([0.0, 0.0, 1e-300], [1.0, 1.0, 1.0])).all_positive()
    assert not iv.sum(box([0.0, 0.0], [1.0, 1.0])).all_positive()
    assert iv.mul_const_matmul(
        np.array([[0.0, 2.0, 1e-300]]), box(np.zeros(3), 1.0, True)
    ).all_positive()


def test_infinite_ends_never_give_nan():
    half = box(0.0, INF)
    assert ends_of(iv.sub(half, half)) == [(-INF, INF, True, True)]
    assert ends_of(iv.mul(half, box(-INF, 0.0))) == [(-INF, 0.0, True, False)]
    assert ends_of(iv.sum(box([-INF, 1.0], [0.0, INF]))) == [(-INF, INF, True, True)]
    assert ends_of(iv.exp(box(-INF, INF))) == [(0.0, INF, True, True)]
    assert ends_of(iv.add(box(1e308, 1e308), box(1e308, 1e308)))[0][1] == INF
    assert iv.rel_entr(half, box(0.0, INF, True)).shape == ()


def test_sum_with_cancellation_and_exact_dyadic_sums():
    r = iv.sum(IArray.point([1e16, 1.0, -1e16]))
    assert r.contains(1.0) and r.hi - r.lo < 100  # gamma bound, no trust in the order
    assert ends_of(iv.sum(IArray.point([0.25] * 4))) == [(1.0, 1.0, False, False)]
    assert ends_of(iv.sum(IArray.point([3.0, -5.0, 2.0]))) == [(0.0, 0.0, False, False)]
    r = iv.sum(IArray.point([0.1, 0.2, -0.3]))
    assert r.contains(float(Fraction(0.1) + Fraction(0.2) - Fraction(0.3)))
    assert iv.sum(box(np.zeros((2, 0)), 0.0), axis=1).all_points()
    m = iv.sum(box(np.arange(6.0).reshape(2, 3), 10.0), axis=0, keepdims=True)
    assert m.shape == (1, 3) and m.lo.tolist() == [[3.0, 5.0, 7.0]]


def test_const_matmul_shapes_zeros_and_infinite_ends():
    A = np.arange(12.0).reshape(3, 4) - 5.0
    x = box(np.arange(4.0), np.arange(4.0) + 1.0)
    assert iv.mul_const_matmul(A, x).shape == (3,)
    assert iv.mul_const_matmul(A, box(np.zeros((4, 2)), 1.0)).shape == (3, 2)
    assert iv.matmul_const_right(x, A.T).shape == (3,)
    assert iv.matmul_const_right(box(np.zeros(4), 1.0), np.ones((4, 3))).shape == (3,)
    assert iv.mul_const_matmul(np.ones(4), x).shape == ()
    r = iv.mul_const_matmul(A, IArray.point(np.arange(4.0)))  # small integers: nearly exact
    assert np.all(r.contains(A @ np.arange(4.0))) and np.all(r.hi - r.lo < 1e-12)
    wild = box([1.0, -INF], [2.0, INF])
    B = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, -1.0], [0.0, 3.0]])
    r = iv.mul_const_matmul(B, wild)
    assert r.contains(1.0)[0] and r.contains(2.0)[0] and r.bounded()[0]
    assert ends_of(r)[1] == (0.0, 0.0, False, False)
    assert not r.bounded()[2] and not r.bounded()[3]
    half = box([0.0, 0.0], [1.0, INF])
    r = iv.mul_const_matmul(np.array([[2.0, 0.0], [1.0, 1.0], [-1.0, 0.0]]), half)
    assert r.bounded().tolist() == [True, False, True] and r.nonneg().tolist() == [1, 1, 0]
    with pytest.raises(ValueError):
        iv.mul_const_matmul(np.ones((2, 3)), x)
    with pytest.raises(ValueError):
        iv.mul_const_matmul(np.array([[INF]]), box(0.0, np.ones(1)))


def test_domains_give_none():
    closed01 = box(0.0, 1.0)
    assert iv.log(closed01) is None and iv.reciprocal(box(-1.0, 1.0)) is None
    assert iv.sqrt(box(-1e-300, 1.0)) is None and iv.entr(box(-1.0, 1.0)) is None
    assert iv.power_int(closed01, -1) is None
    assert iv.power_real(closed01, Fraction(-1, 2)) is None
    assert iv.power_real(box(-1.0, 1.0), Fraction(1, 3)) is None
    assert iv.rel_entr(closed01, closed01) is None and iv.kl_div(box(-1.0, 1.0), 1.0) is None
    assert ends_of(iv.log(box(0.0, 1.0, True))) == [(-INF, 0.0, True, False)]
    assert ends_of(iv.reciprocal(box(0.0, 1.0, True))) == [(1.0, INF, False, True)]
    assert ends_of(iv.reciprocal(box(-2.0, -1.0))) == [(-1.0, -0.5, False, False)]


def test_transcendental_exact_points_and_sign_facts():
    assert ends_of(iv.exp(IArray.point(0.0))) == [(1.0, 1.0, False, False)]
    assert ends_of(iv.log(IArray.point(1.0))) == [(0.0, 0.0, False, False)]
    assert ends_of(iv.sqrt(box(4.0, 9.0))) == [(2.0, 3.0, False, False)]
    assert iv.exp(box(0.0, INF)).lo[()] == 1.0 and iv.log(box(1.0, 2.0)).lo[()] == 0.0
    assert iv.log(box(1.0, 2.0, True)).all_positive()
    assert iv.power_real(IArray.point(8.0), Fraction(1, 3)).contains(2.0)
    assert iv.power_real(IArray.point(1.0), Fraction(1, 3)).all_points()
    e = iv.entr(box(0.0, 1.0))
    assert e.lo[()] == 0.0 and e.hi[()] >= 1 / math.e and e.contains(0.0)
    assert iv.entr(box(1.0, 5.0)).all_nonpos() and iv.entr(box(0.0, 1.0, True, True)).all_positive()
    assert iv.xexp(box(-INF, -1e-300)).all_negative()
    assert iv.xexp(box(-5.0, 5.0)).lo[()] <= -1 / math.e
    assert iv.kl_div(box(1.0, 2.0), box(1.0, 2.0)).all_nonneg()
    assert iv.rel_entr(box(1.0, 2.0), box(3.0, 4.0)).all_nonpos()
    assert ends_of(iv.huber(box(-3.0, 0.5), 1.0)) == [(0.0, 5.0, False, False)]
    with pytest.raises(ValueError):
        iv.huber(box(0.0, 1.0), 0.0)
