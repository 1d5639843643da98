"""`convexcheck model FILE` (cli/model.py) end to end, in subprocesses, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "tests" / "numeric" / "models"


def run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "convexcheck", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_model_json_witness_out_and_expect(tmp_path) -> None:
    out = tmp_path / "w.pt"
    proc = run(
        "model", str(MODELS / "mlp.py"), "--json", "--expect", "nonconvex",
        "--witness-out", str(out), "--device", "cpu",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["convex"]["answer"] == "no"
    for key in ("trainable_parameters", "jensen", "hessian", "reasons"):
        assert key in payload
    assert {"min_eigenvalue", "max_eigenvalue"} <= set(payload["hessian"])
    assert payload["expect"] == {"value": "nonconvex", "established": True}
    assert all("kind" in r for r in payload["reasons"])
    saved = torch.load(out, weights_only=True)
    assert saved["t"] == payload["convex"]["witness"]["t"]
    assert set(saved["a"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_bare_file_form_text_output_and_expect_convex_fails() -> None:
    proc = run(str(MODELS / "mlp.py"), "--expect", "convex")
    assert proc.returncode == 1
    assert "convex: no" in proc.stdout and "witness" in proc.stdout


def test_module_level_names_and_prints_go_to_stderr(tmp_path) -> None:
    report = tmp_path / "r.md"
    proc = run("model", str(MODELS / "linear.py"), "--json", "--report", str(report))
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)  # the model file's print() did not end up here
    assert payload["convex"]["answer"] in {"yes", "unknown"}
    assert "goes to stderr" in proc.stderr
    text = report.read_text()
    assert text.startswith("# convexcheck") and "Convex in the trainable parameters" in text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("does_not_exist.py", "model file not found"),
        ("raises.py", "importing raises.py raised ValueError: dataset not found"),
        ("nonscalar.py", "must return a scalar"),
        ("missing.py", "does not define loss_fn, data"),
        ("dropout.py", "Dropout in training mode"),
    ],
)
def test_bad_model_files_exit_2_with_one_line(name: str, message: str) -> None:
    proc = run("model", str(MODELS / name), "--json")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("convexcheck: error:")
    assert message in lines[0]
    assert proc.stdout == ""


def test_a_report_path_that_is_not_md_or_html_is_refused_before_any_work(tmp_path) -> None:
    proc = run("model", str(MODELS / "linear.py"), "--report", str(tmp_path / "r.txt"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("convexcheck: error: --report expects a .md or .html path")
    assert not (tmp_path / "r.txt").exists()


def test_expr_still_does_not_import_torch() -> None:
    code = (
        "import sys; from convexcheck.cli import main; rc = main(['expr', 'x**2', '--json']); "
        "assert 'torch' not in sys.modules, 'torch imported'; "
        "import convexcheck; convexcheck.__dir__(); assert 'torch' not in sys.modules; "
        "sys.exit(rc)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["curvature"] == "convex"
