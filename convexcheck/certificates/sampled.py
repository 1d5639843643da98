"""Sampled comparison of two expressions, for the derivation steps the checker cannot re-prove.

A DCP derivation's pattern and rewrite steps rest on identities (``log(c*exp(u)) = u +
log(c)``, ``Abs(u) = u`` where ``u >= 0``) that hold on the domain only with the ranges the
prover found; the checker lists them as *trusted*. Trusted is not blind: a document that
claims ``-x**2`` is ``rewrite:anything`` of ``x**2``, or an atom applied to children whose
composition is another expression, must still fail. So each such step is compared at a fixed,
seeded set of rational points of the domain: both sides must be defined at the same points
(checked the checker's own way, :mod:`convexcheck.certificates.definedness`) and agree there
to 30 digits. This is evidence, not proof, and is reported as such; it catches forgeries and
mistranslated identities, which exact checks of the other steps do not cover.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from convexcheck.certificates.definedness import Undecided, Undefined, evaluate_defined
from convexcheck.symbolic.ir import Node

#: Points compared per step.
SAMPLES = 12
_UNBOUNDED = [Fraction(v) for v in (-50, -7, -2, -1, Fraction(-1, 3), 0, Fraction(1, 2), 1, 3)]
_UNBOUNDED += [Fraction(v) for v in (10, 100, Fraction(1, 7), Fraction(-5, 4))]


def _candidates(d: Any) -> list[Fraction]:
    from convexcheck.symbolic.interval import INF

    lo, hi = d.lo, d.hi
    if lo == hi:
        return [Fraction(lo)]
    out: list[Fraction] = []
    if lo != -INF and hi != INF:
        width = Fraction(hi) - Fraction(lo)
        out = [Fraction(lo) + width * Fraction(k, 19) for k in range(1, 19)]
    else:
        base = Fraction(lo) if lo != -INF else (Fraction(hi) if hi != INF else Fraction(0))
        sign = 1 if lo != -INF else -1
        offsets = [Fraction(1, 9), Fraction(1, 2), 1, 2, 5, 13, 40, 300]
        if lo == -INF and hi == INF:
            out = list(_UNBOUNDED)
        else:
            out = [base + sign * o for o in offsets]
    out += [Fraction(lo), Fraction(hi)] if lo != -INF and hi != INF else []
    return [q for q in out if d.contains(q)] or [Fraction(lo)]


def sample_points(domains: Mapping[str, Any], n: int = SAMPLES) -> list[dict[str, Fraction]]:
    """``n`` deterministic rational points of the box ``domains`` (seeded, no clock)."""
    rng = random.Random(20261201)
    choices = {name: _candidates(d) for name, d in domains.items()}
    return [{name: rng.choice(c) for name, c in choices.items()} for _ in range(n)]


def _value(node: Node, point: Mapping[str, Fraction]) -> Any:
    try:
        return evaluate_defined(node, point)
    except Undefined:
        return None


def mismatch(a: Node, b: Node, points: list[dict[str, Fraction]]) -> str | None:
    """Where ``a`` and ``b`` differ at ``points`` (definedness or value), or ``None``."""
    import sympy

    for point in points:
        try:
            va, vb = _value(a, point), _value(b, point)
        except Undecided:
            continue
        shown = ", ".join(f"{k}={v}" for k, v in point.items())
        if (va is None) != (vb is None):
            which = "the first" if va is None else "the second"
            return f"at {shown} only {which} is undefined"
        if va is None:
            continue
        try:
            da = sympy.N(_sym(va), 40)
            db = sympy.N(_sym(vb), 40)
        except Exception:  # a value evalf cannot read: no evidence either way
            continue
        if not (da.is_number and db.is_number):
            continue
        scale = 1 + max(abs(da), abs(db))
        if abs(da - db) > scale * sympy.Float(10) ** -30:
            return f"at {shown} the values differ ({da} vs {db})"
    return None


def _sym(v: Any) -> Any:
    import sympy

    if isinstance(v, Fraction):
        return sympy.Rational(v.numerator, v.denominator)
    return v
