"""The checker rebuilds every derivation node from its rule and children (forged documents).

Found by review of issue 10's fixes: the DCP checker matched only the root's text to the
function (by SymPy, which forgets where a function is undefined) and re-checked curvatures and
ranges step by step, so a document could claim that ``-exp(x)`` is ``exp`` applied to ``x``,
that ``-x**2`` is a rewrite of ``x**2``, or reuse a genuine derivation for another expression.
"""

from __future__ import annotations

import json

import pytest

import convexcheck as cc
from convexcheck.certificates import document, verify_document

R = ["-1", "1", False, False]
X = {"id": 0, "expr": "x", "rule": "variable", "curvature": "affine", "range": R}


def _doc(expr: str, nodes: list[dict]) -> dict:
    return {
        "format": "convexcheck-certificate/1",
        "expression": expr,
        "variables": {"x": "[-1, 1]"},
        "question": "convex",
        "answer": "yes",
        "method": "dcp",
        "certificate": {
            "kind": "dcp",
            "question": "convex",
            "domains": {"x": "[-1, 1]"},
            "root": len(nodes) - 1,
            "nodes": nodes,
        },
    }


def _step(i, expr, rule, children, **extra):
    entry = {"id": i, "expr": expr, "rule": rule, "curvature": "convex", "children": children}
    entry["range"] = ["-3", "3", False, False]
    entry.update(extra)
    return entry


CONVEX_ATOM = {"atom_curvature": "convex", "monotonicity": ["nondecreasing"]}

FORGERIES = [
    # an atom applied to children that do not make the node
    ("-exp(x)", [X, _step(1, "-exp(x)", "composition", [0], atom="exp", **CONVEX_ATOM)]),
    # a rewrite that changes the function
    (
        "-x**2",
        [
            X,
            _step(1, "x**2", "composition", [0], atom="x**2", **CONVEX_ATOM),
            _step(2, "-x**2", "rewrite:anything", [1]),
        ],
    ),
    # a pattern whose formula is another function
    (
        "-x**2",
        [
            X,
            _step(
                1,
                "-x**2",
                "pattern:norm2",
                [0],
                atom="norm2",
                detail={"weights": ["1"], "offset": "0"},
                **CONVEX_ATOM,
            ),
        ],
    ),
    # every text cut: nothing identifies the derivation with the expression
    ("-exp(x)", [X, _step(1, "-exp...", "rewrite:x", [0])]),
]


@pytest.mark.parametrize(("expr", "nodes"), FORGERIES)
def test_forged_derivations_are_rejected(expr, nodes):
    report = verify_document(_doc(expr, nodes))
    assert not report.ok, report


@pytest.mark.parametrize("other", ["-x**2 + 5*x", "log(x)", "sqrt(x)**2", "x**2 + Abs(x)"])
def test_a_genuine_derivation_does_not_certify_another_expression(other):
    result = cc.check("(2*x)**2 + Abs(x)", variables={"x": "[-1, 1]"})
    doc = json.loads(json.dumps(document(result, "convex")))
    assert verify_document(doc).ok
    doc["expression"] = other
    assert not verify_document(doc).ok


def test_the_root_must_be_the_function_as_written():
    """``x`` equals ``sqrt(x)**2`` where both are defined, but it is not the user's function."""
    result = cc.check("x", variables={"x": "[-1, 1]"})
    doc = json.loads(json.dumps(document(result, "convex")))
    doc["expression"] = "sqrt(x)**2"
    report = verify_document(doc)
    assert not report.ok and "undefined" in report.problems[0], report


def test_a_rewrite_that_drops_a_condition_is_not_proved():
    """``(2*sqrt(x))**2`` was rewritten to ``4*x`` by the power-of-product pattern on [-1, 1]."""
    for text, domain in [
        ("(2*sqrt(x))**2", "[-1, 1]"),
        ("(2*sqrt(x))**2", "negative"),
        ("(2/x)**(-1)", "real"),
        ("(2*x**(-1/2))**(-2)", "real"),
        ("(2*x**(1/4))**8", "[-1, 1]"),
    ]:
        r = cc.check(text, variables={"x": domain})
        assert "yes" not in (r.convex.answer, r.concave.answer), (text, domain, r.curvature)
    assert cc.check("(2*sqrt(x))**2", variables={"x": "positive"}).curvature == "affine"
    assert cc.check("(2*x*y)**2").convex.answer != "yes"  # not convex: still refuted


def test_the_document_of_a_wide_expression_is_rebuilt_from_its_children():
    """Texts longer than the document limit are cut; the checker rebuilds them bottom-up."""
    terms = " + ".join(f"{k}*Abs(x - {k})" for k in range(1, 150))
    result = cc.check(terms, variables={"x": "[-1, 1]"})
    assert result.convex.answer == "yes"
    doc = json.loads(json.dumps(document(result, "convex")))
    assert any(n["expr"].endswith("...") for n in doc["certificate"]["nodes"])
    assert verify_document(doc).ok
