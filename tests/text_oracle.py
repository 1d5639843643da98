"""An evaluator of expression *text as written*, independent of convexcheck's IR.

The IR canonicalises while it builds (like terms collected, equal bases merged, numbers
folded); a rewrite that widened the set where the function is defined would make the provers
judge a different function. This oracle reads the text with Python's :mod:`ast` (parsing only;
nothing is executed) and evaluates the tree node by node, with SymPy's semantics on the reals:

* ``log(u)`` needs ``u > 0``; ``u/v`` needs ``v != 0``;
* ``u**p`` with ``p`` a negative integer needs ``u != 0``; with ``p`` a non-integer rational,
  ``u >= 0`` (``u > 0`` if ``p < 0``); an exponent that mentions a variable needs ``u > 0``
  (the provers' convention for symbolic exponents);
* ``Piecewise((e1, c1), ..., (en, True))`` is defined where the first piece whose condition
  holds is defined.

Values are exact ``Fraction`` where rational arithmetic keeps them so, and 60-digit mpmath
numbers otherwise. A sign that a non-exact value would decide is *ambiguous* when the value is
within 1e-40 of zero; :class:`Ambiguous` is raised and the caller skips that point.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import mpmath

mpmath.mp.dps = 60


class Undefined(Exception):
    pass


class Ambiguous(Exception):
    pass


def _sign(v: Any) -> int:
    if isinstance(v, Fraction):
        return (v > 0) - (v < 0)
    if not mpmath.isfinite(v):
        raise Undefined("not finite")
    if abs(v) < mpmath.mpf(10) ** -40:
        raise Ambiguous(str(v))
    return 1 if v > 0 else -1


def _mp(v: Any) -> Any:
    if isinstance(v, Fraction):
        return mpmath.mpf(v.numerator) / v.denominator
    return v


def _exact_root(q: Fraction, n: int) -> Fraction | None:
    def root(k: int) -> int | None:
        r = round(k ** (1.0 / n)) if k.bit_length() < 900 else None
        if r is None:
            return None
        for c in (r - 1, r, r + 1):
            if c >= 0 and c**n == k:
                return c
        return None

    a, b = root(q.numerator), root(q.denominator)
    return None if a is None or b is None else Fraction(a, b)


def _power(base: Any, exponent: Any, symbolic_exponent: bool) -> Any:
    if symbolic_exponent:
        if _sign(base) <= 0:
            raise Undefined("nonpositive base of a symbolic power")
        return mpmath.power(_mp(base), _mp(exponent))
    if isinstance(exponent, Fraction) and exponent.denominator == 1:
        p = exponent.numerator
        if p < 0 and _sign(base) == 0:
            raise Undefined("0 to a negative power")
        if isinstance(base, Fraction):
            if abs(p) > 4096:
                return mpmath.power(_mp(base), p)
            return base**p
        return mpmath.power(base, p)
    s = _sign(base)
    e = _sign(exponent)
    if s < 0:
        raise Undefined("negative base of a fractional power")
    if s == 0:
        if e < 0:
            raise Undefined("0 to a negative power")
        return Fraction(0)
    if isinstance(base, Fraction) and isinstance(exponent, Fraction):
        r = _exact_root(base, exponent.denominator)
        if r is not None and abs(exponent.numerator) <= 4096:
            return r**exponent.numerator
    return mpmath.power(_mp(base), _mp(exponent))


_FUNCTIONS = {
    "exp": mpmath.exp,
    "sin": mpmath.sin,
    "cos": mpmath.cos,
    "tanh": mpmath.tanh,
    "sinh": mpmath.sinh,
    "cosh": mpmath.cosh,
    "atan": mpmath.atan,
}
_ZERO_AT_ZERO = {"sin", "tanh", "sinh", "atan"}
_ONE_AT_ZERO = {"exp", "cos", "cosh"}


def _mentions_variable(tree: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) for n in ast.walk(tree))


class _Evaluator:
    def __init__(self, point: Mapping[str, Fraction]) -> None:
        self.point = point

    def value(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ValueError(f"constant {node.value!r}")
            return (
                Fraction(str(node.value)) if isinstance(node.value, float) else Fraction(node.value)
            )
        if isinstance(node, ast.Name):
            if node.id == "pi":
                return mpmath.pi
            if node.id == "E":
                return mpmath.e
            return Fraction(self.point[node.id])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self.value(node.operand)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
            return self.value(node.operand)
        if isinstance(node, ast.BinOp):
            left = self.value(node.left)
            if isinstance(node.op, ast.Pow):
                right = self.value(node.right)
                return _power(left, right, _mentions_variable(node.right))
            right = self.value(node.right)
            if isinstance(node.op, ast.Add):
                return left + right if _both_exact(left, right) else _mp(left) + _mp(right)
            if isinstance(node.op, ast.Sub):
                return left - right if _both_exact(left, right) else _mp(left) - _mp(right)
            if isinstance(node.op, ast.Mult):
                return left * right if _both_exact(left, right) else _mp(left) * _mp(right)
            if isinstance(node.op, ast.Div):
                if _sign(right) == 0:
                    raise Undefined("division by zero")
                return left / right if _both_exact(left, right) else _mp(left) / _mp(right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name == "Piecewise":
                return self.piecewise(node.args)
            args = [self.value(a) for a in node.args]
            if name in ("Max", "Min"):
                best = args[0]
                for a in args[1:]:
                    d = _sign(a - best if _both_exact(a, best) else _mp(a) - _mp(best))
                    if (d > 0) if name == "Max" else (d < 0):
                        best = a
                return best
            (u,) = args
            if name == "sqrt":
                return _power(u, Fraction(1, 2), False)
            if name == "Abs":
                return abs(u)
            if name == "log":
                if _sign(u) <= 0:
                    raise Undefined("log of a nonpositive number")
                return Fraction(0) if u == 1 else mpmath.log(_mp(u))
            if name == "tan":
                if _sign(mpmath.cos(_mp(u))) == 0:
                    raise Undefined("tan at a pole")
                return Fraction(0) if u == 0 else mpmath.tan(_mp(u))
            if u == 0 and name in _ZERO_AT_ZERO:
                return Fraction(0)
            if u == 0 and name in _ONE_AT_ZERO:
                return Fraction(1)
            return _FUNCTIONS[name](_mp(u))
        raise ValueError(f"unsupported syntax {ast.dump(node)}")

    def condition(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name) and node.id in ("True", "False"):
            return node.id == "True"
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            a, b = self.value(node.left), self.value(node.comparators[0])
            d = _sign(a - b if _both_exact(a, b) else _mp(a) - _mp(b))
            op = node.ops[0]
            return {ast.Lt: d < 0, ast.LtE: d <= 0, ast.Gt: d > 0, ast.GtE: d >= 0}[type(op)]
        raise ValueError(f"unsupported condition {ast.dump(node)}")

    def piecewise(self, pairs: list[ast.AST]) -> Any:
        for pair in pairs:
            assert isinstance(pair, ast.Tuple) and len(pair.elts) == 2
            value, cond = pair.elts
            if self.condition(cond):
                return self.value(value)
        raise Undefined("no piece applies")


def _both_exact(a: Any, b: Any) -> bool:
    return isinstance(a, Fraction) and isinstance(b, Fraction)


def evaluate_text(text: str, point: Mapping[str, Fraction]) -> Any:
    """The value of ``text`` at ``point``; raises :class:`Undefined` or :class:`Ambiguous`."""
    tree = ast.parse(text.replace("^", "**"), mode="eval")
    return _Evaluator(point).value(tree.body)


def defined_at(text: str, point: Mapping[str, Fraction]) -> bool:
    """Whether ``text`` is defined at ``point`` (:class:`Ambiguous` propagates)."""
    try:
        evaluate_text(text, point)
    except (Undefined, ZeroDivisionError):
        return False
    return True
