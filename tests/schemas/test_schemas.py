"""The shipped JSON Schemas: well formed, printed by ``convexcheck schema``, strict enough to
catch a broken document, and followed by what convexcheck writes.

``tests/conftest.py`` sets ``CONVEXCHECK_VALIDATE_JSON=1``, so every JSON the command line emits
anywhere in the suite is validated on the way out. The tests here make sure that hook can fail
(each schema rejects documents broken in the ways a consumer would trip over), that it is off
without the variable, and they validate a corpus that covers every verdict shape, every
certificate kind and both model outcomes explicitly, so the coverage does not depend on what the
other tests happen to run.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from convexcheck.cli import main
from convexcheck.cli.common import emit_json
from convexcheck.schemas import (
    FORMATS,
    SCHEMA_NAMES,
    VALIDATE_ENV,
    SchemaViolation,
    problems,
    schema,
    schema_text,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code = main(list(argv))
    out = capsys.readouterr().out
    assert code in (0, 1), out
    loaded: dict[str, Any] = json.loads(out)
    return loaded


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_each_schema_is_a_valid_self_contained_draft_2020_12_schema(name: str) -> None:
    document = schema(name)
    jsonschema.Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["properties"]["format"] == {"const": FORMATS[name]}
    # every $ref points inside the document itself
    refs = [part for part in json.dumps(document).split('"$ref": "')[1:]]
    assert refs and all(ref.startswith("#/$defs/") for ref in refs)
    for ref in refs:
        assert ref.split('"')[0].removeprefix("#/$defs/") in document["$defs"]


def test_schema_command_prints_each_schema_and_lists_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in SCHEMA_NAMES:
        assert main(["schema", name]) == 0
        printed = capsys.readouterr().out
        assert printed == schema_text(name)
        assert json.loads(printed) == schema(name)
    assert main(["schema"]) == 0
    listing = capsys.readouterr().out
    for name in SCHEMA_NAMES:
        assert f"{name}" in listing and FORMATS[name] in listing


def test_schema_command_rejects_an_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["schema", "verdict"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.startswith("convexcheck: error:")


# ---------------------------------------------------------------------------------------------
# What convexcheck writes follows its schema
# ---------------------------------------------------------------------------------------------

EXPRESSIONS = [
    # (argv after "expr", what the corpus entry covers)
    (["log(1 + exp(x))", "--expect", "convex"], "yes by DCP, with --expect"),
    (["exp(x)/y", "--var", "y=positive"], "yes by the Hessian (LDL)"),
    (["x**4 + x**2*y**2 + y**4"], "yes by SOS or DCP patterns"),
    (["x*y"], "no by an exact witness"),
    (["sin(x)*exp(y)/(1+x**4)"], "no by interval enclosures"),
    (["x**4 + y**4 + x**2*y**2", "--budget", "0.001"], "unknown, the budget cut it off"),
    (["x*exp(x) + Abs(x - 1)", "--var", "x=[0, 5]"], "unknown, with every stage's evidence"),
    (["x"], "affine"),
]


@pytest.mark.parametrize(("argv", "covers"), EXPRESSIONS, ids=[c for _, c in EXPRESSIONS])
def test_expr_json_follows_the_expr_schema(
    capsys: pytest.CaptureFixture[str], argv: list[str], covers: str
) -> None:
    document = cli_json(capsys, "expr", *argv, "--json")
    assert document["format"] == FORMATS["expr"]
    assert problems(document, "expr") == []


def test_the_corpus_reaches_every_answer_and_closed_form_certificate_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers, kinds = set(), set()
    for argv, _ in EXPRESSIONS:
        document = cli_json(capsys, "expr", *argv, "--json")
        for question in ("convex", "concave"):
            answers.add(document[question]["answer"])
            kinds.add(document[question].get("certificate", {}).get("kind"))
    assert answers == {"yes", "no", "unknown"}
    assert {"dcp", "hessian"} <= kinds


def test_cvxpy_tensor_results_follow_the_expr_schema() -> None:
    import cvxpy as cp
    import numpy as np

    import convexcheck as cc

    x = cp.Variable(3, name="x")
    data = np.arange(6.0).reshape(2, 3)
    convex = cc.check(cp.sum_squares(data @ x) + cp.norm1(x)).to_dict()
    refuted = cc.check(cp.sum_squares(data @ x) - cp.norm1(x)).to_dict()
    assert convex["convex"]["certificate"]["kind"] == "dcp-tensor"
    assert isinstance(refuted["convex"]["witness"]["a"]["x"], list)
    for document in (convex, refuted):
        assert problems(document, "expr") == []


def test_every_committed_certificate_follows_the_certificate_schema() -> None:
    paths = sorted((ROOT / "proofs").glob("*.json"))
    assert len(paths) >= 20
    kinds = set()
    for path in paths:
        document = json.loads(path.read_text())
        assert problems(document, "certificate") == [], path.name
        kinds.add(document.get("certificate", {}).get("kind", "witness"))
    assert {"dcp", "dcp-tensor", "hessian", "sos", "witness"} <= kinds


def test_written_certificates_follow_the_certificate_schema(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "certs"
    cli_json(capsys, "expr", "x**2 - y**2", "--json", "--certificates", str(target))
    cli_json(capsys, "expr", "exp(x)/y", "--var", "y=positive", "--json",
             "--certificates", str(tmp_path / "hessian"))  # fmt: skip
    written = sorted(target.glob("*.json")) + sorted((tmp_path / "hessian").glob("*.json"))
    assert len(written) >= 3
    for path in written:
        assert problems(json.loads(path.read_text()), "certificate") == [], path.name


def test_proofs_and_explain_json_follow_their_schemas(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = cli_json(capsys, "proofs", "verify", str(ROOT / "proofs"), "--json")
    assert report["format"] == FORMATS["proofs"] and problems(report, "proofs") == []
    topics = cli_json(capsys, "explain", "--json")
    assert problems(topics, "explain") == []
    topic = cli_json(capsys, "explain", "xy-saddle", "--json")
    assert topic["format"] == FORMATS["explain"] and problems(topic, "explain") == []


@pytest.mark.parametrize("model", ["logistic_head.py", "relu_mlp.py"])
def test_model_json_follows_the_model_schema(
    capsys: pytest.CaptureFixture[str], model: str
) -> None:
    pytest.importorskip("torch")
    document = cli_json(
        capsys, "model", str(ROOT / "examples" / "models" / model), "--json", "--expect", "convex"
    )
    assert document["format"] == FORMATS["model"]
    assert document["convex"]["answer"] == ("yes" if model == "logistic_head.py" else "no")
    assert problems(document, "model") == []


# ---------------------------------------------------------------------------------------------
# The schemas are strict where a consumer relies on them
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def refuted_expr() -> dict[str, Any]:
    import convexcheck as cc

    return cc.check("x*y").to_dict()


@pytest.fixture(scope="module")
def proved_expr() -> dict[str, Any]:
    import convexcheck as cc

    return cc.check("exp(x) + x**2").to_dict()


def _broken(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(document)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


BREAKAGES = [
    (("convex", "witness", "a", "x"), 0.5, "a float coordinate (not exact)"),
    (("convex", "witness", "t"), "half", "t that is not a number"),
    (("convex", "witness", "b"), KeyError, "a witness without b"),
    (("convex", "answer"), "maybe", "an answer outside yes/no/unknown"),
    (("curvature",), "mostly convex", "a curvature outside the five words"),
    (("format",), "convexcheck-expr/2", "another revision of the format"),
    (("format",), KeyError, "no format"),
    (("variables", "x"), 3, "a domain that is not a word"),
]


@pytest.mark.parametrize(("path", "value", "what"), BREAKAGES, ids=[w for *_, w in BREAKAGES])
def test_the_expr_schema_rejects_a_broken_witness_document(
    refuted_expr: dict[str, Any], path: tuple[Any, ...], value: Any, what: str
) -> None:
    assert problems(refuted_expr, "expr") == []
    assert problems(_broken(refuted_expr, path, value), "expr"), what


def test_a_yes_without_its_certificate_and_an_unknown_without_evidence_are_rejected(
    proved_expr: dict[str, Any],
) -> None:
    assert problems(proved_expr, "expr") == []
    assert problems(_broken(proved_expr, ("convex", "certificate"), KeyError), "expr")
    unknown = _broken(proved_expr, ("convex", "answer"), "unknown")
    unknown["convex"].pop("certificate")
    assert any("evidence" in line for line in problems(unknown, "expr"))
    bad_kind = _broken(proved_expr, ("convex", "certificate", "kind"), "trust-me")
    assert problems(bad_kind, "expr")
    no_nodes = _broken(proved_expr, ("convex", "certificate", "nodes"), [])
    assert problems(no_nodes, "expr")


def test_the_model_schema_rejects_unknown_reason_kinds_and_a_witness_without_losses() -> None:
    document = {
        "format": FORMATS["model"],
        "convex": {
            "answer": "no",
            "method": "jensen",
            "summary": "",
            "witness": {"t": 0.5, "loss_a": 1.0, "loss_b": 1.0, "loss_at_t": 2.0},
        },
        "wrt": "parameters",
        "trainable_parameters": {"count": 3},
        "jensen": {},
        "hessian": {"min_eigenvalue": -1.0, "max_eigenvalue": None},
        "reasons": [{"kind": "rescaling_symmetry", "detail": "units scaled by 2 and 1/2"}],
        "seed": 0,
        "device": "cpu",
    }
    assert problems(document, "model") == []
    assert problems(_broken(document, ("reasons", 0, "kind"), "vibes"), "model")
    assert problems(_broken(document, ("convex", "witness", "loss_at_t"), KeyError), "model")
    assert problems(_broken(document, ("convex", "witness", "t"), 1.0), "model")
    assert problems(_broken(document, ("wrt",), "weights"), "model")


def test_the_certificate_schema_rejects_an_unknown_answer_and_a_bare_tensor_witness() -> None:
    document = json.loads((ROOT / "proofs" / "bilinear.json").read_text())
    assert problems(document, "certificate") == []
    assert problems(_broken(document, ("answer",), "unknown"), "certificate")
    assert problems(_broken(document, ("witness", "kind"), "jensen-tensor"), "certificate")
    assert problems(_broken(document, ("question",), "convexity"), "certificate")


# ---------------------------------------------------------------------------------------------
# The validation hook
# ---------------------------------------------------------------------------------------------


def test_emit_json_validates_only_when_asked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = {"format": FORMATS["expr"], "expression": "x"}
    monkeypatch.setenv(VALIDATE_ENV, "1")
    with pytest.raises(SchemaViolation, match="curvature"):
        emit_json(broken, "expr")
    assert capsys.readouterr().out == ""  # nothing half-written
    monkeypatch.setenv(VALIDATE_ENV, "0")
    emit_json(broken, "expr")
    assert json.loads(capsys.readouterr().out) == broken


def test_a_document_that_breaks_its_schema_is_an_internal_error_on_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from convexcheck.result import CheckResult

    original = CheckResult.to_dict

    def drifted(self: CheckResult) -> dict[str, Any]:
        out = original(self)
        out["curvature"] = "convexish"
        return out

    monkeypatch.setattr(CheckResult, "to_dict", drifted)
    assert main(["expr", "x**2", "--json"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "does not follow its schema" in captured.err


def test_validate_names_the_path_of_the_first_problem(refuted_expr: dict[str, Any]) -> None:
    with pytest.raises(SchemaViolation, match=r"\$\.convex\.witness\.a\.x"):
        validate(_broken(refuted_expr, ("convex", "witness", "a", "x"), 0.5), "expr")
    with pytest.raises(ValueError, match="unknown schema"):
        schema("verdict")
