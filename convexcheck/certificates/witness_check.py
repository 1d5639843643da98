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


def _value_at(ctx: Context, label: str, point: dict[str, Fraction]) -> Any:
    """The function's exact value at a witness point; a failure where it is undefined.

    Evaluated on the expression as written, subexpression by subexpression, by the checker's
    own walk (:mod:`convexcheck.certificates.definedness`), never by substituting into SymPy's
    form of it: SymPy's complex branch (``Abs(sqrt(-4)) = 2``) and automatic simplification
    (``sqrt(x)**2 = x``) would give a value where the user's function has none, its ``subs``
    turns ``exp(q*log(r))`` into a 10**14-digit integer, and ``Max``/``Piecewise`` raise on
    arguments they cannot order while being built.
    """
    from convexcheck.certificates.definedness import Undecided, Undefined, evaluate_defined

    try:
        return evaluate_defined(ctx.root, point)
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
    fa, fb = _value_at(ctx, "a", a), _value_at(ctx, "b", b)
    fm = _value_at(ctx, "the point at t", mid)
    if all(isinstance(v, Fraction) for v in (fa, fb, fm)):
        gap = fm - t * fa - (1 - t) * fb
        if question == "concave":
            gap = -gap
        require(gap > 0, f"the exact gap is {gap}, not positive")
        return
    ts = sympy.Rational(t.numerator, t.denominator)
    with sympy.evaluate(False):
        gap = _sym(fm) - ts * _sym(fa) - (1 - ts) * _sym(fb)
        if question == "concave":
            gap = -gap
    try:
        value = gap.evalf(30, strict=True)
    except Exception as exc:  # PrecisionExhausted and friends: cannot certify the sign
        raise CheckFailed(f"the gap's sign could not be certified ({type(exc).__name__})") from exc
    require(value.is_real and value > 0, f"the gap evaluates to {value}, not positive")


def _sym(v: Any) -> Any:
    import sympy

    if isinstance(v, Fraction):
        return sympy.Rational(v.numerator, v.denominator)
    return v
