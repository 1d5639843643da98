"""The model-check speed benchmark runs end to end (``--quick``) and writes its JSON.

Nothing here times anything (timings live in ``docs/benchmarks.md``); the answers are asserted
because the benchmark's cases are chosen for them: a structural ``yes``, a Jensen ``no`` and a
convex model that cannot be proved (``unknown``), and the CNN is refuted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "model_check_speed.py"


@pytest.mark.slow
def test_model_check_speed_quick_writes_its_json(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--no-bytecode-cache", "--threads", "1",
         "--json", str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Fixed cost per model" in proc.stdout and "CNN" in proc.stdout
    report = json.loads(out.read_text())
    assert {
        "torch", "python", "machine", "threads", "seed", "quick", "bytecode_cache",
        "load_before", "load_after", "fixed", "cnn", "targets",
    } <= set(report)  # fmt: skip
    assert report["quick"] is True and report["threads"] == 1
    rows = {row["case"]: row for row in report["fixed"]}
    assert set(rows) == {"linear_yes", "tanh_no", "branch_unknown"}
    expected = {"linear_yes": "yes", "tanh_no": "no", "branch_unknown": "unknown"}
    for case, row in rows.items():
        assert row["answer"] == expected[case]
        assert row["parameters"] == 5
        for key in ("cold_s", "cold_median_s", "warm_median_s", "cold_phases", "warm_phases"):
            assert key in row
        assert row["cold_median_s"] > 0
    assert "structural proof" in rows["linear_yes"]["cold_phases"]
    assert "jensen search" in rows["branch_unknown"]["cold_phases"]
    cnn = report["cnn"]
    assert cnn["answer"] == "no" and cnn["witness_source"]
    for key in ("parameters", "batch", "cold_median_s", "peak_rss_mb", "cold_phases"):
        assert key in cnn
    assert set(report["targets"]) == {"fixed_cost", "cnn_time", "cnn_rss"}
    for target in report["targets"].values():
        assert isinstance(target["met"], bool)
