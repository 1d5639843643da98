"""The pytest plugin, exercised the way a user meets it: a suite in a fresh directory, run by
pytest in a subprocess, with the plugin loaded only through the installed ``pytest11`` entry
point (no conftest, no ``-p`` option)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from importlib.metadata import entry_points
from pathlib import Path

import pytest

USER_SUITE = """
import pytest
import convexcheck as cc


def test_softplus_is_convex():
    cc.assert_convex("log(1 + exp(x))")


def test_my_loss_is_convex():
    # a wrong claim: x*y is not convex, and the message must show why
    cc.assert_convex("x*y")


def test_fixture_defaults(convexcheck):
    assert (convexcheck.seed, convexcheck.budget, convexcheck.device) == EXPECTED_DEFAULTS
    convexcheck.assert_concave("log(x)", {"x": "positive"})
    assert convexcheck.check("x**2").curvature == "convex"


@pytest.mark.convexcheck(seed=7, budget=1.5, device="cpu")
def test_marker_overrides(convexcheck):
    assert (convexcheck.seed, convexcheck.budget, convexcheck.device) == (7, 1.5, "cpu")
    # the marker's seed also applies to plain cc.assert_* calls made by this test
    assert cc.assert_nonconvex("x**3").convex.witness["seed"] == 7
    assert convexcheck.assert_nonconvex("x**3").convex.witness["seed"] == 7
"""


def _plugin_is_installed() -> bool:
    return any(ep.value == "convexcheck.pytest_plugin" for ep in entry_points(group="pytest11"))


def _run(
    directory: Path, *args: str, defaults: tuple = (0, None, "auto")
) -> subprocess.CompletedProcess:
    suite = directory / "test_user_suite.py"
    if not suite.exists():
        suite.write_text(f"EXPECTED_DEFAULTS = {defaults!r}\n" + USER_SUITE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("PYTHONPATH", None)  # the package must come from the installation, not from here
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_the_plugin_is_registered_through_the_pytest11_entry_point():
    assert _plugin_is_installed(), (
        "convexcheck.pytest_plugin is not registered under the pytest11 entry point: "
        "reinstall the package (pip install -e .)"
    )


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    if not _plugin_is_installed():
        pytest.fail("the pytest11 entry point is missing; reinstall with pip install -e .")
    return tmp_path


def test_a_user_suite_passes_fails_and_reports(user_dir: Path):
    junit = user_dir / "report.xml"
    run = _run(user_dir, "-v", f"--junitxml={junit}")
    out = run.stdout + run.stderr
    assert run.returncode == 1, out  # one failing test
    assert "convexcheck 0.1.0: seed=0, budget=default, device=auto" in out  # header
    assert "test_softplus_is_convex PASSED" in out
    assert "test_my_loss_is_convex FAILED" in out
    assert "test_fixture_defaults PASSED" in out
    assert "test_marker_overrides PASSED" in out
    # the failure shows the witness, verified, and how to reproduce it
    assert "ConvexityAssertionError: expected x*y to be convex" in out
    assert "Jensen's inequality fails (exact rational arithmetic)" in out
    assert "reproduce: convexcheck expr 'x*y' --expect convex" in out
    # ... pointing at the user's line, without convexcheck's own frames
    assert 'cc.assert_convex("x*y")' in out
    assert "convexcheck/assertions.py" not in out
    assert "1 failed, 3 passed" in out

    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    props = {
        name: [(p.get("name"), p.get("value")) for p in case.iter("property")]
        for name, case in cases.items()
    }
    assert ("convexcheck_expected", "convex") in props["test_my_loss_is_convex"]
    assert ("convexcheck_established", "false") in props["test_my_loss_is_convex"]
    assert ("convexcheck_curvature", "neither") in props["test_my_loss_is_convex"]
    assert ("convexcheck_established", "true") in props["test_softplus_is_convex"]


def test_passing_suite_exits_zero_and_options_set_the_defaults(user_dir: Path):
    run = _run(
        user_dir,
        "-q",
        "-k",
        "not my_loss",
        "--convexcheck-seed",
        "5",
        "--convexcheck-budget",
        "2",
        "--convexcheck-device",
        "cpu",
        defaults=(5, 2.0, "cpu"),
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "3 passed, 1 deselected" in out


def test_ini_file_sets_the_defaults_and_bad_values_are_usage_errors(user_dir: Path):
    (user_dir / "pytest.ini").write_text(
        "[pytest]\nconvexcheck_seed = 9\nconvexcheck_budget = 4\nconvexcheck_device = cpu\n"
    )
    run = _run(user_dir, "-k", "fixture_defaults or marker", defaults=(9, 4.0, "cpu"))
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "convexcheck 0.1.0: seed=9, budget=4 s, device=cpu" in out
    # command line beats ini
    run = _run(user_dir, "-q", "-k", "fixture_defaults", "--convexcheck-seed", "1")
    assert run.returncode == 1  # the suite expects seed 9, so this must fail
    assert "assert (1, 4.0, 'cpu') == (9, 4.0, 'cpu')" in run.stdout + run.stderr

    (user_dir / "pytest.ini").write_text("[pytest]\nconvexcheck_seed = twelve\n")
    run = _run(user_dir, "-q")
    assert run.returncode == 4, run.stdout + run.stderr  # pytest's usage-error status
    assert "convexcheck: ini option convexcheck_seed must be an integer, got 'twelve'" in (
        run.stderr
    )


def test_bad_marker_keyword_is_reported(user_dir: Path):
    (user_dir / "test_user_suite.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.mark.convexcheck(sead=1)
            def test_typo(convexcheck):
                pass
            """
        )
    )
    run = _run(user_dir, "-q")
    out = run.stdout + run.stderr
    assert run.returncode != 0
    assert "unknown @pytest.mark.convexcheck keyword(s) ['sead']" in out


def test_the_plugin_can_be_disabled(user_dir: Path):
    run = _run(user_dir, "-q", "-p", "no:convexcheck", "-k", "fixture_defaults")
    out = run.stdout + run.stderr
    assert run.returncode == 1
    assert "fixture 'convexcheck' not found" in out
    assert "convexcheck 0.1.0:" not in out


def test_model_assertions_through_the_fixture(user_dir: Path):
    pytest.importorskip("torch")
    (user_dir / "test_models.py").write_text(
        textwrap.dedent(
            """
            import torch
            from torch import nn


            def data():
                g = torch.Generator().manual_seed(0)
                x = torch.randn(32, 2, generator=g)
                return x, (x[:, :1] > 0).float()


            def test_frozen_features_head_is_convex(convexcheck):
                torch.manual_seed(0)
                model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
                model[0].requires_grad_(False)
                result = convexcheck.assert_model_convex(model, nn.BCEWithLogitsLoss(), data())
                assert result.seed == 0 and result.device == "cpu"


            def test_relu_mlp_is_convex(convexcheck):  # wrong: fails with a witness
                torch.manual_seed(0)
                model = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 1))
                convexcheck.assert_model_convex(model, nn.MSELoss(), data())
            """
        )
    )
    run = _run(user_dir, "-q", "test_models.py", "--convexcheck-device", "cpu")
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "1 failed, 1 passed" in out
    assert "expected the training loss of Sequential to be convex" in out
    assert "Jensen gap" in out
