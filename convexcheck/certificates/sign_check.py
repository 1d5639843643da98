"""The checker's own sign reasoning: a proof that ``e >= 0`` (or ``> 0``) on a box, re-derived.

The Hessian prover writes each sign condition as a small proof (:mod:`convexcheck.symbolic.signs`
documents the methods); none of its code is called here. What the checker uses instead:

``enclosure``
    the interval enclosure of the checker's own reading of ``e`` (:func:`convexcheck.symbolic
    .ranges.enclose`, rule-table interval arithmetic, layer 0) has the claimed sign;
``polynomial``
    ``e`` read by the checker is a univariate polynomial with rational coefficients; no factor of
    odd multiplicity has a root inside the domain (SymPy's exact real-root counts), for ``> 0``
    no factor has a root in the domain at all, and a rational point of the domain where ``e`` is
    nonzero has the claimed sign;
``bisection``
    the checker splits the bounded box itself (widest side at its midpoint) until the enclosure
    has the sign on every sub-box, with at most a few times the box count the document claims;
``monotone``
    an exact value at a finite end and the derivative's sign, re-derived by
    :mod:`~convexcheck.certificates.sign_chain_check`;
``factors``
    the factorisation is multiplied back and compared with ``e`` as an identity, and each
    factor's sign is re-proved recursively.

Also here: whether the Hessian argument applies at all (:func:`hessian_obstacle`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from convexcheck.certificates.context import CheckFailed, Context, is_zero, polys_safe, require
from convexcheck.certificates.sign_chain_check import check_monotone
from convexcheck.symbolic import interval as iv
from convexcheck.symbolic.interval import INF, Interval
from convexcheck.symbolic.ir import Node, free_variables, postorder
from convexcheck.symbolic.ranges import enclose

MAX_CLAIMED_BOXES = 256  # the most a document may claim (the prover never uses more)
MIN_BOX_WIDTH = Fraction(1, 2**40)

#: Functions the checker knows to be twice continuously differentiable on the interior of their
#: domain (the domain is enforced separately, by the enclosure of the argument).
SMOOTH_FUNCTIONS = frozenset({"exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan"})
NONSMOOTH = frozenset({"Abs", "Max", "Min", "Piecewise"})


def meets(r: Interval | None, claim: str) -> bool:
    """Does the enclosure ``r`` establish ``claim``?"""
    if r is None:
        return False
    return bool(r.positive) if claim == ">0" else bool(r.nonneg)


# ---------------------------------------------------------------------------------------------
# the polynomial test
# ---------------------------------------------------------------------------------------------


def polynomial_has_sign(poly: Any, domain: Interval, claim: str) -> bool:
    """Exact: the univariate rational polynomial ``poly`` is ``>= 0`` (``> 0``) on ``domain``.

    Between consecutive real roots a polynomial keeps its sign, and it changes sign only at
    roots of odd multiplicity; so with no such root inside the domain, one interior point where
    it is nonzero gives its sign on all of the domain (by continuity also at the ends). For a
    strict claim no root may lie in the domain at all."""
    import sympy

    if poly.is_zero:
        return claim == ">=0"
    if domain.is_point:
        value = poly.eval(_rational(domain.lo))
        return bool(value > 0 or (value == 0 and claim == ">=0"))
    lo = None if domain.lo == -INF else _rational(domain.lo)
    hi = None if domain.hi == INF else _rational(domain.hi)
    for factor, multiplicity in poly.sqf_list()[1]:
        if factor.degree() < 1:
            continue
        closed = factor.count_roots(lo, hi)  # roots in [lo, hi]
        on_lo = lo is not None and factor.eval(lo) == 0
        on_hi = hi is not None and factor.eval(hi) == 0
        interior = closed - on_lo - on_hi
        if multiplicity % 2 == 1 and interior > 0:
            return False
        if claim == ">0":
            in_domain = interior + (on_lo and not domain.lo_open) + (on_hi and not domain.hi_open)
            if in_domain > 0:
                return False
    for q in _interior_points(domain, poly.degree() + 1):
        value = poly.eval(sympy.Rational(q.numerator, q.denominator))
        if value != 0:
            return bool(value > 0)
    return False  # pragma: no cover - a nonzero polynomial vanishes at most degree times


def _rational(q: Any) -> Any:
    import sympy

    q = Fraction(q)
    return sympy.Rational(q.numerator, q.denominator)


def _interior_points(domain: Interval, count: int) -> list[Fraction]:
    lo, hi = domain.lo, domain.hi
    if lo != -INF and hi != INF:
        a, b = Fraction(lo), Fraction(hi)
        return [a + (b - a) * Fraction(k, count + 1) for k in range(1, count + 1)]
    if lo != -INF:
        return [Fraction(lo) + k for k in range(1, count + 1)]
    if hi != INF:
        return [Fraction(hi) - k for k in range(1, count + 1)]
    return [Fraction(k) for k in range(count)]


# ---------------------------------------------------------------------------------------------
# bisection
# ---------------------------------------------------------------------------------------------


def bisection_shows(
    node: Node, box: Mapping[str, Interval], claim: str, max_boxes: int
) -> int | None:
    """The number of sub-boxes (at most ``max_boxes``) on each of which the enclosure of
    ``node`` shows ``claim``, covering ``box``; ``None`` when that is not reached."""
    if not box or not all(d.bounded for d in box.values()):
        return None
    pending = [dict(box)]
    done = 0
    while pending:
        if done + len(pending) > max_boxes:
            return None
        current = pending.pop()
        if meets(enclose(node, current), claim):
            done += 1
            continue
        name = max(sorted(current), key=lambda n: _width(current[n]))
        d = current[name]
        if _width(d) < MIN_BOX_WIDTH:
            return None
        mid = (Fraction(d.lo) + Fraction(d.hi)) / 2
        pending.append({**current, name: iv.make(mid, d.hi, False, d.hi_open)})
        pending.append({**current, name: iv.make(d.lo, mid, d.lo_open, False)})
    return done


def _width(d: Interval) -> Fraction:
    return Fraction(d.hi) - Fraction(d.lo)


# ---------------------------------------------------------------------------------------------
# sign proofs
# ---------------------------------------------------------------------------------------------


def check_sign(ctx: Context, proof: dict[str, Any], expected: Any = None) -> None:
    """Re-derive the sign proof ``proof``; with ``expected`` (a SymPy expression), also that it
    is about that value (an identity on the domain)."""
    import sympy

    claim = proof["claim"]
    require(claim in (">=0", ">0"), f"unknown claim {claim!r}")
    text = proof["expr"]
    e = ctx.sympy_of(text)
    if expected is not None:
        require(is_zero(e - expected, ctx), f"the sign condition on {text} is about another value")
    method = proof["method"]
    if method == "enclosure":
        r = enclose(ctx.node_of(text), ctx.domains)
        require(meets(r, claim), f"enclosure {r} of {text} does not show {claim}")
    elif method == "polynomial":
        require(polys_safe(e), f"exponents in {text[:60]} too large for polynomial checks")
        symbols = sorted(e.free_symbols, key=lambda s: s.name)
        require(len(symbols) == 1, f"{text} is not a polynomial in one variable")
        poly = sympy.Poly(e, symbols[0])
        require(poly.domain.is_QQ or poly.domain.is_ZZ, "not a rational polynomial")
        domain = ctx.domains[symbols[0].name]
        require(polynomial_has_sign(poly, domain, claim), f"{text} is not {claim}")
    elif method == "bisection":
        boxes = proof["boxes"]
        require(
            isinstance(boxes, int) and not isinstance(boxes, bool) and boxes >= 1,
            f"bisection box count {boxes!r} is not a positive integer",
        )
        require(
            boxes <= MAX_CLAIMED_BOXES,
            f"bisection claims {boxes:,} boxes, more than the prover ever uses "
            f"({MAX_CLAIMED_BOXES})",
        )
        node = ctx.node_of(text)
        box = {name: ctx.domains[name] for name in free_variables(node)}
        # some slack: the checker splits in its own order, and its tree may enclose differently
        count = bisection_shows(node, box, claim, 4 * boxes + 4)
        require(count is not None, f"bisection does not show {text} {claim}")
    elif method == "factors":
        _check_factors(ctx, proof, e, claim, text)
    elif method == "monotone":
        check_monotone(ctx, proof, e, claim, check_sign, hessian_obstacle)
    else:
        raise CheckFailed(f"unknown sign-proof method {method!r}")


def _check_factors(ctx: Context, proof: dict[str, Any], e: Any, claim: str, text: str) -> None:
    constant = ctx.sympy_of(proof["constant"])
    require(constant.is_Rational and constant != 0, "the constant factor is not rational")
    product = constant
    sign = 1 if constant > 0 else -1
    strict = claim == ">0"
    for factor in proof["factors"]:
        base = ctx.sympy_of(factor["base"])
        exponent = factor["exponent"]
        require(isinstance(exponent, int) and not isinstance(exponent, bool), "bad exponent")
        require(exponent != 0, "a factor with exponent 0")
        product *= base**exponent
        kind = factor["sign"]
        if kind == "even":
            require(exponent % 2 == 0 and exponent > 0 and not strict, "bad even factor")
            continue
        require(kind in ("positive", "negative", "nonneg", "nonpos"), f"bad factor sign {kind!r}")
        want = ">0" if kind in ("positive", "negative") else ">=0"
        require(exponent > 0 or want == ">0", "a negative power needs a nonzero base")
        require(not strict or want == ">0", "a strict claim needs strict factors")
        target = base if kind in ("positive", "nonneg") else -base
        require(factor["proof"]["claim"] == want, "factor proof proves the wrong claim")
        check_sign(ctx, factor["proof"], expected=target)
        if kind in ("negative", "nonpos") and exponent % 2 == 1:
            sign = -sign
    require(sign > 0, "the factors' signs multiply to a negative number")
    require(is_zero(product - e), f"the factorisation does not multiply back to {text}")


# ---------------------------------------------------------------------------------------------
# when the Hessian argument applies
# ---------------------------------------------------------------------------------------------


def hessian_obstacle(
    root: Node, domains: Mapping[str, Interval], trust: Callable[[str], None]
) -> str | None:
    """Why a Hessian certificate cannot prove anything about ``root`` (``None``: it can).

    A function continuous on a box and twice differentiable inside it is convex there iff its
    Hessian is PSD inside. So: every operation twice differentiable where it is used (no
    ``Abs``/``Max``/``Min``/``Piecewise``; a power with a non-integer or variable exponent only
    on a base shown positive), and the function defined on the whole closed box (the checker's
    enclosure of it exists: every function's argument within its domain). A function row the
    checker does not know as smooth is reported through ``trust``, never passed silently."""
    if enclose(root, domains) is None:
        return "not shown to be defined on the whole domain"
    for node in postorder(root):
        op = node.op
        if op in NONSMOOTH or node.is_bool:
            return f"not twice differentiable everywhere ({op})"
        if op in ("num", "var", "const", "add", "mul"):
            continue
        if op == "pow":
            exponent = node.args[1]
            integer = exponent.op == "num" and Fraction(exponent.value).denominator == 1  # type: ignore[arg-type]
            if not integer:
                base = enclose(node.args[0], domains)
                if base is None or not base.positive:
                    return f"the base of a power may reach 0 ({op})"
            continue
        if op not in SMOOTH_FUNCTIONS:
            trust(f"{op} taken as twice differentiable on its domain (not in the checker's list)")
    return None
