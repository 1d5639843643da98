"""Checking a ``jensen-witness`` (a ``no``): the points lie in the domains, the function is
defined at all three of them on the reals, and the recomputed gap has the refuting sign.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from convexcheck.certificates.context import CheckFailed, Context, require

# ---------------------------------------------------------------------------------------------
# witnesses
# ---------------------------------------------------------------------------------------------


def _require_defined(ctx: Context, points: dict[str, dict[str, Fraction]]) -> None:
    """Every point of a witness must be where the function is defined, on the reals.

    Checked on the expression as written, subexpression by subexpression (see
    :mod:`convexcheck.certificates.definedness`): the gap below is computed by SymPy, whose
    complex branch (``Abs(sqrt(-4)) = 2``) and automatic simplification (``sqrt(x)**2 = x``)
    would otherwise give a value where the user's function has none.
    """
    from convexcheck.certificates.definedness import Undecided, Undefined, evaluate_defined

    for label, point in points.items():
        try:
            evaluate_defined(ctx.root, point)
        except Undefined as exc:
            raise CheckFailed(f"the function is undefined at {label}: {exc}") from exc
        except Undecided as exc:
            raise CheckFailed(f"definedness at {label} cannot be certified: {exc}") from exc


def check_witness(ctx: Context, question: str, w: dict[str, Any]) -> None:
    import sympy

    t = Fraction(w["t"])
    require(0 < t < 1, f"t = {t} is not in (0, 1)")
    points = []
    for key in ("a", "b"):
        point = {name: Fraction(value) for name, value in w[key].items()}
        require(set(point) == set(ctx.domains), f"point {key} does not give every variable")
        for name, q in point.items():
            require(ctx.domains[name].contains(q), f"{key}.{name} = {q} is outside the domain")
        points.append(point)
    a, b = points
    mid = {n: t * a[n] + (1 - t) * b[n] for n in a}
    _require_defined(ctx, {"a": a, "b": b, "the point at t": mid})

    def at(point, evaluate: bool = True):
        subs = {
            ctx.symbols[n]: sympy.Rational(q.numerator, q.denominator) for n, q in point.items()
        }
        if evaluate:
            return ctx.f.subs(subs)
        # SymPy's Max/Min/Piecewise compare their arguments while being built and raise on
        # values they cannot order symbolically (a product of tiny logarithms); unevaluated,
        # the comparison happens inside evalf at the requested precision instead.
        with sympy.evaluate(False):
            return ctx.f.xreplace(subs)

    ts = sympy.Rational(t.numerator, t.denominator)
    try:
        if not _exponents_are_constant(ctx.f):
            raise ValueError("substitute unevaluated")
        gap = at(mid) - ts * at(a) - (1 - ts) * at(b)
    except (TypeError, ValueError):
        with sympy.evaluate(False):
            gap = at(mid, False) - ts * at(a, False) - (1 - ts) * at(b, False)
    if question == "concave":
        gap = -gap
    # never nsimplify an exact gap: it rounds a tiny one (18867/6.5e35) to 0
    if gap.is_Rational:
        require(gap > 0, f"the exact gap is {gap}, not positive")
        return
    try:
        value = gap.evalf(30, strict=True)
    except Exception as exc:  # PrecisionExhausted and friends: cannot certify the sign
        raise CheckFailed(f"the gap's sign could not be certified ({type(exc).__name__})") from exc
    require(value.is_real and value > 0, f"the gap evaluates to {value}, not positive")


def _exponents_are_constant(f: Any) -> bool:
    """Whether substituting rationals into ``f`` keeps every power's exponent a fixed number.

    SymPy evaluates ``r**q`` exactly for rationals ``r`` and ``q``, and reduces it by computing
    ``k**m`` for each prime factor ``k`` of ``r`` with ``m`` up to ``q``'s numerator: a point
    that turns up in an exponent (``exp(y**2*log(y**2))`` becomes ``r**(p/q)`` with ``p`` near
    10**14 at a witness midpoint) asks for an integer of 10**14 digits, which is how a random
    soundness run was killed at 24 GB. Such functions are substituted unevaluated instead and
    the gap evaluated by ``evalf``."""
    import sympy

    for node in sympy.preorder_traversal(f):
        if isinstance(node, sympy.Pow) and not node.exp.is_number:
            return False
        if isinstance(node, sympy.exp) and node.args[0].has(sympy.log):
            return False
    return True
