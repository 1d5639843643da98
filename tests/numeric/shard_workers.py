"""Workers for the data-parallel tests: each runs on one rank of a gloo group on the CPU.

Kept out of the test module so that spawned processes import only this (and torch). Each
worker writes ``rank{r}.json`` into the folder it is given: ``{"ok": ..., "error": ...}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

FULL = 13  # examples in the full data set


def full_data(n: int = FULL) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 3, generator=g), torch.randn(n, 1, generator=g)


def shard(rank: int, sizes: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = full_data(sum(sizes))
    lo = sum(sizes[:rank])
    return x[lo : lo + sizes[rank]], y[lo : lo + sizes[rank]]


def tanh_mlp(hidden: int = 4) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def _entry(rank: int, world: int, folder: str, job: str, options: dict) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    out = Path(folder) / f"rank{rank}.json"
    try:
        dist.init_process_group(
            "gloo",
            init_method=f"file://{Path(folder) / 'store'}",
            rank=rank,
            world_size=world,
            timeout=timedelta(seconds=options.get("timeout", 60)),
        )
        result = JOBS[job](rank, world, options)
        record = {"ok": True, "result": result}
    except Exception as exc:
        record = {"ok": False, "error": str(exc), "type": type(exc).__name__,
                  "trace": traceback.format_exc()}  # fmt: skip
    out.write_text(json.dumps(record, default=float))
    with contextlib.suppress(Exception):
        dist.destroy_process_group()


def launch(job: str, folder: Path, world: int = 2, timeout_s: float = 240, **options) -> list[dict]:
    """Run ``job`` on ``world`` spawned ranks; the per-rank records (a rank that died: None)."""
    ctx = torch.multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_entry, args=(r, world, str(folder), job, options)) for r in range(world)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout_s)
    hung = [r for r, p in enumerate(procs) if p.is_alive()]
    for p in procs:
        if p.is_alive():
            p.kill()
    if hung:
        raise AssertionError(f"ranks {hung} still running after {timeout_s} s: a hang")
    records = []
    for r in range(world):
        path = folder / f"rank{r}.json"
        records.append(json.loads(path.read_text()) if path.exists() else None)
    return records


# -- jobs ---------------------------------------------------------------------------------------
def job_differential(rank: int, world: int, options: dict) -> dict:
    """Values, gradients, second derivatives and HVPs of the sharded loss against the full data."""
    from convexcheck.numeric.distributed import ShardedHVP, ShardedLoss, active_shards
    from convexcheck.numeric.functional import FunctionalLoss
    from convexcheck.numeric.hessian import make_hvp

    sizes = options["sizes"]
    model = tanh_mlp()
    data = shard(rank, sizes)
    shards = active_shards(data, options.get("weighting", "examples"), {"seed": 0})
    f64 = FunctionalLoss(model, nn.MSELoss(), data, dtype=torch.float64)
    full = FunctionalLoss(model, nn.MSELoss(), full_data(sum(sizes)), dtype=torch.float64)
    sharded = ShardedLoss(f64, shards)
    g = torch.Generator().manual_seed(7)
    thetas = torch.randn(5, f64.numel, generator=g, dtype=torch.float64)
    worst: dict[str, float] = {}

    def note(name: str, a: torch.Tensor, b: torch.Tensor) -> None:
        worst[name] = max(worst.get(name, 0.0), float((a - b).abs().max()))

    note("loss0", torch.tensor(sharded.loss0), torch.tensor(full.loss0))
    note("batched", sharded.batched_loss(thetas), full.batched_loss(thetas))
    note("program", sharded.program_losses(thetas), full.program_losses(thetas))
    # first derivatives through the conjugate functions, by the scalar and by the batch
    x = thetas.clone().requires_grad_(True)
    (gx,) = torch.autograd.grad(sharded.batched_loss(x).sum(), x)
    y = thetas.clone().requires_grad_(True)
    (gy,) = torch.autograd.grad(full.batched_loss(y).sum(), y)
    note("batched gradient", gx, gy)
    p = thetas[0].clone().requires_grad_(True)
    (gp,) = torch.autograd.grad(sharded.loss(p), p)
    q = thetas[0].clone().requires_grad_(True)
    (gq,) = torch.autograd.grad(full.loss(q), q)
    note("gradient", gp, gq)

    # second derivatives: a 2 x 2 slice Hessian by double backward (the explanations' path)
    def slice_of(f):
        def h(z):
            t = thetas[1].clone().index_put((torch.tensor([0, 5]),), z)
            return f.loss(t)

        return h

    z = thetas[1][[0, 5]].clone()
    note(
        "slice hessian",
        torch.autograd.functional.hessian(slice_of(sharded), z),
        torch.autograd.functional.hessian(slice_of(full), z),
    )
    # Hessian-vector products, all-reduced
    hvp = ShardedHVP(make_hvp(f64.loss, thetas[2], method="double-backward"), shards)
    reference = make_hvp(full.loss, thetas[2], method="double-backward")
    v = torch.randn(f64.numel, generator=g, dtype=torch.float64)
    note("hvp", hvp(v), reference(v))
    spread = sharded.last_spread
    return {"worst": worst, "weights": shards.weights, "spread_finite": bool(spread is not None)}


def job_check_model(rank: int, world: int, options: dict) -> dict:
    """``check_model`` on this rank's shard; the JSON of the result."""
    import convexcheck as cc

    if options.get("linear"):
        torch.manual_seed(0)
        model: nn.Module = nn.Linear(3, 1)
    else:
        model = tanh_mlp(options.get("hidden", [4] * world)[rank])
    seed = options.get("seeds", [0] * world)[rank]
    loss = nn.MSELoss()
    if options.get("raise_on_rank") == rank:
        calls = {"n": 0}

        def loss(out, target):
            calls["n"] += 1
            if calls["n"] > options.get("raise_after", 5):
                raise RuntimeError("the data loader of this rank broke")
            return nn.functional.mse_loss(out, target)

    data = shard(rank, options["sizes"])
    if options.get("nan_on_rank") == rank:
        data = (data[0].clone(), data[1])
        data[0][0, 0] = float("nan")
    if options.get("die_on_rank") == rank:
        os._exit(3)  # a rank that crashes before the check
    result = cc.check_model(model, loss, data, seed=seed, wrt=options.get("wrt", "parameters"))
    return result.to_dict()


def job_extremes(rank: int, world: int, options: dict) -> dict:
    import convexcheck as cc

    data = shard(rank, options["sizes"])
    return cc.hessian_extremes(tanh_mlp(), nn.MSELoss(), data, tol=1e-6).to_dict()


JOBS = {"differential": job_differential, "check_model": job_check_model, "extremes": job_extremes}

if __name__ == "__main__":  # pragma: no cover (manual runs)
    print(launch(sys.argv[1], Path(sys.argv[2])))
