"""Benchmark: a data-parallel model check (torchrun, gloo, CPU) against one process on all the data.

What it shows: that ``R`` ranks holding ``1/R`` of the data each give the one-process answer
(the same verdict, the witness gap to rounding, the Hessian extremes to the Lanczos tolerance),
and what the collectives cost. On one machine the ranks share its cores, so the interesting
number is the overhead at equal total threads (one process with ``R`` threads against ``R``
processes with one thread each), not a speed-up; past one machine the shards are the point.

Usage::

    python benchmarks/data_parallel.py [--ranks 2] [--examples 2048] [--repeats 3] [--json]

The model: an MLP 784-256-256-10 (ReLU), cross-entropy, synthetic seeded data; the check is
``check_model`` (Jensen search, float64 verification, Hessian extremes, explanations) and
``hessian_extremes`` at tol 1e-3. Each configuration runs ``--repeats`` times; the fastest is
kept.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _worker(examples: int, repeats: int, out: str) -> None:
    import torch
    import torch.distributed as dist
    from torch import nn

    import convexcheck as cc

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("gloo")
        torch.set_num_threads(1)
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, 10),
    )  # fmt: skip
    g = torch.Generator().manual_seed(1)
    x = torch.randn(examples, 784, generator=g)
    y = torch.randint(0, 10, (examples,), generator=g)
    per = examples // world
    x, y = x[rank * per : (rank + 1) * per], y[rank * per : (rank + 1) * per]
    timings: dict[str, list[float]] = {"check_model": [], "hessian_extremes": []}
    result = extremes = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = cc.check_model(model, nn.CrossEntropyLoss(), (x, y), device="cpu")
        timings["check_model"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        extremes = cc.hessian_extremes(model, nn.CrossEntropyLoss(), (x, y), device="cpu")
        timings["hessian_extremes"].append(time.perf_counter() - t0)
    if rank == 0:
        assert result is not None and extremes is not None
        payload = {
            "world": world,
            "threads": torch.get_num_threads(),
            "seconds": {k: min(v) for k, v in timings.items()},
            "all_seconds": timings,
            "answer": result.convex.answer,
            "gap": (result.witness or {}).get("gap"),
            "source": (result.witness or {}).get("source"),
            "extremes": extremes.to_dict(),
        }
        Path(out).write_text(json.dumps(payload, default=float))
    if distributed:
        dist.destroy_process_group()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--examples", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", metavar="OUT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.examples, args.repeats, args.worker)
        return 0
    torchrun = shutil.which("torchrun")
    if torchrun is None:
        print("torchrun is not on PATH", file=sys.stderr)
        return 2
    me = [sys.executable, __file__, "--examples", str(args.examples), "--repeats",
          str(args.repeats)]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        one_out, many_out = str(Path(tmp) / "one.json"), str(Path(tmp) / "many.json")
        env = {**os.environ, "OMP_NUM_THREADS": str(args.ranks)}
        subprocess.run([*me, "--worker", one_out], check=True, env=env)
        launch = [torchrun, "--standalone", f"--nproc_per_node={args.ranks}", __file__]
        subprocess.run(
            [*launch, "--examples", str(args.examples), "--repeats", str(args.repeats),
             "--worker", many_out],
            check=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
        )  # fmt: skip
        one = json.loads(Path(one_out).read_text())
        many = json.loads(Path(many_out).read_text())
    print(f"MLP 784-256-256-10, {args.examples} examples; one process with {one['threads']} "
          f"threads vs {args.ranks} ranks x 1 thread (gloo), best of {args.repeats}")  # fmt: skip
    for what in ("check_model", "hessian_extremes"):
        a, b = one["seconds"][what], many["seconds"][what]
        print(f"  {what:<17}: one process {a:.3f} s, {args.ranks} ranks {b:.3f} s "
              f"(ratio {b / a:.2f})")  # fmt: skip
    print(f"  verdict: {one['answer']} / {many['answer']}; witness gap {one['gap']!r} / "
          f"{many['gap']!r} (source {one['source']} / {many['source']})")  # fmt: skip
    e1, e2 = one["extremes"], many["extremes"]
    for end, err in (("min_eigenvalue", "min_error"), ("max_eigenvalue", "max_error")):
        print(f"  {end}: {e1[end]:.6g} ± {e1[err]:.2g} / {e2[end]:.6g} ± {e2[err]:.2g}")
    print(f"  Hessian-vector products: {e1['hvps']} / {e2['hvps']}")
    if args.json:
        print(json.dumps({"one_process": one, "ranks": many}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
