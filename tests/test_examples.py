"""Every runnable example in ``examples/`` runs, exits 0 and still prints what it claims.

Each example runs in a fresh interpreter (``sys.executable``), as a user would run it. The checks
read the lines that would change if the example or the library broke: verdict words, methods,
and numbers compared with what they must equal (a measured shift with ``2 lambda``, a solver's
optimum with the closed-form bound, a hand re-check with the witness). The example pytest file
``examples/test_custom_loss.py`` is outside ``testpaths``, so it is run here under pytest too,
and the two model files through the CLI with both ``--expect`` values.

The whole file takes about 30 s on a 2-core CPU (most of it importing torch in each process).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TIMEOUT_S = 120
FLOAT = r"(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)"


def run(*args: str) -> subprocess.CompletedProcess:
    """``python ARGS`` from the repository root, non-interactive, with a generous timeout."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=env,
    )


def run_ok(*args: str) -> str:
    p = run(*args)
    assert p.returncode == 0, f"exit status {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p.stdout


def numbers(pattern: str, text: str) -> list[tuple[float, ...]]:
    """All matches of ``pattern`` (with ``FLOAT`` groups) in ``text``, as float tuples."""
    found = [tuple(float(g) for g in m.groups()) for m in re.finditer(pattern, text)]
    assert found, f"no line matches {pattern!r} in:\n{text}"
    return found


SCRIPTS = {
    "check_losses.py",
    "mlp_explained.py",
    "logistic_vs_mlp.py",
    "cvxpy_interop.py",
    "sos_quartic.py",
    "l2_spectrum.py",
    "icnn_inputs.py",
    "test_custom_loss.py",
    "models/relu_mlp.py",
    "models/logistic_head.py",
}


def test_every_example_is_covered_here():
    present = {p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.py")}
    assert present == SCRIPTS, "add new examples to tests/test_examples.py"


def test_check_losses():
    out = run_ok("examples/check_losses.py")
    rows = {line[:32].strip(): line[32:].split() for line in out.splitlines()[1:18] if line}
    assert rows["logistic loss, one sample"][:2] == ["convex", "dcp/jensen-witness"]
    assert rows["Huber loss"][0] == "convex"
    assert rows["geometric mean"][0] == "concave"
    assert rows["log-cosh loss"][:2] == ["convex", "hessian/jensen-witness"]
    assert rows["a quartic (SOS-convex)"][:2] == ["convex", "sos/jensen-witness"]
    assert rows["one sigmoid unit (trap)"][0] == "neither"
    assert rows["two-layer linear net (trap)"][0] == "neither"
    assert "CVXPY form of the logistic loss: logistic(" in out and "is_dcp: True" in out
    assert "top rule: norm2" in out


def test_mlp_explained_with_a_report(tmp_path):
    report = tmp_path / "mlp.md"
    out = run_ok("examples/mlp_explained.py", "--report", str(report))
    assert "convex: no (jensen)" in out
    assert "41 trainable parameters" in out
    ((gap,),) = numbers(rf"\n  gap += {FLOAT}\n", out)
    ((margin,),) = numbers(rf"\n  margin += {FLOAT} ", out)
    assert gap > margin > 0
    # the hand re-check from the saved state dicts reproduces the witness's gap
    ((hand_gap,),) = numbers(rf"by hand .* gap = {FLOAT}\n", out)
    assert hand_gap == pytest.approx(gap, rel=1e-4)
    ((lam_min, lam_max),) = numbers(rf"lambda_min = {FLOAT} .*lambda_max = {FLOAT}", out)
    assert lam_min < 0 < lam_max
    for kind in ("permutation_symmetry", "multiplicative_weights", "rescaling_symmetry"):
        assert f"  {kind} (witnessed in float64):" in out
    for midpoint_gap, reason_margin in numbers(rf"midpoint_gap = {FLOAT} > margin = {FLOAT}", out):
        assert midpoint_gap > reason_margin
    ((low, high),) = numbers(rf"its eigenvalues: {FLOAT} < 0 < {FLOAT}", out)
    assert low < 0 < high
    text = report.read_text()
    assert "Convex in the trainable parameters: no" in text
    assert "permutation_symmetry" in text


def test_logistic_vs_mlp():
    out = run_ok("examples/logistic_vs_mlp.py")
    first, rest = out.split("\n2. ")
    second, third = rest.split("\n3. ")
    assert "convex: yes (structural)" in first
    assert "binary_cross_entropy_with_logits" in first
    assert "convex" in first.split("binary_cross_entropy_with_logits")[1]
    assert "convex: no (jensen)" in second
    ((gap, margin),) = numbers(rf"gap {FLOAT} > margin {FLOAT}", second)
    assert gap > margin
    assert "curvature: convex; convex: yes (dcp)" in third
    assert "pattern:logistic" in third
    assert "deeper nodes omitted: all affine or constant" in third
    ((closed, torch_loss),) = numbers(
        rf"closed form = {FLOAT}, torch BCEWithLogitsLoss = {FLOAT}", third
    )
    assert closed == pytest.approx(torch_loss, abs=2e-6)
    assert "log(1 + exp(-(w*x + b))) is neither: convex: no" in third


def test_cvxpy_interop():
    out = run_ok("examples/cvxpy_interop.py")
    rows = [line for line in out.splitlines() if "CVXPY is_dcp:" in line]
    assert len(rows) == 6
    for row in rows:
        assert "CVXPY is_dcp: False" in row and "convexcheck: convex" in row
        assert "to_cvxpy is_dcp: True" in row
    for (difference,) in numbers(rf"max \|difference\| on 5 points: {FLOAT}", out):
        assert difference < 1e-9
    assert "is_dcp = True" in out and "optimal with Clarabel" in out
    ((optimum,),) = numbers(rf"optimum {FLOAT} at w1", out)
    ((natural,),) = numbers(rf"at that point: {FLOAT}", out)
    assert natural == pytest.approx(optimum, abs=1e-5)
    ((value, y, bound),) = numbers(
        rf"optimum {FLOAT} at y = {FLOAT}; AM-GM bound 2\|x\| = {FLOAT}", out
    )
    assert value == pytest.approx(bound, abs=1e-4) and y == pytest.approx(3.0, abs=1e-2)


def test_sos_quartic():
    out = run_ok("examples/sos_quartic.py")
    blocks = out.split("f = ")[1:]
    assert len(blocks) == 2
    for block in blocks:
        assert "DCP alone: convex unknown" in block
        assert "SOS: convex yes (sos)" in block
        assert "exact Gram matrix Q" in block
        assert "independent checker (re-derives the Hessian form, exact LDL^T of Q): ok" in block
        assert "forged certificate (Q[0][0] + 1): rejected" in block
        for eigenvalues in re.findall(r"eigenvalues of Q .*: \[(.*)\]", block):
            assert min(float(v) for v in eigenvalues.split(",")) > 0
    assert "convex proved by 'hessian'" in blocks[0]
    assert "convex proved by 'sos'" in blocks[1]
    assert "stage hessian  settled nothing" in blocks[1]


def test_l2_spectrum_with_a_plot(tmp_path):
    plot = tmp_path / "spectrum.png"
    out = run_ok("examples/l2_spectrum.py", "--plot", str(plot))
    shifts = numbers(
        rf"lambda = {FLOAT}: lambda_min {FLOAT}, lambda_max {FLOAT}; measured shift {FLOAT} "
        rf"\(min\), {FLOAT} \(max\); 2\*lambda = {FLOAT}",
        out,
    )
    assert [s[0] for s in shifts] == [0.01, 0.1, 0.1, 0.5]
    for lam, _, _, shift_min, shift_max, two_lambda in shifts:
        assert two_lambda == pytest.approx(2 * lam)
        assert shift_min == pytest.approx(2 * lam, abs=1e-4)
        assert shift_max == pytest.approx(2 * lam, abs=1e-4)
    assert out.count("convex yes (structural; penalty:") == 2
    for (deviation,) in numbers(rf"moved by 2\*lambda within {FLOAT};", out):
        assert deviation < 1e-10
    assert "Hessian still indefinite here" in out
    assert "Hessian positive definite here" in out
    assert (
        "3. is the MLP's loss convex with lambda = 0.5? (check_model, seed 0)\n   convex: no" in out
    )
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_icnn_inputs():
    out = run_ok("examples/icnn_inputs.py")
    icnn, mlp = out.split("== MLP with tanh")
    assert "convex in its inputs? yes" in icnn and "F.softplus" in icnn
    assert "equals your program at 6 probe points" in icnn
    assert "convex in its inputs? no" in mlp
    ((gap, margin),) = numbers(rf"Jensen gap {FLOAT} > rounding margin {FLOAT}", mlp)
    assert gap > margin
    assert "nonconvex_activation" in mlp


def test_custom_loss_example_passes_under_pytest():
    path = EXAMPLES / "test_custom_loss.py"
    expected = len(re.findall(r"^def test_", path.read_text(), flags=re.M))
    p = run("-m", "pytest", str(path), "-q", "-p", "no:cacheprovider")
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert f"{expected} passed" in p.stdout, p.stdout[-2000:]
    assert "skipped" not in p.stdout


@pytest.mark.parametrize(
    ("command", "expect", "answer", "status"),
    [
        (["model", "examples/models/relu_mlp.py"], "nonconvex", "no", 0),
        (["model", "examples/models/relu_mlp.py"], "convex", "no", 1),
        (["examples/models/logistic_head.py"], "convex", "yes", 0),
        (["examples/models/logistic_head.py"], "nonconvex", "yes", 1),
    ],
)
def test_model_files_through_the_cli(command, expect, answer, status):
    p = run("-m", "convexcheck", *command, "--expect", expect, "--json")
    assert p.returncode == status, p.stdout[-2000:] + p.stderr[-2000:]
    data = json.loads(p.stdout)
    assert data["convex"]["answer"] == answer
    assert data["expect"] == {"value": expect, "established": status == 0}
    if answer == "yes":
        assert data["convex"]["method"] == "structural"
        assert data["trainable_parameters"]["frozen"] == ["0.0.weight", "0.0.bias"]
    else:
        witness = data["convex"]["witness"]
        assert witness["gap"] > witness["margin"]
