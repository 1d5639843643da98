"""The checker rebuilds every node of a DCP derivation from its atom and its children.

Checking curvature and ranges step by step proves nothing if the steps are about another
function: a document may claim that ``-exp(x)`` is the atom ``exp`` applied to ``x``, or that
``-x**2`` is a rewrite of ``x**2``. So each node's expression is *rebuilt*, bottom-up, from the
rule it claims and its children's rebuilt expressions, with the same IR constructors the parser
uses (a sum is ``add`` of its terms, a scale step the product of its factor and argument, a
composition the atom applied to its arguments, ``logistic(u)`` is ``log(1 + exp(u))``). Where a
node's text is given in full it must be that expression; where it was truncated (``...``, a
long subexpression) the rebuilt one stands in. The root must rebuild to the document's own
expression, *as written*: an equal form defined on a larger set (``x`` for ``sqrt(x)**2``) is
not the user's function.

Rewrite steps and patterns without a formula here cannot be rebuilt; their identity is compared
at sample points (:mod:`convexcheck.certificates.sampled`) and listed as trusted.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from convexcheck.certificates.context import CheckFailed, Context, require
from convexcheck.certificates.sampled import mismatch, sample_points
from convexcheck.certificates.trusted_reader import read_node
from convexcheck.symbolic import ir
from convexcheck.symbolic.ir import Node

_UNARY = set(ir.UNARY_FUNCTIONS)


def _rebuild(entry: dict[str, Any], kids: list[Node]) -> Node | None:
    """The expression ``entry``'s rule makes of its children, or ``None`` if not rebuildable."""
    rule, atom = entry["rule"], entry.get("atom")
    if rule == "sum":
        return ir.add(*kids) if kids else None
    if rule == "scale" and len(kids) == 2:
        return ir.mul(*kids)
    if rule == "composition":
        if atom in _UNARY and len(kids) == 1:
            return ir.func(atom, kids[0])
        if atom in ("Max", "Min") and kids:
            return ir.func(atom, *kids)
        if isinstance(atom, str) and atom.startswith("x**") and len(kids) == 1:
            return ir.power(kids[0], ir.num(Fraction(atom[3:].strip("()"))))
        return None
    if rule == "pattern:logistic" and len(kids) == 1:
        return ir.func("log", ir.add(ir.ONE, ir.func("exp", kids[0])))
    if rule == "pattern:log_sum_exp" and kids:
        return ir.func("log", ir.add(*(ir.func("exp", k) for k in kids)))
    if rule == "pattern:xlogx" and len(kids) == 1:
        return ir.mul(kids[0], ir.func("log", kids[0]))
    if rule == "pattern:norm2" and kids and "weights" in entry.get("detail", {}):
        detail = entry["detail"]
        weights = [Fraction(w) for w in detail["weights"]]
        require(len(weights) == len(kids), "a norm2 step has a weight per argument")
        squares = [ir.mul(ir.num(w), ir.power(k, ir.num(2))) for w, k in zip(weights, kids)]
        return ir.sqrt(ir.add(*squares, ir.num(Fraction(detail.get("offset", "0")))))
    if rule == "quadratic-form":
        text = (entry.get("detail") or {}).get("quadratic_terms")
        if isinstance(text, str) and not text.endswith("..."):
            return ir.add(read_node(text), *kids)
        return None
    if rule == "pattern:norm_psd_form" and len(kids) == 1:
        return ir.sqrt(kids[0])
    if rule == "pattern:quad_over_lin" and len(kids) == 2:
        return ir.div(ir.power(kids[0], ir.num(2)), kids[1])
    if rule == "pattern:rel_entr" and len(kids) == 2:
        return ir.mul(kids[0], ir.func("log", ir.div(kids[0], kids[1])))
    if rule == "pattern:sigmoid" and len(kids) == 1:
        return ir.power(ir.add(ir.ONE, ir.func("exp", ir.neg(kids[0]))), ir.MINUS_ONE)
    if rule == "pattern:power_product" and kids and "exponents" in entry.get("detail", {}):
        exponents = [Fraction(a) for a in entry["detail"]["exponents"]]
        require(len(exponents) == len(kids), "a product of powers has an exponent per base")
        return ir.mul(*(ir.power(k, ir.num(a)) for k, a in zip(kids, exponents, strict=True)))
    return None


def rebuilds(entry: dict[str, Any], arity: int) -> bool:
    """Whether :func:`check_structure` rebuilds a step of this rule from its children (so its
    identity is checked there), rather than taking the node's text as it stands."""
    placeholders = [ir.var(f"k{i}") for i in range(arity)]
    try:
        return _rebuild(entry, placeholders) is not None
    except (CheckFailed, ValueError, ZeroDivisionError):
        return False


def _order(nodes: dict[int, dict[str, Any]], root: int) -> list[int]:
    """Children before parents (iterative; a cycle is a malformed document)."""
    out: list[int] = []
    state: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        nid, expanded = stack.pop()
        require(nid in nodes, f"node {nid} is missing")
        if expanded:
            state[nid] = 2
            out.append(nid)
            continue
        if state.get(nid) == 2:
            continue
        require(state.get(nid) != 1, "the derivation has a cycle")
        state[nid] = 1
        stack.append((nid, True))
        for c in nodes[nid].get("children", []):
            if state.get(int(c)) != 2:
                stack.append((int(c), False))
    return out


def check_structure(ctx: Context, nodes: dict[int, dict[str, Any]], root: int) -> None:
    """Every node is what its rule makes of its children; the root is the expression as written."""
    points: list[dict[str, Fraction]] | None = None

    def sampled(a: Node, b: Node, what: str) -> None:
        nonlocal points
        if points is None:
            points = sample_points(ctx.domains)
        found = mismatch(a, b, points)
        require(found is None, f"{what}: {found}")

    built: dict[int, Node | None] = {}
    for nid in _order(nodes, root):
        entry = nodes[nid]
        text = entry["expr"]
        parsed = None if text.endswith("...") else ctx.node_of(text)
        kids = [built[int(c)] for c in entry.get("children", [])]
        rule = entry["rule"]
        if rule == "variable":
            require(parsed is not None and parsed.op == "var", f"{text} is not a variable")
        elif rule == "constant":
            require(parsed is None or parsed.is_const, f"{text} is not a constant")
        rebuilt = _rebuild(entry, kids) if all(k is not None for k in kids) else None  # type: ignore[arg-type]
        if rebuilt is not None and parsed is not None and rebuilt is not parsed:
            # the same expression printed differently (an order of terms): compare values
            sampled(parsed, rebuilt, f"{text} is not what {rule} makes of its children")
            ctx.trusted.append(f"{text} equals its rebuilt form at sample points")
        if rule.startswith("rewrite:") and parsed is not None and kids and kids[0] is not None:
            sampled(parsed, kids[0], f"the rewrite at {text} changes the function")
        node = parsed if parsed is not None else rebuilt
        built[nid] = node
    _require_defined_on_the_domain(ctx)
    root_node = built[root]
    if root_node is None:
        raise CheckFailed("the derivation's root cannot be identified with the expression")
    if root_node is not ctx.root:
        sampled(root_node, ctx.root, "the derivation is about another function")
        ctx.trusted.append("the derivation's root equals the expression at sample points")


def _require_defined_on_the_domain(ctx: Context) -> None:
    """A ``yes`` is about the function on its whole domain: it must be defined there.

    Shown by the checker's interval enclosure of the expression as written; where that is too
    wide to show it (a ``log`` of a positive quadratic), the function is evaluated at sample
    points instead and the step is listed as trusted.
    """
    from convexcheck.certificates.definedness import Undecided, Undefined, evaluate_defined
    from convexcheck.symbolic.ranges import enclose

    if enclose(ctx.root, ctx.domains) is not None:
        return
    for point in sample_points(ctx.domains, 24):
        try:
            evaluate_defined(ctx.root, point)
        except Undefined as exc:
            shown = ", ".join(f"{k}={v}" for k, v in point.items())
            raise CheckFailed(f"the function is undefined at {shown}: {exc}") from exc
        except Undecided:
            continue
    ctx.trusted.append("the function is defined on the domain (sampled: its enclosure is too wide)")
