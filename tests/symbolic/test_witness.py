"""Witnesses of non-convexity: found, exactly verified, re-checkable by an independent evaluator."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
import sympy

import convexcheck as cc
from convexcheck.symbolic.parser import parse
from convexcheck.symbolic.sympy_bridge import to_sympy

REFUTED_BOTH_WAYS = [
    ("x*y", {}),
    ("x**3", {}),
    ("(x**2+1)**-2", {}),
    ("log(x**2+1)", {}),
    ("sqrt(Abs(x))", {}),
    ("exp(-x**2)", {}),
    ("(1-x)**2 + 100*(y-x**2)**2", {}),
    ("1/(1+exp(-x))", {}),
    ("Piecewise((x**2, x <= 0), (-x, True))", {}),
    ("sin(x)", {"x": "[0, 4]"}),
    ("x**2-3*x*y+y**2", {}),
    ("(w2*w1*1.5 - 2)**2", {}),
    ("x**4 - x**2", {}),
    ("x*exp(x)", {}),
]


def independent_gap(expr: str, witness: dict, question: str) -> mpmath.mpf:
    """Re-evaluate the witness with SymPy + mpmath at 80 digits (no convexcheck evaluator)."""
    f = to_sympy(parse(expr))
    symbols = sorted(f.free_symbols, key=lambda s: s.name)
    a = {s: sympy.Rational(witness["a"][s.name]) for s in symbols}
    b = {s: sympy.Rational(witness["b"][s.name]) for s in symbols}
    t = sympy.Rational(witness["t"])
    m = {s: t * a[s] + (1 - t) * b[s] for s in symbols}
    fa, fb, fm = (sympy.N(f.subs(p), 80) for p in (a, b, m))
    gap = fm - (t * fa + (1 - t) * fb)
    return gap if question == "convex" else -gap


@pytest.mark.parametrize(("expr", "variables"), REFUTED_BOTH_WAYS)
def test_traps_are_refuted_with_independently_rechecked_witnesses(expr, variables):
    r = cc.check(expr, variables)
    assert r.curvature == "neither", r.explain()
    for question in ("convex", "concave"):
        verdict = getattr(r, question)
        w = verdict.witness
        assert verdict.answer == "no" and w is not None
        assert 0 < Fraction(w["t"]) < 1
        assert independent_gap(expr, w, question) > 0
        domains = {k: cc.check("x", {"x": variables.get(k, "real")}).variables for k in w["a"]}
        assert domains  # witness names every variable


def test_witness_points_stay_inside_the_domain():
    r = cc.check("x**3 - 3*x", {"x": "[-1/2, 2]"})
    w = r.convex.witness if r.convex.answer == "no" else r.concave.witness
    for point in (w["a"], w["b"]):
        assert Fraction("-1/2") <= Fraction(point["x"]) <= 2


def test_search_is_seeded_and_reproducible():
    one = cc.check("x*y", seed=7).to_dict()
    two = cc.check("x*y", seed=7).to_dict()
    assert one["convex"]["witness"] == two["convex"]["witness"]
    assert one["convex"]["witness"]["seed"] == 7


def test_no_witness_means_unknown_with_evidence():
    # convex on [0, 5] (f'' = (2 + x) e^x > 0) but not a DCP composition: no proof, no witness
    r = cc.check("x*exp(x)", {"x": "[0, 5]"}, stages=("dcp", "witness"))
    assert r.convex.answer == "unknown"
    search = r.convex.evidence["witness_search"]
    assert search["samples"] > 1000 and search["seed"] == 0
