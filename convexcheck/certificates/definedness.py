"""The checker's own answer to "is the function defined at this rational point?".

A witness is only a witness where the function is defined, and "defined" must mean the same in
the checker as in the provers: SymPy's semantics *on the reals*, applied to the expression as
written. SymPy itself evaluates on the complex branch (``sqrt(-4)`` is ``2*I`` and
``Abs(2*I)`` is ``2``), and its automatic simplification forgets conditions
(``sqrt(x)**2`` becomes ``x``), so the final value alone cannot tell. This module walks the
expression tree, computes every intermediate value exactly with SymPy and rejects the point if
any of them is undefined:

* ``log(u)`` needs ``u > 0``; ``tan(u)`` needs ``cos(u) != 0``;
* ``u**p`` with a negative integer ``p`` needs ``u != 0``; with a non-integer ``p``, ``u >= 0``
  (``u > 0`` if ``p < 0``); with an exponent that is not a number, ``u > 0``;
* a ``Piecewise`` is defined where the first piece whose condition holds is defined (the
  pieces not taken do not matter; a condition that cannot be decided rejects the point);
* any non-real value rejects the point.

It is written for the checker and shares no code with the provers' evaluators
(:mod:`convexcheck.symbolic.witness`, :mod:`convexcheck.symbolic.evaluate`): if both sides
called one function, a bug in it would pass both.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from convexcheck.symbolic.ir import Node, postorder

#: Digits at which a sign that SymPy cannot decide symbolically is read numerically; a value
#: closer to zero than ``10**-_SIGN_MARGIN`` is not trusted to have the sign it evaluates to.
_SIGN_DIGITS = 60
_SIGN_MARGIN = 40


class Undefined(Exception):
    """The expression is undefined at the point (the message says which subexpression)."""


class Undecided(Exception):
    """A sign the check needs could not be decided rigorously."""


_UNDEFINED = object()


def sign(value: Any) -> int:
    """-1, 0 or 1 for an exact real SymPy number; :class:`Undefined` if it is not real.

    Read numerically at 60 digits, not through SymPy's assumptions (``is_real``,
    ``is_positive``), whose answers on transcendental constants depend on internal
    comparisons that can fail and then answer ``False``; a value within ``1e-40`` of zero
    counts as 0 only when SymPy proves it zero, and is undecided otherwise.
    """
    import sympy

    if value is sympy.nan or value.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        raise Undefined("an intermediate value is not finite")
    if value.is_Rational:
        return 1 if value > 0 else (-1 if value < 0 else 0)
    try:
        approx = sympy.N(value, _SIGN_DIGITS, strict=True)
    except Exception:  # PrecisionExhausted and friends: an exact zero, or too hard
        approx = None
    margin = sympy.Float(10) ** -_SIGN_MARGIN
    if approx is not None:
        re, im = approx.as_real_imag()
        if abs(im) > margin:
            raise Undefined(f"an intermediate value {value} is not real")
        if abs(re) > margin:
            return 1 if re > 0 else -1
    if value.is_zero:
        return 0
    raise Undecided(f"the sign of {value} cannot be decided")


def _function(name: str):
    import sympy

    return {
        "exp": sympy.exp,
        "log": sympy.log,
        "Abs": sympy.Abs,
        "sin": sympy.sin,
        "cos": sympy.cos,
        "tan": sympy.tan,
        "tanh": sympy.tanh,
        "sinh": sympy.sinh,
        "cosh": sympy.cosh,
        "atan": sympy.atan,
    }[name]


def _power(node: Node, base: Any, exponent: Any) -> Any:
    exponent_node = node.args[1]
    if exponent_node.op == "num" and isinstance(exponent_node.value, int):
        if exponent_node.value < 0 and sign(base) == 0:
            raise Undefined(f"0 raised to the power {exponent_node.value}")
        return base**exponent
    s = sign(base)
    if exponent_node.op == "num":
        if s < 0:
            raise Undefined(f"a negative number raised to the power {exponent_node.value}")
        if s == 0 and exponent_node.value < 0:  # type: ignore[operator]
            raise Undefined(f"0 raised to the power {exponent_node.value}")
    elif s <= 0:
        raise Undefined("a nonpositive number raised to a symbolic power")
    return base**exponent


def _extreme(values: list[Any], largest: bool) -> Any:
    best = values[0]
    for v in values[1:]:
        s = sign(v - best)
        if (s > 0) if largest else (s < 0):
            best = v
    return best


def evaluate_defined(root: Node, point: Mapping[str, Fraction | int]) -> Any:
    """The exact SymPy value of ``root`` at ``point``; :class:`Undefined` where it is not defined.

    Raises :class:`Undecided` when a sign needed on the way cannot be decided rigorously.
    """
    import sympy

    values: dict[int, Any] = {}
    errors: dict[int, str] = {}

    def get(child: Node) -> Any:
        v = values[id(child)]
        if v is _UNDEFINED:
            raise Undefined(errors[id(child)])
        return v

    for node in postorder(root):
        op = node.op
        try:
            if op == "Piecewise":
                chosen: Any = _UNDEFINED
                for value, cond in zip(node.args[0::2], node.args[1::2]):
                    if get(cond):
                        chosen = get(value)
                        break
                if chosen is _UNDEFINED:
                    raise Undefined("no piece of a Piecewise applies")
                v: Any = chosen
            elif op == "num":
                q = Fraction(node.value)  # type: ignore[arg-type]
                v = sympy.Rational(q.numerator, q.denominator)
            elif op == "var":
                q = Fraction(point[node.value])  # type: ignore[index]
                v = sympy.Rational(q.numerator, q.denominator)
            elif op == "const":
                v = sympy.pi if node.value == "pi" else sympy.E
            elif op in ("True", "False"):
                v = op == "True"
            else:
                args = [get(a) for a in node.args]
                if op == "add":
                    v = sympy.Add(*args)
                elif op == "mul":
                    v = sympy.Mul(*args)
                elif op == "pow":
                    v = _power(node, *args)
                elif op == "log":
                    if sign(args[0]) <= 0:
                        raise Undefined(f"log of the nonpositive number {args[0]}")
                    v = sympy.log(args[0])
                elif op == "tan":
                    if sign(sympy.cos(args[0])) == 0:
                        raise Undefined(f"tan at its pole {args[0]}")
                    v = sympy.tan(args[0])
                elif op in ("Max", "Min"):
                    v = _extreme(args, op == "Max")
                elif op == "<":
                    v = sign(args[1] - args[0]) > 0
                elif op == "<=":
                    v = sign(args[1] - args[0]) >= 0
                elif op == "And":
                    v = all(args)
                elif op == "Or":
                    v = any(args)
                elif op == "Not":
                    v = not args[0]
                else:
                    v = _function(op)(args[0])
            # Every other op maps real numbers to real numbers: by induction from the checks
            # above, no non-real value can arise, so no sign is asked of it (which could fail
            # to be decided for a value that is exactly zero in a way SymPy does not see).
        except Undefined as exc:
            values[id(node)] = _UNDEFINED
            errors[id(node)] = str(exc)
            continue
        values[id(node)] = v
    return get(root)
