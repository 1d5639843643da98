"""Proofs that an expression is nonnegative (or positive) on a box, as re-checkable data.

The Hessian stage reduces convexity to sign conditions ("f'' >= 0 on [1, 2]", "this pivot is
> 0 on the positive orthant"); this module proves such a condition or gives up. Every proof is a
small JSON-ready dict that :mod:`convexcheck.certificates` re-checks from scratch:

``enclosure``
    the rigorous interval enclosure of the expression over the box already has the right sign
    (exact rationals, outward rounding; repeated variables only widen it, never make it wrong);
``polynomial``
    a univariate polynomial: its factors of odd multiplicity have no root inside the domain
    (exact Sturm counts), so its sign is constant there except at zeros of even multiplicity,
    and one rational sample point fixes that sign;
``bisection``
    a bounded box split into sub-boxes on each of which the enclosure has the right sign (this
    is how ``2 - 2*log(x)`` type conditions, where a single enclosure is too wide, get proved);
``monotone``
    one variable: ``e`` is defined on the closed domain, its exact value at a finite end has
    the right sign and its derivative (proved recursively, on the open interior) makes it grow
    away from that end (:mod:`.signs_chain`: unbounded domains and high-order zeros at an end);
``factors``
    ``e = c * prod(base_k ** m_k)`` (a SymPy factorisation, re-checked as an identity), with the
    sign of every base proved by one of the methods above, or an even exponent.

Claims are ``">=0"`` or ``">0"``; to prove ``e <= 0`` prove ``-e >= 0``. A failed attempt is
``None``: never evidence of the opposite sign.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from convexcheck.symbolic import interval as iv
from convexcheck.symbolic.interval import INF, Interval
from convexcheck.symbolic.ranges import enclose
from convexcheck.symbolic.signs_chain import prove_monotone

CLAIMS = (">=0", ">0")
MAX_BOXES = 256
MAX_FACTOR_OPS = 400
# SymPy's polynomial machinery (Poly, factor, cancel, together) turns x**n, exp(n*x) and
# 2**(n*x) into dense polynomials of degree n in some generator: n = 10**9 allocates 10**9
# coefficients in one call that no timer can stop. Exponents past this are left alone.
MAX_POLY_EXPONENT = 1000


def polys_safe(e: Any) -> bool:
    """Whether ``e`` may be handed to SymPy's polynomial functions: every rational inside an
    exponent (of a power or of ``exp``) has numerator and denominator at most
    :data:`MAX_POLY_EXPONENT`. ``False`` only skips a method, it never decides a sign."""
    import sympy

    for sub in sympy.preorder_traversal(e):
        if sub.is_Pow:
            exponent = sub.exp
        elif isinstance(sub, sympy.exp):
            exponent = sub.args[0]
        else:
            continue
        for r in sympy.preorder_traversal(exponent):
            if r.is_Rational and (abs(r.p) > MAX_POLY_EXPONENT or r.q > MAX_POLY_EXPONENT):
                return False
    return True


def meets(r: Interval | None, claim: str) -> bool:
    """Does the enclosure ``r`` establish ``claim``?"""
    if r is None:
        return False
    return r.positive if claim == ">0" else r.nonneg


def to_node(e: Any):
    """IR node of a SymPy expression (no parsing of strings involved)."""
    from convexcheck.symbolic.sympy_bridge import from_sympy

    return from_sympy(e)[0]


def _free_names(e: Any) -> list[str]:
    return sorted(s.name for s in e.free_symbols)


def _sub_domains(e: Any, domains: Mapping[str, Interval]) -> dict[str, Interval]:
    return {name: domains[name] for name in _free_names(e)}


class SignProver:
    """Tries the methods in order of cost; ``deadline`` (a ``perf_counter`` value) bounds it.

    ``chain_deadline`` (default: ``deadline``) is the later cap of the ``monotone`` method:
    its effort is counted in derivatives (:mod:`.signs_chain`), so wall-clock time is only its
    outer cap, and the Hessian stage lets it run into the time the whole check has left."""

    def __init__(
        self,
        domains: Mapping[str, Interval],
        deadline: float | None = None,
        chain_deadline: float | None = None,
    ) -> None:
        self.domains = dict(domains)
        self.deadline = deadline
        self.chain_deadline = deadline if chain_deadline is None else chain_deadline
        # what a method gave up on for lack of effort (reported in the evidence), and the effort
        # spent, shared with the provers of sub-domains that :meth:`with_domains` makes
        self.cuts: set[str] = set()
        self.effort: dict[str, int] = {"derivatives": 0}
        self.chain_depth = 0

    def with_domains(self, domains: Mapping[str, Interval]) -> SignProver:
        """A prover for a sub-box (some variables' domains replaced), sharing the deadline,
        the effort counters and the record of cuts."""
        other = SignProver({**self.domains, **domains}, self.deadline, self.chain_deadline)
        other.cuts = self.cuts
        other.effort = self.effort
        other.chain_depth = self.chain_depth
        return other

    def _late(self, deadline: float | None = None) -> bool:
        deadline = self.deadline if deadline is None else deadline
        return deadline is not None and time.perf_counter() > deadline

    def prove(self, e: Any, claim: str = ">=0", *, factor: bool = True) -> dict[str, Any] | None:
        import sympy

        if claim not in CLAIMS:
            raise ValueError(f"claim must be one of {CLAIMS}")
        if isinstance(e, (int, Fraction)):
            e = sympy.Rational(e)
        elif not isinstance(e, sympy.Basic):  # never parse text here: callers pass SymPy objects
            raise TypeError(f"expected a SymPy expression, got {type(e).__name__}")
        if e.is_number:
            value = _exact_number_sign(e)
            if value is not None and (value > 0 or (value == 0 and claim == ">=0")):
                return {"method": "enclosure", "expr": sympy.sstr(e), "claim": claim}
            return None
        for method in (self._enclosure, self._polynomial, self._bisection, self._monotone):
            if self._late(self.chain_deadline if method == self._monotone else None):
                if method == self._monotone and self.chain_deadline is not None:
                    self.cuts.add("monotone chain: cut by the time cap")
                return None
            proof = method(e, claim)
            if proof is not None:
                return proof
        if factor and not self._late():
            return self._factors(e, claim)
        return None

    # -- methods ---------------------------------------------------------------------------

    def _enclosure(self, e: Any, claim: str) -> dict[str, Any] | None:
        import sympy

        try:
            r = enclose(to_node(e), self.domains)
        except Exception:
            return None
        if meets(r, claim):
            return {"method": "enclosure", "expr": sympy.sstr(e), "claim": claim}
        return None

    def _polynomial(self, e: Any, claim: str) -> dict[str, Any] | None:
        import sympy

        names = _free_names(e)
        if len(names) != 1 or not polys_safe(e):
            return None
        (x,) = e.free_symbols
        try:
            poly = sympy.Poly(e, x)
        except sympy.PolynomialError:
            return None
        if not poly.domain.is_QQ and not poly.domain.is_ZZ:
            return None
        if poly_sign_ok(poly, self.domains[names[0]], claim):
            return {
                "method": "polynomial",
                "expr": sympy.sstr(e),
                "variable": names[0],
                "claim": claim,
            }
        return None

    def _bisection(self, e: Any, claim: str) -> dict[str, Any] | None:
        import sympy

        boxes = _sub_domains(e, self.domains)
        if not boxes or not all(d.bounded for d in boxes.values()):
            return None
        try:
            node = to_node(e)
        except Exception:
            return None
        count = bisect_prove(node, boxes, claim, MAX_BOXES, self._late, self.cuts)
        if count is None:
            if self._late():
                self.cuts.add("bisection: cut by the time cap")
            return None
        return {"method": "bisection", "expr": sympy.sstr(e), "claim": claim, "boxes": count}

    def _monotone(self, e: Any, claim: str) -> dict[str, Any] | None:
        return prove_monotone(self, e, claim)

    def number_sign(self, e: Any) -> Any:
        """Sign of a constant (for :mod:`.signs_chain`, which cannot import this module)."""
        return _exact_number_sign(e)

    def poly_ok(self, e: Any) -> bool:
        return polys_safe(e)

    def _factors(self, e: Any, claim: str) -> dict[str, Any] | None:
        import sympy

        if sympy.count_ops(e) > MAX_FACTOR_OPS or not polys_safe(e):
            return None
        try:
            factored = sympy.factor(sympy.cancel(sympy.together(e)))
        except Exception:
            return None
        constant, parts = factored.as_coeff_mul()
        if not parts or (len(parts) == 1 and parts[0] == e):
            return None
        sign = 1 if constant > 0 else -1 if constant < 0 else 0
        if sign == 0:
            return None
        factors = []
        strict = claim == ">0"
        for part in parts:
            base, exponent = part.as_base_exp()
            if not (exponent.is_Integer and exponent != 0):
                base, exponent = part, sympy.Integer(1)
            entry: dict[str, Any] = {"base": sympy.sstr(base), "exponent": int(exponent)}
            if int(exponent) % 2 == 0:
                # even power: nonnegative; positive (and defined) needs base != 0
                if strict or int(exponent) < 0:
                    proof = self.prove(base, ">0", factor=False)
                    if proof is None:
                        proof = self.prove(-base, ">0", factor=False)
                        if proof is None:
                            return None
                        entry["sign"] = "negative"
                    else:
                        entry["sign"] = "positive"
                    entry["proof"] = proof
                else:
                    entry["sign"] = "even"
                factors.append(entry)
                continue
            want = ">0" if (strict or int(exponent) < 0) else ">=0"
            proof = self.prove(base, want, factor=False)
            if proof is not None:
                entry["sign"] = "positive" if want == ">0" else "nonneg"
            else:
                proof = self.prove(-base, want, factor=False)
                if proof is None:
                    return None
                entry["sign"] = "negative" if want == ">0" else "nonpos"
                sign = -sign
            entry["proof"] = proof
            factors.append(entry)
        if sign < 0:
            return None
        return {
            "method": "factors",
            "expr": sympy.sstr(e),
            "claim": claim,
            "constant": sympy.sstr(constant),
            "factors": factors,
        }


def _exact_number_sign(e: Any) -> Any:
    """Sign of a constant SymPy expression, decided exactly or by a rigorous enclosure."""
    if e.is_Rational:
        return e
    try:
        r = enclose(to_node(e), {})
    except Exception:
        return None
    if r is None:
        return None
    if r.positive:
        return 1
    if r.negative:
        return -1
    if r.is_point and r.lo == 0:
        return 0
    return None


def poly_sign_ok(poly: Any, domain: Interval, claim: str) -> bool:
    """Exact: is the univariate polynomial ``>= 0`` (or ``> 0``) on ``domain``?

    A factor of odd multiplicity with a root strictly inside the domain makes the sign change,
    so it must have none; then the sign is that of one sample point where the polynomial is
    nonzero. For ``> 0`` no factor may vanish anywhere in the domain.
    """
    import sympy

    if poly.is_zero:
        return claim == ">=0"
    if domain.is_point:
        value = poly.eval(sympy.Rational(Fraction(domain.lo)))
        return bool(value > 0 or (value == 0 and claim == ">=0"))
    lo = None if domain.lo == -INF else sympy.Rational(Fraction(domain.lo))
    hi = None if domain.hi == INF else sympy.Rational(Fraction(domain.hi))
    _, factors = poly.sqf_list()
    for factor, multiplicity in factors:
        if factor.degree() < 1:
            continue
        inside = _roots_in(factor, lo, hi, domain)
        if claim == ">0" and inside["closed_domain"] > 0:
            return False
        if multiplicity % 2 == 1 and inside["interior"] > 0:
            return False
    # one sample point where the polynomial does not vanish fixes the sign
    for q in _sample_points(domain):
        value = poly.eval(sympy.Rational(q))
        if value != 0:
            return bool(value > 0)
    return False  # pragma: no cover - a nonzero polynomial has finitely many roots


def _roots_in(factor: Any, lo: Any, hi: Any, domain: Interval) -> dict[str, int]:
    """Real roots of a square-free factor in the domain's interior and in the domain itself."""
    closed = factor.count_roots(lo, hi)  # counts roots in [lo, hi] (None = unbounded)
    at_ends = 0
    ends_in_domain = 0
    for end, is_open in ((lo, domain.lo_open), (hi, domain.hi_open)):
        if end is not None and factor.eval(end) == 0:
            at_ends += 1
            ends_in_domain += not is_open
    return {"interior": closed - at_ends, "closed_domain": closed - at_ends + ends_in_domain}


def _sample_points(domain: Interval):
    lo, hi = domain.lo, domain.hi
    if lo != -INF and hi != INF:
        lo, hi = Fraction(lo), Fraction(hi)
        for k in range(1, 40):
            yield lo + (hi - lo) * Fraction(k, 41)
    elif lo != -INF:
        for k in range(1, 40):
            yield Fraction(lo) + k
    elif hi != INF:
        for k in range(1, 40):
            yield Fraction(hi) - k
    else:
        for k in range(40):
            yield Fraction(k * (-1) ** k, 3)


def split_interval(d: Interval) -> tuple[Interval, Interval]:
    mid = (Fraction(d.lo) + Fraction(d.hi)) / 2
    return iv.make(d.lo, mid, d.lo_open, False), iv.make(mid, d.hi, False, d.hi_open)


def bisect_prove(
    node, boxes: dict[str, Interval], claim: str, max_boxes: int, late=None, cuts=None
):
    """Number of boxes (all meeting ``claim``) covering ``boxes``, or ``None`` if it fails.

    Deterministic: always split the widest side of the first pending box, so a checker that
    re-runs it sees the same boxes.
    """
    pending = [boxes]
    done = 0
    while pending:
        if done + len(pending) > max_boxes or (late is not None and late()):
            if cuts is not None and done + len(pending) > max_boxes:
                cuts.add(f"bisection: cut at {max_boxes} boxes")
            return None
        box = pending.pop()
        r = enclose(node, box)
        if meets(r, claim):
            done += 1
            continue
        if r is not None and (r.hi < 0 or (claim == ">0" and r.hi <= 0)):
            return None  # the claim is false on this box
        name = max(box, key=lambda n: Fraction(box[n].hi) - Fraction(box[n].lo))
        if Fraction(box[name].hi) - Fraction(box[name].lo) < Fraction(1, 2**40):
            return None
        left, right = split_interval(box[name])
        pending.append({**box, name: right})
        pending.append({**box, name: left})
    return done
