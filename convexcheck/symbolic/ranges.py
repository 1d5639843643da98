"""Range of every subexpression over the variables' domains (interval extension of each op).

One function, :func:`node_range`, gives the enclosure of a node from its children's enclosures;
the DCP engine calls it on every node, and :func:`enclose` runs it over a whole tree (for
example with point domains, to evaluate an expression exactly or with a rigorous enclosure at a
rational point). ``None`` means the node is undefined somewhere on the domain (``log`` of a range
reaching 0, ``1/x`` with 0 in range): callers must treat that as "cannot reason about this".
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from convexcheck.symbolic import interval as iv
from convexcheck.symbolic.atoms import (
    INV_E_HI,
    INV_E_LO,
    PI_HI,
    PI_LO,
    UNARY_ATOMS,
    power_image,
)
from convexcheck.symbolic.interval import Interval
from convexcheck.symbolic.ir import Node, postorder

E_LO = Fraction(1) / INV_E_HI
E_HI = Fraction(1) / INV_E_LO
CONSTANT_RANGES = {"pi": Interval(PI_LO, PI_HI), "E": Interval(E_LO, E_HI)}


def node_range(node: Node, child: list[Interval | None], domains: Mapping[str, Interval]):
    """Enclosure of ``node`` given its children's enclosures (``None`` = undefined)."""
    op = node.op
    if op == "num":
        return iv.point(node.value)  # type: ignore[arg-type]
    if op == "var":
        return domains[node.value]  # type: ignore[index]
    if op == "const":
        return CONSTANT_RANGES[node.value]  # type: ignore[index]
    if node.is_bool:
        # a condition carries no numeric range, but it is undefined where an operand is
        # (``1/(x - x) < 0``), and so is every Piecewise that has to read it
        return None if any(c is None for c in child) else iv.REALS
    if op == "Piecewise":
        values = child[0::2]
        if any(v is None for v in values) or any(c is None for c in child[1::2]):
            return None
        out = values[0]
        for v in values[1:]:
            out = iv.hull(out, v)  # type: ignore[arg-type]
        return out
    if any(c is None for c in child):
        return None
    if op == "add":
        return iv.sum_all(child)  # type: ignore[arg-type]
    if op == "mul":
        out = child[0]
        for c in child[1:]:
            out = iv.mul(out, c)  # type: ignore[arg-type]
        return out
    if op == "pow":
        return _power_range(node, child[0], child[1])  # type: ignore[arg-type]
    if op in UNARY_ATOMS:
        atom = UNARY_ATOMS[op]
        if not atom.domain_ok(child[0]):  # type: ignore[arg-type]
            return None
        return atom.image_of(child[0])  # type: ignore[arg-type]
    if op in ("Max", "Min"):
        lo_pick = max if op == "Max" else min
        out = child[0]
        for c in child[1:]:
            out = _extreme(out, c, lo_pick)  # type: ignore[arg-type]
        return out
    raise ValueError(f"no range rule for {op!r}")


def _extreme(a: Interval, b: Interval, pick) -> Interval:
    def choose(x, x_open, y, y_open, want):
        if x == y:
            return x, x_open and y_open
        return (x, x_open) if pick(x, y) == x else (y, y_open)

    lo, lo_open = choose(a.lo, a.lo_open, b.lo, b.lo_open, pick)
    hi, hi_open = choose(a.hi, a.hi_open, b.hi, b.hi_open, pick)
    return Interval(lo, hi, lo_open, hi_open)


def _power_range(node: Node, base: Interval, exponent: Interval) -> Interval | None:
    e_node = node.args[1]
    if e_node.op == "num":
        return power_image(base, e_node.value)  # type: ignore[arg-type]
    b_node = node.args[0]
    if b_node.op == "const" and b_node.value == "E":
        return UNARY_ATOMS["exp"].image_of(exponent)
    # c**u and u**v are exp(v*log(u)) for u > 0, with log(u) enclosed rigorously first (a float
    # c**u would lose |u|*eps relative precision, far more than the final widening)
    if not base.positive:
        return None
    log_base = UNARY_ATOMS["log"].image_of(base)
    return UNARY_ATOMS["exp"].image_of(iv.mul(exponent, log_base))


def enclose(root: Node, domains: Mapping[str, Interval]) -> Interval | None:
    """Enclosure of ``root`` over the box ``domains`` (iterative; ``None`` if undefined)."""
    ranges: dict[int, Interval | None] = {}
    for node in postorder(root):
        ranges[id(node)] = node_range(node, [ranges[id(a)] for a in node.args], domains)
    return ranges[id(root)]


def evaluate_at(root: Node, point: Mapping[str, int | Fraction]) -> Interval | None:
    """Exact value (a point interval) where rational arithmetic suffices, else an enclosure."""
    return enclose(root, {name: iv.point(q) for name, q in point.items()})
