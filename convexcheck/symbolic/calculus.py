"""Symbolic derivatives on the IR (no SymPy), for one-sided slopes at Piecewise breakpoints.

Only smooth ops are differentiated; ``Max``, ``Min`` and ``Piecewise`` return ``None`` (the
caller then cannot use a derivative argument and must fall back to "unknown"). ``Abs(u)`` is
differentiated as ``u*u'/Abs(u)``, which is undefined exactly where ``Abs`` has its kink, so a
slope is never read off at a kink. The outer derivative of every function is its atom row's
``derivative`` (:mod:`convexcheck.symbolic.atoms`); this module only applies the chain rule.
"""

from __future__ import annotations

from fractions import Fraction

from convexcheck.symbolic import ir
from convexcheck.symbolic.atoms import UNARY_ATOMS
from convexcheck.symbolic.ir import Node, postorder

_HALF = ir.num(Fraction(1, 2))


def diff(root: Node, name: str) -> Node | None:
    """d root / d name, or ``None`` when ``root`` contains a non-smooth op."""
    x = ir.var(name)
    d: dict[int, Node | None] = {}
    for node in postorder(root):
        d[id(node)] = _diff_node(node, x, d)
    return d[id(root)]


def _diff_node(node: Node, x: Node, d: dict[int, Node | None]) -> Node | None:
    op = node.op
    if node.is_const:
        return ir.ZERO
    if op == "var":
        return ir.ONE if node is x else ir.ZERO
    args = node.args
    dargs = [d[id(a)] for a in args]
    if any(da is None for da in dargs):
        return None
    if op == "add":
        return ir.add(*dargs)  # type: ignore[arg-type]
    if op == "mul":
        terms = []
        for i, da in enumerate(dargs):
            if da is ir.ZERO:
                continue
            terms.append(ir.mul(*args[:i], da, *args[i + 1 :]))  # type: ignore[arg-type]
        return ir.add(*terms) if terms else ir.ZERO
    if op == "pow":
        base, exponent = args
        dbase, dexp = dargs
        if exponent.is_const:
            # d(u**c) = c*u**(c-1)*u'
            return ir.mul(exponent, ir.power(base, ir.sub(exponent, ir.ONE)), dbase)  # type: ignore[arg-type]
        # d(u**v) = u**v*(v'*log(u) + v*u'/u)
        return ir.mul(
            node,
            ir.add(
                ir.mul(dexp, ir.func("log", base)),  # type: ignore[arg-type]
                ir.mul(exponent, dbase, ir.power(base, ir.MINUS_ONE)),  # type: ignore[arg-type]
            ),
        )
    row = UNARY_ATOMS.get(op) if op in ir.UNARY_FUNCTIONS else None
    if row is None or row.derivative is None:
        return None
    # the chain rule, with the outer derivative from the atom's row
    return ir.mul(row.derivative(ir, args[0], node), dargs[0])  # type: ignore[arg-type]
