"""The independent checker: accepts every real certificate, rejects every tampered one."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from convexcheck import check
from convexcheck.certificates import document, documents_of, verify_directory, verify_document

ROOT = Path(__file__).resolve().parents[2]
CORPUS = json.loads((ROOT / "tests" / "corpus" / "closed_forms.json").read_text())


def _roundtrip(doc):
    return json.loads(json.dumps(doc))


def test_catalogue_verifies_and_is_complete():
    sys.path.insert(0, str(ROOT / "proofs"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    reports = verify_directory(ROOT / "proofs")
    assert reports and all(r.ok for r in reports), [r.line() for r in reports if not r.ok]
    names = {Path(r.name).stem for r in reports}
    assert names == {entry[0] for entry in generate.CATALOGUE}
    for entry in generate.CATALOGUE:
        assert (ROOT / "proofs" / f"{entry[0]}.md").exists()


def test_every_corpus_answer_has_a_certificate_the_checker_accepts():
    checked = 0
    for entry in CORPUS:
        for doc in documents_of(check(entry["expr"], entry["vars"])):
            report = verify_document(_roundtrip(doc), entry["id"])
            assert report.ok, (entry["expr"], report.problems)
            checked += 1
    assert checked > 450


def _doc(expr, variables, question, stages=None):
    kwargs = {"stages": stages} if stages else {}
    return _roundtrip(document(check(expr, variables, **kwargs), question))


def test_tampered_witness_is_rejected():
    doc = _doc("x*y", {}, "convex")
    assert verify_document(doc).ok
    bad = copy.deepcopy(doc)
    bad["witness"]["a"] = dict(bad["witness"]["b"])  # a == b: no gap at all
    assert not verify_document(bad).ok
    bad = copy.deepcopy(doc)
    bad["question"] = "concave"  # the same points do not refute concavity
    assert not verify_document(bad).ok
    bad = copy.deepcopy(doc)
    bad["witness"]["t"] = "3/2"
    assert "not in (0, 1)" in verify_document(bad).problems[0]


def test_witness_outside_the_domain_is_rejected():
    doc = _doc("x*log(x) - x**2", {"x": "positive"}, "convex")
    assert doc["answer"] == "no" and verify_document(doc).ok
    bad = copy.deepcopy(doc)
    bad["witness"]["a"]["x"] = "-1"
    assert not verify_document(bad).ok


def test_witness_of_a_max_whose_arguments_sympy_cannot_order_is_certified(monkeypatch):
    """Found by the 10,000-example soundness run: building ``Max(a, b)`` at a rational point
    made SymPy compare a tiny product of logarithms symbolically and raise; the checker then
    rejected a correct witness. It must evaluate such a gap numerically (and still reject a
    wrong one)."""
    import sympy

    expr = "Max(log(exp(y) + 1), log(exp(x) + 1)*log(log(exp(x) + 1)))"
    doc = _doc(expr, {"y": "[0, 1]"}, "concave")
    assert doc["answer"] == "no"
    doc["witness"]["a"] = {"x": "105/4", "y": "3/4"}
    doc["witness"]["b"] = {"x": "-281/10", "y": "1/5"}
    doc["witness"]["t"] = "1/2"
    real_max_new = sympy.Max.__new__

    def fragile_max(cls, *args, **options):  # SymPy's failure, made deterministic
        evaluate = options.get("evaluate", sympy.core.parameters.global_parameters.evaluate)
        if evaluate and any(a.is_number and not (a.is_Float or a.is_Rational) for a in args):
            raise ValueError("The argument is not comparable.")
        return real_max_new(cls, *args, **options)

    monkeypatch.setattr(sympy.Max, "__new__", fragile_max)
    assert verify_document(doc).ok, verify_document(doc).problems
    bad = copy.deepcopy(doc)
    bad["question"] = "convex"  # the same points do not refute convexity
    assert not verify_document(bad).ok


def test_transcendental_witness_is_certified():
    doc = _doc("sin(x)", {"x": "[0, 6]"}, "convex")
    assert doc["answer"] == "no"
    assert verify_document(doc).ok


def test_tampered_hessian_certificates_are_rejected():
    doc = _doc("exp(x)/y", {"y": "positive"}, "convex")
    assert doc["method"] == "hessian" and verify_document(doc).ok
    bad = copy.deepcopy(doc)
    bad["certificate"]["matrix"][0][1] = "exp(x)/y**2"
    assert not verify_document(bad).ok
    bad = copy.deepcopy(doc)
    bad["certificate"]["D"][1] = "-exp(x)/y**3"
    assert not verify_document(bad).ok
    # the same certificate offered for a function it does not belong to
    bad = copy.deepcopy(doc)
    bad["expression"] = "-exp(x)/y"
    assert not verify_document(bad).ok


def test_tampered_sign_proof_is_rejected():
    doc = _doc("x*exp(x)", {"x": "[0, 5]"}, "convex")
    assert verify_document(doc).ok
    bad = copy.deepcopy(doc)
    bad["variables"]["x"] = "[-5, 5]"  # f'' = (x+2)*exp(x) < 0 below -2
    assert not verify_document(bad).ok


def test_tampered_sos_certificate_is_rejected():
    doc = _doc("x**4 + y**4 + x**2*y**2", {}, "convex", stages=("sos",))
    assert doc["method"] == "sos" and verify_document(doc).ok
    bad = copy.deepcopy(doc)
    bad["certificate"]["gram"][0][0] = "-1"
    assert not verify_document(bad).ok
    bad = copy.deepcopy(doc)
    bad["expression"] = "x**4 + y**4 - 3*x**2*y**2"
    assert not verify_document(bad).ok


def test_tampered_dcp_derivation_is_rejected():
    doc = _doc("log(1 + exp(x)) + (x - y)**2", {}, "convex")
    assert doc["method"] == "dcp" and verify_document(doc).ok
    for node in doc["certificate"]["nodes"]:
        if node.get("atom") == "x**2":
            bad = copy.deepcopy(doc)
            target = next(n for n in bad["certificate"]["nodes"] if n["id"] == node["id"])
            target["monotonicity"] = ["nondecreasing"]  # x**2 is not monotone on the reals
            assert not verify_document(bad).ok
            target["atom_curvature"] = "concave"
            assert not verify_document(bad).ok
    bad = copy.deepcopy(doc)
    bad["expression"] = "log(1 + exp(x)) - (x - y)**2"
    assert not verify_document(bad).ok


def test_malformed_documents_fail_without_crashing():
    assert not verify_document({}).ok
    assert not verify_document({"format": "convexcheck-certificate/1", "question": "x"}).ok
    doc = _doc("x*y", {}, "convex")
    doc["expression"] = "__import__('os')"
    report = verify_document(doc)
    assert not report.ok and "malformed" in report.problems[0]


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "convexcheck", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_cli_writes_and_verifies_certificates(tmp_path):
    out = tmp_path / "certs"
    run = _cli("expr", "exp(x)/y", "--var", "y=positive", "--certificates", str(out))
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["concave.json", "convex.json"]
    run = _cli("proofs", "verify", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 certificates verified, 0 failed" in run.stdout
    doc = json.loads((out / "convex.json").read_text())
    doc["certificate"]["D"][0] = "-1"
    (out / "convex.json").write_text(json.dumps(doc))
    run = _cli("proofs", "verify", str(out), "--json")
    assert run.returncode == 1
    payload = json.loads(run.stdout)
    assert payload["failed"] == 1
    assert [d["name"] for d in payload["documents"] if not d["ok"]] == [str(out / "convex.json")]


def test_cli_proofs_verify_bad_directory():
    run = _cli("proofs", "verify", "/nonexistent/dir")
    assert run.returncode == 2
    assert run.stderr.startswith("convexcheck: error:")


@pytest.mark.parametrize("name", ["proofs"])
def test_cli_verifies_the_shipped_catalogue(name):
    run = _cli("proofs", "verify", name, cwd=ROOT)
    assert run.returncode == 0, run.stdout
    assert "0 failed" in run.stdout


def test_cli_refuses_to_mix_two_functions_certificates(tmp_path):
    target = tmp_path / "certs"
    first = subprocess.run(
        [sys.executable, "-m", "convexcheck", "expr", "x**2", "--certificates", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    again = subprocess.run(
        [sys.executable, "-m", "convexcheck", "expr", "x**2", "--certificates", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr  # the same function may be rewritten
    other = subprocess.run(
        [sys.executable, "-m", "convexcheck", "expr", "x**3", "--certificates", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 2
    assert "holds a certificate for a different function ('x**2')" in other.stderr
    assert json.loads((target / "convex.json").read_text())["expression"] == "x**2"
