"""The public API is typed: ``mypy --strict`` passes on it, and on a user's script that uses it.

The files checked and the strict settings are in ``pyproject.toml`` (``[tool.mypy]``), so the
same check runs here, in CI, and by hand with a plain ``mypy`` in the repository root. The user's
script (``tests/typing/use_the_public_api.py``) pins the declared types with ``assert_type``
and is also run, so the declared types are the ones the calls really return.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def test_the_public_api_passes_mypy_strict(tmp_path: Path) -> None:
    import mypy  # noqa: F401  (in the [test] extra: a missing install fails, never skips)

    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=_environment(),
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Success: no issues found" in done.stdout
    checked = int(done.stdout.split("in ")[-1].split()[0])
    assert checked >= 15  # every file named in pyproject.toml was read


def test_the_typed_users_script_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "typing" / "use_the_public_api.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=_environment(),
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "closed forms ok" in done.stdout and "model ok: yes" in done.stdout
