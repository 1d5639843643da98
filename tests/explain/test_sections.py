"""One description, four backends: every fact of every section reaches text, the terminal,
Markdown and HTML; the evidence records round-trip the producers' dicts byte for byte; the
result modules and the renderers do not import each other."""

from __future__ import annotations

import ast
import dataclasses
import html
import io
import json
from pathlib import Path

import pytest

import convexcheck as cc
from convexcheck.evidence import (
    ClosedFormEvidence,
    ExactWitness,
    HessianExtremes,
    ModelEvidence,
    ModelWitness,
    TrainableParameters,
)
from convexcheck.explain.describe import describe_check
from convexcheck.explain.html import render_html
from convexcheck.explain.markdown import render_markdown
from convexcheck.explain.sections import Kind, Section, document_heading, plain
from convexcheck.explain.terminal import print_sections
from convexcheck.explain.text import render_text
from convexcheck.result import Verdict

ROOT = Path(__file__).resolve().parents[2]


def _terminal(sections: list[Section]) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    print_sections(sections, Console(file=buffer, width=10_000, soft_wrap=True, color_system=None))
    return buffer.getvalue()


def _assert_same_facts(sections: list[Section]) -> None:
    text = render_text(sections)
    terminal = _terminal(sections)
    markdown = render_markdown("report", sections)
    page = render_html("report", "report", sections)
    assert sections
    for s in sections:
        heading, rest = document_heading(s)
        if heading:
            assert heading in markdown and html.escape(heading) in page, heading
        skipped = len(s.lines) - len(rest)  # an opening line that became the heading
        for index, line in enumerate(s.lines):
            shown = plain(line)
            assert shown in text.splitlines(), shown
            assert shown in terminal.splitlines(), shown
            row = line.verdict
            if row is not None:
                assert f"**{row.label}: {row.answer}** ({row.method}) {row.summary}" in markdown
                assert f'<strong class="{row.answer}">{row.answer}</strong>' in page
                assert html.escape(row.summary) in page and html.escape(row.label) in page
                continue
            if index < skipped:
                assert heading.replace("`", "") in line.text  # shown as the heading
                continue
            assert line.text in markdown, line.text
            assert html.escape(line.text) in page, line.text


CLOSED_FORMS = [
    ("log(1 + exp(x))", None, {Kind.CERTIFICATE, Kind.WITNESS, Kind.DERIVATION}),
    ("x*y", None, {Kind.WITNESS}),
    ("x*exp(x) + Abs(x - 1)", {"x": "[0, 5]"}, {Kind.WHY_NOT_PROVED, Kind.WITNESS}),
]


@pytest.mark.parametrize(("expression", "variables", "kinds"), CLOSED_FORMS)
def test_closed_form_facts_reach_every_backend(expression, variables, kinds) -> None:
    result = cc.check(expression, variables)
    sections = describe_check(result, expect="convex")
    assert kinds <= {s.kind for s in sections}
    _assert_same_facts(sections)
    assert render_text(describe_check(result)) == result.explain()


def test_explain_keeps_the_facts_of_a_witness_and_of_the_evidence() -> None:
    text = cc.check("x*exp(x) + Abs(x - 1)", {"x": "[0, 5]"}).explain()
    assert "DCP premise that failed: a product of non-constant factors (x, exp(x))" in text
    assert "stages tried: dcp, witness, hessian, sos" in text
    assert "hessian: not proved: not twice differentiable everywhere (Abs)" in text
    result = cc.check("sin(x)")
    text = result.explain()
    witness = result.convex.witness
    for key in ("f_a", "f_b", "f_at_t", "gap"):  # exact endpoints, not only the rounding
        assert witness[key] in text
    assert f"t = {witness['t']}" in text and "seed 0" in text


@pytest.fixture(scope="module")
def model_results():
    torch = pytest.importorskip("torch")
    from torch import nn

    torch.manual_seed(0)
    inputs, targets = torch.randn(16, 2), torch.randn(16, 1)
    linear = cc.check_model(nn.Linear(2, 1), nn.MSELoss(), (inputs, targets), device="cpu")
    mlp = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    relu = cc.check_model(mlp, nn.MSELoss(), (inputs, targets), device="cpu")
    return {"linear": linear, "mlp": relu}


def test_model_facts_reach_every_backend(model_results) -> None:
    from convexcheck.explain.describe_model import describe_model

    linear, mlp = model_results["linear"], model_results["mlp"]
    assert linear.convex.answer == "yes" and mlp.convex.answer == "no"
    for result in (linear, mlp):
        sections = describe_model(result, arguments=True)
        _assert_same_facts(sections)
        assert render_text(describe_model(result)) == result.explain()
    kinds = {s.kind for s in describe_model(mlp)}
    assert {Kind.VERDICTS, Kind.SUBJECT, Kind.WITNESS, Kind.HESSIAN, Kind.REASONS} <= kinds
    assert Kind.CERTIFICATE in {s.kind for s in describe_model(linear)}


# -- typed evidence ------------------------------------------------------------------------------
def _same_json(record_cls, data) -> None:
    record = record_cls.from_dict(data)
    assert json.dumps(record.to_dict()) == json.dumps(data)
    assert dict(record) == data and record == data  # reads like the dict it stands for


def test_closed_form_evidence_round_trips_byte_for_byte() -> None:
    result = cc.check("x*exp(x) + Abs(x - 1)", {"x": "[0, 5]"})
    _same_json(ClosedFormEvidence, result.convex.evidence)
    _same_json(ExactWitness, result.concave.witness)
    typed = ClosedFormEvidence.from_dict(result.convex.evidence)
    assert typed.hessian is not None and typed.hessian.reason.startswith("not twice")
    assert typed.failed_premises == result.convex.evidence["dcp"]["failed_premises"]
    # a producer may hand the record itself to the verdict: the JSON does not change
    v = result.concave
    typed_verdict = Verdict.refuted(
        "concave", v.method, v.summary, ExactWitness.from_dict(v.witness)
    )
    assert json.dumps(typed_verdict.to_dict()) == json.dumps(v.to_dict())
    assert typed_verdict.witness["t"] == v.witness["t"]


def test_model_evidence_round_trips_byte_for_byte(model_results) -> None:
    mlp, linear = model_results["mlp"], model_results["linear"]
    _same_json(ModelWitness, mlp.convex.witness)
    _same_json(HessianExtremes, mlp.hessian)
    _same_json(TrainableParameters, mlp.trainable_parameters)
    _same_json(HessianExtremes, linear.hessian)
    _same_json(ModelEvidence, {"pairs_tried": 3, "largest_relative_gap": None, "families": []})
    # a producer may hand the records to the result: the --json object does not change
    typed = dataclasses.replace(
        mlp,
        hessian=HessianExtremes.from_dict(mlp.hessian),
        trainable_parameters=TrainableParameters.from_dict(mlp.trainable_parameters),
    )
    assert json.dumps(typed.to_dict(), default=str) == json.dumps(mlp.to_dict(), default=str)
    assert typed.explain() == mlp.explain()


# -- no cycle between the results and their renderers ------------------------------------------
def _imports(path: Path) -> list[tuple[str, bool, bool]]:
    """(module, inside a function, under TYPE_CHECKING) for each package import in ``path``."""
    tree = ast.parse(path.read_text())
    out: list[tuple[str, bool, bool]] = []

    def walk(node: ast.AST, in_function: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ImportFrom) and (child.module or "").startswith("convexcheck"):
                out.append((child.module or "", in_function, typing_only))
            elif isinstance(child, ast.Import):
                out.extend((a.name, in_function, typing_only) for a in child.names)
            guarded = isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
            walk(
                child,
                in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)),
                typing_only or guarded,
            )

    walk(tree, False, False)
    return out


RENDERERS = [
    "sections", "describe", "describe_model", "text", "terminal", "markdown", "html", "report",
]  # fmt: skip


@pytest.mark.parametrize("name", RENDERERS)
def test_renderers_import_the_results_for_annotations_only(name: str) -> None:
    path = ROOT / "convexcheck" / "explain" / f"{name}.py"
    for module, _, typing_only in _imports(path):
        if module in ("convexcheck.result", "convexcheck.numeric.model_result"):
            assert typing_only, f"{name}.py imports {module} at run time"


@pytest.mark.parametrize("name", ["result.py", "numeric/model_result.py"])
def test_results_import_renderers_only_inside_their_convenience_methods(name: str) -> None:
    for module, in_function, typing_only in _imports(ROOT / "convexcheck" / name):
        if module.startswith(("convexcheck.explain", "convexcheck.symbolic", "convexcheck.tensor")):
            assert in_function or typing_only, f"{name} imports {module} at module level"
