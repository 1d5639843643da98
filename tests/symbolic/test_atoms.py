"""Soundness of the atom table, checked numerically with mpmath at 50 digits.

Every entry of ``UNARY_ATOMS`` (iterated, so a new entry is tested automatically), every
``power_atom(p)`` for a set of exponents and ``exp_base_atom(c)`` for a few bases: each curvature
piece must satisfy the midpoint inequality and have second differences of the declared sign,
each monotonicity piece must be monotone in the declared direction, ``curvature_on`` /
``monotonicity_on`` must read the declared label on sub-intervals and ``None`` / nonmonotone
across pieces with different labels, and ``image_of`` must enclose the true values. The n-ary
atoms are checked by Jensen's inequality along random segments and finite differences.

A failure here is a wrong certificate waiting to happen (other tools have shipped "concave" for
``(x**2 + 1)**-2``), so nothing is skipped silently: an atom without an mpmath reference fails.
"""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import mpmath
import pytest

from convexcheck.symbolic.atoms import (
    AFFINE,
    CONCAVE,
    CONVEX,
    DECREASING,
    INCREASING,
    LOG_SUM_EXP,
    NONMONOTONE,
    REL_ENTR,
    UNARY_ATOMS,
    Bound,
    LogSumExpAtom,
    MaxAtom,
    MinAtom,
    NormAtom,
    PowerProductAtom,
    QuadOverLinAtom,
    RelEntrAtom,
    UnaryAtom,
    exp_base_atom,
    power_atom,
)
from convexcheck.symbolic.interval import INF, NEGATIVE, POSITIVE, REALS, Interval

MP = mpmath.mp
MP.dps = 50

# ---------------------------------------------------------------------------------------------
# mpmath references
# ---------------------------------------------------------------------------------------------


def _xlogx(x):
    return mpmath.mpf(0) if x == 0 else x * mpmath.log(x)


MP_FUNCTIONS = {
    "exp": mpmath.exp,
    "log": mpmath.log,
    "Abs": mpmath.fabs,
    "sin": mpmath.sin,
    "cos": mpmath.cos,
    "tan": mpmath.tan,
    "tanh": mpmath.tanh,
    "atan": mpmath.atan,
    "sinh": mpmath.sinh,
    "cosh": mpmath.cosh,
    # log(|x| + sqrt(x**2 + 1)) with the sign of x: no cancellation for large negative x
    "asinh": lambda x: mpmath.sign(x) * mpmath.log(abs(x) + mpmath.sqrt(x * x + 1)),
    "logistic": lambda x: mpmath.log1p(mpmath.exp(x)),
    "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
    "xlogx": _xlogx,
}

POWER_EXPONENTS = [
    Fraction(-3),
    Fraction(-2),
    Fraction(-1),
    Fraction(-1, 2),
    Fraction(-1, 3),
    Fraction(1, 3),
    Fraction(1, 2),
    Fraction(2, 3),
    Fraction(3, 2),
    Fraction(2),
    Fraction(5, 2),
    Fraction(3),
    Fraction(4),
    Fraction(5),
    Fraction(7),
]
EXP_BASES = [Fraction(1, 3), Fraction(2), Fraction(10)]


def mpf(q) -> mpmath.mpf:
    """An exact rational (or float) as an mpf (exact for dyadic values, 50 digits otherwise)."""
    if isinstance(q, Fraction):
        return mpmath.mpf(q.numerator) / q.denominator
    return mpmath.mpf(q)


def power_reference(p: Fraction):
    def f(x):
        if p.denominator == 1:
            return x ** int(p)
        if x < 0:
            raise ValueError("fractional power of a negative number")
        if x == 0:
            return mpmath.mpf(0) if p > 0 else mpmath.inf
        return mpmath.power(x, mpf(p))

    return f


def exp_base_reference(c: Fraction):
    return lambda x: mpmath.power(mpf(c), x)


def reference_for(key: str, atom: UnaryAtom):
    if key.startswith("power:"):
        return power_reference(Fraction(key.split(":", 1)[1]))
    if key.startswith("base:"):
        return exp_base_reference(Fraction(key.split(":", 1)[1]))
    if atom.name not in MP_FUNCTIONS:
        pytest.fail(
            f"atom {atom.name!r} has no mpmath reference in tests/symbolic/test_atoms.py: "
            "add one so that "
            "its curvature and monotonicity pieces are checked"
        )
    return MP_FUNCTIONS[atom.name]


def all_atoms() -> dict[str, UnaryAtom]:
    atoms = {f"unary:{k}": v for k, v in UNARY_ATOMS.items()}
    atoms.update({f"power:{p}": power_atom(p) for p in POWER_EXPONENTS})
    atoms.update({f"base:{c}": exp_base_atom(c) for c in EXP_BASES})
    return atoms


ATOMS = all_atoms()
ATOM_IDS = sorted(ATOMS)

# ---------------------------------------------------------------------------------------------
# Sampling inside pieces
# ---------------------------------------------------------------------------------------------

GAP = Fraction(1, 10**6)  # distance kept from irrational piece ends
SPAN = 40  # bounded sub-range used for an infinite end
LARGE = [Fraction(10) ** k for k in (2, 3, 5, 8)]


def _bound_inner(b: Bound, side: str) -> Fraction | float:
    """The rational end of a piece, moved inward by GAP when the bound is irrational."""
    if b.lo in (INF, -INF):
        return b.lo
    if b.lo == b.hi:
        return Fraction(b.lo)
    return Fraction(b.hi) + GAP if side == "lo" else Fraction(b.lo) - GAP


def _clip_to_domain(atom: UnaryAtom, lo, hi, lo_open=False, hi_open=False):
    """Intersections of [lo, hi] with each domain component (list of (lo, hi, lo_open, hi_open))."""
    out = []
    for d in atom.domain:
        if lo > d.lo or (lo == d.lo and (lo_open or not d.lo_open)):
            a, a_open = lo, lo_open
        else:
            a, a_open = d.lo, d.lo_open
        if hi < d.hi or (hi == d.hi and (hi_open or not d.hi_open)):
            b, b_open = hi, hi_open
        else:
            b, b_open = d.hi, d.hi_open
        if a < b:
            # d's ends may be irrational enclosures already (tan): keep them as they are
            out.append((a, b, a_open, b_open))
    return out


def sample_points(lo, hi, lo_open, hi_open, rng: random.Random, n: int = 12) -> list[Fraction]:
    """Exact rational points inside the segment (finite sub-range plus large magnitudes)."""
    pts: list[Fraction] = []
    if lo == -INF and hi == INF:
        a, b = Fraction(-SPAN), Fraction(SPAN)
        pts += [-x for x in LARGE] + LARGE
    elif lo == -INF:
        a, b = Fraction(hi) - SPAN, Fraction(hi)
        pts += [Fraction(hi) - x for x in LARGE]
    elif hi == INF:
        a, b = Fraction(lo), Fraction(lo) + SPAN
        pts += [Fraction(lo) + x for x in LARGE]
    else:
        a, b = Fraction(lo), Fraction(hi)
    width = b - a
    if not (lo_open and a == lo) and a == lo:
        pts.append(a)
    if not (hi_open and b == hi) and b == hi:
        pts.append(b)
    # points near the ends (relatively), then uniform ones
    for t in (Fraction(1, 10**8), Fraction(1, 10**4), Fraction(1, 100)):
        pts.append(a + width * t)
        pts.append(b - width * t)
    for _ in range(n):
        pts.append(a + width * Fraction(rng.randint(1, 10**6 - 1), 10**6))
    out = sorted(
        {
            p
            for p in pts
            if (p > lo or (p == lo and not lo_open)) and (p < hi or (p == hi and not hi_open))
        }
    )
    return out


def piece_segments(atom: UnaryAtom, piece, shift: int = 0, gap_always: bool = False):
    """The piece (shifted by whole periods), clipped to the domain, GAP away from inexact ends.

    ``gap_always`` keeps GAP from every finite end: for periodic atoms the *neighbouring*
    shifted piece has an inexact end even where this piece's end is exact (see the xfail
    ``test_periodic_labels_at_exact_multiples_of_the_period``)."""
    lo_b, hi_b = piece.lo, piece.hi
    if shift:
        lo_b, hi_b = lo_b.shifted(shift, atom.period), hi_b.shifted(shift, atom.period)
    lo = _bound_inner(lo_b, "lo")
    hi = _bound_inner(hi_b, "hi")
    if gap_always:
        lo = lo + GAP if lo != -INF and lo_b.lo == lo_b.hi else lo
        hi = hi - GAP if hi != INF and hi_b.lo == hi_b.hi else hi
    if lo >= hi:
        return []
    return _clip_to_domain(atom, lo, hi)


def shifts_for(atom: UnaryAtom) -> list[int]:
    return [0, 1, -1, 2, -2] if atom.period is not None else [0]


def value(f, q) -> mpmath.mpf:
    return f(mpf(q))


def _tol(*vals) -> mpmath.mpf:
    scale = max([mpmath.fabs(v) for v in vals if mpmath.isfinite(v)] + [mpmath.mpf(1)])
    return scale * mpmath.mpf(10) ** -40


def check_curvature_samples(f, pts: list[Fraction], label: str, what: str) -> None:
    sign = {CONVEX: 1, CONCAVE: -1, AFFINE: 0}[label]
    vals = {p: value(f, p) for p in pts}
    for i, a in enumerate(pts):
        for b in pts[i + 1 :]:
            m = (a + b) / 2
            fm = value(f, m)
            gap = (vals[a] + vals[b]) / 2 - fm  # >= 0 for convex
            if not (mpmath.isfinite(gap)):
                continue
            tol = _tol(vals[a], vals[b], fm)
            if sign >= 0:
                assert gap >= -tol, f"{what}: not convex: midpoint of [{a}, {b}] ({float(gap)})"
            if sign <= 0:
                assert gap <= tol, f"{what}: not concave: midpoint of [{a}, {b}] ({float(gap)})"
    # second differences at several scales
    for x in pts:
        for h in (Fraction(1, 10**3), Fraction(1, 10), Fraction(1)):
            if x - h < pts[0] or x + h > pts[-1]:
                continue
            d2 = value(f, x - h) - 2 * vals[x] + value(f, x + h)
            tol = _tol(vals[x])
            if sign >= 0:
                assert d2 >= -tol, f"{what}: negative second difference at {x}, h={h}"
            if sign <= 0:
                assert d2 <= tol, f"{what}: positive second difference at {x}, h={h}"


def check_monotone_samples(f, pts: list[Fraction], label: str, what: str) -> None:
    vals = [value(f, p) for p in pts]
    for (a, fa), (b, fb) in zip(
        zip(pts, vals, strict=False), zip(pts[1:], vals[1:], strict=False), strict=False
    ):
        tol = _tol(fa, fb)
        if label == INCREASING:
            assert fa <= fb + tol, f"{what}: decreases between {a} and {b}"
        elif label == DECREASING:
            assert fa >= fb - tol, f"{what}: increases between {a} and {b}"
        else:  # pragma: no cover - tables only hold the two directions
            pytest.fail(f"{what}: unexpected monotonicity label {label!r}")


# ---------------------------------------------------------------------------------------------
# The table itself
# ---------------------------------------------------------------------------------------------


def test_every_table_entry_has_a_reference():
    missing = [name for name in UNARY_ATOMS if name not in MP_FUNCTIONS]
    assert not missing, f"add mpmath references for {missing}"


@pytest.mark.parametrize("key", ATOM_IDS)
def test_curvature_pieces(key):
    atom = ATOMS[key]
    f = reference_for(key, atom)
    rng = random.Random(sum(map(ord, key)))
    checked = 0
    for piece in atom.curvature:
        for k in shifts_for(atom):
            for lo, hi, lo_open, hi_open in piece_segments(atom, piece, k):
                pts = sample_points(lo, hi, lo_open, hi_open, rng, n=8)
                check_curvature_samples(f, pts, piece.label, f"{key} {piece.describe()} shift {k}")
                checked += 1
    assert checked >= 1


@pytest.mark.parametrize("key", ATOM_IDS)
def test_monotonicity_pieces(key):
    atom = ATOMS[key]
    f = reference_for(key, atom)
    rng = random.Random(sum(map(ord, key)) + 7)
    checked = 0
    for piece in atom.monotonicity:
        for k in shifts_for(atom):
            for lo, hi, lo_open, hi_open in piece_segments(atom, piece, k):
                pts = sample_points(lo, hi, lo_open, hi_open, rng, n=20)
                check_monotone_samples(f, pts, piece.label, f"{key} {piece.describe()} shift {k}")
                checked += 1
    assert checked >= 1


@pytest.mark.parametrize("key", ATOM_IDS)
def test_float_fn_agrees_with_mpmath(key):
    atom = ATOMS[key]
    f = reference_for(key, atom)
    rng = random.Random(sum(map(ord, key)) + 11)
    pts: list[float] = []
    for d in atom.domain:
        lo = -700.0 if d.lo == -INF else float(d.lo)
        hi = 700.0 if d.hi == INF else float(d.hi)
        for _ in range(60):
            x = rng.uniform(lo, hi) if rng.random() < 0.5 else rng.uniform(-3, 3)
            if d.contains(Fraction(x)):
                pts.append(x)
        for x in (0.0, 1.0, -1.0, 0.5, 1e-8, 30.5, -30.5, 100.0, 1e5, -1e5):
            if d.contains(Fraction(x)):
                pts.append(x)
    assert pts
    for x in pts:
        expected = f(mpmath.mpf(x))  # at the exact float input
        if not mpmath.isfinite(expected) or mpmath.fabs(expected) > mpmath.mpf("1e300"):
            continue
        try:
            got = atom.fn(x)
        except OverflowError:
            continue
        tol = mpmath.mpf("1e-12") * mpmath.fabs(expected) + mpmath.mpf("1e-300")
        assert mpmath.fabs(mpmath.mpf(got) - expected) <= tol, (key, x, got, expected)


@pytest.mark.parametrize("key", ATOM_IDS)
def test_labels_on_sub_intervals(key):
    atom = ATOMS[key]
    rng = random.Random(sum(map(ord, key)) + 3)
    for attr, reader in (("curvature", atom.curvature_on), ("monotonicity", atom.monotonicity_on)):
        for piece in getattr(atom, attr):
            for k in shifts_for(atom):
                segments = piece_segments(atom, piece, k, gap_always=atom.period is not None)
                for lo, hi, lo_open, hi_open in segments:
                    # the whole (clipped) piece
                    whole = Interval(lo, hi, lo_open, hi_open)
                    assert reader(whole) == piece.label, (key, attr, whole)
                    pts = sample_points(lo, hi, lo_open, hi_open, rng, n=10)
                    for _ in range(8):
                        a, b = sorted(rng.sample(pts, 2))
                        r = Interval(a, b, rng.random() < 0.5, rng.random() < 0.5)
                        assert reader(r) == piece.label, (key, attr, r, piece.describe())
                    # a point is a constant: affine
                    assert atom.curvature_on(Interval(pts[0], pts[0])) == AFFINE


@pytest.mark.parametrize("key", ATOM_IDS)
def test_labels_across_pieces_with_different_labels(key):
    atom = ATOMS[key]
    for attr, reader, mixed in (
        ("curvature", atom.curvature_on, None),
        ("monotonicity", atom.monotonicity_on, NONMONOTONE),
    ):
        pieces = getattr(atom, attr)
        for left, right in itertools.pairwise(pieces):
            if left.label == right.label:
                continue
            b = right.lo
            for k in shifts_for(atom):
                bk = b.shifted(k, atom.period) if k else b
                r = Interval(Fraction(bk.lo) - Fraction(1, 10), Fraction(bk.hi) + Fraction(1, 10))
                if not atom.domain_ok(r):
                    continue
                assert reader(r) == mixed, (key, attr, r)


@pytest.mark.parametrize(
    ("name", "r", "expected"),
    [
        ("sin", Interval(0, 4), None),
        ("tanh", Interval(-1, 1), None),
        ("cos", Interval(-1, 1), CONCAVE),
        ("sin", Interval(Fraction("3.3"), 6), CONVEX),
        ("sin", Interval(Fraction("0.1"), 3), CONCAVE),
        ("sin", Interval(Fraction("0.1") + 20 * Fraction("3.1415926536"), 65), CONCAVE),
        ("cos", Interval(2, 4), CONVEX),
        ("log", POSITIVE, CONCAVE),
        ("exp", REALS, CONVEX),
        ("Abs", REALS, CONVEX),
        ("sinh", REALS, None),
        ("atan", Interval(0, INF), CONCAVE),
        ("atan", Interval(-INF, 0), CONVEX),
        ("tan", Interval(0, Fraction(3, 2)), CONVEX),
        ("tan", Interval(Fraction(-3, 2), 0), CONCAVE),
        ("sin", REALS, None),  # unbounded range of a periodic atom: too many pieces
        ("sin", Interval(-100, 100), None),
    ],
)
def test_curvature_on_examples(name, r, expected):
    assert UNARY_ATOMS[name].curvature_on(r) == expected


@pytest.mark.parametrize(
    ("name", "r", "expected"),
    [
        ("sin", Interval(-1, 1), INCREASING),
        ("sin", Interval(2, 4), DECREASING),
        ("sin", Interval(1, 2), NONMONOTONE),
        ("cos", Interval(Fraction(1, 10), 3), DECREASING),
        ("cos", Interval(-1, 1), NONMONOTONE),
        ("Abs", Interval(-1, 1), NONMONOTONE),
        ("Abs", Interval(0, 1), INCREASING),
        ("Abs", Interval(-1, 0), DECREASING),
        ("cosh", NEGATIVE, DECREASING),
        ("xlogx", Interval(0, Fraction(36, 100)), DECREASING),
        ("xlogx", Interval(Fraction(37, 100), 5), INCREASING),
        ("xlogx", Interval(Fraction(1, 10), 1), NONMONOTONE),
        ("sin", REALS, NONMONOTONE),
    ],
)
def test_monotonicity_on_examples(name, r, expected):
    assert UNARY_ATOMS[name].monotonicity_on(r) == expected


def test_power_minus_two_is_convex_on_each_side_and_never_concave():
    atom = power_atom(Fraction(-2))
    assert atom.curvature_on(POSITIVE) == CONVEX
    assert atom.curvature_on(NEGATIVE) == CONVEX
    assert atom.curvature_on(REALS) != CONCAVE
    # the whole real line is outside the domain (0 is excluded), which the engine must check
    assert not atom.domain_ok(REALS)
    assert atom.domain_ok(POSITIVE) and atom.domain_ok(NEGATIVE)
    assert atom.monotonicity_on(POSITIVE) == DECREASING
    assert atom.monotonicity_on(NEGATIVE) == INCREASING
    # (x**2 + 1)**-2 style: the outer power is convex and decreasing on [1, oo), never concave
    assert atom.curvature_on(Interval(1, INF)) == CONVEX


@pytest.mark.parametrize(
    ("p", "positive_side", "negative_side"),
    [
        (Fraction(-3), CONVEX, CONCAVE),
        (Fraction(-1), CONVEX, CONCAVE),
        (Fraction(2), CONVEX, CONVEX),
        (Fraction(3), CONVEX, CONCAVE),
        (Fraction(4), CONVEX, CONVEX),
        (Fraction(1, 2), CONCAVE, None),
        (Fraction(1, 3), CONCAVE, None),
        (Fraction(3, 2), CONVEX, None),
        (Fraction(-1, 2), CONVEX, None),
    ],
)
def test_power_labels(p, positive_side, negative_side):
    atom = power_atom(p)
    assert atom.curvature_on(POSITIVE) == positive_side
    if negative_side is None:
        assert not atom.domain_ok(NEGATIVE)
        assert not atom.domain_ok(Interval(-1, 1))
    else:
        assert atom.curvature_on(NEGATIVE) == negative_side
    if p.denominator == 1 and p > 0 and p % 2 == 1:
        assert atom.curvature_on(REALS) is None  # odd powers change curvature at 0


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------


def mp_contains(iv: Interval, v: mpmath.mpf) -> bool:
    if not mpmath.isfinite(v):
        return False
    lo_ok = iv.lo == -INF or (v > mpf(iv.lo) if iv.lo_open else v >= mpf(iv.lo))
    hi_ok = iv.hi == INF or (v < mpf(iv.hi) if iv.hi_open else v <= mpf(iv.hi))
    return lo_ok and hi_ok


def random_endpoint(rng: random.Random, lo, hi) -> Fraction:
    lo = Fraction(-60) if lo == -INF else Fraction(lo)
    hi = Fraction(60) if hi == INF else Fraction(hi)
    kind = rng.random()
    if kind < 0.15:
        x = Fraction(rng.randint(-8, 8))
    elif kind < 0.3:
        x = Fraction(rng.randint(-80, 80), rng.choice([2, 3, 7, 10]))
    else:
        x = Fraction(rng.uniform(float(lo), float(hi)))
    return min(max(x, lo), hi)


def random_ranges(atom: UnaryAtom, rng: random.Random, count: int):
    out = []
    for _ in range(count):
        d = rng.choice(atom.domain)
        a = random_endpoint(rng, d.lo, d.hi)
        b = random_endpoint(rng, d.lo, d.hi)
        a, b = sorted((a, b))
        if atom.period is None:
            if rng.random() < 0.15 and d.lo == -INF:
                a = -INF
            if rng.random() < 0.15 and d.hi == INF:
                b = INF
        lo_open = rng.random() < 0.4 or a == -INF
        hi_open = rng.random() < 0.4 or b == INF
        if a == b:
            lo_open = hi_open = False
        lo_open = lo_open or (a == d.lo and d.lo_open)
        hi_open = hi_open or (b == d.hi and d.hi_open)
        if a == b and (lo_open or hi_open):
            continue
        r = Interval(a, b, lo_open, hi_open)
        if atom.domain_ok(r):
            out.append(r)
    return out


def contains_value(image: Interval, f, q: Fraction) -> bool:
    """Whether ``image`` holds f(q); values that 50 digits cannot separate from an end (such
    as sigmoid(993) = 1 - 1e-432 against an open end 1) are re-evaluated at 1,000 digits."""
    v50 = value(f, q)
    if mp_contains(image, v50):
        return True
    # an exact rational end (x**4 at 31/5 is exactly 923521/625) against a 50-digit value
    # that rounding put 1e-47 outside it: a rounding artefact of the reference, not a miss
    for end, is_open in ((image.lo, image.lo_open), (image.hi, image.hi_open)):
        if (
            end not in (INF, -INF)
            and not is_open
            and abs(v50 - mpf(end)) <= mpf(10) ** -40 * (1 + abs(v50))
        ):
            return True
    with mpmath.workdps(1000):
        v = value(f, q)
        if mp_contains(image, v):
            return True
        # still inseparable from an open end (tanh(1e5) = 1 - 1e-86859): a limit, not a miss
        ends = [mpf(e) for e in (image.lo, image.hi) if e not in (INF, -INF)]
        return any(v == e for e in ends) and mp_contains(
            Interval(image.lo, image.hi, False, False), v
        )


IMAGE_BUGS: dict[str, str] = {}  # every bug once listed here is fixed


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=IMAGE_BUGS[k]))
        if k in IMAGE_BUGS
        else k
        for k in ATOM_IDS
    ],
)
def test_image_of_encloses_values(key):
    atom = ATOMS[key]
    f = reference_for(key, atom)
    rng = random.Random(sum(map(ord, key)) + 5)
    ranges = random_ranges(atom, rng, 40)
    ranges += [d for d in atom.domain]
    assert ranges
    for r in ranges:
        image = atom.image_of(r)
        pts = (
            sample_points(r.lo, r.hi, r.lo_open, r.hi_open, rng, n=10)
            if not r.is_point
            else [Fraction(r.lo)]
        )
        for q in pts:
            v = value(f, q)
            if not mpmath.isfinite(v):
                continue
            # large arguments overflow floats; their enclosure is tested separately (xfail)
            if mpmath.fabs(v) > mpmath.mpf("1e300"):
                continue
            assert contains_value(image, f, q), f"{key}: image_of({r}) = {image} misses f({q})"
        # and the global image holds every sampled value too
        for q in pts[:5]:
            v = value(f, q)
            if mpmath.isfinite(v):
                assert contains_value(atom.image, f, q), (key, q, v, atom.image)


SAFE_IMAGE_RANGES = {
    # the parts of the buggy atoms that the bugs do not touch stay under test
    "unary:tan": [Interval(Fraction(-3, 2), Fraction(3, 2)), Interval(-1, Fraction(1, 3))],
    "power:-1": [POSITIVE, Interval(Fraction(1, 3), 7, True, False), Interval(-5, -1)],
    "power:-3": [POSITIVE, Interval(2, INF), Interval(-5, Fraction(-1, 2))],
}


@pytest.mark.parametrize("key", sorted(SAFE_IMAGE_RANGES))
def test_image_of_buggy_atoms_on_safe_ranges(key):
    atom = ATOMS[key]
    f = reference_for(key, atom)
    rng = random.Random(sum(map(ord, key)) + 9)
    ranges = list(SAFE_IMAGE_RANGES[key])
    for r in list(ranges):
        pts = sample_points(r.lo, r.hi, r.lo_open, r.hi_open, rng, n=6)
        for _ in range(6):
            a, b = sorted(rng.sample(pts, 2))
            ranges.append(Interval(a, b, rng.random() < 0.5, rng.random() < 0.5))
    for r in ranges:
        assert atom.domain_ok(r)
        image = atom.image_of(r)
        for q in sample_points(r.lo, r.hi, r.lo_open, r.hi_open, rng, n=10):
            if mpmath.fabs(value(f, q)) > mpmath.mpf("1e300"):
                continue
            assert contains_value(image, f, q), f"{key}: image_of({r}) = {image} misses f({q})"


def test_power_product_cases_cover_every_label():
    labels = {c[1].curvature(c[4]) for c in NARY if isinstance(c[1], PowerProductAtom)}
    assert labels == {CONVEX, CONCAVE, None}


def test_image_examples():
    assert UNARY_ATOMS["exp"].image_of(REALS) == Interval(0, INF, True, True)
    log_image = UNARY_ATOMS["log"].image_of(Interval(1, INF))
    assert log_image.lo == 0 and not log_image.lo_open
    assert UNARY_ATOMS["exp"].image_of(Interval(0, 1)).lo == 1
    assert UNARY_ATOMS["Abs"].image_of(Interval(-2, 1)) == Interval(0, 2)
    assert UNARY_ATOMS["sigmoid"].image_of(Interval(0, 1)).lo == Fraction(1, 2)
    assert UNARY_ATOMS["xlogx"].image_of(Interval(0, 1)).hi == 0
    assert UNARY_ATOMS["cosh"].image_of(REALS).lo == 1


# Regression: image_monotone used to return +oo as the LOWER end when f overflowed floats, so
# the image of exp on [800, 900] was (oo, oo), which contains no real value.
@pytest.mark.parametrize(
    ("key", "r"),
    [
        ("unary:exp", Interval(800, 900)),
        ("unary:cosh", Interval(800, 900)),
        ("unary:sinh", Interval(800, 900)),
        ("base:10", Interval(400, 500)),
        ("base:1/3", Interval(-900, -800)),
    ],
)
def test_image_of_overflowing_range(key, r):
    atom = ATOMS[key]
    f = reference_for(key, atom)
    image = atom.image_of(r)
    for q in (Fraction(r.lo), Fraction(r.hi), (Fraction(r.lo) + Fraction(r.hi)) / 2):
        assert mp_contains(image, value(f, q)), (key, r, image)


# Regression (found by the checker's author): an overflow was read as +oo whatever the sign, so
# the image of sinh at -1000 was [1.8e308, oo) and ``Max(-x**2, sinh(-1000))`` was "proved"
# convex. The class is "a value past the float range": every atom, on ranges whose values
# overflow in either direction, must enclose the mpmath value (mpmath has no exponent limit).
FAR_RANGES = [
    Interval(-5000, -700),
    Interval(-900, -800),
    Interval(-1000, -1000),
    Interval(800, 900),
    Interval(700, 5000),
    Interval(1000, 1000),
    Interval(-800, 800),
]


@pytest.mark.parametrize("key", ATOM_IDS)
def test_image_of_encloses_values_past_the_float_range(key):
    atom = ATOMS[key]
    f = reference_for(key, atom)
    rng = random.Random(sum(map(ord, key)) + 11)
    checked = 0
    for r in FAR_RANGES:
        if not atom.domain_ok(r):
            continue
        image = atom.image_of(r)
        pts = [Fraction(r.lo)] if r.is_point else [Fraction(r.lo), Fraction(r.hi)]
        if not r.is_point:
            pts += sample_points(r.lo, r.hi, False, False, rng, n=6)
        for q in pts:
            v = value(f, q)
            if not mpmath.isfinite(v):
                continue
            checked += 1
            assert contains_value(image, f, q), f"{key}: image_of({r}) = {image} misses f({q})"
    if any(atom.domain_ok(r) for r in FAR_RANGES):
        assert checked


def test_max_with_a_hugely_negative_constant_is_not_proved_convex():
    from convexcheck import check

    r = check("Max(-x**2, sinh(-1000))")
    assert r.convex.answer != "yes"
    assert check("Max(-x**2, -exp(1000))").convex.answer != "yes"


# ---------------------------------------------------------------------------------------------
# n-ary atoms
# ---------------------------------------------------------------------------------------------


def _mp_max(xs):
    return max(xs)


def _mp_min(xs):
    return min(xs)


def _mp_lse(xs):
    return mpmath.log(mpmath.fsum(mpmath.exp(x) for x in xs))


def _mp_norm(weights, offset):
    return lambda xs: mpmath.sqrt(
        mpmath.fsum(mpf(w) * x * x for w, x in zip(weights, xs, strict=False)) + mpf(offset)
    )


def _mp_qol(xs):
    return mpmath.fsum(x * x for x in xs[:-1]) / xs[-1]


def _mp_pp(exponents):
    def f(xs):
        out = mpmath.mpf(1)
        for x, a in zip(xs, exponents, strict=False):
            if a == 0:
                continue
            out *= mpmath.power(x, mpf(a)) if x > 0 else mpmath.mpf(0)
        return out

    return f


def _mp_relentr(xs):
    u, v = xs
    return mpmath.mpf(0) if u == 0 else u * mpmath.log(u / v)


def _rand_frac(rng, lo, hi):
    return Fraction(rng.uniform(lo, hi)).limit_denominator(10**6)


def nary_cases():
    """(id, atom, mp function, sampler(rng) -> point, ranges for the labels)."""
    rng = random.Random(2024)
    cases = []
    real = lambda n: lambda r: [_rand_frac(r, -5, 5) for _ in range(n)]  # noqa: E731
    for n in (1, 2, 3):
        cases.append((f"max{n}", MaxAtom(), _mp_max, real(n), [REALS] * n))
        cases.append((f"min{n}", MinAtom(), _mp_min, real(n), [REALS] * n))
        cases.append((f"lse{n}", LogSumExpAtom(), _mp_lse, real(n), [REALS] * n))
    for n in (1, 2, 3):
        for _ in range(2):
            w = tuple(Fraction(rng.randint(1, 9), rng.randint(1, 4)) for _ in range(n))
            c = rng.choice([0, 1, Fraction(1, 3), 5])
            for ranges in ([REALS] * n, [Interval(0, INF)] * n, [Interval(-INF, 0)] * n):
                cases.append(
                    (f"norm{n}{w}{c}{ranges[0]}", NormAtom(w, c), _mp_norm(w, c), None, ranges)
                )
    for n in (2, 3):
        for ranges in (
            [REALS] * (n - 1) + [POSITIVE],
            [Interval(0, INF)] * (n - 1) + [POSITIVE],
            [Interval(-INF, 0)] * (n - 1) + [Interval(1, 2)],
        ):
            cases.append((f"qol{n}{ranges[0]}", QuadOverLinAtom(), _mp_qol, None, ranges))
    exponent_sets = [
        (Fraction(1, 2), Fraction(1, 2)),
        (Fraction(1, 3), Fraction(1, 3), Fraction(1, 3)),
        (Fraction(1, 4), Fraction(1, 2)),
        (Fraction(-1), Fraction(-1)),
        (Fraction(-1, 2), Fraction(-2)),
        (Fraction(2), Fraction(-1)),
        (Fraction(3, 2), Fraction(-1, 2)),
        (Fraction(1), Fraction(-1, 3)),
        (Fraction(1), Fraction(1)),  # x*y: neither
        (Fraction(2), Fraction(1, 2)),  # neither
        (Fraction(1, 2), Fraction(-1, 2)),  # one positive, sum < 1: neither
        (Fraction(1), Fraction(0)),
        (Fraction(0), Fraction(0)),
    ]
    for _ in range(12):
        n = rng.randint(1, 3)
        exponent_sets.append(
            tuple(Fraction(rng.randint(-6, 6), rng.randint(1, 4)) for _ in range(n))
        )
    for e in exponent_sets:
        ranges = [POSITIVE] * len(e)
        cases.append((f"pp{e}", PowerProductAtom(e), _mp_pp(e), None, ranges))
        if all(a > 0 for a in e):  # the concave form also accepts bases that may be 0
            ranges = [Interval(0, INF)] * len(e)
            cases.append((f"pp0{e}", PowerProductAtom(e), _mp_pp(e), None, ranges))
    cases.append(("relentr", RelEntrAtom(), _mp_relentr, None, [Interval(0, INF), POSITIVE]))
    cases.append(("relentr-global", REL_ENTR, _mp_relentr, None, [Interval(0, INF), POSITIVE]))
    return cases


NARY = nary_cases()


def sample_in(rng: random.Random, r: Interval) -> Fraction:
    lo = -6 if r.lo == -INF else Fraction(r.lo)
    hi = Fraction(lo) + 12 if r.hi == INF else Fraction(r.hi)
    for _ in range(100):
        x = Fraction(lo) + (Fraction(hi) - Fraction(lo)) * Fraction(rng.randint(0, 10**6), 10**6)
        if rng.random() < 0.1 and r.contains(0):
            x = Fraction(0)
        if r.contains(x):
            return x
    raise AssertionError(f"no sample in {r}")


@pytest.mark.parametrize("case", NARY, ids=[c[0] for c in NARY])
def test_nary_curvature_jensen(case):
    name, atom, f, _sampler, ranges = case
    rng = random.Random(sum(map(ord, name)))
    assert atom.domain_ok(ranges) is None
    label = atom.curvature(ranges)
    if label is None:
        return  # no claim: nothing to check (soundness is about claimed labels)
    assert label in (CONVEX, CONCAVE, AFFINE)
    for _ in range(25):
        a = [sample_in(rng, r) for r in ranges]
        b = [sample_in(rng, r) for r in ranges]
        if rng.random() < 0.3:  # short segments catch local failures
            b = [x + (y - x) / 1000 for x, y in zip(a, b, strict=False)]
        for t in (Fraction(1, 2), Fraction(1, 10), Fraction(9, 10)):
            m = [t * x + (1 - t) * y for x, y in zip(a, b, strict=False)]
            fa, fb, fm = (f([mpf(x) for x in p]) for p in (a, b, m))
            gap = mpf(t) * fa + (1 - mpf(t)) * fb - fm
            tol = _tol(fa, fb, fm)
            if label == CONVEX:
                assert gap >= -tol, (name, a, b, t, float(gap))
            else:
                assert gap <= tol, (name, a, b, t, float(gap))


@pytest.mark.parametrize("case", NARY, ids=[c[0] for c in NARY])
def test_nary_monotonicity_finite_differences(case):
    name, atom, f, _sampler, ranges = case
    rng = random.Random(sum(map(ord, name)) + 1)
    for i in range(len(ranges)):
        label = atom.monotonicity(i, ranges)
        assert label in (INCREASING, DECREASING, NONMONOTONE)
        if label == NONMONOTONE:
            continue
        for _ in range(20):
            x = [sample_in(rng, r) for r in ranges]
            y = sample_in(rng, ranges[i])
            lo, hi = sorted((x[i], y))
            if lo == hi:
                continue
            xl = [mpf(v) for v in x]
            xh = list(xl)
            xl[i], xh[i] = mpf(lo), mpf(hi)
            fl, fh = f(xl), f(xh)
            tol = _tol(fl, fh)
            if label == INCREASING:
                assert fl <= fh + tol, (name, i, x, lo, hi)
            else:
                assert fl >= fh - tol, (name, i, x, lo, hi)


@pytest.mark.parametrize("case", NARY, ids=[c[0] for c in NARY])
def test_nary_evaluate_agrees_with_mpmath(case):
    name, atom, f, sampler, ranges = case
    rng = random.Random(sum(map(ord, name)) + 2)
    for _ in range(20):
        x = [sample_in(rng, r) for r in ranges]
        if sampler is not None:
            x = sampler(rng)
        expected = f([mpf(v) for v in x])
        got = atom.evaluate([float(v) for v in x])
        assert mpmath.fabs(mpmath.mpf(got) - f([mpmath.mpf(float(v)) for v in x])) <= (
            mpmath.mpf("1e-12") * mpmath.fabs(expected) + mpmath.mpf("1e-300")
        ), (name, x, got, expected)


def test_power_product_labels():
    F = Fraction
    assert PowerProductAtom((F(1, 2), F(1, 2))).curvature([POSITIVE] * 2) == CONCAVE
    assert PowerProductAtom((F(-1), F(-1))).curvature([POSITIVE] * 2) == CONVEX
    assert PowerProductAtom((F(2), F(-1))).curvature([POSITIVE] * 2) == CONVEX
    assert PowerProductAtom((F(1), F(1))).curvature([POSITIVE] * 2) is None
    assert PowerProductAtom((F(1, 2), F(-1, 2))).curvature([POSITIVE] * 2) is None
    assert PowerProductAtom((F(2), F(1, 2))).curvature([POSITIVE] * 2) is None


def test_nary_domains():
    assert QuadOverLinAtom().domain_ok([REALS, Interval(0, 1)]) is not None
    assert QuadOverLinAtom().domain_ok([REALS, POSITIVE]) is None
    assert RelEntrAtom().domain_ok([REALS, POSITIVE]) is not None
    assert RelEntrAtom().domain_ok([Interval(0, 1), Interval(0, 1)]) is not None
    assert RelEntrAtom().domain_ok([Interval(0, 1), Interval(1, 2)]) is None
    half = Fraction(1, 2)
    assert PowerProductAtom((half, half)).domain_ok([Interval(0, 1)] * 2) is None
    assert PowerProductAtom((Fraction(-1), half)).domain_ok([Interval(0, 1)] * 2) is not None
    assert PowerProductAtom((Fraction(-1), half)).domain_ok([POSITIVE] * 2) is None


def _lse_ranges(rng):
    n = rng.randint(1, 3)
    out = []
    for _ in range(n):
        a = Fraction(rng.uniform(-20, 20))
        b = a + Fraction(rng.choice([0, rng.uniform(0, 10)]))
        out.append(Interval(a, b))
    return out


def test_log_sum_exp_image_encloses_values():
    rng = random.Random(77)
    for _ in range(200):
        ranges = _lse_ranges(rng)
        image = LOG_SUM_EXP.image(ranges)
        for _ in range(5):
            x = [sample_in(rng, r) for r in ranges]
            v = _mp_lse([mpf(q) for q in x])
            assert mp_contains(image, v), (ranges, x, image, v)


def test_log_sum_exp_image_cancellation():
    a = Fraction(-math.log(2))
    ranges = [Interval(a, a), Interval(a, a)]
    image = LOG_SUM_EXP.image(ranges)
    v = _mp_lse([mpf(a), mpf(a)])
    assert mp_contains(image, v), (image, v)


def test_nary_atom_registry():
    from convexcheck.symbolic.atoms import NARY_ATOMS

    assert isinstance(NARY_ATOMS["Max"], MaxAtom)
    assert isinstance(NARY_ATOMS["Min"], MinAtom)
    assert isinstance(LOG_SUM_EXP, LogSumExpAtom)


def test_periodic_labels_at_exact_multiples_of_the_period():
    assert UNARY_ATOMS["sin"].curvature_on(Interval(0, 1)) == CONCAVE
    assert UNARY_ATOMS["cos"].monotonicity_on(Interval(0, 1)) == DECREASING


def test_tan_image_near_branch_end():
    tan = UNARY_ATOMS["tan"]
    r = Interval(-tan.domain[0].hi, Fraction(12, 25), True, True)
    image = tan.image_of(r)
    for q in (Fraction(0), Fraction(-3, 2), Fraction(-1570796326794896, 10**15)):
        assert contains_value(image, mpmath.tan, q), (r, image, q)
    # the whole branch: tan is unbounded on it
    whole = tan.image_of(tan.domain[0])
    assert whole.lo == -INF and whole.hi == INF, whole


@pytest.mark.parametrize(
    ("p", "r", "q"),
    [
        (Fraction(-1), Interval(-7, 0, False, True), Fraction(-7)),
        (Fraction(-1), Interval(-7, 0, False, True), Fraction(-1, 100)),
        (Fraction(-3), NEGATIVE, Fraction(-2)),
    ],
)
def test_odd_negative_power_image(p, r, q):
    image = power_atom(p).image_of(r)
    assert contains_value(image, power_reference(p), q), (p, r, image)


def test_exp_base_image_non_dyadic_base():
    atom = exp_base_atom(Fraction(1, 3))
    f = exp_base_reference(Fraction(1, 3))
    lo = Fraction(2562509095856301, 70368744177664)
    for r in (Interval(lo, 59), Interval(40, 40), Interval(-40, -40), Interval(-300, -200)):
        image = atom.image_of(r)
        for q in (Fraction(r.lo), Fraction(r.hi)):
            assert contains_value(image, f, q), (r, image, q)


def _peak(name: str, offset, e: int) -> tuple[Interval, Fraction]:
    """A range of 3 around the extremum of ``name`` nearest 10**e, and a rational point
    within 1e-15 of that extremum."""
    with mpmath.workdps(80):
        k = mpmath.nint(mpmath.mpf(10) ** e / (2 * mpmath.pi))
        peak = 2 * mpmath.pi * k + offset()
        q = Fraction(int(mpmath.nint(peak * 10**15)), 10**15)
        base = int(mpmath.floor(peak))
    return Interval(base - 1, base + 2), q


@pytest.mark.parametrize(
    ("name", "offset", "e"),
    [
        ("sin", lambda: mpmath.pi / 2, 9),
        ("sin", lambda: -mpmath.pi / 2, 10),
        ("cos", lambda: mpmath.mpf(0), 10),
        ("cos", lambda: mpmath.pi, 12),
        ("sin", lambda: mpmath.pi / 2, 13),
    ],
)
def test_periodic_image_keeps_extrema_at_large_arguments(name, offset, e):
    r, q = _peak(name, offset, e)
    image = UNARY_ATOMS[name].image_of(r)
    assert contains_value(image, MP_FUNCTIONS[name], q), (r, image)


def test_periodic_image_keeps_extrema_at_moderate_arguments():
    for e in range(2, 9):
        for name, offset in (
            ("sin", lambda: mpmath.pi / 2),
            ("sin", lambda: -mpmath.pi / 2),
            ("cos", lambda: mpmath.mpf(0)),
            ("cos", lambda: mpmath.pi),
        ):
            r, q = _peak(name, offset, e)
            image = UNARY_ATOMS[name].image_of(r)
            assert contains_value(image, MP_FUNCTIONS[name], q), (name, e, r, image)


# ---------------------------------------------------------------------------------------------
# What the interpreters read off a row: evaluation, derivative, exact values, backend names.
# Every row of the grammar is iterated, so a new row is checked against the independent
# references above (MP_FUNCTIONS) with no other test to write.
# ---------------------------------------------------------------------------------------------

GRAMMAR_ROWS = sorted(name for name, row in UNARY_ATOMS.items() if not row.pattern_only)


def domain_points(atom: UnaryAtom, n: int = 10) -> list[Fraction]:
    """Rational points inside the atom's domain, moderate in size (|x| <= 6) so that every
    backend, float ones included, evaluates them without overflow."""
    rng = random.Random(sum(map(ord, atom.name)))
    out: list[Fraction] = []
    for d in atom.domain:
        lo = Fraction(-6) if d.lo == -INF else Fraction(d.lo) + GAP
        hi = Fraction(6) if d.hi == INF else Fraction(d.hi) - GAP
        lo, hi = max(lo, Fraction(-6)), min(hi, Fraction(6))
        if lo < hi:
            out += sample_points(lo, hi, False, False, rng, n=n)
    return [q for q in out if atom.domain_ok(Interval(q, q))]


def close(a, b, rel=1e-12) -> bool:
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    return abs(a - b) <= mpmath.mpf(rel) * max(1, abs(b))


def test_grammar_rows_are_complete():
    """Every function a user can write carries what each interpreter reads."""
    for name in GRAMMAR_ROWS:
        row = UNARY_ATOMS[name]
        missing = [
            f
            for f in ("numpy", "mpmath", "derivative", "sympy_name", "exact_at")
            if getattr(row, f) is None
        ]
        assert not missing, f"row {name!r} lacks {missing}"
    from convexcheck.symbolic import ir

    assert tuple(GRAMMAR_ROWS) == tuple(sorted(ir.UNARY_FUNCTIONS))


@pytest.mark.parametrize("name", GRAMMAR_ROWS)
def test_row_evaluations_agree(name):
    """``fn`` (floats), ``numpy`` (vectorised, via the interpreter and the compiled program) and
    ``mpmath`` agree with the independent reference inside the domain."""
    import numpy as np

    from convexcheck.symbolic import ir
    from convexcheck.symbolic.compiled import Program
    from convexcheck.symbolic.evaluate import evaluate

    row = UNARY_ATOMS[name]
    ref = MP_FUNCTIONS[name]
    pts = domain_points(row)
    assert pts
    xs = np.array([float(q) for q in pts])
    node = ir.func(name, ir.var("x"))
    vec = evaluate(node, {"x": xs})
    compiled = Program(node, ["x"])({"x": xs})
    direct = getattr(np, row.numpy)(xs)
    for i, q in enumerate(pts):
        want = ref(mpmath.mpf(float(q)))  # the float backends see float(q)
        assert close(row.fn(float(q)), want), (name, q)
        assert close(direct[i], want) and close(vec[i], want) and close(compiled[i], want)
        assert close(getattr(mpmath, row.mpmath)(mpf(q)), value(ref, q), 1e-45), (name, q)


def _mp_eval(node, x):
    """The value of a small derivative tree at ``x``, with the independent references."""
    op = node.op
    if op == "num":
        return mpf(Fraction(node.value))
    if op == "var":
        return x
    args = [_mp_eval(a, x) for a in node.args]
    if op == "add":
        return mpmath.fsum(args)
    if op == "mul":
        return mpmath.fprod(args)
    if op == "pow":
        e = node.args[1]
        if e.op == "num" and Fraction(e.value).denominator == 1:
            return args[0] ** int(e.value)
        return mpmath.power(args[0], args[1])
    return MP_FUNCTIONS[op](args[0])


@pytest.mark.parametrize("name", GRAMMAR_ROWS)
def test_row_derivative_agrees_with_central_differences(name):
    from convexcheck.symbolic import ir
    from convexcheck.symbolic.calculus import diff

    row = UNARY_ATOMS[name]
    ref = MP_FUNCTIONS[name]
    x = ir.var("x")
    f = ir.func(name, x)
    derivative = row.derivative(ir, x, f)
    assert diff(f, "x") is ir.mul(derivative, ir.ONE)
    h = mpmath.mpf(10) ** -20
    for q in domain_points(row):
        if q == 0 and not row.smooth:
            continue  # the kink: no derivative (and the row's formula is undefined there)
        xq = mpf(q)
        fd = (ref(xq + h) - ref(xq - h)) / (2 * h)
        assert close(_mp_eval(derivative, xq), fd, 1e-25), (name, q)


@pytest.mark.parametrize("name", sorted(UNARY_ATOMS))
def test_row_exact_values(name):
    """Where ``exact_at`` answers, the reference agrees to 45 digits (the tree folds with it)."""
    row = UNARY_ATOMS[name]
    if row.exact_at is None:
        return
    answered = 0
    for q in [Fraction(k, 4) for k in range(-12, 13)]:
        if not row.domain_ok(Interval(q, q)):
            continue
        v = row.exact_at(q)
        if v is not None:
            answered += 1
            assert abs(value(MP_FUNCTIONS[name], q) - mpf(Fraction(v))) < mpmath.mpf(10) ** -45
    assert answered, f"{name}: exact_at never answers at a rational point"


@pytest.mark.parametrize("name", GRAMMAR_ROWS)
def test_row_sympy_name(name):
    """The SymPy function the row names agrees numerically, and both bridges use it."""
    import sympy

    from convexcheck.symbolic import ir
    from convexcheck.symbolic.sympy_bridge import from_sympy, to_sympy

    row = UNARY_ATOMS[name]
    fn = getattr(sympy, row.sympy_name)
    for q in domain_points(row, n=3):
        got = fn(sympy.Rational(q.numerator, q.denominator)).evalf(40)
        assert close(mpmath.mpf(str(got)), value(MP_FUNCTIONS[name], q), 1e-35)
    node = ir.func(name, ir.var("x"))
    assert isinstance(to_sympy(node), fn)
    assert from_sympy(to_sympy(node))[0] is node


@pytest.mark.parametrize("name", GRAMMAR_ROWS)
def test_row_prints_and_parses(name):
    from convexcheck.symbolic import ir
    from convexcheck.symbolic.parser import parse
    from convexcheck.symbolic.printer import to_str

    node = ir.func(name, ir.add(ir.var("x"), ir.num(Fraction(1, 3))))
    assert to_str(node).startswith(f"{name}(")
    assert parse(to_str(node)) is node


@pytest.mark.parametrize(
    "name", [n for n in GRAMMAR_ROWS if UNARY_ATOMS[n].cvxpy_name or UNARY_ATOMS[n].cvxpy_form]
)
def test_row_cvxpy_atom(name):
    """The CVXPY atom (or form) of the row agrees numerically on constants, and a plain CVXPY
    atom translates back to the row's function."""
    import cvxpy as cp

    from convexcheck.symbolic import ir
    from convexcheck.symbolic.cvxpy_bridge import from_cvxpy

    row = UNARY_ATOMS[name]
    for q in domain_points(row, n=3):
        c = cp.Constant(float(q))
        expr = row.cvxpy_form(cp, c, None) if row.cvxpy_form else getattr(cp, row.cvxpy_name)(c)
        got = float(expr.value)
        assert close(got, value(MP_FUNCTIONS[name], q), 1e-9), (name, q)
    if row.cvxpy_form is None or row.cvxpy_name:
        x = cp.Variable(name="x")
        assert from_cvxpy(getattr(cp, row.cvxpy_name)(x))[0] is ir.func(name, ir.var("x"))
