"""The independent checker on tensor documents: it accepts what the tensor engine proves and
refutes on the whole corpus, rejects tampered documents, and its own evaluator agrees with CVXPY.
"""

from __future__ import annotations

import copy
import functools
import json

import cvxpy as cp
import numpy as np
import pytest

from convexcheck import check
from convexcheck.certificates import document, documents_of, tensor_eval, tensor_iv, verify_document
from convexcheck.tensor.cvxpy_bridge import from_cvxpy_tensor
from convexcheck.tensor.dcp import analyze
from convexcheck.tensor.document import content_hash, encode_values
from tests.corpus.tensor_corpus import build_corpus

CORPUS = build_corpus()
BY_NAME = {e.name: e for e in CORPUS}


def _roundtrip(doc):
    return json.loads(json.dumps(doc))


@functools.cache
def _docs(name: str) -> tuple[str, ...]:
    return tuple(json.dumps(d) for d in documents_of(check(BY_NAME[name].expression, seed=0)))


def _doc(name: str, question: str) -> dict:
    for text in _docs(name):
        d = json.loads(text)
        if d["question"] == question:
            return d
    raise LookupError((name, question))


def _problems(doc) -> str:
    report = verify_document(_roundtrip(doc))
    assert not report.ok, "a tampered document was accepted"
    return "; ".join(report.problems)


# ---- everything the engine settles on the corpus verifies -------------------------------------
def test_every_corpus_document_verifies():
    checked = tensor = 0
    for entry in CORPUS:
        for text in _docs(entry.name):
            doc = json.loads(text)
            report = verify_document(doc, f"{entry.name}:{doc['question']}")
            assert report.ok, report.line()
            checked += 1
            if "scalarised_from" not in doc:  # else a scalar document about the scalarised form
                assert report.trusted, "a tensor check lists what it trusts"
                tensor += 1
    assert checked >= 160 and tensor >= 150, (checked, tensor)


def test_dcp_report_lists_its_trusted_base_and_patterns():
    report = verify_document(_doc("logistic_softplus_spelled_m50_n10", "convex"))
    assert report.ok, report.problems
    text = " ".join(report.trusted)
    assert "atom rows" in text and "4 ulps" in text and "pattern softplus" in text


# ---- tampered DCP documents --------------------------------------------------------------------
def _nodes(doc):
    return doc["certificate"]["nodes"]


def test_flipped_curvature_claims_are_rejected():
    doc = _doc("lasso_m100_n1000", "convex")
    assert verify_document(doc).ok
    bad = copy.deepcopy(doc)
    k = next(i for i, n in enumerate(_nodes(bad)) if n["curvature"] == "convex")
    _nodes(bad)[k]["curvature"] = "concave"
    assert "the checker derives convex" in _problems(bad)
    bad = copy.deepcopy(doc)  # claim the root concave and ask the concave question
    _nodes(bad)[-1]["curvature"] = "concave"
    bad["certificate"]["proves"] = ["concave"]
    bad["question"] = "concave"
    assert "claims concave" in _problems(bad)
    bad = copy.deepcopy(doc)  # a variable is affine, never constant
    k = next(i for i, n in enumerate(_nodes(bad)) if n["op"] == "variable")
    _nodes(bad)[k]["curvature"] = "constant"
    assert "claims constant" in _problems(bad)


def test_constant_data_changed_without_its_hash_is_rejected():
    doc = _doc("least_squares_m40_n10", "convex")
    bad = copy.deepcopy(doc)
    data = next(iter(bad["certificate"]["constants"].values()))["data"]
    data[0][0] = "12345"
    assert "does not match its hash" in _problems(bad)


def test_wrong_pattern_atoms_are_rejected():
    doc = _doc("logistic_softplus_spelled_m50_n10", "convex")
    k = next(i for i, n in enumerate(_nodes(doc)) if n.get("rule") == "pattern:softplus")
    for change in ({"op": "exp"}, {"op": "log_sum_exp"}, {"args": [0]}):
        bad = copy.deepcopy(doc)
        _nodes(bad)[k]["as_atom"].update(change)
        assert "is not a reading of it" in _problems(bad) or "malformed" in _problems(bad)
    bad = copy.deepcopy(doc)  # a pattern reading claimed for a node the pattern does not fit
    _nodes(bad)[k]["rule"] = "pattern:log_sum_exp"
    assert "is not a reading of it" in _problems(bad)
    bad = copy.deepcopy(doc)  # no reading at all: the written log(1 + exp(u)) is not DCP
    del _nodes(bad)[k]["as_atom"]
    _nodes(bad)[k]["rule"] = "log"
    assert "the checker derives unknown" in _problems(bad)


def _entropy_on_nonneg() -> dict:
    """The x*log(x) document with x >= 0 written into both the tree and the variables' words."""
    bad = copy.deepcopy(_doc("neg_entropy_spelled_pos_n10", "convex"))
    bad["certificate"]["variables"]["x"]["domain"]["lo_open"] = False
    bad["variables"]["x"]["domain"] = "nonnegative"
    return bad


def test_the_engine_reads_no_pattern_over_an_extended_value_node():
    """x*log(x) on x >= 0: log(x) is -inf at 0 (CVXPY's convention), so the tensor DCP reads
    log(x) as concave where it is finite, and the product is not read as xlogx (xlogx(0) = 0
    would judge another function)."""
    x = cp.Variable(10, nonneg=True, name="x")
    analysis = analyze(from_cvxpy_tensor(cp.sum(cp.multiply(x, cp.log(x))))[0])
    assert not analysis.proved
    assert not any(st.rule.startswith("pattern:") for st in analysis.steps.values())
    log_step = next(st for st in analysis.steps.values() if st.node.op == "log")
    assert log_step.curvature == "concave" and log_step.restricted


# fixed: the checker let a pattern replace a node finite only in the extended-value reading
def test_pattern_over_nodes_undefined_on_the_domain_is_rejected():
    """x*log(x) on x >= 0: log(x) is not finite at 0, so reading it as xlogx would judge another
    function (xlogx(0) = 0). Widen the domain in both the tree and the variables' words: the
    checker may derive log(x) concave where it is finite, but no pattern may read it."""
    bad = _entropy_on_nonneg()
    assert "not defined on the whole domain" in _problems(bad)


def test_tree_domain_must_match_the_documents_variables():
    doc = _doc("neg_entropy_spelled_pos_n10", "convex")
    bad = copy.deepcopy(doc)
    bad["certificate"]["variables"]["x"]["domain"]["lo"] = "1"
    assert "does not describe the tree" in _problems(bad)


def _with_matrix(doc, matrix):
    bad = copy.deepcopy(doc)
    cert = bad["certificate"]
    (old,) = list(cert["constants"])
    new = content_hash(matrix)
    cert["constants"] = {new: {"shape": list(matrix.shape), "data": encode_values(matrix)}}
    for n in cert["nodes"]:
        if n.get("ref") == old:
            n["ref"] = new
    return bad


def test_convex_claim_for_a_non_psd_quad_form_matrix_is_rejected():
    doc = _doc("quad_form_int_psd_n6", "convex")
    assert verify_document(doc).ok
    indefinite = np.diag([1.0, 2.0, -1.0, 3.0, 1.0, 1.0])
    assert "the checker derives unknown" in _problems(_with_matrix(doc, indefinite))
    # the written-out quadratic form (a pattern) gets the same decision
    doc = _doc("quad_written_out_psd_n5", "convex")
    assert verify_document(doc).ok
    assert "derives unknown" in _problems(_with_matrix(doc, np.diag([1.0, 1.0, -1e-300, 1.0, 1.0])))


def test_psd_tolerance_assumption_is_honoured_only_where_recorded():
    b = np.random.default_rng(3).standard_normal((2, 4))
    gram = b.T @ b  # PSD in exact arithmetic, indefinite by rounding
    x = cp.Variable(4, name="x")
    r = check(cp.quad_form(x, gram, assume_PSD=True), psd_tolerance=1e-12)
    doc = _roundtrip(document(r, "convex"))
    assert doc["certificate"]["assumptions"]
    report = verify_document(doc)
    assert report.ok, report.problems
    assert any(t.startswith("ASSUMPTION") for t in report.trusted)
    bad = copy.deepcopy(doc)
    del bad["certificate"]["assumptions"]
    assert "derives unknown" in _problems(bad)


# ---- tampered witnesses ------------------------------------------------------------------------
def test_witness_with_no_gap_is_rejected():
    doc = _doc("bilinear_xy_n5", "convex")
    assert doc["witness"]["kind"] == "jensen-tensor" and verify_document(doc).ok
    bad = copy.deepcopy(doc)
    bad["witness"]["b"] = copy.deepcopy(bad["witness"]["a"])
    assert "does not exceed the margin" in _problems(bad)
    bad = copy.deepcopy(doc)
    bad["question"] = "concave"  # the same points do not refute concavity
    assert "does not exceed the margin" in _problems(bad)


def test_witness_coordinate_change_that_kills_the_gap_is_rejected():
    doc = _doc("quad_form_int_indefinite_n5", "convex")
    bad = copy.deepcopy(doc)
    bad["witness"]["b"]["x"] = list(bad["witness"]["a"]["x"])
    assert "margin" in _problems(bad)


def test_witness_points_outside_the_domain_are_rejected():
    doc = _doc("entropy_nonneg_n10", "convex")
    assert verify_document(doc).ok
    bad = copy.deepcopy(doc)
    bad["witness"]["a"]["x"][0] = "-1"
    assert "outside the bounds" in _problems(bad)
    doc = _doc("log_det_psd_n4", "convex")
    assert verify_document(doc).ok
    bad = copy.deepcopy(doc)
    a = bad["witness"]["a"]["S"]
    a[0][0] = "-" + a[0][0].lstrip("-")
    assert "is not proved PSD" in _problems(bad)


def test_vector_valued_witness_names_its_entry():
    x = cp.Variable(2, name="x")
    r = check(cp.hstack([cp.square(x[0]), cp.multiply(x[0], x[1])]))
    doc = _roundtrip(document(r, "convex"))
    assert doc["witness"]["entry"] == [1] and verify_document(doc).ok
    bad = copy.deepcopy(doc)
    bad["witness"]["entry"] = [0]  # x0**2 is convex: no gap there
    assert "does not exceed the margin" in _problems(bad)
    for entry in ([2], None):
        bad = copy.deepcopy(doc)
        bad["witness"]["entry"] = entry
        assert "entry" in _problems(bad)


def test_witness_strings_must_be_exact_float64():
    doc = _doc("bilinear_xy_n5", "convex")
    for text in ("0.1", "1/3", "0x1.00000000000001p0", "1e400", "nan", "inf"):
        bad = copy.deepcopy(doc)
        bad["witness"]["a"]["x"][0] = text
        assert not verify_document(bad).ok, text


def test_witness_outside_cvxpy_power_domain_is_rejected():
    """CVXPY's power(x, 3) and power(x, -1) are convex: defined for x >= 0 and x > 0 only (and
    +inf elsewhere). The engine proves it convex on a real x, and the checker accepts no witness
    against convexity with points outside that domain (the formula x**3 + 1/x is not convex
    there)."""
    x = cp.Variable(2, name="x")
    r = check(cp.power(x[0], 3) + cp.power(x[1], -1))
    assert r.convex.answer == "yes", r
    assert verify_document(document(r, "convex")).ok
    concave = document(r, "concave")  # a genuine witness, inside the domain
    assert concave["answer"] == "no" and verify_document(concave).ok
    for a, b in ((["-2", "1"], ["0", "1"]), (["-2", "-1"], ["1", "1"]), (["1", "-1"], ["1", "1"])):
        bad = copy.deepcopy(concave)
        bad["question"] = "convex"
        bad["witness"]["a"]["x"], bad["witness"]["b"]["x"] = a, b
        problems = _problems(bad)
        assert "CVXPY's domain" in problems or "not certainly" in problems, problems


def test_rows_fallback_above_the_work_cap(monkeypatch):
    monkeypatch.setattr(tensor_eval, "MAX_OPERATIONS", 0)
    import convexcheck.certificates.tensor_witness as tw

    monkeypatch.setattr(tw, "MAX_OPERATIONS", 0)
    for name, q in (("bilinear_xy_n5", "convex"), ("log_det_psd_n4", "convex")):
        report = verify_document(_doc(name, q))
        assert report.ok, report.problems
        assert any("rows' rigorous float64 interval enclosures" in t for t in report.trusted)
    bad = copy.deepcopy(_doc("bilinear_xy_n5", "convex"))
    bad["witness"]["b"] = copy.deepcopy(bad["witness"]["a"])
    assert "margin" in _problems(bad)


# ---- the checker's evaluator against CVXPY ------------------------------------------------------
def _sample(var: cp.Variable, rng: np.random.Generator) -> np.ndarray:
    shape = var.shape
    attrs = var.attributes
    if attrs.get("PSD") or attrs.get("NSD"):
        g = rng.standard_normal((shape[0], shape[0]))
        s = g @ g.T + np.eye(shape[0])
        return -s if attrs.get("NSD") else s
    x = rng.standard_normal(shape) * 2
    if attrs.get("pos") or attrs.get("nonneg"):
        x = np.abs(x) + 0.05
    if attrs.get("neg") or attrs.get("nonpos"):
        x = -np.abs(x) - 0.05
    if attrs.get("symmetric"):
        x = (x + x.T) / 2
    return np.asarray(x, dtype=np.float64)


def _extra_expressions() -> list[tuple[str, object]]:
    """Atoms and parameters the corpus does not exercise."""
    x = cp.Variable(5, name="x")
    p = cp.Variable(5, pos=True, name="p")
    m = cp.Variable((3, 4), name="M")
    s = cp.Variable((3, 3), symmetric=True, name="S")
    return [
        ("cumsum", cp.cumsum(x)),
        ("diag_mat", cp.diag(s)),
        ("minimum", cp.minimum(x, 1.0)),
        ("pnorm_half", cp.pnorm(p, 0.5)),
        ("power_neg_half", cp.sum(cp.power(p, -0.5))),
        ("power_5_2", cp.power(p, 2.5)),
        ("huber_2", cp.huber(x, 2.0)),
        ("log1p", cp.log1p(p)),
        ("xexp", cp.xexp(p)),
        ("max_axis0", cp.max(m, axis=0)),
        ("lse_axis1", cp.log_sum_exp(m, axis=1)),
        ("sum_keepdims", cp.sum(m, axis=1, keepdims=True)),
        ("reshape_c", cp.reshape(m, (12,), order="C")),
        ("vec", cp.vec(m, order="F")),
        ("slice", m[1:, ::2]),
        ("geo_mean_weights", cp.geo_mean(p[:3], [1, 2, 1])),
        ("abs_matmul", cp.abs(m @ x[:4])),
        ("norm_inf_axis", cp.norm(m, "inf")),
    ]


EXTRA = _extra_expressions()
DIFFERENTIAL = [(e.name, e.expression) for e in CORPUS] + EXTRA


@pytest.mark.parametrize(("name", "expression"), DIFFERENTIAL, ids=[n for n, _ in DIFFERENTIAL])
def test_own_evaluator_matches_cvxpy_values(name, expression):
    tree, _ = from_cvxpy_tensor(expression)
    rng = np.random.default_rng(7)
    for _ in range(2):
        point = {}
        for var in expression.variables():
            point[var.name()] = value = _sample(var, rng)
            var.value = value
        expected = expression.value
        if expected is None or not np.all(np.isfinite(expected)):
            continue
        ours = tensor_eval.evaluate(tree, point)
        with tensor_iv.precision():
            mids = np.array([float(v.mid) for v in np.ravel(ours)]).reshape(tree.shape)
            widths = [float(v.delta) for v in np.ravel(ours)]
        expected = np.asarray(expected, dtype=np.float64).reshape(tree.shape)
        assert np.allclose(mids, expected, rtol=1e-9, atol=1e-9), (name, mids, expected)
        assert max(widths, default=0.0) <= 1e-30 * (
            1 + float(np.max(np.abs(expected), initial=0.0))
        )
