"""Convex functions that CVXPY rejects, proved by convexcheck and handed back in a form CVXPY takes.

Run: ``python examples/cvxpy_interop.py``.

CVXPY accepts a problem only if its objective follows the DCP composition rules *as spelled*:
``log(1 + exp(x))`` is convex (the softplus) but CVXPY's ``is_dcp()`` is False for it. This
example

1. passes natural CVXPY spellings directly to ``cc.check`` (their sign attributes become
   domains), which proves each convex, and rewrites each with ``result.to_cvxpy(...)`` into an
   equivalent expression that CVXPY accepts; both are evaluated at the same points to show they
   are the same function;
2. writes a regularised logistic regression as a plain string, proves it convex, converts it
   and solves it with CVXPY (Clarabel), then checks the optimum against the natural spelling;
3. minimises ``x**2/y + y`` over ``y > 0`` with ``x`` fixed: the solver's optimum against the
   AM-GM bound ``2|x|``.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np

import convexcheck as cc

# six labelled points (x1, x2, label in {-1, +1}) for the logistic regression
POINTS = [
    (1.0, 2.0, 1),
    (2.0, -1.0, 1),
    (-1.5, 0.5, -1),
    (0.5, -2.0, -1),
    (-0.5, 1.5, 1),
    (-2, -1, -1),
]
RIDGE = "1/20"


def natural_spellings(x: cp.Variable, y: cp.Variable, z: cp.Variable) -> dict[str, cp.Expression]:
    """How a user naturally writes these convex functions in CVXPY (none of them is DCP)."""
    return {
        "softplus": cp.log(1 + cp.exp(x)),
        "smooth abs": cp.sqrt(cp.square(x) + 1),
        "quad over lin": cp.square(x) / y,
        "product of exps": cp.exp(x) * cp.exp(z),
        "log-sum-exp": cp.log(cp.exp(x) + cp.exp(z)),
        "PSD quadratic": cp.square(x) - 2 * x * z + cp.square(z),
    }


def logistic_objective() -> str:
    terms = [f"log(1 + exp({-label}*({x1}*w1 + {x2}*w2 + b)))" for x1, x2, label in POINTS]
    return " + ".join(terms) + f" + {RIDGE}*(w1**2 + w2**2)"


def main() -> None:
    x = cp.Variable(name="x")
    y = cp.Variable(name="y", pos=True)  # pos=True becomes the domain y > 0
    z = cp.Variable(name="z")
    variables = {"x": x, "y": y, "z": z}
    rng = np.random.default_rng(0)
    samples = [(rng.normal(), rng.uniform(0.1, 3.0), rng.normal()) for _ in range(5)]

    print("1. CVXPY expressions checked directly, then rewritten by to_cvxpy()")
    for name, expr in natural_spellings(x, y, z).items():
        r = cc.check(expr)
        dcp_form = r.to_cvxpy(variables)
        gap = 0.0
        for xv, yv, zv in samples:
            x.value, y.value, z.value = xv, yv, zv
            gap = max(gap, abs(float(expr.value) - float(dcp_form.value)))
        print(
            f"   {name:16s} CVXPY is_dcp: {expr.is_dcp()!s:5s}  convexcheck: {r.curvature} "
            f"({r.convex.method})  to_cvxpy is_dcp: {dcp_form.is_dcp()!s:5s}  "
            f"max |difference| on 5 points: {gap:.1e}"
        )
        print(f"   {'':16s} {r.expression}  ->  {dcp_form}")

    print("\n2. regularised logistic regression, written as a string")
    text = logistic_objective()
    r = cc.check(text)
    print(f"   curvature: {r.curvature}; {r.convex.summary}")
    w1, w2, b = cp.Variable(name="w1"), cp.Variable(name="w2"), cp.Variable(name="b")
    objective = r.to_cvxpy({"w1": w1, "w2": w2, "b": b})
    problem = cp.Problem(cp.Minimize(objective))
    print(f"   CVXPY accepts the rewritten objective: is_dcp = {problem.is_dcp()}")
    problem.solve(solver=cp.CLARABEL)
    print(
        f"   {problem.status} with Clarabel: optimum {problem.value:.6f} at "
        f"w1 = {w1.value:.5f}, w2 = {w2.value:.5f}, b = {b.value:.5f}"
    )
    natural = (
        sum(cp.log(1 + cp.exp(-label * (x1 * w1 + x2 * w2 + b))) for x1, x2, label in POINTS)
        + (cp.square(w1) + cp.square(w2)) / 20
    )
    print(
        f"   the natural spelling (is_dcp = {natural.is_dcp()}) at that point: "
        f"{float(natural.value):.6f}"
    )

    print("\n3. x**2/y + y over y > 0, for x = 3")
    r = cc.check("x**2/y + y", {"y": "positive"})
    objective = r.to_cvxpy(variables)
    problem = cp.Problem(cp.Minimize(objective), [x == 3])
    problem.solve(solver=cp.CLARABEL)
    print(
        f"   {r.curvature} ({r.convex.method}); CVXPY form {objective}; "
        f"optimum {problem.value:.6f} at y = {y.value:.6f}; AM-GM bound 2|x| = "
        f"{2 * abs(x.value):.6f}"
    )


if __name__ == "__main__":
    main()
