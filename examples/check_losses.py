"""Check the convexity of common ML losses and textbook functions, with reasons.

Run: ``python examples/check_losses.py`` (after ``pip install -e .``).
Each line shows what convexcheck settled and how (the method behind the convex and the concave
answer: ``dcp`` derivation, ``hessian`` or ``sos`` certificate, ``jensen-witness`` refutation);
for the logistic loss it also prints the CVXPY form that CVXPY itself accepts, although CVXPY
rejects the natural spelling.
"""

from __future__ import annotations

import convexcheck as cc

CASES = [
    ("logistic loss, one sample", "log(1 + exp(-3*(2*w + b)))", {}),
    ("squared loss", "(2*w + b - 1)**2 + (-1*w + b + 2)**2", {}),
    ("hinge loss", "Max(0, 1 - 2*w)", {}),
    ("Huber loss", "Piecewise((r**2/2, Abs(r) <= 1), (Abs(r) - 1/2, True))", {}),
    ("cross-entropy (softmax)", "log(exp(a) + exp(b) + exp(c)) - a", {}),
    ("elastic net", "(w1 + 2*w2 - 1)**2 + Abs(w1) + Abs(w2) + w1**2 + w2**2", {}),
    ("negative entropy", "x*log(x)", {"x": "nonnegative"}),
    ("quad-over-lin", "x**2/y", {"y": "positive"}),
    ("geometric mean", "sqrt(x*y)", {"x": "positive", "y": "positive"}),
    ("log barrier", "-log(x) - log(1 - x)", {"x": "(0, 1)"}),
    ("a PSD quadratic", "x**2 - 2*x*y + y**2", {}),
    ("log-cosh loss", "log(cosh(r))", {}),
    ("a quartic (SOS-convex)", "x**4 + x**2*y**2 + y**4 - x**3*y", {}),
    ("one sigmoid unit (trap)", "1/(1 + exp(-(w*2 + b)))", {}),
    ("two-layer linear net (trap)", "(w2*w1*1.5 - 2)**2", {}),
]


def main() -> None:
    print(f"{'':32s} {'curvature':9s} {'method (convex/concave)':30s} expression")
    for title, expr, variables in CASES:
        r = cc.check(expr, variables)
        how = f"{r.convex.method}/{r.concave.method}"
        print(f"{title:32s} {r.curvature:9s} {how:30s} {expr}")
        if r.curvature == "unknown":
            print(f"{'':32s} why: {r.convex.summary}")
    r = cc.check("log(1 + exp(-3*(2*w + b)))")
    print("\nCVXPY form of the logistic loss:", r.to_cvxpy(), "| is_dcp:", r.to_cvxpy().is_dcp())
    print("\nFull explanation for sqrt(x**2 + 1):\n")
    print(cc.check("sqrt(x**2 + 1)").explain())


if __name__ == "__main__":
    main()
