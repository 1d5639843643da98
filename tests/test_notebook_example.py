"""``examples/tour.ipynb`` runs in a real Jupyter kernel and displays the verdicts it explains.

The notebook is executed once per module with ``jupyter nbconvert --to notebook --execute``, in
this interpreter (a temporary ``python3`` kernelspec points at ``sys.executable``, and
``PYTHONPATH`` at this checkout), into ``tmp_path``; the committed file is never rewritten. The
tests then read the executed copy with nbformat: every code cell ran without an error, every
result cell displayed the HTML fragment of ``_repr_html_``, and that HTML states the facts the
markdown around it explains (a verdict that changed, or a cell that broke, fails here). The
committed notebook itself must stay clean: no outputs, no execution counts, kernelspec
``python3``.

nbconvert, nbformat and ipykernel are in the ``[test]`` extra; without them this module fails
with the command that installs them rather than skipping. About 10 s on a 2-core CPU, most of it
starting the kernel and importing torch.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "tour.ipynb"
CELL_TIMEOUT_S = 300
RUN_TIMEOUT_S = 900
RUNNER = ("nbconvert", "nbformat", "nbclient", "ipykernel", "jupyter_client")
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the colours of an IPython traceback
FLOAT = r"(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)"

# the cell id of each displayed result, and what its HTML must say
EXPECTED_HTML: dict[str, tuple[str, ...]] = {
    "softplus": (
        "<code>log(1 + exp(x))</code>",
        'convex: <strong class="yes">yes</strong> (dcp)',
        "top rule: logistic",
        'concave: <strong class="no">no</strong> (jensen-witness)',
    ),
    "quartic": (
        "curvature: neither",
        'convex: <strong class="no">no</strong> (jensen-witness)',
        "Witness that it is not convex",
        "exact rational arithmetic",
        '<img class="plot" alt="convex witness segment" src="data:image/png;base64,',
    ),
    "xlogx-real": (
        "on x in real",
        'convex: <strong class="unknown">unknown</strong>',
        "Why convex is not proved",
    ),
    "xlogx-positive": (
        "on x in positive",
        'convex: <strong class="yes">yes</strong> (dcp)',
        "top rule: xlogx",
    ),
    "lasso": (
        "on w [5] in real",
        'convex: <strong class="yes">yes</strong> (dcp)',
        "multiply(0.1, ",  # the Parameter is checked as the value it holds
    ),
    "logistic": (
        'Convex in the trainable parameters: <strong class="yes">yes</strong> (structural)',
        "trainable parameters: 3 in 2 tensors",
        "re-derived by the independent certificate checker",
    ),
    "mlp": (
        'Convex in the trainable parameters: <strong class="no">no</strong> (jensen)',
        "trainable parameters: 33 in 4 tensors",
        "Witness: a Jensen violation, verified in float64",
        "rescaling_symmetry",
    ),
}
MODEL_CELLS = {"logistic", "mlp"}


def _require_runner() -> None:
    missing = [name for name in RUNNER if importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(
            f"the notebook runner is missing ({', '.join(missing)}): these modules are in the "
            "[test] extra, so install it with  python -m pip install -e '.[test]'",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The executed notebook, as nbformat read it."""
    _require_runner()
    import nbformat

    work = tmp_path_factory.mktemp("tour")
    # a python3 kernel in this interpreter, whatever kernelspecs the machine has installed
    # (JUPYTER_PATH is searched before the user and system data directories)
    spec = work / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    env = {
        **os.environ,
        "JUPYTER_PATH": str(work / "jupyter"),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    }
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--allow-errors",  # the executed copy is written anyway, so a failure names its cell
        f"--ExecutePreprocessor.timeout={CELL_TIMEOUT_S}",
        "--ExecutePreprocessor.kernel_name=python3",
        "--output-dir",
        str(work),
        "--output",
        "tour.executed",
        str(NOTEBOOK),
    ]
    p = subprocess.run(
        command, cwd=work, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    assert p.returncode == 0, (
        f"nbconvert exited {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    )
    out = work / "tour.executed.ipynb"
    assert out.is_file(), p.stderr[-3000:]
    return nbformat.read(out, as_version=4)


def _code_cells(nb: dict) -> dict[str, dict]:
    return {cell["id"]: cell for cell in nb["cells"] if cell["cell_type"] == "code"}


def _html(cell: dict) -> str:
    found = [o["data"]["text/html"] for o in cell["outputs"] if "text/html" in o.get("data", {})]
    assert len(found) == 1, f"cell {cell['id']!r} displayed {len(found)} HTML outputs"
    return found[0]


def test_the_committed_notebook_is_clean():
    nb = json.loads(NOTEBOOK.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    assert code
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None, cell["id"]
    ids = [cell["id"] for cell in nb["cells"]]
    assert len(set(ids)) == len(ids)
    assert set(EXPECTED_HTML) <= {cell["id"] for cell in code}


def test_every_code_cell_ran_without_an_error(executed):
    cells = list(_code_cells(executed).values())
    failed = [
        f"cell {cell['id']!r} raised {o['ename']}: {o['evalue']}\n"
        + ANSI.sub("", "\n".join(o["traceback"]))[-2000:]
        for cell in cells
        for o in cell["outputs"]
        if o["output_type"] == "error"
    ]
    assert not failed, "\n\n".join(failed)
    assert [cell["execution_count"] for cell in cells] == list(range(1, len(cells) + 1))


@pytest.mark.parametrize("cell_id", sorted(EXPECTED_HTML))
def test_each_result_displays_its_verdict_as_html(executed, cell_id):
    cell = _code_cells(executed)[cell_id]
    html = _html(cell)
    assert html.startswith('<div class="convexcheck">') and html.rstrip().endswith("</div>")
    for fact in EXPECTED_HTML[cell_id]:
        assert fact in html, f"cell {cell_id!r}: {fact!r} not in its HTML"
    (plain,) = [
        o["data"]["text/plain"] for o in cell["outputs"] if "text/plain" in o.get("data", {})
    ]
    kind = "ModelCheckResult(" if cell_id in MODEL_CELLS else "CheckResult("
    assert plain.startswith(kind)


def test_the_witness_rechecked_by_hand_matches_the_displayed_gap(executed):
    cells = _code_cells(executed)
    (output,) = [o for o in cells["recheck"]["outputs"] if o["output_type"] == "execute_result"]
    m = re.fullmatch(r"\(Fraction\((\d+), (\d+)\), True, True\)", output["data"]["text/plain"])
    assert m, output["data"]["text/plain"]
    gap = Fraction(int(m[1]), int(m[2]))
    assert gap > 0
    # the quartic's HTML states the same exact gap
    assert f"by {gap.numerator}/{gap.denominator} (~" in _html(cells["quartic"])


def test_the_mlp_witness_gap_exceeds_its_rounding_margin(executed):
    html = _html(_code_cells(executed)["mlp"])
    ((gap, margin),) = re.findall(rf"Jensen gap {FLOAT} &gt; rounding margin {FLOAT}", html)
    assert float(gap) > float(margin) > 0
