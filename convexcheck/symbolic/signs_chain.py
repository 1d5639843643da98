"""Sign proofs by monotonicity from an end point: ``g(a) >= 0`` and ``g' >= 0`` give ``g >= 0``.

Why this method exists: interval enclosures cannot show the sign of an expression that vanishes
at an end of its domain to high order (``sinh(x)**2 - x**2`` near 0, the numerator of the
second derivative of ``(exp(x) - 1 - x)/x**2``), because every enclosure of a difference of two
nearly equal terms straddles 0; nor can bisection reach an unbounded end. Both obstacles go
away with one elementary fact: a function continuous on ``[a, b]`` and differentiable inside,
with ``g(a) >= 0`` and ``g' >= 0`` on ``(a, b)``, is ``>= 0`` on ``[a, b]`` (by the mean value
theorem), whether ``b`` is finite or ``oo``. So the prover evaluates ``g`` *exactly* at the
finite end and proves the sign of ``g'`` instead, recursively: ``g'`` often vanishes at the same
point (a Taylor-like cascade), until some derivative has a sign an enclosure shows
(``x**2*cosh(x)``, ``4*sinh(2*x)``). The mirrored form anchors at the upper end ``b`` and
needs ``g' <= 0``.

The proof (``method: "monotone"``) records the anchor, the exact value there (as text), the
derivative (simplified) and its own sign proof; the checker
(:mod:`convexcheck.certificates.sign_chain_check`) re-differentiates, re-evaluates the anchor
value with exact arithmetic and re-checks the derivative's proof on the open interior.

Effort is counted in derivatives taken (:data:`MAX_DEPTH` per chain, :data:`MAX_DERIVATIVES` per
prover), never in seconds; what was cut is reported through ``prover.cuts``.
"""

from __future__ import annotations

import contextlib
import time
from fractions import Fraction
from typing import Any, Protocol

from convexcheck.budget import time_limit
from convexcheck.symbolic import interval as iv
from convexcheck.symbolic.interval import INF, Interval
from convexcheck.symbolic.ranges import enclose
from convexcheck.symbolic.sympy_bridge import from_sympy

MAX_DEPTH = 5  # derivatives in one chain: g, g', ..., g^(5)
MAX_DERIVATIVES = 40  # derivatives one prover may take in all its chains
SIMPLIFY_OPS = 150
SIMPLIFY_S = 0.5


class _Recursing(Protocol):
    """What this module needs from :class:`convexcheck.symbolic.signs.SignProver` (passed in,
    not imported: the prover imports this module)."""

    domains: dict[str, Interval]
    deadline: float | None
    chain_deadline: float | None
    cuts: set[str]
    effort: dict[str, int]
    chain_depth: int

    def prove(
        self, e: Any, claim: str = ">=0", *, factor: bool = True
    ) -> dict[str, Any] | None: ...

    def with_domains(self, domains: dict[str, Interval]) -> _Recursing: ...

    def number_sign(self, e: Any) -> Any: ...

    def poly_ok(self, e: Any) -> bool: ...


class _Timeout(BaseException):
    pass


def _short_form(prover: _Recursing, e: Any, deadline: float | None) -> Any:
    """The shortest of ``e``, its cancelled form and (bounded) ``simplify``: derivatives of
    ``x**2*sinh(x)**2 - x**2*cosh(x)**2`` only collapse with ``cosh**2 - sinh**2 = 1``."""
    import sympy

    candidates = [e]
    if not prover.poly_ok(e):
        return e
    with contextlib.suppress(Exception):
        candidates.append(sympy.cancel(sympy.together(e)))
    seconds = SIMPLIFY_S
    if deadline is not None:
        seconds = min(seconds, deadline - time.perf_counter())
    # only hyperbolic and trigonometric identities need simplify; cancel does the rest
    identities = e.has(sympy.sinh, sympy.cosh, sympy.tanh, sympy.sin, sympy.cos, sympy.tan)
    if identities and seconds > 0 and sympy.count_ops(e) <= SIMPLIFY_OPS:
        try:
            with time_limit(seconds, _Timeout) as interruptible:
                if interruptible or sympy.count_ops(e) <= 30:
                    candidates.append(sympy.simplify(e))
        except _Timeout:
            pass
        except Exception:
            pass
    return min(candidates, key=lambda c: (sympy.count_ops(c), len(sympy.sstr(c))))


def exact_value_at(e: Any, x: Any, q: Fraction) -> Any:
    """``e`` at ``x = q`` as SymPy evaluates it on substitution (``sinh(0)`` is 0, ``log(1)`` is
    0), or ``None`` when that is no finite real number. No ``simplify``: a constant SymPy does
    not reduce by itself is left to the rigorous enclosure, and an exact 0 it cannot see only
    costs the proof (the checker substitutes the same way)."""
    import sympy

    with contextlib.suppress(Exception):
        value = e.xreplace({x: sympy.Rational(q.numerator, q.denominator)})
        if value.is_number and value.is_finite is not False and not value.has(sympy.nan):
            return value
    return None


def _value_sign_ok(prover: _Recursing, value: Any, claim: str) -> bool:
    """Whether the constant ``value`` is ``>= 0`` (``> 0``), decided exactly or by enclosure."""
    sign = prover.number_sign(value)
    if sign is None:
        return False
    return bool(sign > 0 or (sign == 0 and claim == ">=0"))


def interior(d: Interval) -> Interval:
    return iv.make(d.lo, d.hi, True, True)


def _anchor_value(e: Any, x: Any, name: str, d: Interval, anchor: str):
    """``(value, substituted, excluded)`` at the anchor, or ``None`` where it does not apply.

    At a finite end: ``e`` must be defined on the closed domain (so continuous there: every
    atom is continuous where defined) and ``value`` is ``e`` there. At ``oo`` (``-oo``) with the
    domain on one side of 0: ``h(u) = e(1/u)`` must be defined on the closed ``u``-interval that
    includes ``u = 0``; then ``lim e = h(0)``, the ``value``. ``excluded``: the anchor is not
    in the domain (so a zero there does not spoil a strict claim)."""
    import sympy

    zero = Fraction(0)
    if anchor in ("lo", "hi"):
        end = d.lo if anchor == "lo" else d.hi
        if end in (INF, -INF):
            return None
        target, where, substituted = e, Fraction(end), None
        box = iv.make(d.lo, d.hi, d.lo == -INF, d.hi == INF)
        excluded = d.lo_open if anchor == "lo" else d.hi_open
    elif anchor == "oo":
        if d.hi != INF or d.lo == -INF or d.lo < 0:
            return None
        box = iv.make(0, INF) if d.lo == 0 else iv.make(0, 1 / Fraction(d.lo), False, d.lo_open)
        target, where, excluded = None, zero, True
    else:
        if d.lo != -INF or d.hi == INF or d.hi > 0:
            return None
        box = iv.make(-INF, 0) if d.hi == 0 else iv.make(1 / Fraction(d.hi), 0, d.hi_open, False)
        target, where, excluded = None, zero, True
    if target is None:
        try:
            if enclose(from_sympy(e)[0], {name: d}) is None:
                return None
            substituted = sympy.cancel(sympy.together(e.xreplace({x: 1 / x})))
        except Exception:
            return None
        target = substituted
    try:
        if enclose(from_sympy(target)[0], {name: box}) is None:
            return None
    except Exception:
        return None
    value = exact_value_at(target, x, where)
    if value is None:
        return None
    return value, substituted, excluded


def prove_monotone(prover: _Recursing, e: Any, claim: str) -> dict[str, Any] | None:
    """A ``monotone`` proof that ``e`` (one variable) meets ``claim`` on its domain, or
    ``None``. Tries the lower end, then the upper end, each where it is finite, then the
    limits at ``oo`` and ``-oo`` through ``u = 1/x``."""
    import sympy

    names = sorted(s.name for s in e.free_symbols)
    if len(names) != 1 or prover.chain_depth >= MAX_DEPTH:
        if len(names) == 1:
            prover.cuts.add(f"monotone chain stopped at derivative order {MAX_DEPTH}")
        return None
    name = names[0]
    (x,) = e.free_symbols
    d = prover.domains[name]
    for anchor in ("lo", "hi", "oo", "-oo"):
        found = _anchor_value(e, x, name, d, anchor)
        if found is None:
            continue
        value, substituted, open_end = found
        # ">0": g(a) > 0 with g' >= 0, or g(a) = 0 excluded from the domain with g' > 0
        if claim == ">0" and _value_sign_ok(prover, value, ">0"):
            need = ">=0"
        elif claim == ">0" and open_end and _value_sign_ok(prover, value, ">=0"):
            need = ">0"
        elif claim == ">=0" and _value_sign_ok(prover, value, ">=0"):
            need = ">=0"
        else:
            continue
        if prover.effort["derivatives"] >= MAX_DERIVATIVES:
            prover.cuts.add(f"monotone chains: derivative budget of {MAX_DERIVATIVES} spent")
            return None
        prover.effort["derivatives"] += 1
        derivative = _short_form(prover, sympy.diff(e, x), prover.chain_deadline)
        # growing away from the anchor: g' >= 0 from a lower end (or from -oo), g' <= 0 towards
        # an upper end (or towards +oo, from where g falls back to its limit)
        target = derivative if anchor in ("lo", "-oo") else -derivative
        inner = prover.with_domains({name: interior(d)})
        inner.chain_depth = prover.chain_depth + 1
        inner.deadline = prover.chain_deadline  # the whole chain runs under the chain's cap
        proof = inner.prove(target, need)
        if proof is None:
            continue
        return {
            "method": "monotone",
            "expr": sympy.sstr(e),
            "claim": claim,
            "variable": name,
            "anchor": anchor,
            "value": sympy.sstr(value),
            **({"substituted": sympy.sstr(substituted)} if substituted is not None else {}),
            "derivative": sympy.sstr(target),
            "proof": proof,
        }
    return None
