"""The Python API: results, verdict invariants, assertions, inputs, explanations."""

from __future__ import annotations

import json

import pytest

import convexcheck as cc
from convexcheck.errors import ConvexcheckInputError, ParseError
from convexcheck.result import Verdict


def test_contract_example():
    r = cc.check("x**2/y", variables={"x": "real", "y": "positive"})
    assert (r.convex.answer, r.concave.answer, r.curvature) == ("yes", "no", "convex")
    json.dumps(r.to_dict())
    assert "quad_over_lin" in r.explain()


def test_verdicts_cannot_claim_without_evidence():
    with pytest.raises(ValueError):
        Verdict("convex", "yes", "dcp", "trust me")
    with pytest.raises(ValueError):
        Verdict("convex", "no", "search", "trust me")


@pytest.mark.parametrize(
    ("expr", "variables", "curvature"),
    [
        ("log(1+exp(x))", {}, "convex"),
        ("x**2/y", {"y": "positive"}, "convex"),
        ("sqrt(x**2+1)", {}, "convex"),
        ("x**2-2*x*y+y**2", {}, "convex"),
        ("1/x", {"x": "positive"}, "convex"),
        ("1/x", {"x": "negative"}, "concave"),
        ("x*log(x)", {"x": "nonnegative"}, "convex"),
        ("log(exp(x)+exp(y))", {}, "convex"),
        ("exp(x)*exp(y)", {}, "convex"),
        ("sqrt(x*y)", {"x": "positive", "y": "positive"}, "concave"),
        ("(x*y*z)**(1/3)", {"x": "positive", "y": "positive", "z": "positive"}, "concave"),
        ("Abs(x)", {"x": "nonnegative"}, "affine"),
        ("Max(0, 1 - 2*w)", {}, "convex"),
        ("Piecewise((x**2/2, Abs(x) <= 1), (Abs(x) - 1/2, True))", {}, "convex"),
        ("sin(x)", {"x": "[3.3, 6]"}, "convex"),
        ("cos(x)", {"x": "[-1, 1]"}, "concave"),
        ("tanh(x)", {"x": "nonnegative"}, "concave"),
        ("atan(x)", {"x": "nonpositive"}, "convex"),
        ("x**3", {"x": "nonnegative"}, "convex"),
        ("1/(1+exp(-x))", {"x": "nonpositive"}, "convex"),
        ("-log(x) - log(1 - x)", {"x": "(0, 1)"}, "convex"),
        ("x*log(x/y)", {"x": "positive", "y": "positive"}, "convex"),
        ("exp(x) - exp(x)", {"x": "real"}, "affine"),
        ("3", {}, "affine"),
        ("(x + y)**2 - (x - y)**2 - 4*x*y", {}, "affine"),
    ],
)
def test_known_curvatures(expr, variables, curvature):
    assert cc.check(expr, variables).curvature == curvature


def test_issue_example_explanation_names_the_rule():
    r = cc.check("sqrt(x**2 + 1)", stages=("dcp",))
    text = r.concave.summary
    assert "x**(1/2) is concave and nondecreasing" in text
    assert "its argument x**2 + 1 is convex" in text
    assert "a concave nondecreasing function of a convex argument is not covered" in text
    r = cc.check("sqrt(x**2 + 1) + log(x**2 + 2)", stages=("dcp",))
    premises = r.convex.evidence["dcp"]["failed_premises"]
    assert any("log is concave" in p for p in premises)
    r = cc.check("sqrt(exp(x) + 1)", stages=("dcp",))
    assert "concave and nondecreasing" in r.concave.evidence["dcp"]["failed_premises"][0]
    assert "convex argument" in r.concave.evidence["dcp"]["failed_premises"][0]


def test_wide_sum_does_not_overflow_the_stack():
    n = 100_000
    text = " + ".join(f"x{i}**2" for i in range(n))
    r = cc.check(text, max_length=None)
    assert r.curvature == "convex"


def test_deep_chain_is_iterative():
    from convexcheck.symbolic import ir

    node = ir.var("x")
    for _ in range(5000):
        node = ir.func("exp", ir.add(node, ir.ONE))
    assert cc.check(node).curvature == "convex"


def test_sympy_and_node_inputs():
    import sympy

    x = sympy.Symbol("x", positive=True)
    r = cc.check(-sympy.log(x) + x**2)
    assert r.curvature == "convex"
    assert r.variables == {"x": "positive"}


def test_bad_inputs_raise_input_errors():
    with pytest.raises(ParseError):
        cc.check("x +")
    with pytest.raises(ConvexcheckInputError):
        cc.check("x", {"y": "real"})
    with pytest.raises(ConvexcheckInputError):
        cc.check(42)
    with pytest.raises(ParseError):
        cc.check("x" * 1_000_000)


def test_assertions():
    cc.assert_convex("log(1 + exp(x))")
    cc.assert_concave("log(x)", {"x": "positive"})
    cc.assert_affine("2*x - y")
    with pytest.raises(AssertionError) as info:
        cc.assert_convex("sqrt(x**2 + 1) - 2*x**2")
    assert "Jensen's inequality fails" in str(info.value)  # the witness is in the message
    with pytest.raises(AssertionError) as info:
        cc.assert_convex("x*exp(x) + Abs(x - 1)", {"x": "[0, 5]"})  # convex, not proved
    assert "DCP premise that failed" in str(info.value)
    assert isinstance(info.value, cc.NotConvexError)
    r = cc.assert_nonconvex("x*y")
    assert r.convex.witness["verified"].startswith("exact")
    with pytest.raises(AssertionError):
        cc.assert_nonconvex("x**2")


def test_max_plus_min_is_affine_and_the_pair_must_match():
    assert cc.check("Max(x, y) + Min(x, y) + x**2").curvature == "convex"
    assert cc.check("Max(x, y) + Min(y, x)").curvature == "affine"
    # different pairs: no identity; Max + Min(x, z) is neither
    r = cc.check("Max(x, y) + Min(x, 2*y)")
    assert r.convex.answer != "yes" and r.concave.answer != "yes"
