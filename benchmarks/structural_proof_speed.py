"""How long the structural proof takes on a frozen backbone with a large trainable head.

The target (issue 12): a frozen 4-million-parameter backbone with a 1-million-parameter linear
head, proved in under 2 s after ``import torch`` on the CPU. Measured here, in one run:

* ``structural_proof`` alone (trace, translate with the backbone evaluated once by torch,
  DCP over the expression, the probe check against the program);
* ``check_model`` end to end (the structural rung, the Hessian extremes it reports as evidence,
  result building), with ``hessian=False`` and with the default;
* one eager forward+loss of the same model, the unit the ratios are stated in.

Run: ``python benchmarks/structural_proof_speed.py [--quick] [--json OUT] [--threads N]``.
``--quick`` uses a small model so the smoke test can run it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn


def build(quick: bool) -> tuple[nn.Module, nn.Module, tuple[torch.Tensor, torch.Tensor]]:
    """A frozen MLP backbone (784 -> 2048 -> 1000 -> 1000) and a trainable 1000 x 1000 head."""
    torch.manual_seed(0)
    d, h1, h2, classes, n = (32, 64, 48, 40, 16) if quick else (784, 2048, 1000, 1000, 256)
    backbone = nn.Sequential(
        nn.Linear(d, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(), nn.Linear(h2, h2), nn.ReLU()
    )
    for p in backbone.parameters():
        p.requires_grad_(False)
    model = nn.Sequential(backbone, nn.Linear(h2, classes))
    x = torch.randn(n, d)
    y = torch.randint(0, classes, (n,))
    return model, nn.CrossEntropyLoss(), (x, y)


def _median(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    import convexcheck as cc
    from convexcheck.torchgraph import structural_proof

    import_s = time.perf_counter() - start
    model, loss_fn, data = build(args.quick)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    def eager() -> None:
        with torch.no_grad():
            loss_fn(model(data[0]), data[1])

    first = time.perf_counter()
    proof = structural_proof(model, loss_fn, data)
    first_s = time.perf_counter() - first
    assert proof.proved, proof.obstacles
    out = {
        "frozen_parameters": frozen,
        "trainable_parameters": trainable,
        "threads": args.threads,
        "import_convexcheck_s": import_s,
        "eager_forward_s": _median(eager, args.repeats),
        "structural_proof_first_s": first_s,
        "structural_proof_s": _median(lambda: structural_proof(model, loss_fn, data), args.repeats),
        "check_model_no_hessian_s": _median(
            lambda: cc.check_model(model, loss_fn, data, device="cpu", hessian=False),
            args.repeats,
        ),
        "check_model_s": _median(
            lambda: cc.check_model(model, loss_fn, data, device="cpu"), max(1, args.repeats - 2)
        ),
    }
    out["structural_proof_over_eager"] = out["structural_proof_s"] / out["eager_forward_s"]
    width = max(len(k) for k in out)
    for k, v in out.items():
        print(f"{k:{width}s}  {v:.4g}" if isinstance(v, float) else f"{k:{width}s}  {v}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
