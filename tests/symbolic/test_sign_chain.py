"""Monotone sign proofs (``g(a) >= 0`` and ``g' >= 0``): what they prove, that the checker
re-derives every one the prover writes and that it agrees with dense sampling, and that a
tampered proof is rejected."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convexcheck import check
from convexcheck.certificates import document, verify_document
from convexcheck.certificates.context import CheckFailed, Context
from convexcheck.certificates.sign_check import check_sign
from convexcheck.symbolic.domains import parse_domain
from convexcheck.symbolic.signs import SignProver

x = sympy.Symbol("x", real=True)


def _prove(e, domain: str, claim: str = ">=0"):
    return SignProver({"x": parse_domain(domain)}).prove(e, claim)


def _recheck(e, domain: str, proof) -> None:
    """The checker's verdict on ``proof`` about ``e`` (raises :class:`CheckFailed`)."""
    ctx = Context({"expression": sympy.sstr(e), "variables": {"x": domain}})
    check_sign(ctx, json.loads(json.dumps(proof)), expected=ctx.sympy_of(sympy.sstr(e)))


def _methods(proof) -> set[str]:
    out = set()
    stack = [proof]
    while stack:
        p = stack.pop()
        if isinstance(p, dict):
            if "method" in p:
                out.add(p["method"])
            stack.extend(p.values())
        elif isinstance(p, list):
            stack.extend(p)
    return out


def _samples(domain: str) -> np.ndarray:
    d = parse_domain(domain)
    lo = float(d.lo) if d.lo != -math.inf else -40.0
    hi = float(d.hi) if d.hi != math.inf else 40.0
    pts = np.concatenate([np.linspace(lo, hi, 4001), lo + np.geomspace(1e-6, 1, 200)])
    return pts[(pts > lo) & (pts < hi)] if (d.lo_open or d.hi_open) else pts


def _min_value(e, domain: str) -> float:
    f = sympy.lambdify(x, e, "mpmath")
    return min(float(f(sympy.Float(p, 30))) for p in _samples(domain)[::20])


HIGH_ORDER_ZEROS = [
    (sympy.sinh(x) ** 2 - x**2, "positive", ">0"),
    (x**2 * sympy.exp(x) - 4 * x * sympy.exp(x) - 2 * x + 6 * sympy.exp(x) - 6, "positive", ">0"),
    (x - sympy.tanh(x), "positive", ">0"),
    (x**2 * sympy.sinh(x) - 2 * x * sympy.cosh(x) + 2 * sympy.sinh(x), "positive", ">0"),
    (sympy.exp(x) - 1 - x - x**2 / 2, "nonnegative", ">=0"),
    (sympy.tanh(x) - x, "negative", ">0"),
    (x - sympy.log(1 + x), "positive", ">0"),
    # no finite end where the expression is defined: the limit at oo through u = 1/x
    (sympy.log(1 + 1 / x) - 1 / (x + 1), "positive", ">0"),
]


@pytest.mark.parametrize("e, domain, claim", HIGH_ORDER_ZEROS)
def test_high_order_zeros_at_an_end_are_proved_and_rechecked(e, domain, claim):
    proof = _prove(e, domain, claim)
    assert proof is not None
    assert "monotone" in _methods(proof)
    _recheck(e, domain, proof)


@pytest.mark.parametrize(
    "e, domain, claim",
    [
        (sympy.exp(x) - 1 - x - x**2 * 3 / 5, "positive", ">=0"),  # negative near 0
        (x - sympy.tanh(x), "nonnegative", ">0"),  # zero at the closed end 0
        (x - sympy.tanh(x), "real", ">=0"),  # no finite end (and false)
        (sympy.sinh(x) ** 2 - x**2 - x**5, "positive", ">=0"),  # negative near 0
    ],
)
def test_false_or_unanchored_claims_are_not_proved(e, domain, claim):
    assert _prove(e, domain, claim) is None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    c=st.fractions(min_value=0, max_value=1, max_denominator=12),
    k=st.integers(min_value=1, max_value=3),
    domain=st.sampled_from(["positive", "nonnegative", "[0, 3]", "(0, 1/2]"]),
)
def test_every_proof_of_a_taylor_remainder_rechecks_and_agrees_with_sampling(c, k, domain):
    """``exp(x) - sum_{j<=k} x**j/j! - c*x**(k+1)`` is >= 0 on x >= 0 exactly when
    ``c <= 1/(k+1)!`` (on a bounded domain, for some larger ``c`` too)."""
    e = sympy.exp(x) - sum(x**j / sympy.factorial(j) for j in range(k + 1))
    e -= sympy.Rational(c.numerator, c.denominator) * x ** (k + 1)
    proof = _prove(e, domain)
    if c <= sympy.Rational(1, math.factorial(k + 1)) and domain in ("positive", "nonnegative"):
        assert proof is not None  # the chain g(0) = ... = 0, g^(k+1) = exp(x) - c (k+1)! >= 0
    if proof is not None:
        _recheck(e, domain, proof)
        assert _min_value(e, domain) >= -1e-20


ATOMS = [
    sympy.exp(x),
    sympy.exp(-x),
    sympy.sinh(x),
    sympy.cosh(x),
    sympy.tanh(x),
    sympy.log(1 + x),
    x,
    x**2,
    x**3,
    x * sympy.exp(x),
    x * sympy.cosh(x),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    coefficients=st.lists(st.integers(min_value=-3, max_value=3), min_size=3, max_size=4),
    picks=st.lists(st.integers(min_value=0, max_value=len(ATOMS) - 1), min_size=4, max_size=4),
    constant=st.integers(min_value=-3, max_value=3),
    domain=st.sampled_from(["positive", "[0, 2]", "(1, oo)"]),
    claim=st.sampled_from([">=0", ">0"]),
)
def test_random_combinations_proved_only_when_true(coefficients, picks, constant, domain, claim):
    e = constant + sum(c * ATOMS[p] for c, p in zip(coefficients, picks, strict=False))
    if not isinstance(e, sympy.Basic) or e.is_number:
        return
    proof = _prove(e, domain, claim)
    if proof is None:
        return
    _recheck(e, domain, proof)
    low = _min_value(e, domain)
    assert low >= -1e-12 * (1 + abs(low)), (e, domain, claim, proof)


# ---------------------------------------------------------------------------------------------
# tampering
# ---------------------------------------------------------------------------------------------

BASE = sympy.sinh(x) ** 2 - x**2


def _monotone_proof():
    proof = _prove(BASE, "positive", ">0")
    assert proof is not None and proof["method"] == "monotone"
    return proof


def _tamper_value(p):
    p["value"] = "1"


def _tamper_anchor(p):
    p["anchor"] = "hi"


def _tamper_derivative(p):
    p["derivative"] = "2*sinh(x)*cosh(x)"


def _tamper_inner_claim(p):
    p["proof"]["claim"] = ">=0" if p["proof"]["claim"] == ">0" else ">0"
    p["proof"]["method"] = "enclosure"


def _tamper_inner_method(p):
    p["proof"] = {"method": "enclosure", "expr": p["derivative"], "claim": ">0"}


def _tamper_variable(p):
    p["variable"] = "y"


@pytest.mark.parametrize(
    "tamper",
    [
        _tamper_value,
        _tamper_anchor,
        _tamper_derivative,
        _tamper_inner_claim,
        _tamper_inner_method,
        _tamper_variable,
    ],
)
def test_a_tampered_monotone_proof_is_rejected(tamper):
    proof = copy.deepcopy(_monotone_proof())
    _recheck(BASE, "positive", proof)  # the untouched proof passes
    tamper(proof)
    with pytest.raises((CheckFailed, KeyError)):
        _recheck(BASE, "positive", proof)


def test_a_proof_moved_to_a_domain_where_the_anchor_value_is_negative_is_rejected():
    e = sympy.exp(x) - 2 - x  # e(0) = -1 < 0, increasing: false near 0
    proof = {
        "method": "monotone",
        "expr": sympy.sstr(e),
        "claim": ">=0",
        "variable": "x",
        "anchor": "lo",
        "value": "0",
        "derivative": "exp(x) - 1",
        "proof": {"method": "enclosure", "expr": "exp(x) - 1", "claim": ">=0"},
    }
    with pytest.raises(CheckFailed):
        _recheck(e, "nonnegative", proof)
    proof["value"] = "-1"
    with pytest.raises(CheckFailed):
        _recheck(e, "nonnegative", proof)


def test_strict_claim_from_a_zero_at_a_closed_end_is_rejected():
    proof = _prove(x - sympy.tanh(x), "positive", ">0")
    assert proof is not None and proof["method"] == "monotone"
    with pytest.raises(CheckFailed):
        _recheck(x - sympy.tanh(x), "nonnegative", proof)  # 0 at x = 0 is in the domain


def test_tampered_hessian_document_with_a_monotone_step_fails_the_checker():
    result = check("log(sinh(x)/x)", {"x": "positive"})
    assert result.convex.answer == "yes"
    doc = json.loads(json.dumps(document(result, "convex")))
    assert verify_document(doc).ok
    text = json.dumps(doc)
    assert '"monotone"' in text
    bad = json.loads(text.replace('"anchor": "lo"', '"anchor": "hi"', 1))
    assert not verify_document(bad).ok
    doc["variables"] = {"x": "real"}
    assert not verify_document(doc).ok


def _limit_proof():
    e = sympy.log(1 + 1 / x) - 1 / (x + 1)
    proof = _prove(e, "positive", ">0")
    assert proof is not None and proof["anchor"] == "oo"
    _recheck(e, "positive", proof)
    return e, proof


@pytest.mark.parametrize(
    "field, value",
    [
        ("substituted", "log(x + 1) - x/(x + 1) + x**3"),  # not e(1/u)
        ("substituted", "log(1/x + 1) - 1/(1/x + 1)"),  # e(1/u) but undefined at u = 0
        ("value", "1/2"),
        ("anchor", "-oo"),
        ("anchor", "lo"),
    ],
)
def test_a_tampered_limit_at_infinity_is_rejected(field, value):
    e, proof = _limit_proof()
    bad = copy.deepcopy(proof)
    bad[field] = value
    with pytest.raises((CheckFailed, KeyError)):
        _recheck(e, "positive", bad)


def test_a_limit_proof_on_a_domain_reaching_below_zero_is_rejected():
    e, proof = _limit_proof()
    with pytest.raises(CheckFailed):
        _recheck(e, "(-1/2, oo)", proof)  # u = 1/x does not map it onto an interval at 0


# ---------------------------------------------------------------------------------------------
# effort and the evidence of what was cut
# ---------------------------------------------------------------------------------------------


def test_a_chain_past_its_depth_is_cut_and_says_so():
    """``sinh(x)**3 - x**3*cosh(x)`` vanishes to order 7 at 0: deeper than the chain goes."""
    prover = SignProver({"x": parse_domain("positive")})
    assert prover.prove(sympy.sinh(x) ** 3 - x**3 * sympy.cosh(x), ">=0") is None
    assert any("derivative order" in cut for cut in prover.cuts)
    assert prover.effort["derivatives"] <= 40


def test_the_unknown_evidence_names_the_cut_step():
    result = check("1/x - 1/tanh(x)", {"x": "positive"})  # convex, beyond the chain's depth
    assert result.convex.answer == "unknown"
    assert "cut: monotone chain stopped" in result.convex.evidence["hessian"]["reason"]
