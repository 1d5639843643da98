"""How an atom of one argument is described, and the generic routines that read the description.

A one-argument atom (:class:`UnaryAtom`) *declares facts* and nothing else: its domain, its global
image, the pieces of the real line on which it is convex or concave, the pieces on which it is
nondecreasing or nonincreasing, and (for ``sin``/``cos``/``tan``) its period. One generic routine
(:func:`label_on`) reads the curvature or monotonicity of an atom on any argument range off those
pieces, and one generic routine (:meth:`UnaryAtom.image_of`) computes the range.

Piece boundaries that are irrational (multiples of pi, 1/e) are stored as rigorous rational
enclosures (:class:`Bound`), and every decision about them is conservative: a piece counts as
touching the range whenever it *might* overlap it with positive length.

This module is the row type and the code that reads rows, shared by every entry; the rows
themselves (the data) are in :mod:`convexcheck.symbolic.atoms`, which re-exports every name
here. They are apart so that the table reads as data that ``tests/symbolic/test_atoms.py``
checks entry by entry, while a change here changes how every entry is read.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from convexcheck.symbolic.interval import (
    INF,
    Endpoint,
    Interval,
    float_down,
    float_up,
    hull,
    image_monotone,
    intersect,
)

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


def _safe(fn: Callable[[float], float], mpmath_name: str | None) -> Callable[[float], float]:
    """``fn`` that answers instead of raising: ``nan`` off its domain, and on overflow an
    infinity of the *value's* sign.

    An overflow says only that ``|fn(x)|`` is past the largest float; its sign is read with
    mpmath (which has no exponent limit), because ``sinh(-1000)`` overflows to minus infinity.
    Without an mpmath reference the answer is ``nan``, which the interval code turns into an
    unbounded end, never a wrong one.
    """

    def wrapped(x: float) -> float:
        try:
            return fn(x)
        except OverflowError:
            return _overflow_sign(mpmath_name, x)
        except (ValueError, ZeroDivisionError):
            return math.nan

    return wrapped


def _overflow_sign(mpmath_name: str | None, x: float) -> float:
    if mpmath_name is None:
        return math.nan
    import mpmath

    try:
        value = getattr(mpmath, mpmath_name)(mpmath.mpf(x))
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return math.nan
    if isinstance(value, mpmath.mpc) or mpmath.isnan(value):
        return math.nan
    if value > 0:
        return INF
    if value < 0:
        return -INF
    return math.nan


@dataclass(frozen=True)
class UnaryAtom:
    """A function of one argument, described by pieces (see the module docstring).

    Besides the facts the DCP engine composes, a row carries everything the other interpreters
    need, so that a new function is one new row (and its test row) and nothing else:

    ``name``
        the grammar token: the parser accepts it, the printer writes it, the tree's node ``op``.
    ``fn``
        float evaluation, for the image computation (rounded outward by the caller).
    ``numpy`` / ``mpmath``
        the names of the NumPy ufunc (vectorised search) and of the mpmath function
        (high-precision second opinion on witnesses).
    ``derivative``
        ``derivative(ir, u, f)``: the derivative ``f'(u)`` as a tree, where ``u`` is the
        argument node, ``f`` the node ``name(u)`` and ``ir`` the tree module (handed in by the
        caller, so that the table stays below the tree and the tree can read the table).
    ``exact_at``
        ``f(q)`` exactly at a rational ``q`` where it is rational (``exp(0) = 1``), else
        ``None``; the tree folds constants with it and the interval code keeps exact ends.
    ``sympy_name`` / ``cvxpy_name``
        the SymPy function (both directions of the SymPy bridge) and the CVXPY atom of one
        argument; ``cvxpy_form(cp, u, monotonicity)`` replaces the plain CVXPY call where the
        form depends on the sign of the argument (``Abs``) or CVXPY has no atom of that name.
    ``pattern_only``
        produced by a pattern rule (``logistic``, ...), never written: not in the grammar.
    ``smooth``
        twice differentiable wherever defined (``Abs`` is not: the Hessian prover refuses it).
    ``trig_identities``
        SymPy's ``trigsimp`` may shorten second derivatives containing it.
    """

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
    numpy: str | None = None
    mpmath: str | None = None
    derivative: Callable[[Any, Any, Any], Any] | None = field(default=None, compare=False)
    cvxpy_form: Callable[[Any, Any, str | None], Any] | None = field(default=None, compare=False)
    pattern_only: bool = False
    smooth: bool = True
    trig_identities: bool = False

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
        fn = _safe(self.fn, self.mpmath)
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
                exact_at=self.exact_at,
            )
            out = part if out is None else hull(out, part)
        if out is None:
            return self.image
        clipped = intersect(out, self.image)
        return clipped if clipped is not None else out


def exact_values(table: dict[Endpoint, Endpoint]) -> Callable[[Endpoint], Endpoint | None]:
    """An ``exact_at`` routine for an atom whose only rational values at rational points are
    the few in ``table`` (``exp``: ``{0: 1}``)."""

    def lookup(q: Endpoint) -> Endpoint | None:
        return table.get(q)

    return lookup


def _pieces(*spec: tuple[Bound, Bound, str]) -> tuple[Piece, ...]:
    return tuple(Piece(lo, hi, label) for lo, hi, label in spec)
