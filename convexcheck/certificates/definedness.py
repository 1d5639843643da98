"""The checker's own answer to "is the function defined at this rational point?".

A witness is only a witness where the function is defined, and "defined" must mean the same in
the checker as in the provers: SymPy's semantics *on the reals*, applied to the expression as
written. SymPy itself evaluates on the complex branch (``sqrt(-4)`` is ``2*I`` and
``Abs(2*I)`` is ``2``), and its automatic simplification forgets conditions
(``sqrt(x)**2`` becomes ``x``), so the final value alone cannot tell. This module walks the
expression tree, computes every intermediate value exactly and rejects the point if any of them
is undefined:

* ``log(u)`` needs ``u > 0``; ``tan(u)`` needs ``cos(u) != 0``;
* ``u**p`` with a negative integer ``p`` needs ``u != 0``; with a non-integer ``p``, ``u >= 0``
  (``u > 0`` if ``p < 0``); with an exponent that is not a number, ``u > 0``;
* a ``Piecewise`` is defined where the first piece whose condition holds is defined (the
  pieces not taken do not matter; a condition that cannot be decided rejects the point);
* any non-real value rejects the point.

Rational arithmetic is done exactly with :class:`fractions.Fraction` (within a size cap); every
other value is a SymPy expression built *unevaluated* and read numerically at 60 digits when a
sign is needed. Unevaluated on purpose: SymPy rewrites ``exp(q*log(r))`` into ``r**q`` and then
computes ``r**q`` exactly, an integer of 10**14 digits at a witness midpoint of
``exp(y**2*log(y**2))`` (how a random soundness run was once killed at 24 GB).

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
#: Exact rational powers are computed only up to this many bits of result.
_MAX_EXACT_BITS = 100_000


def _show(v: Any) -> str:
    """A short printable form (str() of a huge integer raises past 4,300 digits)."""
    try:
        text = str(v)
    except ValueError:
        return "a number too long to print"
    return text if len(text) <= 200 else text[:197] + "..."


def _sym(v: Any) -> Any:
    """A SymPy object for ``v`` (a Fraction becomes an exact Rational)."""
    import sympy

    if isinstance(v, Fraction):
        return sympy.Rational(v.numerator, v.denominator)
    return v


def sign(value: Any) -> int:
    """-1, 0 or 1 for an exact real number; :class:`Undefined` if it is not real.

    A SymPy value is read by ``evalf(strict=True)`` at 60 digits (which raises rather than
    return digits it cannot guarantee), not through SymPy's assumptions (``is_real``,
    ``is_positive``), whose answers on transcendental constants depend on internal comparisons
    that can fail and then answer ``False``; a value that evaluates to 0 counts as 0 only when
    SymPy proves it zero, and is undecided otherwise.
    """
    import sympy

    if isinstance(value, Fraction):
        return (value > 0) - (value < 0)
    if value.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        raise Undefined("an intermediate value is not finite")
    if value.is_Rational:
        return 1 if value > 0 else (-1 if value < 0 else 0)
    try:
        # strict: evalf raises rather than return digits it cannot guarantee, so a nonzero
        # result has the right sign however small it is (tanh(6e-300) - sqrt(2)*6e-300)
        approx = sympy.N(value, _SIGN_DIGITS, strict=True)
    except Exception:  # PrecisionExhausted and friends: an exact zero, or too hard
        approx = None
    if approx is not None and approx.is_number:
        re, im = approx.as_real_imag()
        if im != 0 and abs(im) > sympy.Float(10) ** -_SIGN_MARGIN * max(1, abs(re)):
            raise Undefined(f"an intermediate value {_show(value)} is not real")
        if re != 0:
            return 1 if re > 0 else -1
    if safe_to_simplify(value) and sympy.simplify(value) == 0:
        return 0
    raise Undecided(f"the sign of {_show(value)} cannot be decided")


def safe_to_simplify(value: Any) -> bool:
    """No power that SymPy would expand into a huge exact integer (``exp(q*log(r))`` is
    ``r**q``; one big-integer power cannot be interrupted by any timer)."""
    import sympy

    for node in sympy.preorder_traversal(value):
        if isinstance(node, sympy.Pow):
            e = node.exp
            if not (e.is_Rational and abs(e.p) < 1000 and e.q < 1000):
                return False
        if isinstance(node, sympy.exp) and node.args[0].has(sympy.log):
            return False
    return True


def _unevaluated(function: Any, *args: Any) -> Any:
    import sympy

    with sympy.evaluate(False):
        return function(*(_sym(a) for a in args))


def _function(name: str):
    """SymPy's function for the atom row ``name`` (its ``sympy_name``): the table, not a list
    here, says which SymPy function an atom is."""
    import sympy

    from convexcheck.symbolic.atoms import UNARY_ATOMS

    row = UNARY_ATOMS[name]
    if not row.sympy_name:
        raise Undecided(f"{name} has no SymPy form to evaluate")
    return getattr(sympy, row.sympy_name)


def _exact_root(q: Fraction, n: int) -> Fraction | None:
    def root(k: int) -> int | None:
        if k.bit_length() > 4096:
            return None
        r = round(k ** (1.0 / n)) if k.bit_length() < 1000 else None
        if r is None:
            return None
        for c in (r - 1, r, r + 1):
            if c >= 0 and c**n == k:
                return c
        return None

    a, b = root(q.numerator), root(q.denominator)
    return None if a is None or b is None else Fraction(a, b)


def _exact_power(base: Fraction, p: int) -> Fraction | None:
    bits = max(base.numerator.bit_length(), base.denominator.bit_length())
    return base**p if bits * abs(p) <= _MAX_EXACT_BITS else None


def _power(node: Node, base: Any, exponent: Any) -> Any:
    import sympy

    exponent_node = node.args[1]
    if exponent_node.op == "num" and isinstance(exponent_node.value, int):
        p = exponent_node.value
        if p < 0 and sign(base) == 0:
            raise Undefined(f"0 raised to the power {_show(p)}")
        if isinstance(base, Fraction):
            exact = _exact_power(base, p)
            if exact is not None:
                return exact
        return _unevaluated(sympy.Pow, base, exponent)
    s = sign(base)
    if exponent_node.op == "num":
        e = Fraction(exponent_node.value)  # type: ignore[arg-type]
        if s < 0:
            raise Undefined(f"a negative number raised to the power {_show(e)}")
        if s == 0:
            if e < 0:
                raise Undefined(f"0 raised to the power {_show(e)}")
            return Fraction(0)
        if isinstance(base, Fraction):
            r = _exact_root(base, e.denominator)
            exact = None if r is None else _exact_power(r, e.numerator)
            if exact is not None:
                return exact
    elif s <= 0:
        raise Undefined("a nonpositive number raised to a symbolic power")
    return _unevaluated(sympy.Pow, base, exponent)


def _arith(op: str, args: list[Any]) -> Any:
    import sympy

    if all(isinstance(a, Fraction) for a in args):
        out = args[0]
        for a in args[1:]:
            out = out + a if op == "add" else out * a
        return out
    return _unevaluated(sympy.Add if op == "add" else sympy.Mul, *args)


def _difference(a: Any, b: Any) -> Any:
    return _arith("add", [a, _arith("mul", [Fraction(-1), b])])


def _extreme(values: list[Any], largest: bool) -> Any:
    best = values[0]
    for v in values[1:]:
        s = sign(_difference(v, best))
        if (s > 0) if largest else (s < 0):
            best = v
    return best


def _unary(op: str, u: Any) -> Any:
    import sympy

    if op == "log":
        if sign(u) <= 0:
            raise Undefined(f"log of the nonpositive number {_show(u)}")
        return Fraction(0) if u == 1 else _unevaluated(sympy.log, u)
    if op == "tan" and sign(_unevaluated(sympy.cos, u)) == 0:
        raise Undefined(f"tan at its pole {_show(u)}")
    if op == "Abs":
        return abs(u) if isinstance(u, Fraction) else _unevaluated(sympy.Abs, u)
    if isinstance(u, Fraction) and u == 0:
        if op in ("exp", "cos", "cosh"):
            return Fraction(1)
        return Fraction(0)  # sin, tan, tanh, sinh, atan
    return _unevaluated(_function(op), u)


def evaluate_defined(root: Node, point: Mapping[str, Fraction | int]) -> Any:
    """The exact value of ``root`` at ``point`` (a Fraction or an unevaluated SymPy number);
    :class:`Undefined` where it is not defined.

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
                v = Fraction(node.value)  # type: ignore[arg-type]
            elif op == "var":
                v = Fraction(point[node.value])  # type: ignore[index]
            elif op == "const":
                v = sympy.pi if node.value == "pi" else sympy.E
            elif op in ("True", "False"):
                v = op == "True"
            else:
                args = [get(a) for a in node.args]
                if op in ("add", "mul"):
                    v = _arith(op, args)
                elif op == "pow":
                    v = _power(node, *args)
                elif op in ("Max", "Min"):
                    v = _extreme(args, op == "Max")
                elif op == "<":
                    v = sign(_difference(args[1], args[0])) > 0
                elif op == "<=":
                    v = sign(_difference(args[1], args[0])) >= 0
                elif op == "And":
                    v = all(args)
                elif op == "Or":
                    v = any(args)
                elif op == "Not":
                    v = not args[0]
                else:
                    v = _unary(op, args[0])
            # Every other op maps real numbers to real numbers: by induction from the checks
            # above, no non-real value can arise, so no sign is asked of it (which could fail
            # to be decided for a value that is exactly zero in a way SymPy does not see).
        except Undefined as exc:
            values[id(node)] = _UNDEFINED
            errors[id(node)] = str(exc)
            continue
        values[id(node)] = v
    return get(root)
