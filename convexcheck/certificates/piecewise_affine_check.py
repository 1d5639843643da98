"""Checking a ``piecewise-affine`` step: a Piecewise of several variables that is a scalar
Piecewise ``S(s)`` composed with one affine map ``s = A(x)``.

Nothing the prover computed is believed. The checker

- reads ``A`` itself and computes its polynomial (it must be affine and non-constant);
- matches the node's own expression against ``S`` node by node: the same operation, the same
  numbers, the arguments of sums and products in some order, and wherever ``S`` has an affine
  subexpression of ``s`` (``2*s + 1``, ``s``, a number) the original has an affine polynomial
  equal to it at ``s = A(x)``, exactly; a comparison may also match as a whole, ``L op R``
  against ``L' op R'`` with ``L - R`` equal to ``L' - R'`` at ``s = A(x)``. Affine polynomials
  are defined everywhere, so the match proves ``f(x) = S(A(x))`` *as functions*, including
  where each is defined and which piece applies (first match, in the same order);
- encloses ``A`` over the document's box and requires the scalar domain to contain it: a
  convex ``S`` on an interval containing the image makes ``S∘A`` convex on the box;
- hands the scalar derivation back to the DCP check, as a document of its own over ``s``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from convexcheck.certificates.context import Context, require
from convexcheck.certificates.quadratic_check import Poly, quadratic_poly
from convexcheck.symbolic import ir
from convexcheck.symbolic.ir import Node

_COMMUTATIVE = frozenset({"add", "mul", "Max", "Min", "And", "Or"})
MAX_SIZE = 4000


def _affine(node: Node) -> Poly | None:
    if node.is_bool:
        return None
    p = quadratic_poly(node)
    if p is None or any(len(m) > 1 for m in p):
        return None
    return p


def _compose(pt: Poly, name: str, pa: Poly) -> Poly:
    """``pt`` (affine in ``name``) at ``name = pa``."""
    out: Poly = {}
    for m, c in pt.items():
        part = {(): Fraction(1)} if not m else pa
        require(all(v == name for v in m), "the scalar form has another variable")
        for k, v in part.items():
            out[k] = out.get(k, Fraction(0)) + c * v
    return {k: v for k, v in out.items() if v != 0}


class _Matcher:
    def __init__(self, name: str, pa: Poly) -> None:
        self.name = name
        self.pa = pa
        self.memo: dict[tuple[int, int], bool] = {}

    def equal_affine(self, o: Node, t: Node) -> bool | None:
        """Whether ``o == t∘A`` as affine polynomials; ``None`` if ``t`` is not affine."""
        pt = _affine(t)
        if pt is None or any(v != self.name for m in pt for v in m):
            return None
        po = _affine(o)
        return po is not None and po == _compose(pt, self.name, self.pa)

    def _match_sum(self, o: Node, t: Node) -> bool:
        return _matches_sum(self, o, t)

    def match(self, o: Node, t: Node) -> bool:
        key = (id(o), id(t))
        if key not in self.memo:
            self.memo[key] = self._match(o, t)
        return self.memo[key]

    def _match(self, o: Node, t: Node) -> bool:
        affine = self.equal_affine(o, t)
        if affine is not None:
            return affine
        if o.op in ir.RELATIONS and t.op == o.op:
            whole = self.equal_affine(ir.sub(*o.args), ir.sub(*t.args))
            if whole:
                return True
        if o.op == "add" and t.op == "add":
            return self._match_sum(o, t)
        if o.op != t.op or o.value != t.value or len(o.args) != len(t.args):
            return False
        if o.op in _COMMUTATIVE:
            unused = list(o.args)
            for ta in t.args:
                found = next((oa for oa in unused if self.match(oa, ta)), None)
                if found is None:
                    return False
                unused.remove(found)
            return True
        return all(self.match(oa, ta) for oa, ta in zip(o.args, t.args, strict=True))


def _sum_poly(polys: list[Poly]) -> Poly:
    out: Poly = {}
    for p in polys:
        for m, c in p.items():
            out[m] = out.get(m, Fraction(0)) + c
    return {m: c for m, c in out.items() if c != 0}


def _scalar_affine(node: Node, name: str) -> Poly | None:
    p = _affine(node)
    return p if p is not None and all(v == name for m in p for v in m) else None


def _matches_sum(matcher: _Matcher, o: Node, t: Node) -> bool:
    """A sum against a sum: the affine terms of each, added up, are equal at ``s = A(x)``
    (exact polynomials, defined everywhere); the other terms match one to one."""
    t_affine = [a for a in t.args if _scalar_affine(a, matcher.name) is not None]
    t_other = [a for a in t.args if _scalar_affine(a, matcher.name) is None]
    o_affine = [a for a in o.args if _affine(a) is not None]
    o_other = [a for a in o.args if _affine(a) is None]
    if len(o_other) != len(t_other):
        return False
    total_t = _sum_poly([_scalar_affine(a, matcher.name) for a in t_affine])  # type: ignore[misc]
    total_o = _sum_poly([_affine(a) for a in o_affine])  # type: ignore[misc]
    if total_o != _compose(total_t, matcher.name, matcher.pa):
        return False
    unused = list(o_other)
    for ta in t_other:
        found = next((oa for oa in unused if matcher.match(oa, ta)), None)
        if found is None:
            return False
        unused.remove(found)
    return True


def scalar_context(ctx: Context, entry: dict[str, Any]) -> tuple[Context, dict[str, Any]]:
    """The scalar document's context and derivation, once ``entry`` is shown to be ``S∘A``."""
    from convexcheck.certificates.trusted_reader import read_node
    from convexcheck.symbolic.domains import parse_domain
    from convexcheck.symbolic.ranges import enclose

    detail = entry.get("detail") or {}
    name, argument = detail.get("variable"), detail.get("argument")
    scalar, domain = detail.get("scalar"), detail.get("scalar_domain")
    cert = detail.get("scalar_certificate")
    require(
        isinstance(name, str) and name.isidentifier() and not name.startswith("_"),
        "a piecewise-affine step names its scalar variable",
    )
    texts = (entry["expr"], argument, scalar)
    require(
        all(isinstance(t, str) and not t.endswith("...") for t in texts),
        "a piecewise-affine step needs its expression, argument and scalar form in full",
    )
    require(isinstance(domain, str) and isinstance(cert, dict), "no scalar derivation")
    require(cert.get("kind") == "dcp", "the scalar derivation is not a dcp derivation")
    original = ctx.node_of(entry["expr"])
    require(original.size <= MAX_SIZE, "the Piecewise is too large to match")
    a = ctx.node_of(argument)  # type: ignore[arg-type]
    pa = _affine(a)
    require(
        pa is not None and any(m for m in pa) and name not in ctx.domains,
        f"{argument} is not an affine function of the variables",
    )
    s_form = read_node(scalar)  # type: ignore[arg-type]
    require(ir.free_variables(s_form) == [name], f"{scalar} is not a function of {name} alone")
    require(
        _Matcher(name, pa).match(original, s_form),  # type: ignore[arg-type]
        f"{entry['expr']} is not {scalar} at {name} = {argument}",
    )
    image = enclose(a, ctx.domains)
    scalar_domain = parse_domain(domain)
    require(
        image is not None and image.within(scalar_domain),
        f"{argument} ranges over {image}, not within the scalar domain {scalar_domain}",
    )
    require(cert.get("domains", {}).keys() == {name}, "the scalar derivation's domains")
    sub = Context({"expression": scalar, "variables": {name: domain}})
    require(sub.domains[name] == scalar_domain, "the scalar derivation is over another domain")
    return sub, cert


__all__ = ["scalar_context"]
