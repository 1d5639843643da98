"""Piecewise functions of one affine function of several variables: ``h(a·x + b)``.

A Huber, pinball or hinge loss of ``2*x - y + 1`` is written as a ``Piecewise`` in ``x`` and
``y`` whose conditions compare ``2*x - y + 1`` with constants and whose pieces are functions of
it. Such a function is ``h(s)`` composed with the affine map ``s = a·x + b``, and a convex
``h`` composed with an affine map is convex. So the rule

1. finds the affine subexpressions of the Piecewise (maximal ones: an affine expression is read
   whole, never descended into) and checks that every one is ``λ*s + c`` for one affine ``s``
   (the first found) with exact rationals ``λ, c``; a comparison ``L op R`` of two affine
   sides may instead be ``(λ*s + c) op 0`` as a whole;
2. replaces each by ``λ*s + c`` in a fresh variable ``s``: the scalar Piecewise ``S`` has the
   same operations as the original, node for node, with the affine leaves replaced by equal
   polynomials, so ``S(a·x + b)`` is the original function *including where it is defined*
   (affine polynomials are defined everywhere), and SymPy's first-match order of the pieces
   is kept because every condition maps to a pointwise-equivalent one in the same place;
3. proves ``S`` convex (concave) with the one-variable Piecewise rule over the image of the
   variables' box under ``s`` (an interval: its enclosure), pieces, continuity and slopes.

The certificate records ``s``, ``S``, the scalar domain and the scalar derivation; the checker
re-matches the original against ``S`` node by node (affine leaves compared as exact
polynomials), re-encloses the image of ``s`` and re-checks the scalar derivation.
"""

from __future__ import annotations

from fractions import Fraction

from convexcheck.symbolic import ir
from convexcheck.symbolic.atoms import AFFINE
from convexcheck.symbolic.dcp import Analysis, DCPEngine
from convexcheck.symbolic.dcp_steps import Step
from convexcheck.symbolic.domains import domain_text
from convexcheck.symbolic.ir import Node, free_variables
from convexcheck.symbolic.printer import to_str
from convexcheck.symbolic.quadratic import Poly, as_quadratic

#: The scalar variable of the one-variable Piecewise (its document has no other variable).
SCALAR = "s"
#: Nodes above which the rule is not tried (the abstraction walks the whole tree).
MAX_SIZE = 4000


class _NotComposed(Exception):
    """The Piecewise is not a function of one affine expression."""


def _split(p: Poly) -> tuple[dict[str, Fraction], Fraction]:
    """Linear coefficients and constant of an affine polynomial."""
    linear = {m[0]: Fraction(c) for m, c in p.items() if len(m) == 1}
    return linear, Fraction(p.get((), 0))


def _ratio(linear: dict[str, Fraction], ref: dict[str, Fraction]) -> Fraction | None:
    """``λ`` with ``linear == λ * ref`` (``λ`` may be 0), or ``None``."""
    if not linear:
        return Fraction(0)
    if set(linear) != set(ref):
        return None
    first = next(iter(ref))
    lam = linear[first] / ref[first]
    return lam if all(linear[v] == lam * ref[v] for v in ref) else None


def _affine_poly(node: Node, memo: dict) -> Poly | None:
    p = as_quadratic(node, memo)
    if p is None or any(len(m) > 1 for m in p):
        return None
    return p


def scalar_form(root: Node) -> tuple[Node, Node] | None:
    """``(S, A)`` with ``root`` equal to ``S`` at ``s = A`` as described above, else ``None``."""
    if root.size > MAX_SIZE:
        return None
    memo: dict = {}
    s = ir.var(SCALAR)
    maximal: list[Node] = []  # affine nodes read whole, in preorder
    relations: list[Node] = []  # comparisons read as a whole
    groups: dict[Node, list[Node]] = {}  # sums whose affine terms are read as one term
    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen or node.is_const:
            continue
        seen.add(id(node))
        if not node.is_bool and _affine_poly(node, memo) is not None:
            maximal.append(node)
            continue
        if node.op in ir.RELATIONS:
            left, right = node.args
            pl, pr = _affine_poly(left, memo), _affine_poly(right, memo)
            if pl is not None and pr is not None:
                relations.append(node)
                continue
        if node.op == "add":
            # (x - y)**2 + x - y: the terms x and -y are affine only together
            affine = [a for a in node.args if not a.is_const and _affine_poly(a, memo) is not None]
            if len(affine) > 1:
                groups[node] = affine
                stack.extend(reversed([a for a in node.args if a not in affine]))
                continue
        stack.extend(reversed(node.args))
    if not maximal and not relations and not groups:
        return None
    if maximal:
        first = maximal[0]
    elif relations:
        first = ir.sub(*relations[0].args)
    else:
        first = ir.add(*next(iter(groups.values())))
    ref, offset = _split(_affine_poly(first, memo))  # type: ignore[arg-type]
    if not ref:
        return None
    mapping: dict[Node, Node] = {}

    def scalar(p: Poly) -> Node:
        linear, c = _split(p)
        lam = _ratio(linear, ref)
        if lam is None:
            raise _NotComposed
        return ir.add(ir.mul(ir.num(ir.normalize_number(lam)), s), ir.num(_n(c - lam * offset)))

    try:
        for node in maximal:
            mapping[node] = scalar(_affine_poly(node, memo))  # type: ignore[arg-type]
        for node in relations:
            left, right = node.args
            sides = [_affine_poly(side, memo) for side in (left, right)]
            try:
                mapping[node] = ir.relation(node.op, *(scalar(p) for p in sides))  # type: ignore[arg-type]
            except _NotComposed:
                diff = _affine_poly(ir.sub(left, right), memo)
                mapping[node] = ir.relation(node.op, scalar(diff), ir.ZERO)  # type: ignore[arg-type]
        sums = {
            node: scalar(_affine_poly(ir.add(*terms), memo))  # type: ignore[arg-type]
            for node, terms in groups.items()
        }
    except _NotComposed:
        return None
    scalar_root = _rebuild(root, mapping, groups, sums)
    if free_variables(scalar_root) != [SCALAR]:
        return None
    return scalar_root, first


def _rebuild(root: Node, mapping: dict, groups: dict, sums: dict) -> Node:
    """``root`` with the mapped nodes replaced, and in each grouped sum its affine terms
    replaced by their one scalar term (the other terms rebuilt), bottom-up."""
    memo: dict[int, Node] = {}
    for node in ir.postorder(root):
        if node in mapping:
            memo[id(node)] = mapping[node]
        elif node in groups:
            others = [memo[id(a)] for a in node.args if a not in groups[node]]
            memo[id(node)] = ir.add(sums[node], *others)
        elif not node.args:
            memo[id(node)] = node
        else:
            args = tuple(memo.get(id(a), a) for a in node.args)
            memo[id(node)] = node if args == node.args else ir.rebuild(node, args)
    return memo[id(root)]


def _n(q: Fraction):
    return ir.normalize_number(q.numerator if q.denominator == 1 else q)


def rule_piecewise_affine(engine: DCPEngine, node: Node, rng) -> Step | None:
    """A Piecewise of several variables read as a one-variable Piecewise of an affine map."""
    if len(free_variables(node)) < 2:
        return None
    found = scalar_form(node)
    if found is None:
        return None
    scalar_root, argument = found
    image = engine.step_of(argument).range
    if image is None:
        return None
    sub = engine.fork({SCALAR: image})
    inner = sub.analyze(scalar_root)
    if not (inner.convex or inner.concave):
        return None  # nothing proved: the generic failure explains (the witness refutes)
    certificate = Analysis(scalar_root, {SCALAR: image}, sub).certificate()
    out_range = inner.range if inner.range is not None else rng
    return Step(
        node,
        out_range,
        inner.convex,
        inner.concave,
        "piecewise-affine",
        atom="Piecewise",
        atom_curvature=inner.curvature if inner.curvature != "constant" else AFFINE,
        monotonicity=("nonmonotone",),
        children=(argument,),
        detail={
            "variable": SCALAR,
            "argument": to_str(argument, limit=2000),
            "scalar": to_str(scalar_root, limit=4000),
            "scalar_domain": domain_text(image),
            "scalar_certificate": certificate,
        },
    )


__all__ = ["SCALAR", "rule_piecewise_affine", "scalar_form"]
