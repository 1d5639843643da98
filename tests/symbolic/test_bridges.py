"""SymPy and CVXPY inputs: translation, domains from assumptions/attributes, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import convexcheck as cc
from convexcheck.errors import ConvexcheckInputError
from convexcheck.symbolic.evaluate import evaluate
from convexcheck.symbolic.parser import parse
from convexcheck.symbolic.sympy_bridge import from_sympy, to_sympy

sp = pytest.importorskip("sympy")
cp = pytest.importorskip("cvxpy")


@pytest.mark.parametrize(
    "text",
    [
        "log(1 + exp(x))",
        "x**2/y + Max(x, y, 0) - Min(x, 2)",
        "Piecewise((x**2, Abs(x) <= 1), (2*Abs(x) - 1, True))",
        "sqrt(x**2 + 1)*pi + E**x",
        "sin(x) + cos(y) + tanh(x) + atan(y) + sinh(x) + cosh(y) + tan(x/10)",
    ],
)
def test_sympy_round_trip_is_value_equal(text):
    node = parse(text)
    back, _ = from_sympy(to_sympy(node))
    rng = np.random.default_rng(0)
    point = {"x": rng.uniform(0.1, 1, 20), "y": rng.uniform(0.1, 1, 20)}
    assert np.allclose(evaluate(node, point), evaluate(back, point), equal_nan=True)


def test_sympy_assumptions_become_domains():
    x = sp.Symbol("x", positive=True)
    y = sp.Symbol("y", nonpositive=True)
    r = cc.check(x * sp.log(x) - y)
    assert r.variables == {"x": "positive", "y": "nonpositive"}
    assert r.curvature == "convex"


def test_sympy_unsupported_is_an_input_error():
    y = sp.Symbol("y")
    for bad in (sp.gamma(y), sp.I * y, sp.Eq(y, 1), sp.Function("f")(y)):
        with pytest.raises(ConvexcheckInputError):
            cc.check(bad)


def test_sympy_wide_sum():
    big = sp.Add(*[sp.Symbol(f"x{i}") ** 2 for i in range(5000)])
    assert cc.check(big).curvature == "convex"


def test_cvxpy_expressions_translate_with_domains():
    x = cp.Variable(name="x")
    y = cp.Variable(name="y", pos=True)
    v = cp.Variable(3, name="v", nonneg=True)
    a = np.array([1.0, -2.0, 0.5])
    cases = [
        (cp.logistic(x) + cp.square(x - 1), "convex"),
        (cp.quad_over_lin(v, y), "convex"),
        (cp.log_sum_exp(v), "convex"),
        (cp.norm(v, 2) + cp.norm(v, 1) + cp.norm(v, "inf"), "convex"),
        (cp.sum(cp.entr(v)), "concave"),
        (cp.huber(x, 2), "convex"),
        (cp.geo_mean(v), "concave"),
        (cp.quad_form(v, np.eye(3)), "convex"),
        (a @ v + x, "affine"),
        (cp.maximum(x, 0) + cp.pos(x), "convex"),
        (cp.sqrt(y) + cp.log(y), "concave"),
    ]
    for expr, curvature in cases:
        r = cc.check(expr)
        assert r.curvature == curvature, (str(expr), r.explain())
    assert cc.check(cp.quad_over_lin(v, y)).variables["y"] == "positive"
    # a vector variable is one variable with a shape (CONTRACT: tensor extensions), not v_0..v_2
    assert cc.check(cp.sum(v)).variables["v"] == {"shape": [3], "domain": "nonnegative"}


def test_cvxpy_values_agree():
    x = cp.Variable(name="x")
    v = cp.Variable(2, name="v", nonneg=True)
    expr = cp.logistic(x) + cp.huber(x, 1.5) + cp.kl_div(v[0] + 1, v[1] + 2) + cp.xexp(v[1])
    from convexcheck.symbolic.cvxpy_bridge import from_cvxpy

    node, _ = from_cvxpy(expr)
    x.value, v.value = 0.7, np.array([0.3, 1.2])
    ours = float(evaluate(node, {"x": 0.7, "v_0": 0.3, "v_1": 1.2}))
    assert np.isclose(ours, float(expr.value))


def test_cvxpy_errors():
    with pytest.raises(ConvexcheckInputError):
        cc.check(cp.upper_tri(cp.Variable((2, 2))))  # an atom the tensor engine does not know
    with pytest.raises(ConvexcheckInputError):
        cc.check(cp.Parameter() * cp.Variable())
