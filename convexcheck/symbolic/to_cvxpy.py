"""Rewrite a DCP proof as a CVXPY expression that CVXPY itself accepts as DCP.

CVXPY users' most frequent complaint is "it is convex, but how do I write it so CVXPY accepts
it?". The derivation already says which atom each piece is, so the translation is a walk over the
proof: ``log(1 + exp(u))`` becomes ``cp.logistic(u)``, ``u**2/v`` ``cp.quad_over_lin(u, v)``,
``u*log(u)`` ``-cp.entr(u)``, a PSD quadratic form a weighted sum of ``cp.square`` from its exact
LDL^T factors, and so on.

Where our proof used a sign that CVXPY cannot see (a range derived from interval bounds), the
translation uses the form that is *equal on the domain* and needs no sign: ``Abs(u)`` with
``u >= 0`` becomes ``u``, an odd power on the negative side becomes ``-power(-u, p)``. Constants
that are not rational (``log(2)``) become floats. Atoms CVXPY lacks (``sin``, ``tanh``,
``sigmoid``...) raise :class:`~convexcheck.errors.NotExpressibleError`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from convexcheck.errors import NotExpressibleError
from convexcheck.symbolic.atoms import NARY_ATOMS, UNARY_ATOMS
from convexcheck.symbolic.interval import INF, Interval
from convexcheck.symbolic.ir import Node


def _float(q: Any) -> float:
    return float(Fraction(q)) if not isinstance(q, float) else q


def _constant_value(r: Interval | None) -> float:
    if r is None or not r.bounded:
        raise NotExpressibleError("a constant in the proof has no finite value")
    if r.is_point:
        return _float(r.lo)
    return (_float(r.lo) + _float(r.hi)) / 2


def make_variable(cp: Any, name: str, domain: Interval) -> Any:
    """A scalar ``cp.Variable`` whose sign attribute matches the domain (bounds if an interval)."""
    if domain.lo == -INF and domain.hi == INF:
        return cp.Variable(name=name)
    if domain.positive and domain.hi == INF:
        return cp.Variable(name=name, pos=True)
    if domain.nonneg and domain.hi == INF:
        return cp.Variable(name=name, nonneg=True)
    if domain.negative and domain.lo == -INF:
        return cp.Variable(name=name, neg=True)
    if domain.nonpos and domain.lo == -INF:
        return cp.Variable(name=name, nonpos=True)
    lo = -math.inf if domain.lo == -INF else _float(domain.lo)
    hi = math.inf if domain.hi == INF else _float(domain.hi)
    kwargs: dict[str, Any] = {}
    if domain.nonneg:
        kwargs["nonneg"] = True
    elif domain.nonpos:
        kwargs["nonpos"] = True
    try:
        return cp.Variable(name=name, bounds=[lo, hi], **kwargs)
    except TypeError:  # older CVXPY without bounds=
        return cp.Variable(name=name, **kwargs)


def derivation_to_cvxpy(analysis: Any, variables: dict[str, Any] | None = None) -> Any:
    """The CVXPY expression for a proved :class:`~convexcheck.symbolic.dcp.Analysis`."""
    import cvxpy as cp

    variables = dict(variables or {})
    for name, domain in analysis.domains.items():
        if name not in variables:
            variables[name] = make_variable(cp, name, domain)
    out: dict[int, Any] = {}
    for node in analysis.proof_nodes():
        step = analysis.step(node)
        out[id(node)] = _translate(cp, node, step, analysis, out, variables)
    return out[id(analysis.root)]


def _translate(cp, node: Node, step, analysis, out, variables):
    rule = step.rule
    kids = [out[id(c)] for c in step.children]
    if rule == "variable":
        return variables[node.value]
    if rule == "constant":
        return cp.Constant(_constant_value(step.range))
    if rule.startswith("rewrite:"):
        return kids[0]
    if rule == "sum":
        return _sum(cp, kids)
    if rule == "scale":
        factor = analysis.step(step.children[0])
        return _constant_value(factor.range) * kids[1]
    if rule == "quadratic-form":
        return _sum(
            cp, [_quadratic(cp, step.detail["certificate"], node, analysis, variables), *kids]
        )
    atom = step.atom or ""
    if rule == "composition" and node.op == "pow" and node.args[1].op == "num":
        return _power(cp, kids[0], node.args[1].value, analysis.step(node.args[0]).range)
    if rule == "composition":
        return _function(cp, node, atom, kids, step)
    if rule == "pattern:logistic":
        return cp.logistic(kids[0])
    if rule == "pattern:log_sum_exp":
        return cp.log_sum_exp(cp.hstack(kids))
    if rule == "pattern:norm2":
        weights = [Fraction(w) for w in step.detail["weights"]]
        offset = Fraction(step.detail["offset"])
        parts = [math.sqrt(float(w)) * k for w, k in zip(weights, kids)]
        if offset:
            parts.append(cp.Constant(math.sqrt(float(offset))))
        return cp.norm(cp.hstack(parts), 2)
    if rule == "pattern:quad_over_lin":
        return cp.quad_over_lin(kids[0], kids[1])
    if rule == "pattern:xlogx":
        return -cp.entr(kids[0])
    if rule == "pattern:rel_entr":
        return cp.rel_entr(kids[0], kids[1])
    if rule == "pattern:power_product":
        return _power_product(cp, [Fraction(a) for a in step.detail["exponents"]], kids)
    if rule == "piecewise":
        return _piecewise(cp, node, step, variables)
    raise NotExpressibleError(f"no CVXPY form for the rule {rule!r} ({atom})")


def _sum(cp, parts):
    if not parts:
        return cp.Constant(0.0)
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


def _power(cp, u, p, r: Interval | None):
    p = Fraction(p)
    if p.denominator == 1 and r is not None and r.nonpos and not r.nonneg:
        # on the negative side: u**p = (-1)**p * (-u)**p, and (-u) >= 0 is what CVXPY handles
        sign = -1 if p.numerator % 2 else 1
        return sign * cp.power(-u, float(p))
    if p == 2:
        return cp.square(u)
    if p == Fraction(1, 2):
        return cp.sqrt(u)
    if p == -1:
        return cp.inv_pos(u)
    return cp.power(u, float(p))


def _function(cp, node: Node, atom: str, kids, step):
    """A function application, by its atom row: the row's ``cvxpy_form`` where the CVXPY form
    depends on the argument's sign or CVXPY lacks the atom, else the atom ``cvxpy_name``."""
    if atom in NARY_ATOMS:
        f = getattr(cp, NARY_ATOMS[atom].cvxpy_name)
        return f(*kids) if len(kids) > 1 else kids[0]
    row = UNARY_ATOMS.get(atom)
    if row is not None and not row.pattern_only:
        if row.cvxpy_form is not None:
            mono = step.monotonicity[0] if step.monotonicity else None
            return row.cvxpy_form(cp, kids[0], mono)
        if row.cvxpy_name is not None:
            return getattr(cp, row.cvxpy_name)(kids[0])
    if "**u" in atom:
        base = Fraction(atom.split("**")[0])
        return cp.exp(math.log(float(base)) * kids[0])
    raise NotExpressibleError(f"CVXPY has no atom for {atom!r}")


def _power_product(cp, exponents: list[Fraction], kids):
    total = sum(exponents)
    if all(a >= 0 for a in exponents):  # concave: geo_mean(x, a)**sum(a)
        g = cp.geo_mean(cp.hstack(kids), [float(a) for a in exponents])
        return g if total == 1 else cp.power(g, float(total))
    if all(a <= 0 for a in exponents):  # convex: geo_mean(x, |a|)**(-sum|a|)
        g = cp.geo_mean(cp.hstack(kids), [float(-a) for a in exponents])
        return cp.power(g, float(total))
    if len(exponents) == 2 and sorted(exponents) == [-1, 2]:
        i = exponents.index(2)
        return cp.quad_over_lin(kids[i], kids[1 - i])
    raise NotExpressibleError(
        f"CVXPY has no single atom for the product of powers with exponents {exponents}"
    )


def _quadratic(cp, cert: dict, node: Node, analysis, variables):
    from convexcheck.symbolic.quadratic import as_quadratic

    names = cert["variables"]
    order = cert["permutation"]
    lower = [[Fraction(v) for v in row] for row in cert["L"]]
    pivots = [Fraction(d) for d in cert["D"]]
    terms = []
    if not names:
        pass  # the quadratic part cancelled out: only the affine part below remains
    elif lower:
        for k, d in enumerate(pivots):
            if d == 0:
                continue
            combo = _sum(
                cp,
                [
                    float(lower[i][k]) * variables[names[order[i]]]
                    for i in range(len(names))
                    if lower[i][k] != 0
                ],
            )
            terms.append(float(d) * cp.square(combo))
    else:
        import numpy as np

        q = np.array([[float(Fraction(v)) for v in row] for row in cert["Q"]])
        z = cp.hstack([variables[n] for n in names])
        terms.append(
            cp.quad_form(z, q) if cert["semidefinite"] != "negative" else -cp.quad_form(z, -q)
        )
    # the linear and constant part of the grouped terms
    from convexcheck.symbolic.ir import add

    step = analysis.step(node)
    group = [t for t in node.args if t not in step.children]
    poly = as_quadratic(add(*group)) or {}
    for m, c in poly.items():
        if len(m) == 1:
            terms.append(float(c) * variables[m[0]])
        elif len(m) == 0:
            terms.append(cp.Constant(float(c)))
    return _sum(cp, terms)


def _piecewise(cp, node: Node, step, variables):
    """A convex (concave) continuous piecewise-affine function is the max (min) of its pieces."""
    from convexcheck.symbolic.quadratic import as_quadratic

    x = variables[step.detail["variable"]]
    pieces = []
    for value in node.args[0::2]:
        poly = as_quadratic(value)
        if poly is None or any(len(m) > 1 for m in poly):
            raise NotExpressibleError(
                "only piecewise-affine Piecewise functions have a CVXPY form (max/min of the "
                "pieces); write Huber as cp.huber"
            )
        pieces.append(
            sum((float(c) * x if m else cp.Constant(float(c))) for m, c in poly.items())
            if poly
            else cp.Constant(0.0)
        )
    f = cp.maximum if step.convex else cp.minimum
    return f(*pieces) if len(pieces) > 1 else pieces[0]
