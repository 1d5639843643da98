"""Certified curvature constants (``cc.curvature_bounds``): sound always, tight mostly.

The corpus ``tests/corpus/curvature_constants.json`` lists closed forms with their true
``mu = inf λ_min(∇²f)`` and ``L = sup λ_max(∇²f)`` on the domain. The tests here

* re-verify every true value by dense sampling of the Hessian's eigenvalues (so the corpus
  cannot be wrong silently);
* require every proved bound to be sound: ``mu <= true_mu`` and ``L >= true_L``, compared
  exactly by SymPy (``None``/``±oo`` allowed);
* require at least 80% of the functions to have *both* bounds within 10% of the true value
  (relative; for a true value of 0 an absolute tolerance of 0.01 instead);
* require every certificate to be re-derived by the checker, and tampered ones to be refused;
* and, as the soundness net, a Hypothesis property: random quadratic forms and random smooth
  functions on random boxes, whose Hessian eigenvalues sampled at random points always lie in
  ``[mu, L]``.
"""

from __future__ import annotations

import copy
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convexcheck as cc
from convexcheck.certificates.curvature_check import check_curvature
from convexcheck.errors import ConvexcheckInputError

CORPUS = Path(__file__).parent / "corpus" / "curvature_constants.json"
ENTRIES = json.loads(CORPUS.read_text())["entries"]
RELATIVE = 0.10
ABSOLUTE_AT_ZERO = 0.01
TIGHT_SHARE = 0.80


def _domain_samples(spec: str, count: int) -> np.ndarray:
    """Points of a domain for sampling (a window of an unbounded one)."""
    from convexcheck.symbolic.domains import parse_domain

    d = parse_domain(spec)
    lo = float(d.lo) if d.lo != -math.inf else (float(d.hi) - 10 if d.hi != math.inf else -10.0)
    hi = float(d.hi) if d.hi != math.inf else lo + 20 if d.lo != -math.inf else 10.0
    if d.lo_open:
        lo += 1e-3 * (hi - lo)
    if d.hi_open:
        hi -= 1e-3 * (hi - lo)
    return np.linspace(lo, hi, count)


def _sampled_eigenvalues(entry: dict) -> np.ndarray:
    expr = sympy.sympify(entry["expr"])
    names = sorted(str(s) for s in expr.free_symbols) or []
    names = sorted(set(names) | set(entry["variables"]))
    symbols = [sympy.Symbol(n, real=True) for n in names]
    expr = expr.subs({sympy.Symbol(n): s for n, s in zip(names, symbols, strict=True)})
    hessian = sympy.hessian(expr, symbols)
    fn = sympy.lambdify(symbols, hessian, "numpy")
    per_axis = {1: 4001, 2: 121, 3: 21}[len(names)]
    axes = [_domain_samples(entry["variables"].get(n, "real"), per_axis) for n in names]
    grid = np.meshgrid(*axes, indexing="ij")
    points = np.stack([g.ravel() for g in grid], axis=1)
    out = []
    for p in points:
        h = np.array(fn(*p), dtype=float)
        out.append(np.linalg.eigvalsh(h)[[0, -1]])
    return np.array(out)


def _bounded(entry: dict) -> bool:
    from convexcheck.symbolic.domains import parse_domain

    expr = sympy.sympify(entry["expr"])
    names = {str(s) for s in expr.free_symbols} | set(entry["variables"])
    return all(parse_domain(entry["variables"].get(n, "real")).bounded for n in names)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["expr"] for e in ENTRIES])
def test_corpus_true_values_match_dense_sampling(entry: dict) -> None:
    true_mu = float(sympy.sympify(entry["true_mu"]))
    true_L = float(sympy.sympify(entry["true_L"]))
    samples = _sampled_eigenvalues(entry)
    lo, hi = samples[:, 0].min(), samples[:, 1].max()
    slack = 1e-9 * max(1.0, abs(lo), abs(hi))
    assert lo >= true_mu - slack and hi <= true_L + slack, (lo, hi)
    if _bounded(entry):  # on a box the extremes are attained: the grid gets close to them
        assert lo == pytest.approx(true_mu, rel=2e-2, abs=1e-3)
        assert hi == pytest.approx(true_L, rel=2e-2, abs=1e-3)


@pytest.fixture(scope="module")
def corpus_results() -> list[tuple[dict, cc.CurvatureBounds]]:
    return [(e, cc.curvature_bounds(e["expr"], e["variables"])) for e in ENTRIES]


def _le(a, b) -> bool:
    """``a <= b`` exactly, for Fractions/±inf against SymPy numbers."""
    left = sympy.oo if a == math.inf else -sympy.oo if a == -math.inf else sympy.Rational(a)
    return bool(left <= sympy.sympify(b))


def _ge(a, b) -> bool:
    left = sympy.oo if a == math.inf else -sympy.oo if a == -math.inf else sympy.Rational(a)
    return bool(left >= sympy.sympify(b))


def _close(bound, true_text: str) -> bool:
    true = sympy.sympify(true_text)
    if bound is None:
        return False
    if true in (sympy.oo, -sympy.oo) or bound in (math.inf, -math.inf):
        return bound == (math.inf if true == sympy.oo else -math.inf if true == -sympy.oo else None)
    t = float(true)
    if t == 0:
        return abs(float(bound)) <= ABSOLUTE_AT_ZERO
    return abs(float(bound) - t) <= RELATIVE * abs(t)


def test_corpus_has_at_least_30_functions() -> None:
    assert len(ENTRIES) >= 30


def test_every_corpus_bound_is_sound_and_checked(corpus_results) -> None:
    problems = []
    for entry, r in corpus_results:
        if r.mu is not None and not _le(r.mu, entry["true_mu"]):
            problems.append(f"{entry['expr']}: mu {r.mu} above the true {entry['true_mu']}")
        if r.L is not None and not _ge(r.L, entry["true_L"]):
            problems.append(f"{entry['expr']}: L {r.L} below the true {entry['true_L']}")
        if (r.mu is not None or r.L is not None) and not r.checked:
            problems.append(f"{entry['expr']}: bounds reported without the checker's pass")
        if r.certificate is not None and r.checked:
            assert check_curvature(r.certificate).ok, entry["expr"]
    assert not problems, problems


def test_most_corpus_bounds_are_within_ten_percent(corpus_results) -> None:
    tight = [
        e["expr"]
        for e, r in corpus_results
        if _close(r.mu, e["true_mu"]) and _close(r.L, e["true_L"])
    ]
    share = len(tight) / len(corpus_results)
    loose = [e["expr"] for e, _ in corpus_results if e["expr"] not in tight]
    assert share >= TIGHT_SHARE, (share, loose)


# ---------------------------------------------------------------------------------------------
# the checker refuses what is not proved
# ---------------------------------------------------------------------------------------------


def _cert(expr: str, variables: dict) -> dict:
    r = cc.curvature_bounds(expr, variables)
    assert r.checked and r.certificate is not None
    return r.certificate


def test_checker_refuses_a_raised_mu() -> None:
    cert = _cert("exp(x)", {"x": "[0, 1]"})
    assert check_curvature(cert).ok
    bad = copy.deepcopy(cert)
    bad["mu"]["value"] = "11/10"
    assert not check_curvature(bad).ok


def test_checker_refuses_a_lowered_L() -> None:
    cert = _cert("x**2 + x*y + y**2", {})
    bad = copy.deepcopy(cert)
    bad["L"]["value"] = "29/10"
    assert not check_curvature(bad).ok


def test_checker_refuses_a_wrong_hessian_and_a_bad_split() -> None:
    cert = _cert("exp(x)", {"x": "[0, 1]"})
    bad = copy.deepcopy(cert)
    bad["hessian"] = [["exp(x) + 1"]]
    assert not check_curvature(bad).ok
    bad = copy.deepcopy(cert)
    tree = bad["mu"]["tree"]
    if "split" in tree:
        tree["at"] = "2"  # outside [0, 1]
        assert not check_curvature(bad).ok
    bad = copy.deepcopy(cert)
    bad["expression"] = "2*exp(x)"
    assert not check_curvature(bad).ok


def test_checker_refuses_a_shift_that_is_not_psd() -> None:
    cert = _cert("x**2 - 2*x*y + 2*y**2", {})
    leaf = cert["mu"]["tree"]
    assert leaf["method"] == "shift"
    bad = copy.deepcopy(cert)
    bad["mu"]["tree"]["t"] = "4/5"  # above 3 - sqrt(5) = 0.7639...
    bad["mu"]["value"] = "4/5"
    assert not check_curvature(bad).ok


def test_nothing_is_claimed_where_the_hessian_argument_fails() -> None:
    r = cc.curvature_bounds("Abs(x)")
    assert r.mu is None and r.L is None and not r.checked
    r = cc.curvature_bounds("log(x)", {"x": "real"})
    assert r.mu is None and r.L is None


# ---------------------------------------------------------------------------------------------
# the result object, the API, the command line
# ---------------------------------------------------------------------------------------------


def test_result_object() -> None:
    r = cc.curvature_bounds("x**2 + exp(x)", {"x": "[0, 1]"})
    assert isinstance(r, cc.CurvatureBounds)
    assert r.mu == 3 and r.strongly_convex
    assert r.L_float is not None and r.L_float >= 2 + math.e
    assert r.step_size is not None and r.step_size <= 1 / (2 + math.e)
    assert r.condition_number is not None and r.condition_number >= (2 + math.e) / 3
    d = r.to_dict()
    json.dumps(d)
    assert d["mu"] == "3" and d["checked"] is True
    text = r.explain()
    assert "mu = 3" in text and "1/L" in text


def test_unbounded_curvature_is_reported_as_such() -> None:
    r = cc.curvature_bounds("exp(x)")
    assert r.mu == 0 and r.step_size is None
    assert math.isinf(r.L) and r.L > 0
    assert r.to_dict()["L"] == "oo" and r.to_dict()["L_float"] == "oo"


def test_a_variable_the_expression_does_not_use_adds_a_zero_eigenvalue() -> None:
    r = cc.curvature_bounds("x**2 + y - y", {"x": "real", "y": "[0, 1]"})
    assert r.mu == 0 and r.L == 2


def test_bad_input_is_one_line() -> None:
    with pytest.raises(ConvexcheckInputError):
        cc.curvature_bounds("x**2", max_boxes=0)
    with pytest.raises(ConvexcheckInputError):
        cc.curvature_bounds("3")


def test_cli_constants(capsys) -> None:
    from convexcheck.cli import main

    assert main(["expr", "x**2 + exp(x)", "--var", "x=[0, 1]", "--constants"]) == 0
    out = capsys.readouterr().out
    assert "mu = 3" in out and "1/L" in out
    assert main(["expr", "x**2 + exp(x)", "--var", "x=[0, 1]", "--constants", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["constants"]["mu"] == "3"
    assert payload["constants"]["step_size"] <= 1 / (2 + math.e)


# ---------------------------------------------------------------------------------------------
# the soundness net
# ---------------------------------------------------------------------------------------------

small = st.integers(-4, 4)
ends = st.tuples(st.integers(-3, 2), st.integers(1, 3)).map(lambda t: (t[0], t[0] + t[1]))


def _sampled_in_bounds(expr: str, variables: dict, r: cc.CurvatureBounds, seed: int) -> None:
    symbols = [sympy.Symbol(n, real=True) for n in sorted(variables)]
    f = sympy.sympify(expr, locals={s.name: s for s in symbols})
    fn = sympy.lambdify(symbols, sympy.hessian(f, symbols), "numpy")
    rng = np.random.default_rng(seed)
    for _ in range(50):
        p = []
        for n in sorted(variables):
            lo, hi = (Fraction(v) for v in variables[n].strip("[]").split(","))
            p.append(rng.uniform(float(lo), float(hi)))
        eig = np.linalg.eigvalsh(np.array(fn(*p), dtype=float))
        slack = 1e-9 * max(1.0, float(np.max(np.abs(eig))))
        if r.mu is not None:
            assert eig[0] >= float(r.mu) - slack, (expr, p, eig, r.mu)
        if r.L is not None:
            assert eig[-1] <= float(r.L) + slack, (expr, p, eig, r.L)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=small, b=small, c=small, d=small, e=small, g=small, bx=ends, by=ends, seed=st.integers(0, 9)
)
def test_random_quadratic_forms_have_sound_bounds(a, b, c, d, e, g, bx, by, seed) -> None:
    expr = f"({a})*x**2 + ({b})*x*y + ({c})*y**2 + ({d})*x + ({e})*y + ({g})"
    variables = {"x": f"[{bx[0]}, {bx[1]}]", "y": f"[{by[0]}, {by[1]}]"}
    r = cc.curvature_bounds(expr, variables)
    h = np.array([[2 * a, b], [b, 2 * c]], dtype=float)
    eig = np.linalg.eigvalsh(h)
    assert r.checked and r.mu is not None and r.L is not None
    assert float(r.mu) <= eig[0] + 1e-12 and float(r.L) >= eig[-1] - 1e-12
    # a quadratic form's constants are found to rounding, not just bracketed
    assert abs(float(r.mu) - eig[0]) <= 1e-6 * max(1.0, abs(eig[0]))
    _sampled_in_bounds(expr, variables, r, seed)


smooth_terms = st.sampled_from(
    ["exp(x)", "exp(-y)", "exp(x + y)", "x**4", "y**4", "log(x + 4)", "x*y", "x**2*y", "cosh(y)"]
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    terms=st.lists(st.tuples(st.integers(-3, 3), smooth_terms), min_size=1, max_size=3),
    bx=ends,
    by=ends,
    seed=st.integers(0, 9),
)
def test_random_smooth_functions_have_sound_bounds(terms, bx, by, seed) -> None:
    expr = " + ".join(f"({k})*{t}" for k, t in terms) + " + x**2 + y**2"
    variables = {"x": f"[{bx[0]}, {bx[1]}]", "y": f"[{by[0]}, {by[1]}]"}
    r = cc.curvature_bounds(expr, variables, max_boxes=32)
    _sampled_in_bounds(expr, variables, r, seed)


def test_checker_refuses_a_wrong_structure() -> None:
    cert = _cert("x**2 + y**2 + exp(x + y)", {"x": "[0, 1]", "y": "[0, 1]"})
    assert "structure" in cert
    assert check_curvature(cert).ok
    bad = copy.deepcopy(cert)
    bad["structure"]["pattern"][0][1] = bad["structure"]["pattern"][1][0] = "0"
    assert not check_curvature(bad).ok
    bad = copy.deepcopy(cert)
    bad["structure"]["constant"][0][0] = "3"
    assert not check_curvature(bad).ok


def test_curvature_bounds_never_imports_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, convexcheck as cc\n"
        "r = cc.curvature_bounds('x**2 + exp(x)', {'x': '[0, 1]'})\n"
        "assert r.checked and r.mu == 3\n"
        "assert 'torch' not in sys.modules and 'cvxpy' not in sys.modules, 'heavy import'\n"
    )
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_explain_topic_shows_the_l2_shift() -> None:
    from convexcheck.explain.topics import explain_topic

    numbers = explain_topic("certified-constants")["numbers"]
    assert numbers["checked"]
    assert numbers["mu_without_penalty"] <= math.e**2 / (1 + math.e**2) ** 2
    assert numbers["mu_with_penalty"] <= math.e**2 / (1 + math.e**2) ** 2 + 0.2
    # tightened to the search's stopping gap (1/2000 relative), not to rounding
    assert numbers["mu_with_penalty"] == pytest.approx(
        numbers["mu_without_penalty"] + 0.2, rel=2e-3
    )
    assert numbers["L_with_penalty"] >= 0.45
