"""The checker's re-derivation of a ``monotone`` sign proof (the prover's side is
:mod:`convexcheck.symbolic.signs_chain`; none of its code is called here).

The fact relied on: a function ``g`` of one variable, continuous on ``[a, b]`` (``b`` may be
``oo``) and differentiable on ``(a, b)`` with ``g' >= 0`` there, satisfies
``g(x) - g(a) = g'(xi) (x - a) >= 0`` (mean value theorem); with ``g' > 0`` the difference is
``> 0`` for ``x > a``. Mirrored at the upper end ``b`` with ``-g' >= 0``. What is checked:

* ``g`` has one variable, and the anchor is a finite end of its domain;
* ``g`` is defined on the *closed* domain (the checker's enclosure exists there; every function
  the enclosure admits is continuous where it is defined) and twice differentiable on the open
  interior (:func:`~convexcheck.certificates.sign_check.hessian_obstacle`'s rules: no
  ``Abs``/``Max``/``Min``/``Piecewise``, a fractional power only of a positive base);
* ``g(a)`` recomputed by SymPy with exact arithmetic equals the recorded value (an identity test)
  and has the needed sign, decided exactly or by the checker's enclosure of that constant;
* the recorded derivative equals ``±dg/dx`` (SymPy's differentiation of the checker's reading),
  and its sign proof is re-checked on the open interior;
* at ``oo`` (domain ``(a, oo)`` with ``a >= 0``): ``h(u) = e(1/u)`` (recorded, re-checked as
  an identity for ``u`` in ``(0, 1/a)``) is defined on the closed interval ``[0, 1/a]``, so
  continuous at 0 and ``lim_{x -> oo} e = h(0)``; with ``e' <= 0`` the function falls towards
  that limit, so ``e >= h(0)``; mirrored at ``-oo`` with ``e' >= 0``;
* the strict claim is only accepted from ``g(a) > 0``, or from ``g(a) >= 0`` at an end the
  domain excludes with ``g' > 0``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from convexcheck.certificates.context import Context, is_zero, require
from convexcheck.symbolic import interval as iv
from convexcheck.symbolic.interval import INF
from convexcheck.symbolic.ranges import enclose

MAX_CHAIN = 8  # nested monotone proofs the checker follows (the prover stops at 5)


def sub_context(ctx: Context, name: str, domain: iv.Interval) -> Context:
    """``ctx`` with one variable's domain replaced (caches and the trusted list shared)."""
    out = copy.copy(ctx)
    out.domains = {**ctx.domains, name: domain}
    out.chain_depth = getattr(ctx, "chain_depth", 0) + 1  # type: ignore[attr-defined]
    return out


def _constant_sign(ctx: Context, value: Any) -> int | None:
    """Sign of a SymPy constant: exact for a rational, else from the checker's enclosure."""
    import sympy

    if value.is_Rational:
        return 1 if value > 0 else -1 if value < 0 else 0
    r = enclose(ctx.node_of(sympy.sstr(value)), {})
    if r is None:
        return None
    if r.positive:
        return 1
    if r.negative:
        return -1
    return None


def check_monotone(
    ctx: Context,
    proof: dict[str, Any],
    e: Any,
    claim: str,
    recheck: Callable[[Context, dict[str, Any], Any], None],
    obstacle: Callable[..., str | None],
) -> None:
    """Re-derive the ``monotone`` proof ``proof`` that ``e`` meets ``claim``. ``recheck`` is
    :func:`~convexcheck.certificates.sign_check.check_sign` and ``obstacle`` its
    ``hessian_obstacle`` (passed in: that module imports this one)."""
    import sympy

    depth = getattr(ctx, "chain_depth", 0)
    require(depth < MAX_CHAIN, "monotone proofs nested too deeply")
    name = proof["variable"]
    require(isinstance(name, str) and name in ctx.domains, f"unknown variable {name!r}")
    x = ctx.symbols[name]
    require(e.free_symbols <= {x}, "a monotone proof is about one variable")
    d = ctx.domains[name]
    anchor = proof["anchor"]
    require(anchor in ("lo", "hi", "oo", "-oo"), f"unknown anchor {anchor!r}")
    node = ctx.node_of(proof["expr"])
    inside = iv.make(d.lo, d.hi, True, True)
    why_not = obstacle(node, {name: inside}, ctx.trusted.append)
    require(why_not is None, f"not shown differentiable inside the domain: {why_not}")
    if anchor in ("lo", "hi"):
        end = d.lo if anchor == "lo" else d.hi
        require(end not in (INF, -INF), "the anchor is not a finite end of the domain")
        open_end = d.lo_open if anchor == "lo" else d.hi_open
        closed = iv.make(d.lo, d.hi, d.lo == -INF, d.hi == INF)
        require(enclose(node, {name: closed}) is not None, "not defined on the closed domain")
        at, where = e, Fraction(end)
    else:
        # x -> +-oo through u = 1/x: h(u) = e(1/u) continuous on a closed u-interval at 0
        open_end, where = True, Fraction(0)
        require(enclose(node, {name: d}) is not None, "not defined on the domain")
        if anchor == "oo":
            require(d.hi == INF and d.lo != -INF and d.lo >= 0, "no limit at oo to use")
            lo = Fraction(d.lo)
            box = iv.make(0, INF) if lo == 0 else iv.make(0, 1 / lo, False, d.lo_open)
        else:
            require(d.lo == -INF and d.hi != INF and d.hi <= 0, "no limit at -oo to use")
            hi = Fraction(d.hi)
            box = iv.make(-INF, 0) if hi == 0 else iv.make(1 / hi, 0, d.hi_open, False)
        text = proof["substituted"]
        at = ctx.sympy_of(text)
        require(at.free_symbols <= {x}, "the substituted form has other variables")
        u_inside = iv.make(box.lo, box.hi, True, True)
        require(
            is_zero(at - e.xreplace({x: 1 / x}), sub_context(ctx, name, u_inside)),
            "the substituted form is not e(1/u)",
        )
        require(enclose(ctx.node_of(text), {name: box}) is not None, "h is not defined at u = 0")
    q = where
    value = at.xreplace({x: sympy.Rational(q.numerator, q.denominator)})
    require(value.is_number and not value.has(sympy.nan, sympy.zoo), "no value at the anchor")
    recorded = ctx.sympy_of(proof["value"])
    require(recorded.is_number, "the recorded value is not a constant")
    require(is_zero(value - recorded), "the recorded value at the anchor is wrong")
    sign = _constant_sign(ctx, value)
    require(sign is not None and sign >= 0, "the value at the anchor is not shown >= 0")
    inner = proof["proof"]
    need = inner["claim"]
    require(need in (">=0", ">0"), "bad claim of the derivative proof")
    if claim == ">0" and sign == 0:
        require(open_end and need == ">0", "a strict claim from a zero at a closed end")
    derivative = sympy.diff(e, x) * (1 if anchor in ("lo", "-oo") else -1)
    require(is_zero(ctx.sympy_of(proof["derivative"]) - derivative), "wrong derivative")
    require(inner["expr"] == proof["derivative"], "the derivative proof is about another value")
    recheck(sub_context(ctx, name, inside), inner, derivative)
