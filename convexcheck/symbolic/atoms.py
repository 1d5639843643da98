"""The atom table: what is known about each function, as data.

Each atom *declares facts* and nothing else: its domain, its global image, the pieces of the real
line on which it is convex or concave, the pieces on which it is nondecreasing or nonincreasing,
and (for ``sin``/``cos``/``tan``) its period. One generic routine (:func:`label_on`) reads the
curvature or monotonicity of an atom on any argument range off those pieces, and one generic
routine (:meth:`UnaryAtom.image_of`) computes the range. The DCP engine
(:mod:`convexcheck.symbolic.dcp`) composes them; ``tests/test_atoms.py`` checks every piece of
every entry numerically (second differences, midpoint inequalities, finite differences), which is
the test that catches a wrong table entry before it turns into a wrong certificate.

Piece boundaries that are irrational (multiples of pi, 1/e) are stored as rigorous rational
enclosures, and every decision about them is conservative: a piece counts as touching the range
whenever it *might* overlap it with positive length.

Powers ``u**p`` are generated per exponent from the signs of ``p*(p-1)*x**(p-2)`` and
``p*x**(p-1)`` (see :func:`power_atom`), not from a hand-written case per exponent sign.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from convexcheck.symbolic.interval import (
    INF,
    NONNEG,
    POSITIVE,
    REALS,
    Endpoint,
    Interval,
    exact,
    float_down,
    float_up,
    hull,
    image_monotone,
    intersect,
    widen_down,
    widen_up,
)
from convexcheck.symbolic.interval_powers import ipow_int, ipow_rational

CONVEX, CONCAVE, AFFINE = "convex", "concave", "affine"
INCREASING, DECREASING, NONMONOTONE = "nondecreasing", "nonincreasing", "nonmonotone"

# Rigorous rational enclosures of irrational constants used as piece boundaries.
PI_LO = Fraction(3141592653589793238, 10**18)
PI_HI = Fraction(3141592653589793239, 10**18)
INV_E_LO = Fraction(367879441171442321, 10**18)
INV_E_HI = Fraction(367879441171442322, 10**18)


@dataclass(frozen=True)
class Bound:
    """A piece boundary ``rational + pi_coeff*pi``, with a rigorous rational enclosure.

    Keeping the exact form lets a periodic piece be shifted by whole periods exactly (``0``
    shifted by ``2*pi`` is ``2*pi``, not a fuzzy enclosure around ``0``).
    """

    lo: Endpoint
    hi: Endpoint
    text: str
    rational: Fraction | None = None
    pi_coeff: Fraction | None = None

    @staticmethod
    def exact(q: Endpoint) -> Bound:
        text = "oo" if q == INF else "-oo" if q == -INF else str(q)
        if q in (INF, -INF):
            return Bound(q, q, text)
        return Bound(q, q, text, Fraction(q), Fraction(0))

    @staticmethod
    def parts(rational: Fraction | int, pi_coeff: Fraction | int) -> Bound:
        rational, pi_coeff = Fraction(rational), Fraction(pi_coeff)
        if pi_coeff == 0:
            q = rational.numerator if rational.denominator == 1 else rational
            return Bound(q, q, str(q), rational, pi_coeff)
        lo, hi = sorted((rational + pi_coeff * PI_LO, rational + pi_coeff * PI_HI))
        pi_text = "pi" if pi_coeff == 1 else f"{pi_coeff}*pi"
        text = pi_text if rational == 0 else f"{rational} + {pi_text}"
        return Bound(lo, hi, text, rational, pi_coeff)

    @staticmethod
    def pi_times(q: Fraction | int) -> Bound:
        return Bound.parts(0, q)

    def shifted(self, k: int, period: Bound) -> Bound:
        if k == 0 or self.lo in (INF, -INF):
            return self
        if self.pi_coeff is None or period.pi_coeff is None:
            raise ValueError("only pi-multiple bounds can be shifted by a period")
        return Bound.parts(
            self.rational + k * period.rational,  # type: ignore[operator]
            self.pi_coeff + k * period.pi_coeff,
        )


MINUS_INF, ZERO, PLUS_INF = Bound.exact(-INF), Bound.exact(0), Bound.exact(INF)


@dataclass(frozen=True)
class Piece:
    lo: Bound
    hi: Bound
    label: str

    def describe(self) -> str:
        return f"{self.label} on [{self.lo.text}, {self.hi.text}]"


def _overlaps(piece_lo: Bound, piece_hi: Bound, r: Interval) -> bool:
    """Whether the piece may overlap ``r`` in more than one point (conservative: when unsure)."""
    if piece_hi.hi <= r.lo:
        return False
    return not piece_lo.lo >= r.hi


def pieces_touching(
    pieces: tuple[Piece, ...], period: Bound | None, r: Interval
) -> list[Piece] | None:
    """The pieces (shifted by whole periods) that ``r`` may meet; ``None`` if too many."""
    if period is None:
        return [p for p in pieces if _overlaps(p.lo, p.hi, r)]
    if not r.bounded:
        return None
    k_lo = math.floor(float_down(r.lo) / float(period.hi)) - 1
    k_hi = math.floor(float_up(r.hi) / float(period.lo)) + 1
    if k_hi - k_lo > 6:
        return None
    out: list[Piece] = []
    for k in range(k_lo, k_hi + 1):
        for p in pieces:
            lo, hi = p.lo.shifted(k, period), p.hi.shifted(k, period)
            if _overlaps(lo, hi, r):
                out.append(Piece(lo, hi, p.label))
    return out


def label_on(pieces: tuple[Piece, ...], period: Bound | None, r: Interval) -> str | None:
    """The common label of every piece ``r`` meets, or ``None`` if they disagree.

    Gluing adjacent closed pieces with one label is valid for the atoms here because each is
    C^1 across its curvature boundaries (convex on [a,b] and on [b,c] with a continuous
    derivative means convex on [a,c]) and continuous across its monotonicity boundaries.
    A single point (``r.is_point``) is both convex and concave: a constant.
    """
    if r.is_point:
        return AFFINE
    touching = pieces_touching(pieces, period, r)
    if not touching:
        return None
    labels = {p.label for p in touching}
    return labels.pop() if len(labels) == 1 else None


def _safe(fn: Callable[[float], float]) -> Callable[[float], float]:
    def wrapped(x: float) -> float:
        try:
            return fn(x)
        except OverflowError:
            return INF
        except (ValueError, ZeroDivisionError):
            return math.nan

    return wrapped


@dataclass(frozen=True)
class UnaryAtom:
    """A function of one argument, described by pieces (see the module docstring)."""

    name: str
    fn: Callable[[float], float]
    domain: tuple[Interval, ...]
    image: Interval
    curvature: tuple[Piece, ...]
    monotonicity: tuple[Piece, ...]
    period: Bound | None = None
    limits: tuple[float, float] | None = None
    sympy_name: str | None = None
    cvxpy_name: str | None = None
    note: str = ""
    exponent: Fraction | int | None = field(default=None, compare=False)
    exact_at: Callable[[Endpoint], Endpoint | None] | None = field(default=None, compare=False)
    _cache: dict = field(default_factory=dict, compare=False, repr=False)
    # an exact or rigorous image routine, when one exists, replaces the float evaluation
    image_rule: Callable[[Interval], Interval | None] | None = field(default=None, compare=False)

    def domain_ok(self, r: Interval) -> bool:
        return any(r.within(d) for d in self.domain)

    def domain_text(self) -> str:
        return " or ".join(str(d) for d in self.domain)

    def curvature_on(self, r: Interval) -> str | None:
        key = ("c", r)
        if key not in self._cache:
            self._remember(key, label_on(self.curvature, self.period, r))
        return self._cache[key]

    def monotonicity_on(self, r: Interval) -> str:
        key = ("m", r)
        if key not in self._cache:
            self._remember(key, label_on(self.monotonicity, self.period, r) or NONMONOTONE)
        return self._cache[key]

    def image_of(self, r: Interval) -> Interval:
        key = ("i", r)
        if key not in self._cache:
            self._remember(key, self._image_of(r))
        return self._cache[key]

    def _remember(self, key, value) -> None:
        # a small per-atom memo: many terms of a large sum share argument ranges
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[key] = value

    def _image_of(self, r: Interval) -> Interval:
        """An enclosure of ``fn`` over ``r``: a hull over the monotone pieces ``r`` meets."""
        if self.image_rule is not None:
            out = self.image_rule(r)
            return out if out is not None else self.image
        if r.is_point and r.lo in (INF, -INF):
            return self.image
        if self.period is not None and (abs(float_down(r.lo)) > 1e6 or abs(float_up(r.hi)) > 1e6):
            return self.image  # float spacing there is too coarse to locate the extremes
        touching = pieces_touching(self.monotonicity, self.period, r)
        if touching is None:
            return self.image
        out: Interval | None = None
        fn = _safe(self.fn)
        for piece in touching:
            lo_b, hi_b = piece.lo, piece.hi
            box = Interval(
                lo_b.lo if lo_b.lo != INF else -INF,
                hi_b.hi if hi_b.hi != -INF else INF,
            )
            sub = intersect(r, box)
            if sub is None:
                continue
            part = image_monotone(
                fn,
                sub,
                increasing=piece.label == INCREASING,
                limits=self.limits,
                exact_at=self.exact_at or _exact_table(self.name),
            )
            out = part if out is None else hull(out, part)
        if out is None:
            return self.image
        clipped = intersect(out, self.image)
        return clipped if clipped is not None else out


def _exact_table(name: str) -> Callable[[Endpoint], Endpoint | None]:
    """Exact values at rational points where they are rational (``exp(0) = 1``, ``|q|``)."""
    from convexcheck.symbolic.ir import UNARY_FUNCTIONS, _fold_unary

    special = {"sigmoid": {0: Fraction(1, 2)}, "xlogx": {0: 0, 1: 0}}.get(name, {})

    def lookup(q: Endpoint) -> Endpoint | None:
        if q in special:
            return special[q]
        if name in UNARY_FUNCTIONS:
            node = _fold_unary(name, q)  # type: ignore[arg-type]
            if node is not None:
                return node.value  # type: ignore[return-value]
        return None

    return lookup


def _pieces(*spec: tuple[Bound, Bound, str]) -> tuple[Piece, ...]:
    return tuple(Piece(lo, hi, label) for lo, hi, label in spec)


def _log1pexp(x: float) -> float:
    if x > 30:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _xlogx(x: float) -> float:
    return 0.0 if x == 0 else x * math.log(x)


def _tan(x: float) -> float:
    # near the poles a float argument may sit on the other side of pi/2, where tan wraps
    # around; NaN makes the interval code use the safe infinite end instead
    if abs(x) > 1.5707963:
        return math.nan
    return math.tan(x)


HALF_PI = Bound.pi_times(Fraction(1, 2))
PI = Bound.pi_times(1)
TWO_PI = Bound.pi_times(2)
INV_E = Bound(INV_E_LO, INV_E_HI, "1/e")
BELOW_ZERO = (MINUS_INF, ZERO)
ABOVE_ZERO = (ZERO, PLUS_INF)

UNARY_ATOMS: dict[str, UnaryAtom] = {
    "exp": UnaryAtom(
        "exp",
        math.exp,
        (REALS,),
        POSITIVE,
        _pieces((MINUS_INF, PLUS_INF, CONVEX)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING)),
        limits=(0.0, INF),
        sympy_name="exp",
        cvxpy_name="exp",
    ),
    "log": UnaryAtom(
        "log",
        math.log,
        (POSITIVE,),
        REALS,
        _pieces((ZERO, PLUS_INF, CONCAVE)),
        _pieces((ZERO, PLUS_INF, INCREASING)),
        limits=(-INF, INF),
        sympy_name="log",
        cvxpy_name="log",
    ),
    "Abs": UnaryAtom(
        "Abs",
        abs,
        (REALS,),
        NONNEG,
        _pieces((MINUS_INF, PLUS_INF, CONVEX)),
        _pieces((*BELOW_ZERO, DECREASING), (*ABOVE_ZERO, INCREASING)),
        limits=(INF, INF),
        sympy_name="Abs",
        cvxpy_name="abs",
    ),
    "sin": UnaryAtom(
        "sin",
        math.sin,
        (REALS,),
        Interval(-1, 1),
        _pieces((ZERO, PI, CONCAVE), (PI, TWO_PI, CONVEX)),
        _pieces(
            (Bound.pi_times(Fraction(-1, 2)), HALF_PI, INCREASING),
            (HALF_PI, Bound.pi_times(Fraction(3, 2)), DECREASING),
        ),
        period=TWO_PI,
        sympy_name="sin",
    ),
    "cos": UnaryAtom(
        "cos",
        math.cos,
        (REALS,),
        Interval(-1, 1),
        _pieces(
            (Bound.pi_times(Fraction(-1, 2)), HALF_PI, CONCAVE),
            (HALF_PI, Bound.pi_times(Fraction(3, 2)), CONVEX),
        ),
        _pieces((ZERO, PI, DECREASING), (PI, TWO_PI, INCREASING)),
        period=TWO_PI,
        sympy_name="cos",
    ),
    "tan": UnaryAtom(
        "tan",
        _tan,
        # one branch at a time: the argument must stay inside (k pi - pi/2, k pi + pi/2)
        (Interval(-HALF_PI.lo, HALF_PI.lo, True, True),),
        REALS,
        _pieces((Bound.pi_times(Fraction(-1, 2)), ZERO, CONCAVE), (ZERO, HALF_PI, CONVEX)),
        _pieces((Bound.pi_times(Fraction(-1, 2)), HALF_PI, INCREASING)),
        sympy_name="tan",
        note="only the principal branch (-pi/2, pi/2) is supported",
    ),
    "tanh": UnaryAtom(
        "tanh",
        math.tanh,
        (REALS,),
        Interval(-1, 1, True, True),
        _pieces((*BELOW_ZERO, CONVEX), (*ABOVE_ZERO, CONCAVE)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING)),
        limits=(-1.0, 1.0),
        sympy_name="tanh",
    ),
    "atan": UnaryAtom(
        "atan",
        math.atan,
        (REALS,),
        Interval(-HALF_PI.hi, HALF_PI.hi, True, True),
        _pieces((*BELOW_ZERO, CONVEX), (*ABOVE_ZERO, CONCAVE)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING)),
        sympy_name="atan",
    ),
    "sinh": UnaryAtom(
        "sinh",
        math.sinh,
        (REALS,),
        REALS,
        _pieces((*BELOW_ZERO, CONCAVE), (*ABOVE_ZERO, CONVEX)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING)),
        limits=(-INF, INF),
        sympy_name="sinh",
    ),
    "cosh": UnaryAtom(
        "cosh",
        math.cosh,
        (REALS,),
        Interval(1, INF),
        _pieces((MINUS_INF, PLUS_INF, CONVEX)),
        _pieces((*BELOW_ZERO, DECREASING), (*ABOVE_ZERO, INCREASING)),
        limits=(INF, INF),
        sympy_name="cosh",
    ),
    # ---- atoms that only patterns produce (see convexcheck.symbolic.patterns) -----------------
    "logistic": UnaryAtom(
        "logistic",
        _log1pexp,
        (REALS,),
        POSITIVE,
        _pieces((MINUS_INF, PLUS_INF, CONVEX)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING)),
        limits=(0.0, INF),
        cvxpy_name="logistic",
        note="log(1 + exp(u)), the softplus",
    ),
    "sigmoid": UnaryAtom(
        "sigmoid",
        _sigmoid,
        (REALS,),
        Interval(0, 1, True, True),
        _pieces((*BELOW_ZERO, CONVEX), (*ABOVE_ZERO, CONCAVE)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING)),
        limits=(0.0, 1.0),
        note="1/(1 + exp(-u))",
    ),
    "xlogx": UnaryAtom(
        "xlogx",
        _xlogx,
        (NONNEG,),
        Interval(-INV_E_HI, INF),
        _pieces((ZERO, PLUS_INF, CONVEX)),
        _pieces((ZERO, INV_E, DECREASING), (INV_E, PLUS_INF, INCREASING)),
        limits=(math.nan, INF),
        cvxpy_name="-entr",
        note="u*log(u), the negative entropy (0 at u = 0)",
    ),
}


def _sign(q: Fraction | int) -> int:
    return (q > 0) - (q < 0)


@lru_cache(maxsize=512)
def power_atom(p: Fraction | int) -> UnaryAtom:
    """``u**p`` for a rational ``p`` (not 0 or 1), derived from the signs of its derivatives.

    On ``u > 0``: ``f'' = p(p-1) u**(p-2)`` has the sign of ``p(p-1)`` and ``f' = p u**(p-1)``
    the sign of ``p``. On ``u < 0`` (integer ``p`` only; SymPy's ``u**(1/3)`` is complex there):
    ``u**(p-2)`` has the sign ``(-1)**(p-2)`` and ``u**(p-1)`` the sign ``(-1)**(p-1)``.
    """
    p = Fraction(p)
    integer = p.denominator == 1
    curv = {1: CONVEX, -1: CONCAVE, 0: AFFINE}
    mono = {1: INCREASING, -1: DECREASING, 0: INCREASING}
    right_curv = curv[_sign(p * (p - 1))]
    right_mono = mono[_sign(p)]
    curvature: list[Piece] = [Piece(ZERO, PLUS_INF, right_curv)]
    monotonicity: list[Piece] = [Piece(ZERO, PLUS_INF, right_mono)]
    if integer:
        n = p.numerator
        left_curv = curv[_sign(p * (p - 1)) * (-1) ** ((n - 2) % 2)]
        left_mono = mono[_sign(p) * (-1) ** ((n - 1) % 2)]
        curvature.insert(0, Piece(MINUS_INF, ZERO, left_curv))
        monotonicity.insert(0, Piece(MINUS_INF, ZERO, left_mono))
        if n > 0:
            domain: tuple[Interval, ...] = (REALS,)
        else:
            domain = (POSITIVE, Interval(-INF, 0, True, True))
    else:
        domain = (NONNEG,) if p > 0 else (POSITIVE,)
    q = p.numerator if integer else p

    def fn(x: float, q=q) -> float:
        if x == 0 and q < 0:
            return INF
        return x**q if integer else float(x) ** float(q)

    if integer:
        n = p.numerator
        if n > 0 and n % 2 == 0:
            image = NONNEG
        elif n > 0:
            image = REALS
        elif n % 2 == 0:
            image = POSITIVE
        else:
            image = Interval(-INF, INF)
    else:
        image = NONNEG if p > 0 else POSITIVE
    return UnaryAtom(
        f"power({p})",
        fn,
        domain,
        image,
        tuple(curvature),
        tuple(monotonicity),
        sympy_name="Pow",
        cvxpy_name="power",
        exponent=q,
        image_rule=lambda r, p=p: power_image(r, p),
    )


def power_image(r: Interval, p: Fraction | int) -> Interval | None:
    """Exact-where-possible range of ``u**p`` (``None`` if ``r`` leaves the domain)."""
    p = Fraction(p)
    if p.denominator == 1:
        return ipow_int(r, p.numerator)
    return ipow_rational(r, p)


def _safe_float(q: Fraction | int) -> float:
    try:
        return float(q)
    except OverflowError:  # (1e400)**x: the float form is only used for sampling
        return INF


@lru_cache(maxsize=256)
def exp_base_atom(base: Fraction | int) -> UnaryAtom:
    """``c**u`` for a constant ``c > 0``: ``exp(u*log(c))``, convex, monotone by ``c >= 1``."""
    c = _safe_float(base)
    increasing = base >= 1
    return UnaryAtom(
        f"{base}**u",
        lambda x, c=c: c**x,
        (REALS,),
        POSITIVE,
        _pieces((MINUS_INF, PLUS_INF, CONVEX)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING if increasing else DECREASING)),
        limits=(0.0, INF) if increasing else (INF, 0.0),
        image_rule=lambda r, base=base: _exp_base_image(base, r),
    )


def _exp_base_image(base: Fraction | int, r: Interval) -> Interval:
    """``c**u = exp(u*log(c))`` with ``log(c)`` enclosed first, so the error does not grow
    with ``|u|`` (a float ``c**u`` loses ``|u|*eps`` of relative precision)."""
    from convexcheck.symbolic.interval import mul, point

    log_c = UNARY_ATOMS["log"].image_of(point(base))
    return UNARY_ATOMS["exp"].image_of(mul(r, log_c))


# ---------------------------------------------------------------------------------------------
# Atoms of several arguments. Their facts depend on the argument ranges, so each is a small
# class; the facts are still declarative (no composition logic here).
# ---------------------------------------------------------------------------------------------


def _sign_monotonicity(r: Interval) -> str:
    """Monotonicity of ``|u|``-like dependence: increasing for u >= 0, decreasing for u <= 0."""
    if r.nonneg:
        return INCREASING
    if r.nonpos:
        return DECREASING
    return NONMONOTONE


class NaryAtom:
    name: str = ""
    cvxpy_name: str | None = None
    note: str = ""

    def domain_ok(self, ranges: list[Interval]) -> str | None:
        """``None`` if the ranges lie in the domain, else a sentence saying why not."""
        return None

    def curvature(self, ranges: list[Interval]) -> str | None:
        raise NotImplementedError

    def monotonicity(self, i: int, ranges: list[Interval]) -> str:
        raise NotImplementedError

    def evaluate(self, xs: list[float]) -> float:
        raise NotImplementedError


class MaxAtom(NaryAtom):
    name, cvxpy_name, note = "Max", "maximum", "pointwise maximum"

    def curvature(self, ranges):
        return CONVEX

    def monotonicity(self, i, ranges):
        return INCREASING

    def evaluate(self, xs):
        return max(xs)


class MinAtom(NaryAtom):
    name, cvxpy_name, note = "Min", "minimum", "pointwise minimum"

    def curvature(self, ranges):
        return CONCAVE

    def monotonicity(self, i, ranges):
        return INCREASING

    def evaluate(self, xs):
        return min(xs)


class LogSumExpAtom(NaryAtom):
    name, cvxpy_name, note = "log_sum_exp", "log_sum_exp", "log(exp(u1) + ... + exp(un))"

    def curvature(self, ranges):
        return CONVEX

    def monotonicity(self, i, ranges):
        return INCREASING

    def evaluate(self, xs):
        m = max(xs)
        if math.isinf(m):
            return m
        return m + math.log(math.fsum(math.exp(x - m) for x in xs))

    def image(self, ranges: list[Interval]) -> Interval:
        lo = self.evaluate([float_down(r.lo) for r in ranges])
        hi = self.evaluate([float_up(r.hi) for r in ranges])
        # each exp/log/sum step errs by a few ulps of its own magnitude: widen by a relative
        # margin of the inputs' scale, not of the (possibly cancelling) result
        scale = max((abs(float_down(r.lo)) for r in ranges if r.lo != -INF), default=0.0)
        scale = max(scale, max((abs(float_up(r.hi)) for r in ranges if r.hi != INF), default=0.0))
        margin = 1e-14 * (1 + scale + abs(lo) + abs(hi)) + 1e-300
        return Interval(
            exact(widen_down(lo - margin, 1)) if not math.isinf(lo) else lo,
            exact(widen_up(hi + margin, 1)) if not math.isinf(hi) else hi,
            math.isinf(lo),
            math.isinf(hi),
        )


class NormAtom(NaryAtom):
    """``sqrt(w1*u1**2 + ... + wn*un**2 + c)`` with ``w_i > 0``, ``c >= 0``: a weighted norm."""

    name, cvxpy_name, note = "norm2", "norm2", "sqrt(sum of squares + c)"

    def __init__(self, weights: tuple[Fraction | int, ...], offset: Fraction | int) -> None:
        self.weights = weights
        self.offset = offset

    def curvature(self, ranges):
        return CONVEX

    def monotonicity(self, i, ranges):
        return _sign_monotonicity(ranges[i])

    def evaluate(self, xs):
        return math.sqrt(
            math.fsum(float(w) * x * x for w, x in zip(self.weights, xs)) + float(self.offset)
        )


class QuadOverLinAtom(NaryAtom):
    """``(u1**2 + ... + un**2) / v`` for ``v > 0``: convex, nonincreasing in ``v``."""

    name, cvxpy_name, note = "quad_over_lin", "quad_over_lin", "sum of squares over a positive"

    def domain_ok(self, ranges):
        if not ranges[-1].positive:
            return f"the denominator must be positive, but its range is {ranges[-1]}"
        return None

    def curvature(self, ranges):
        return CONVEX

    def monotonicity(self, i, ranges):
        if i == len(ranges) - 1:
            return DECREASING
        return _sign_monotonicity(ranges[i])

    def evaluate(self, xs):
        return math.fsum(x * x for x in xs[:-1]) / xs[-1]


class PowerProductAtom(NaryAtom):
    """``u1**a1 * ... * un**an`` on the positive orthant.

    Convex iff all ``a_i <= 0``, or exactly one ``a_j > 0`` and ``sum(a) >= 1``; concave iff all
    ``a_i >= 0`` and ``sum(a) <= 1`` (the Hessian is ``f * (a a^T - diag(a)) / (u u^T)``
    elementwise, whose definiteness is decided by these conditions).
    """

    name, cvxpy_name, note = "power_product", "geo_mean", "product of powers"

    def __init__(self, exponents: tuple[Fraction | int, ...]) -> None:
        self.exponents = exponents

    def domain_ok(self, ranges):
        concave_form = all(a >= 0 for a in self.exponents)
        for r, a in zip(ranges, self.exponents):
            if concave_form and a > 0 and r.nonneg:
                continue
            if not r.positive and not (a > 0 and r.nonneg):
                return f"every base must be positive, but one has range {r}"
        return None

    def curvature(self, ranges):
        a = self.exponents
        total = sum(a)
        positive = [x for x in a if x > 0]
        if all(x >= 0 for x in a) and total <= 1:
            return CONCAVE
        if all(x <= 0 for x in a):
            return CONVEX
        if len(positive) == 1 and total >= 1:
            return CONVEX
        return None

    def monotonicity(self, i, ranges):
        return INCREASING if self.exponents[i] > 0 else DECREASING

    def evaluate(self, xs):
        out = 1.0
        for x, a in zip(xs, self.exponents):
            out *= x ** float(a)
        return out


class RelEntrAtom(NaryAtom):
    """``u*log(u/v)`` for ``u >= 0``, ``v > 0``: jointly convex (the perspective of -log)."""

    name, cvxpy_name, note = "rel_entr", "rel_entr", "u*log(u/v)"

    def domain_ok(self, ranges):
        if not ranges[0].nonneg or not ranges[1].positive:
            return f"needs u >= 0 and v > 0, but the ranges are {ranges[0]} and {ranges[1]}"
        return None

    def curvature(self, ranges):
        return CONVEX

    def monotonicity(self, i, ranges):
        return NONMONOTONE if i == 0 else DECREASING

    def evaluate(self, xs):
        u, v = xs
        return 0.0 if u == 0 else u * math.log(u / v)


NARY_ATOMS: dict[str, NaryAtom] = {"Max": MaxAtom(), "Min": MinAtom()}
LOG_SUM_EXP = LogSumExpAtom()
REL_ENTR = RelEntrAtom()
