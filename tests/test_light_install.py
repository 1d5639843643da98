"""The base install (no torch, no matplotlib) does every closed-form job, and a model feature
stops with one line that names the extra to install.

A fresh ``pip install -e .`` has neither library. Uninstalling them here would break the rest of
the suite, so each case runs in a child interpreter whose first import finder refuses ``torch``
and ``matplotlib``: every ``import torch`` there raises ``ModuleNotFoundError`` with
``name="torch"``, as on a machine where torch was never installed. (Mapping them to ``None`` in
``sys.modules`` is not the same: SciPy probes ``sys.modules["torch"]`` and trips over ``None``.)
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = """\
import sys


class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "matplotlib"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
"""
HINT = "needs torch: pip install 'convexcheck[torch]'"


def run_without_extras(code: str, *, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def cli_without_extras(*argv: str) -> subprocess.CompletedProcess[str]:
    return run_without_extras(f"from convexcheck.cli import main\nsys.exit(main({list(argv)!r}))")


def test_closed_forms_and_cvxpy_need_neither_torch_nor_matplotlib():
    done = run_without_extras(
        """
        import cvxpy as cp
        import convexcheck as cc
        assert cc.check("x**2/y", variables={"y": "positive"}).curvature == "convex"
        x = cp.Variable(3)
        assert cc.check(cp.sum_squares(x) + cp.norm1(x)).convex.answer == "yes"
        cc.assert_convex("log(1 + exp(x))")
        print("ok")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_closed_form_example_runs_without_torch():
    done = run_without_extras(
        "import runpy\nrunpy.run_path('examples/check_losses.py', run_name='__main__')"
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_expr_and_topic_list_work_without_torch():
    expr = cli_without_extras("expr", "x**2 + exp(y)", "--json")
    assert expr.returncode == 0, expr.stderr
    assert '"curvature": "convex"' in expr.stdout
    topics = cli_without_extras("explain")
    assert topics.returncode == 0, topics.stderr
    assert "why-nn-nonconvex" in topics.stdout


@pytest.mark.parametrize(
    ("argv", "feature"),
    [
        (("model", "examples/models/logistic_head.py"), "convexcheck model"),
        (("examples/models/logistic_head.py",), "convexcheck model"),
        (("explain", "why-nn-nonconvex"), "convexcheck explain"),
    ],
)
def test_a_model_feature_without_torch_is_one_line_and_exit_2(argv, feature):
    done = cli_without_extras(*argv)
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert lines == [f"convexcheck: error: {feature} {HINT}"], done.stderr


def test_the_api_raises_one_clear_error_without_torch():
    done = run_without_extras(
        """
        import convexcheck as cc
        from convexcheck.errors import MissingDependencyError
        for call in (
            lambda: cc.check_model(None, None, None),
            lambda: cc.assert_model_convex(None, None, None),
            lambda: cc.hessian_extremes(None, None, None),
            lambda: cc.hessian_density(None, None, None),
        ):
            try:
                call()
            except MissingDependencyError as exc:
                assert isinstance(exc, ModuleNotFoundError) and exc.name == "torch"
                print(exc)
            else:
                raise SystemExit("no error")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"convexcheck.check_model {HINT}",
        f"assert_model_convex {HINT}",
        f"convexcheck.hessian_extremes {HINT}",
        f"convexcheck.hessian_density {HINT}",
    ]


def test_a_report_without_matplotlib_names_the_report_extra(tmp_path):
    done = cli_without_extras("expr", "x**2", "--report", str(tmp_path / "r.html"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "convexcheck: error: convexcheck expr needs matplotlib: pip install 'convexcheck[report]'"
    )
    assert not (tmp_path / "r.html").exists()


def test_schemas_and_progress_need_no_torch():
    """The schema of model documents lists the reason kinds without importing torch, and a
    closed-form check reports progress in the base install."""
    schema = cli_without_extras("schema", "model")
    assert schema.returncode == 0, schema.stderr
    assert '"convexcheck-model/1"' in schema.stdout and "rescaling_symmetry" in schema.stdout
    done = run_without_extras(
        """
        import convexcheck as cc
        events = []
        assert cc.check("exp(x)", progress=events.append).convex.answer == "yes"
        assert events[0].stage == "Reading the expression"
        print("ok")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
