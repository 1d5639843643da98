"""``to_cvxpy``: every proof that CVXPY can express comes back as CVXPY-DCP, and equal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import convexcheck as cc
from convexcheck.errors import NotExpressibleError

cp = pytest.importorskip("cvxpy")
CORPUS = json.loads((Path(__file__).parents[1] / "corpus" / "closed_forms.json").read_text())


@pytest.mark.parametrize(
    ("expr", "variables", "atom"),
    [
        ("log(1 + exp(x))", {}, "logistic"),
        ("x**2/y", {"y": "positive"}, "quad_over_lin"),
        ("x*log(x)", {"x": "nonnegative"}, "entr"),
        ("log(exp(x) + exp(y))", {}, "log_sum_exp"),
        ("sqrt(x**2 + y**2 + 1)", {}, "norm"),
        ("x**2 - 2*x*y + y**2", {}, "power"),
        ("sqrt(x*y)", {"x": "positive", "y": "positive"}, "geomean"),
    ],
)
def test_cvxpy_rejects_the_spelling_but_accepts_our_rewrite(expr, variables, atom):
    r = cc.check(expr, variables)
    e = r.to_cvxpy()
    assert e.is_dcp()
    names = " ".join([str(e).lower(), *(type(a).__name__.lower() for a in e.atoms())]).replace(
        "_", ""
    )
    assert atom.replace("_", "") in names, str(e)


@pytest.mark.slow  # the whole corpus through CVXPY, compared numerically
def test_every_expressible_corpus_proof_is_cvxpy_dcp_and_equal():
    checked = 0
    rng = np.random.default_rng(0)
    for entry in CORPUS:
        r = cc.check(entry["expr"], entry["vars"])
        if r.derivation is None or not r.derivation.proved:
            continue
        try:
            e = r.to_cvxpy()
        except NotExpressibleError:
            continue
        want = e.is_convex() if r.convex.answer == "yes" else e.is_concave()
        assert e.is_dcp() and want, (entry["expr"], str(e))
        # equal values at a point inside the domain
        from convexcheck.symbolic.domains import parse_domain
        from convexcheck.symbolic.evaluate import evaluate
        from convexcheck.symbolic.parser import parse
        from tests.jensen import sample_domain

        point = {
            v: float(sample_domain(parse_domain(d), 1, rng)[0]) for v, d in entry["vars"].items()
        }
        for var in e.variables():
            var.value = point[var.name()]
        ours = float(evaluate(parse(entry["expr"]), point))
        theirs = float(e.value)
        assert np.isclose(ours, theirs, rtol=1e-6, atol=1e-8), (entry["expr"], point, ours, theirs)
        checked += 1
    assert checked >= 100


def test_not_expressible_is_an_error():
    with pytest.raises(NotExpressibleError):
        cc.check("sin(x)", {"x": "[3.3, 6]"}).to_cvxpy()
    with pytest.raises(NotExpressibleError):
        cc.check("x*y").to_cvxpy()
