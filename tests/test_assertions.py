"""Assertions: what passes, what fails, and what a failure message tells the reader."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import convexcheck as cc
from convexcheck.assertions import (
    AssertionSettings,
    assertion_context,
    witness_lines,
)


@pytest.mark.parametrize(
    ("assertion", "expression", "variables"),
    [
        (cc.assert_convex, "log(1 + exp(x))", None),
        (cc.assert_convex, "x**2/y", {"y": "positive"}),
        (cc.assert_concave, "log(x)", {"x": "positive"}),
        (cc.assert_concave, "sqrt(x*y)", {"x": "positive", "y": "positive"}),
        (cc.assert_affine, "2*x - y + 3", None),
        (cc.assert_affine, "Abs(x - 3) + x", {"x": "[3, 10]"}),
        (cc.assert_nonconvex, "x*y", None),
        (cc.assert_nonconvex, "sin(x)", None),
        (cc.assert_nonconcave, "x**2", None),
        (cc.assert_nonconcave, "Abs(x)", None),
    ],
)
def test_established_claims_pass_and_return_the_result(assertion, expression, variables):
    result = assertion(expression, variables)
    assert isinstance(result, cc.CheckResult)


@pytest.mark.parametrize(
    ("assertion", "expression", "variables", "expected"),
    [
        (cc.assert_convex, "x*y", None, "convex"),
        (cc.assert_convex, "log(x)", {"x": "positive"}, "convex"),
        (cc.assert_concave, "x**2", None, "concave"),
        (cc.assert_affine, "Abs(x)", None, "affine"),
        (cc.assert_nonconvex, "x**2", None, "nonconvex"),
        (cc.assert_nonconcave, "log(x)", {"x": "positive"}, "nonconcave"),
    ],
)
def test_false_claims_fail_as_assertion_errors(assertion, expression, variables, expected):
    with pytest.raises(cc.ConvexityAssertionError) as info:
        assertion(expression, variables)
    error = info.value
    assert isinstance(error, AssertionError)  # every test runner reports a failure
    assert error.expected == expected
    assert isinstance(error.result, cc.CheckResult)
    assert cc.NotConvexError is cc.ConvexityAssertionError


def test_failed_assert_convex_shows_the_exact_witness():
    with pytest.raises(cc.ConvexityAssertionError) as info:
        cc.assert_convex("x*y")
    message = str(info.value)
    witness = info.value.result.convex.witness
    assert message.startswith("expected x*y to be convex on x in real, y in real")
    assert "refuted it with a verified witness" in message
    assert "Jensen's inequality fails (exact rational arithmetic)" in message
    # the very points, t and values of the verified witness are in the message
    assert f"t = {witness['t']}" in message
    for name, value in witness["a"].items():
        assert f"{name}={value}" in message
    assert witness["gap"].strip("{}") in message
    assert "reproduce: convexcheck expr 'x*y' --expect convex" in message


def test_witness_values_are_re_checkable_from_the_message():
    """The numbers printed satisfy the inequality they claim (exact arithmetic)."""
    from fractions import Fraction

    with pytest.raises(cc.ConvexityAssertionError) as info:
        cc.assert_concave("x**2 - 3*x*y")
    message = str(info.value)
    values = dict(re.findall(r"(f\(a\)|f\(b\)|f\(t\*a \+ \(1-t\)\*b\)) = (\S+)", message))
    t = Fraction(re.search(r"\bt = (\S+)", message).group(1))
    fa, fb, fm = (Fraction(values[k]) for k in ("f(a)", "f(b)", "f(t*a + (1-t)*b)"))
    assert fm < t * fa + (1 - t) * fb  # not concave: the chord lies above


def test_transcendental_witness_is_shown_with_its_enclosure():
    with pytest.raises(cc.ConvexityAssertionError) as info:
        cc.assert_convex("sin(x)")
    message = str(info.value)
    assert "rigorous interval enclosures" in message
    assert "rigorously enclosed" in message


def test_unknown_fails_and_names_the_failed_premise_and_what_was_tried():
    # convex (x*exp(x) is convex on [0, 5]) but Abs blocks the Hessian: nothing settles it
    with pytest.raises(cc.ConvexityAssertionError) as info:
        cc.assert_convex("x*exp(x) + Abs(x - 1)", {"x": "[0, 5]"})
    message = str(info.value)
    assert "could not prove it (unknown)" in message
    assert "DCP premise that failed: a product of non-constant factors (x, exp(x))" in message
    assert "witness search: no violation found in" in message
    assert "hessian: not proved: not twice differentiable" in message
    assert "stages tried: dcp, witness, hessian, sos" in message
    assert "--var 'x=[0, 5]'" in message


def test_assert_nonconvex_on_a_convex_function_says_it_was_proved():
    with pytest.raises(cc.ConvexityAssertionError) as info:
        cc.assert_nonconvex("exp(x)")
    assert "proved it convex" in str(info.value)
    assert "convex: proved (dcp)" in str(info.value)


def test_stages_and_budget_are_passed_through():
    # DCP alone cannot prove this quartic; the SOS stage can
    with pytest.raises(cc.ConvexityAssertionError):
        cc.assert_convex("x**4 + y**4 + x**2*y**2", stages=("dcp",))
    result = cc.assert_convex("x**4 + y**4 + x**2*y**2", budget_s=20)
    assert result.convex.method in ("hessian", "sos")
    with pytest.raises(cc.ConvexcheckInputError):
        cc.assert_convex("x**2", budget_s=0)


def test_seed_reaches_the_witness_search_and_context_settings_apply():
    result = cc.assert_nonconvex("x**3", seed=11)
    assert result.convex.witness["seed"] == 11
    records: list = []
    with assertion_context(AssertionSettings(seed=5), records):
        result = cc.assert_nonconvex("x**3")
        explicit = cc.assert_nonconvex("x**3", seed=2)  # an explicit argument wins
    assert result.convex.witness["seed"] == 5
    assert explicit.convex.witness["seed"] == 2
    assert [(r.expected, r.established, r.curvature) for r in records] == [
        ("nonconvex", True, "neither"),
        ("nonconvex", True, "neither"),
    ]
    # outside the context the default seed is back
    assert cc.assert_nonconvex("x**3").convex.witness["seed"] == 0


def test_witness_lines_render_every_part():
    lines = witness_lines(
        {
            "a": {"x": "0"},
            "b": {"x": "1"},
            "t": "1/2",
            "f_a": "{0}",
            "f_b": "{1}",
            "f_at_t": "{1/8}",
            "gap": "{3/8}",
            "inequality": "f(t*a + (1-t)*b) < t*f(a) + (1-t)*f(b)",
            "verified": "exact rational arithmetic",
        }
    )
    assert lines[0] == "Jensen's inequality fails (exact rational arithmetic):"
    assert "  f(t*a + (1-t)*b) = 1/8 (~0.125)" in lines
    assert lines[-1] == "  f(t*a + (1-t)*b) < t*f(a) + (1-t)*f(b) by 3/8 (~0.375)"


def test_the_assertions_do_not_import_torch():
    code = (
        "import sys, convexcheck as cc\n"
        "cc.assert_convex('x**2')\n"
        "import convexcheck.pytest_plugin\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# --- models --------------------------------------------------------------------------------


def test_model_assertions_pass_on_established_claims():
    torch = pytest.importorskip("torch")
    from tests.numeric import zoo

    model, loss_fn, data, _ = zoo.logistic_regression()
    result = cc.assert_model_convex(model, loss_fn, data, device="cpu")
    assert result.convex.answer == "yes"
    model, loss_fn, data, _ = zoo.relu_mlp()
    result = cc.assert_model_nonconvex(model, loss_fn, data, device="cpu", seed=3)
    assert result.convex.answer == "no" and result.seed == 3
    assert isinstance(result, cc.ModelCheckResult)
    assert torch.is_tensor(data[0])


def test_failed_model_assertion_shows_the_float64_witness():
    pytest.importorskip("torch")
    from tests.numeric import zoo

    model, loss_fn, data, _ = zoo.relu_mlp()
    with pytest.raises(cc.ConvexityAssertionError) as info:
        cc.assert_model_convex(model, loss_fn, data, device="cpu")
    message = str(info.value)
    assert message.startswith("expected the training loss of Sequential to be convex")
    assert "refuted convexity with a float64-verified witness" in message
    assert "Jensen gap" in message and "rounding margin" in message
    assert "reproduce: convexcheck.check_model(model, loss_fn, data, seed=0" in message
    assert info.value.expected == "convex"


def test_failed_assert_model_nonconvex_on_a_convex_model_names_the_proof():
    pytest.importorskip("torch")
    from tests.numeric import zoo

    model, loss_fn, data, _ = zoo.linear_regression()
    with pytest.raises(cc.ConvexityAssertionError) as info:
        cc.assert_model_nonconvex(model, loss_fn, data, device="cpu")
    assert "proved it convex" in str(info.value)
