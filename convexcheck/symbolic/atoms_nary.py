"""Atoms of several arguments: ``Max``, ``Min``, ``log_sum_exp``, a weighted norm,
``quad_over_lin``, a product of powers and ``rel_entr``.

Their facts depend on the argument ranges (the norm is nondecreasing in an argument only where
that argument is nonnegative), so each is a small class rather than a row of pieces like the
one-argument atoms of :mod:`convexcheck.symbolic.atoms_pieces`; the facts are still declarative
(no composition logic here: :mod:`convexcheck.symbolic.dcp` and
:mod:`convexcheck.symbolic.patterns` compose them). Re-exported by
:mod:`convexcheck.symbolic.atoms`, the one place to import atoms from.
"""

from __future__ import annotations

import math
from fractions import Fraction

from convexcheck.symbolic.atoms_pieces import (
    CONCAVE,
    CONVEX,
    DECREASING,
    INCREASING,
    NONMONOTONE,
)
from convexcheck.symbolic.interval import (
    INF,
    Interval,
    exact,
    float_down,
    float_up,
    widen_down,
    widen_up,
)


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
