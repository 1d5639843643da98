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

    t = Fraction(w["t"])
    require(0 < t < 1, f"t = {_short(t)} is not in (0, 1)")
    points = []
    for key in ("a", "b"):
        point = {name: Fraction(value) for name, value in w[key].items()}
        require(set(point) == set(ctx.domains), f"point {key} does not give every variable")
        for name, q in point.items():
            require(
                ctx.domains[name].contains(q), f"{key}.{name} = {_short(q)} is outside the domain"
            )
        points.append(point)
    a, b = points
    mid = {n: t * a[n] + (1 - t) * b[n] for n in a}
    fa, fb = _value_at(ctx, "a", a), _value_at(ctx, "b", b)
    fm = _value_at(ctx, "the point at t", mid)
    if all(isinstance(v, Fraction) for v in (fa, fb, fm)):
        gap = fm - t * fa - (1 - t) * fb
        if question == "concave":
            gap = -gap
        if not gap > 0:  # (the message is built only on failure: gap may have 10**4 digits)
            raise CheckFailed(f"the exact gap is {_short(gap)}, not positive")
        return
    _require_refuting_sign(fm, fa, fb, t, 1 if question == "convex" else -1)


def _require_refuting_sign(fm: Any, fa: Any, fb: Any, t: Fraction, sign: int) -> None:
    """``sign * (fm - t*fa - (1-t)*fb) > 0``, certified numerically.

    Each value is read by ``evalf(strict=True)`` (which raises rather than return digits it
    cannot guarantee) at increasing precision, and the gap's sign is accepted only once the
    gap is larger than the sum of the three values' error bounds. The values are never combined
    symbolically: SymPy's flattening of a product would merge ``exp`` factors and rebuild the
    10**14-digit powers that evaluation as written avoids. A gap that is exactly 0 is never
    certified, as it should not be.
    """
    import mpmath

    weights = (Fraction(1), -t, t - 1)
    for digits in (30, 60, 120, 240):
        approx = [_approx(v, digits) for v in (fm, fa, fb)]
        with mpmath.workdps(2 * digits + 20):
            values = [mpmath.mpf(a._to_mpmath(mpmath.mp.prec)) for a in approx]
            gap = sign * mpmath.fsum(
                mpmath.mpf(w.numerator) / w.denominator * v for w, v in zip(weights, values)
            )
            bound = mpmath.fsum(abs(v) for v in values) * mpmath.mpf(10) ** (2 - digits)
            if gap > bound:
                return
            if gap < -bound:
                raise CheckFailed(f"the gap evaluates to {mpmath.nstr(gap, 15)}, not positive")
    raise CheckFailed("the gap's sign could not be certified (it is 0 to 240 digits)")


def _approx(v: Any, digits: int) -> Any:
    """``v`` to ``digits`` guaranteed digits; an exact zero (``exp(1) - exp(1)`` as written)
    only where SymPy proves it zero."""
    import sympy

    from convexcheck.certificates.definedness import safe_to_simplify

    try:
        return sympy.N(_sym(v), digits, strict=True)
    except Exception as exc:  # PrecisionExhausted and friends
        if safe_to_simplify(v) and sympy.simplify(v) == 0:
            return sympy.Float(0)
        raise CheckFailed(f"the gap's sign could not be certified ({type(exc).__name__})") from exc


def _short(q: Fraction) -> str:
    """A printable form of a possibly huge exact number (str() refuses past 4,300 digits)."""
    if max(q.numerator.bit_length(), q.denominator.bit_length()) < 3000:
        return str(q)
    return f"about {float(q):.6g}"


def _sym(v: Any) -> Any:
    import sympy

    if isinstance(v, Fraction):
        return sympy.Rational(v.numerator, v.denominator)
    return v
