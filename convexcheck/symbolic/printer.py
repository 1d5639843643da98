"""Print expression nodes in SymPy's syntax, so every printed expression parses back.

Iterative and memoised: a 10^5-term sum prints in linear time and a deep tree cannot overflow the
stack. ``limit`` truncates long strings (used for per-node labels in derivation trees).

A function application prints as its name and arguments, ``name(a, b)``: the name of an atom
row is its grammar token (:mod:`convexcheck.symbolic.atoms`), so a new row prints and parses
back with no change here. The printer does not import the tree module (``Node.__str__`` calls
the printer), only the walk of :mod:`convexcheck.symbolic.traversal`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from convexcheck.symbolic.traversal import postorder

if TYPE_CHECKING:
    from convexcheck.symbolic.ir import Node

# Binding strength: higher binds tighter.
_ADD, _MUL, _UNARY_MINUS, _POW, _ATOM = 1, 2, 3, 4, 5
_RELATION_TEXT = {"<": "<", "<=": "<="}


def format_number(q: int | Fraction) -> str:
    if isinstance(q, Fraction):
        return f"{q.numerator}/{q.denominator}"
    return str(q)


def _number_prec(q: int | Fraction) -> int:
    if q < 0:
        return _UNARY_MINUS
    return _MUL if isinstance(q, Fraction) else _ATOM


def _wrap(text: str, prec: int, need: int) -> str:
    return f"({text})" if prec < need else text


def to_str(root: Node, limit: int | None = None) -> str:
    """SymPy-syntax string of ``root``; with ``limit``, strings longer than it end in '...'."""
    done: dict[int, tuple[str, int]] = {}

    def cut(text: str) -> str:
        if limit is not None and len(text) > limit:
            return text[: max(limit - 3, 1)] + "..."
        return text

    for node in postorder(root):
        done[id(node)] = _render(node, done, cut)
    return done[id(root)][0]


def labels(root: Node, limit: int = 200) -> dict[int, str]:
    """Truncated strings of every node under ``root`` in one pass (id(node) -> text).

    Printing each node of a deep tree separately would cost O(depth * size); here each node is
    rendered once from its children's (already truncated) texts.
    """
    done: dict[int, tuple[str, int]] = {}

    def cut(text: str) -> str:
        if len(text) > limit:
            return text[: max(limit - 3, 1)] + "..."
        return text

    for node in postorder(root):
        done[id(node)] = _render(node, done, cut)
    return {k: v[0] for k, v in done.items()}


def _render(node: Node, done: dict[int, tuple[str, int]], cut) -> tuple[str, int]:
    op = node.op
    if op == "num":
        return format_number(node.value), _number_prec(node.value)  # type: ignore[arg-type]
    if op in ("var", "const"):
        return str(node.value), _ATOM
    if op in ("True", "False"):
        return op, _ATOM
    child = [done[id(a)] for a in node.args]
    if op == "add":
        parts: list[str] = []
        for i, (a, (text, _prec)) in enumerate(zip(node.args, child)):
            negative = _is_negative_term(a)
            if negative:
                text = _render_negated(a, done)
            if i == 0:
                parts.append(f"-{text}" if negative else text)
            else:
                parts.append(f" - {text}" if negative else f" + {text}")
        return cut("".join(parts)), _ADD
    if op == "mul":
        return _render_mul(node, done, cut)
    if op == "pow":
        (btext, bprec), (etext, eprec) = child
        exponent = node.args[1]
        if exponent.op == "num" and exponent.value == Fraction(1, 2):
            return cut(f"sqrt({btext})"), _ATOM
        if (
            exponent.op == "num"
            and exponent.value == -1
            and not (node.args[0].op == "num" and node.args[0].value == 0)
        ):
            return cut(f"1/{_wrap(btext, bprec, _POW + 1)}"), _MUL
        if node.args[0].op == "const" and node.args[0].value == "E":
            return cut(f"exp({etext})"), _ATOM
        return cut(f"{_wrap(btext, bprec, _POW + 1)}**{_wrap(etext, eprec, _POW + 1)}"), _POW
    if op == "Piecewise":
        pieces = ", ".join(f"({child[i][0]}, {child[i + 1][0]})" for i in range(0, len(child), 2))
        return cut(f"Piecewise({pieces})"), _ATOM
    if op in _RELATION_TEXT:
        (ltext, _), (rtext, _) = child
        return cut(f"{ltext} {_RELATION_TEXT[op]} {rtext}"), 0
    if op in ("And", "Or"):
        joiner = " & " if op == "And" else " | "
        return cut(joiner.join(f"({t})" for t, _ in child)), 0
    if op == "Not":
        return cut(f"~({child[0][0]})"), _ATOM
    # functions
    return cut(f"{op}({', '.join(t for t, _ in child)})"), _ATOM


def _is_negative_term(node: Node) -> bool:
    if node.op == "num":
        return node.value < 0  # type: ignore[operator]
    return node.op == "mul" and node.args[0].op == "num" and node.args[0].value < 0  # type: ignore[operator]


def _render_negated(node: Node, done: dict[int, tuple[str, int]]) -> str:
    """The text of ``-node`` for a negative term (used after a ' - ' in sums)."""
    if node.op == "num":
        return format_number(-node.value)  # type: ignore[operator]
    coefficient = -node.args[0].value  # type: ignore[operator]
    rest = node.args[1:]
    return _mul_text(coefficient, rest, done)[0]


def _render_mul(node: Node, done, cut) -> tuple[str, int]:
    args = node.args
    if args[0].op == "num":
        coefficient, rest = args[0].value, args[1:]
    else:
        coefficient, rest = 1, args
    if coefficient < 0:  # type: ignore[operator]
        text, _ = _mul_text(-coefficient, rest, done)  # type: ignore[operator]
        return cut(f"-{text}"), _UNARY_MINUS
    text, prec = _mul_text(coefficient, rest, done)
    return cut(text), prec


def _mul_text(coefficient, factors, done) -> tuple[str, int]:
    numerator: list[str] = []
    denominator: list[str] = []
    q = Fraction(coefficient)
    if q.numerator != 1:
        numerator.append(str(q.numerator))
    if q.denominator != 1:
        denominator.append(str(q.denominator))
    for f in factors:
        zero_base = f.op == "pow" and f.args[0].op == "num" and f.args[0].value == 0
        if f.op == "pow" and f.args[1].op == "num" and f.args[1].value < 0 and not zero_base:  # type: ignore[operator]
            base_text, base_prec = done[id(f.args[0])]
            e = -f.args[1].value  # type: ignore[operator]
            if e == 1:
                denominator.append(_wrap(base_text, base_prec, _POW + 1))
            else:
                etext = format_number(e)
                if isinstance(e, Fraction):
                    etext = f"({etext})"
                denominator.append(f"{_wrap(base_text, base_prec, _POW + 1)}**{etext}")
            continue
        text, prec = done[id(f)]
        numerator.append(_wrap(text, prec, _MUL + (1 if prec == _UNARY_MINUS else 0)))
    top = "*".join(numerator) if numerator else "1"
    if not denominator:
        return top, _MUL if len(numerator) > 1 else _ATOM
    bottom = denominator[0] if len(denominator) == 1 else "(" + "*".join(denominator) + ")"
    return f"{top}/{bottom}", _MUL
