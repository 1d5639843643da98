"""Unit tests for the sign proofs, the Hessian stage and the SOS stage."""

from __future__ import annotations

import pytest
import sympy

from convexcheck import check
from convexcheck.symbolic.domains import parse_domain
from convexcheck.symbolic.signs import SignProver, poly_sign_ok

x, y = sympy.symbols("x y", real=True)


@pytest.mark.parametrize(
    "poly, domain, claim, expected",
    [
        (12 * (x - 1) ** 2, "real", ">=0", True),
        (12 * (x - 1) ** 2, "real", ">0", False),
        (12 * (x - 1) ** 2, "(1, oo)", ">0", True),
        (x**3, "nonnegative", ">=0", True),
        (x**3, "real", ">=0", False),
        (x**2 - 2, "[2, 3]", ">0", True),
        (x**2 - 2, "[1, 3]", ">=0", False),
        (-(x**2), "[0, 0]", ">=0", True),
        (x * (x - 1), "[0, 1]", ">=0", False),
    ],
)
def test_polynomial_sign(poly, domain, claim, expected):
    assert poly_sign_ok(sympy.Poly(poly, x), parse_domain(domain), claim) is expected


@pytest.mark.parametrize(
    "expr, domains, claim, method",
    [
        (2 - sympy.sin(x), {"x": "real"}, ">0", "enclosure"),
        (x**2 - 2 * x + 1, {"x": "real"}, ">=0", "polynomial"),
        (2 - 2 * sympy.log(x), {"x": "[1, 2]"}, ">0", "enclosure"),
        ((x + 2) * sympy.exp(x), {"x": "[-2, 5]"}, ">=0", None),
        (sympy.expand((x - 1) ** 2 * sympy.exp(y)), {"x": "real", "y": "real"}, ">=0", "factors"),
        (sympy.exp(x) - 2 * x, {"x": "[0, 1]"}, ">0", "bisection"),
        (x * sympy.exp(-x) - x / 3, {"x": "[0, 1]"}, ">=0", "factors"),
    ],
)
def test_sign_prover_methods(expr, domains, claim, method):
    prover = SignProver({n: parse_domain(d) for n, d in domains.items()})
    proof = prover.prove(expr, claim)
    assert proof is not None
    if method:
        assert proof["method"] == method


@pytest.mark.parametrize(
    "expr, domains, claim",
    [
        (x - 1, {"x": "[0, 2]"}, ">=0"),
        (sympy.sin(x), {"x": "real"}, ">=0"),
        (x * y, {"x": "real", "y": "real"}, ">=0"),
        ((x - 1) ** 2, {"x": "real"}, ">0"),
    ],
)
def test_sign_prover_never_proves_false_claims(expr, domains, claim):
    prover = SignProver({n: parse_domain(d) for n, d in domains.items()})
    assert prover.prove(expr, claim) is None


@pytest.mark.parametrize(
    "expr, variables, question, method",
    [
        ("x*exp(x)", {"x": "[0, 5]"}, "convex", "second-derivative"),
        ("x*exp(-x)", {"x": "[0, 2]"}, "concave", "second-derivative"),
        ("(log(x))**2", {"x": "[1, 2]"}, "convex", "second-derivative"),
        ("x**4 - 4*x**3 + 6*x**2", {}, "convex", "second-derivative"),
        ("log(cosh(x - 1))", {}, "convex", "second-derivative"),
        ("exp(x)/y", {"y": "positive"}, "convex", "ldl"),
        ("x*y/(x + y)", {"x": "positive", "y": "positive"}, "concave", "ldl"),
        ("x**4 + y**4 + x**2*y**2", {}, "convex", "principal-minors"),
        ("sin(x)**2 + cos(x)**2", {}, "convex", "zero"),
        ("cosh(x)**2 - sinh(x)**2", {"x": "[-3, 3]"}, "concave", "zero"),
    ],
)
def test_hessian_stage_proves(expr, variables, question, method):
    verdict = getattr(check(expr, variables, stages=("hessian",)), question)
    assert verdict.answer == "yes", verdict.summary
    assert verdict.method == "hessian"
    assert verdict.certificate["method"] == method


@pytest.mark.parametrize(
    "expr, variables, reason",
    [
        ("Abs(x)**2", {}, "not twice differentiable"),
        ("sqrt(2*x**2)", {}, "may reach 0"),
        ("1/x", {"x": "real"}, "defined on the whole domain"),
        ("x**3", {}, "could not prove"),
    ],
)
def test_hessian_stage_declines(expr, variables, reason):
    result = check(expr, variables, stages=("hessian",))
    assert result.convex.answer == "unknown"
    assert reason in result.convex.evidence["hessian"]["reason"]


@pytest.mark.parametrize(
    "expr",
    [
        "x**4 + y**4 + x**2*y**2",
        "(x**2 + y**2)**2",
        "(x - y)**4 + x**2",
        "x**4 + 2*x**2*y**2 + y**4 + (x - y)**2",
        "x**4 - 4*x**3 + 6*x**2",
    ],
)
def test_sos_stage_proves_sos_convex_polynomials(expr):
    verdict = check(expr, stages=("sos",)).convex
    assert verdict.answer == "yes", verdict.evidence
    gram = verdict.certificate["gram"]
    assert len(gram) == len(verdict.certificate["basis"])


@pytest.mark.parametrize(
    "expr, reason",
    [
        ("x**2*y**2", "no SOS decomposition"),
        ("x**4 + y**4 - 3*x**2*y**2", "no SOS decomposition"),
        ("x**3 + y**2", "odd degree"),
        ("exp(x) + y**2", "not a polynomial"),
    ],
)
def test_sos_stage_never_proves_non_sos_convex(expr, reason):
    verdict = check(expr, stages=("sos",)).convex
    assert verdict.answer == "unknown"
    assert reason in verdict.evidence["sos"]["reason"]


def test_slow_sympy_simplification_is_cut_off(monkeypatch):
    """trigsimp of this f'' ran for 258 s (found by random hunting). The work is bounded, not
    timed: every expensive SymPy call runs under a timer of at most SIMPLIFY_TIME_S, and there
    are few of them; concavity is still proved (from the unsimplified entry if need be). The
    generous budget lifts the per-stage caps, so the answer does not depend on machine load."""
    from convexcheck.symbolic import hessian

    limits = []
    original = hessian._time_limit

    def recording(seconds):
        limits.append(seconds)
        return original(seconds)

    monkeypatch.setattr(hessian, "_time_limit", recording)
    result = check("log(sqrt(x**2 + 4) + tanh(x))", {"x": "[3.3, 6]"}, budget_s=600)
    assert result.concave.answer == "yes" and result.concave.method == "hessian"
    assert 1 <= len(limits) <= 10
    assert all(0 < s <= hessian.SIMPLIFY_TIME_S for s in limits)


def test_the_simplification_timer_restores_an_outer_timer():
    import signal

    from convexcheck.symbolic.hessian import _bounded

    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        x = sympy.Symbol("x")
        assert _bounded(sympy.simplify, sympy.sin(x) ** 2 + sympy.cos(x) ** 2, None) == 1
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25 < remaining <= 30  # the outer timer is back, with its remaining time
        assert not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
