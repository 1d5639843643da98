"""The square root of a PSD quadratic that is nonnegative everywhere: a Euclidean norm.

``sqrt(3*u**2 - 2*u*v + v**2)`` is convex, though DCP cannot see it (a concave ``sqrt`` of a
convex argument). A quadratic ``q(z) = zᵀQz + bᵀz + c`` with ``Q = LLᵀ`` PSD and a stationary
point ``z*`` equals ``(z - z*)ᵀQ(z - z*) + m`` with ``m = q(z*)``; when ``m >= 0`` its square root
is ``||(Lᵀ(z - z*), sqrt(m))||``, the norm of an affine map, which is convex. The quadratic-form
step below already proves ``Q`` PSD and records ``z*`` and ``m`` (issue 16, item 3); this rule
only reads them, and the checker re-derives both.
"""

from __future__ import annotations

from fractions import Fraction

from convexcheck.symbolic import interval as iv
from convexcheck.symbolic.atoms import CONVEX, power_image
from convexcheck.symbolic.dcp import DCPEngine
from convexcheck.symbolic.dcp_steps import Failure, Step
from convexcheck.symbolic.ir import Node

RULE = "pattern:norm_psd_form"


def norm_of_psd_form(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``sqrt(q)`` for a quadratic-form step ``q`` (no other terms) with ``min q >= 0``."""
    base, exponent = node.args
    if exponent.op != "num" or Fraction(exponent.value) != Fraction(1, 2):  # type: ignore[arg-type]
        return None
    step = engine.step_of(base)
    if step.rule != "quadratic-form" or step.children or not step.convex:
        return None
    extremum = (step.detail or {}).get("extremum")
    if not extremum or extremum.get("bound") != "lower" or Fraction(extremum["value"]) < 0:
        return None
    out = rng
    if step.range is not None and step.range.nonneg:
        root_range = power_image(step.range, Fraction(1, 2))
        if root_range is not None:
            out = root_range if rng is None else (iv.intersect(rng, root_range) or rng)
    return Step(
        node,
        out,
        True,
        False,
        RULE,
        atom="norm of an affine map",
        atom_curvature=CONVEX,
        monotonicity=("nonmonotone",),
        children=(base,),
        failures={"concave": Failure("the square root of a PSD quadratic is a norm: convex")},
        detail={
            "identity": (
                "sqrt(q) = ||(L^T (z - z*), sqrt(m))|| for q = (z - z*)^T L L^T (z - z*) + m"
            )
        },
    )


__all__ = ["RULE", "norm_of_psd_form"]
