"""Data-parallel checks on two gloo ranks (CPU): the sharded loss is the full-data loss.

Every test spawns real processes in a real process group (``shard_workers.launch``) and compares
with one process on the concatenated data: values, gradients, slice Hessians and products to
rounding (the differential test of the reduction), then whole checks, the public spectrum API,
the ``torchrun`` command line, and the ways a run can go wrong (a NaN shard, a rank that raises
half-way, a rank that dies, ranks that disagree on the seed or the model), none of which may
hang or leave an output file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import convexcheck as cc
from tests.numeric import shard_workers as workers

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available(), reason="torch built without torch.distributed"
)
# `torchrun` is this module's console script: running it through the interpreter under test
# needs nothing on PATH, so the comparison below can never be skipped
TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]


def one_process(sizes, **kw):
    x, y = workers.full_data(sum(sizes))
    model = workers.tanh_mlp() if not kw.pop("linear", False) else _linear()
    return cc.check_model(model, nn.MSELoss(), (x, y), **kw).to_dict()


def _timeless(value):
    """``value`` without its wall-clock readings (``elapsed_s``), which differ between ranks."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k != "elapsed_s"}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def _linear() -> nn.Module:
    torch.manual_seed(0)
    return nn.Linear(3, 1)


@pytest.mark.parametrize("sizes", [[6, 7], [3, 10]])
def test_sharded_values_gradients_and_hessians_equal_the_full_data(tmp_path: Path, sizes) -> None:
    records = workers.launch("differential", tmp_path, sizes=sizes)
    for record in records:
        assert record is not None and record["ok"], record
        worst = record["result"]["worst"]
        assert set(worst) == {"loss0", "batched", "program", "batched gradient", "gradient",
                              "slice hessian", "hvp"}  # fmt: skip
        assert max(worst.values()) < 1e-12, worst
        assert record["result"]["weights"] == [n / sum(sizes) for n in sizes]
    # every rank holds bitwise the same numbers
    assert records[0]["result"]["worst"] == records[1]["result"]["worst"]


def test_equal_weighting_is_the_mean_of_the_ranks_losses(tmp_path: Path) -> None:
    records = workers.launch("differential", tmp_path, sizes=[6, 6], weighting="equal")
    assert all(r["ok"] for r in records), records
    assert records[0]["result"]["weights"] == [0.5, 0.5]


@pytest.mark.parametrize("sizes", [[6, 7], [4, 9]])
def test_check_model_on_two_ranks_matches_one_process(tmp_path: Path, sizes) -> None:
    records = workers.launch("check_model", tmp_path, sizes=sizes)
    assert all(r is not None and r["ok"] for r in records), records
    two = records[0]["result"]
    assert _timeless(records[1]["result"]) == _timeless(two)  # every rank: the same result
    one = one_process(sizes)
    assert two["convex"]["answer"] == one["convex"]["answer"] == "no"
    w2, w1 = two["convex"]["witness"], one["convex"]["witness"]
    assert w2["gap"] == pytest.approx(w1["gap"], rel=1e-9)
    assert w2["margin_terms"]["reduction"] > 0 and "reduction" not in w1["margin_terms"]
    h2, h1 = two["hessian"], one["hessian"]
    for end, err in (("min_eigenvalue", "min_error"), ("max_eigenvalue", "max_error")):
        assert abs(h2[end] - h1[end]) <= 2 * (h1[err] + h2[err]) + 1e-6
    assert two["distributed"]["world_size"] == 2
    assert two["distributed"]["examples"] == sizes
    assert "distributed" not in one


def test_a_proof_on_every_shard_is_a_proof(tmp_path: Path) -> None:
    records = workers.launch("check_model", tmp_path, sizes=[5, 8], linear=True)
    assert all(r["ok"] for r in records), records
    two = records[0]["result"]
    assert two["convex"]["answer"] == "yes" == one_process([5, 8], linear=True)["convex"]["answer"]


def test_hessian_extremes_on_two_ranks_match_one_process(tmp_path: Path) -> None:
    records = workers.launch("extremes", tmp_path, sizes=[4, 9])
    assert all(r["ok"] for r in records), records
    two = records[0]["result"]
    x, y = workers.full_data(13)
    one = cc.hessian_extremes(workers.tanh_mlp(), nn.MSELoss(), (x, y), tol=1e-6)
    assert two["min_eigenvalue"] == pytest.approx(one.min_eigenvalue, abs=1e-5)
    assert two["max_eigenvalue"] == pytest.approx(one.max_eigenvalue, rel=1e-6)
    assert two["distributed"]["weights"] == [4 / 13, 9 / 13]


def _errors(records) -> set[str]:
    assert all(r is not None and not r["ok"] for r in records), records
    return {r["error"] for r in records}


def test_a_nan_shard_stops_every_rank_with_one_message(tmp_path: Path) -> None:
    (message,) = _errors(workers.launch("check_model", tmp_path, sizes=[6, 7], nan_on_rank=1))
    assert message.startswith("rank 1 of 2 failed while building the objective")
    assert "not finite" in message


def test_a_rank_that_raises_half_way_stops_every_rank(tmp_path: Path) -> None:
    records = workers.launch("check_model", tmp_path, sizes=[6, 7], raise_on_rank=1,
                             raise_after=10)  # fmt: skip
    (message,) = _errors(records)
    assert message.startswith("rank 1 of 2 failed while evaluating"), message
    assert "the data loader of this rank broke" in message


def test_a_rank_that_dies_ends_the_others_without_a_hang(tmp_path: Path) -> None:
    records = workers.launch("check_model", tmp_path, sizes=[6, 7], die_on_rank=1, timeout=20)
    assert records[1] is None  # it died without writing
    assert records[0] is not None and not records[0]["ok"]
    assert records[0]["type"] in ("CollectiveTimeout", "ShardError"), records[0]
    assert "a collective failed" in records[0]["error"]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"seeds": [0, 1]}, "disagrees with rank 0 on the seed"),
        ({"hidden": [4, 5]}, "disagrees with rank 0 on the parameter shapes"),
        ({"wrt": "inputs"}, "wrt='inputs' cannot be data-parallel"),
    ],
)
def test_ranks_that_disagree_are_refused(tmp_path: Path, options, words) -> None:
    (message,) = _errors(workers.launch("check_model", tmp_path, sizes=[6, 7], **options))
    assert words in message, message


# -- the command line under torchrun (the comparison CI runs) ---------------------------------
MODEL_FILE = """
import os
import torch
import torch.distributed as dist
from torch import nn

SIZES = [int(s) for s in os.environ["SHARDS"].split(",")]


def build():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    g = torch.Generator().manual_seed(1)
    x = torch.randn(sum(SIZES), 3, generator=g)
    y = torch.randn(sum(SIZES), 1, generator=g)
    if dist.is_initialized():
        r = dist.get_rank()
        lo = sum(SIZES[:r])
        x, y = x[lo : lo + SIZES[r]], y[lo : lo + SIZES[r]]
        if os.environ.get("NAN_RANK") == str(r):
            x = x.clone()
            x[0, 0] = float("nan")
    return {"model": model, "loss_fn": nn.MSELoss(), "data": (x, y)}
"""


def _cli(tmp_path: Path, ranks: int, sizes: str, *extra: str, nan_rank: str = ""):
    path = tmp_path / "sharded_model.py"
    path.write_text(MODEL_FILE)
    env = {**os.environ, "SHARDS": sizes, "NAN_RANK": nan_rank, "OMP_NUM_THREADS": "1"}
    head = [sys.executable, "-m", "convexcheck"]
    if ranks > 1:
        head = [*TORCHRUN, "--standalone", f"--nproc_per_node={ranks}", "-m", "convexcheck"]
    return subprocess.run([*head, "model", str(path), "--json", *extra], capture_output=True,
                          text=True, env=env, timeout=300, cwd=tmp_path)  # fmt: skip


@pytest.mark.parametrize("sizes", ["6,6", "4,9"])
def test_torchrun_two_gloo_ranks_give_the_one_process_answer(tmp_path: Path, sizes) -> None:
    two = _cli(tmp_path, 2, sizes)
    assert two.returncode == 0, two.stderr
    one = _cli(tmp_path, 1, sizes)
    assert one.returncode == 0, one.stderr
    a, b = json.loads(one.stdout), json.loads(two.stdout)  # one JSON object: rank 0 alone
    assert a["convex"]["answer"] == b["convex"]["answer"] == "no"
    assert b["convex"]["witness"]["gap"] == pytest.approx(a["convex"]["witness"]["gap"], rel=1e-9)
    for end, err in (("min_eigenvalue", "min_error"), ("max_eigenvalue", "max_error")):
        bound = 2 * (a["hessian"][err] + b["hessian"][err]) + 1e-6
        assert abs(a["hessian"][end] - b["hessian"][end]) <= bound
    assert b["distributed"]["examples"] == [int(s) for s in sizes.split(",")]


def test_torchrun_failing_rank_one_error_line_no_files(tmp_path: Path) -> None:
    witness = tmp_path / "witness.pt"
    report = tmp_path / "report.html"
    run = _cli(tmp_path, 2, "6,7", "--witness-out", str(witness), "--report", str(report),
               nan_rank="1")  # fmt: skip
    assert run.returncode != 0
    assert run.stdout == ""
    ours = [line for line in run.stderr.splitlines() if line.startswith("convexcheck: ")]
    assert ours == [
        "convexcheck: error: rank 1 of 2 failed while building the objective: the loss is not "
        "finite at the model's current parameters (nan)"
    ], run.stderr
    # torchrun reports the exit status of the first rank to end (it may stop the other one)
    assert "exitcode  : 2" in run.stderr
    assert not witness.exists() and not report.exists()


def test_torchrun_writes_the_report_and_the_witness_from_rank_0(tmp_path: Path) -> None:
    """The report's plots evaluate the loss over every shard (each rank joins their
    collectives); rank 0 alone writes, and the witness reloads with weights_only=True."""
    witness, report = tmp_path / "witness.pt", tmp_path / "report.html"
    run = _cli(tmp_path, 2, "4,9", "--witness-out", str(witness), "--report", str(report))
    assert run.returncode == 0, run.stderr
    payload = json.loads(run.stdout)
    assert payload["witness_file"] == str(witness)
    page = report.read_text()
    assert "data-parallel over 2 ranks (gloo): shards of 4 + 9 examples" in page
    assert page.count("<img") >= 2  # the witness segment and the spectral density
    saved = torch.load(witness, weights_only=True)
    assert set(saved) == {"a", "b", "t"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "report.html",
        "sharded_model.py",
        "witness.pt",
    ]
