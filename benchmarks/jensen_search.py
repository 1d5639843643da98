"""Benchmark: time to the first float64-verified Jensen witness, and vmap vs loop batching.

Target (issue): < 0.5 s on the CPU for an MLP 784-256-256-10 with batch 512 at 0.5x, 1x, 2x and
8x the PyTorch initial weight scale, and for the 2-10-1 ReLU MLP.

The timed region is ``search_jensen(floss)`` and includes everything the search does: the
float32 search copy, candidate construction, batched evaluation, the float64 CPU copy and its
verification in two summation orders. Building the ``FunctionalLoss`` itself (loading and
validating the model) is outside, as it is shared by every prover. Each case is timed once cold
and then ``--repeat`` times warm; the median warm time is compared with the target.

    python benchmarks/jensen_search.py [--repeat 5] [--threads N] [--seed 0]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from convexcheck.numeric.functional import FunctionalLoss
from convexcheck.numeric.jensen import search_jensen

TARGET_S = 0.5


def mlp(sizes: list[int], scale: float, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(scale)
    return model


def cases(seed: int) -> list[tuple[str, FunctionalLoss]]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(512, 784, generator=g)
    y = torch.randint(0, 10, (512,), generator=g)
    out = []
    for scale in (0.5, 1.0, 2.0, 8.0):
        model = mlp([784, 256, 256, 10], scale, seed)
        out.append((f"MLP 784-256-256-10, batch 512, {scale:g}x init", _f(model, x, y)))
    xs = torch.randn(64, 2, generator=g)
    ys = torch.sin(xs[:, :1])
    small = FunctionalLoss(mlp([2, 10, 1], 1.0, seed), nn.MSELoss(), (xs, ys))
    out.append(("MLP 2-10-1 ReLU, batch 64", small))
    return out


def _f(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> FunctionalLoss:
    return FunctionalLoss(model, nn.CrossEntropyLoss(), (x, y))


def time_search(floss: FunctionalLoss, seed: int, repeat: int) -> tuple[float, list[float], dict]:
    start = time.perf_counter()
    report = search_jensen(floss, seed=seed, budget_s=30.0)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeat):
        start = time.perf_counter()
        report = search_jensen(floss, seed=seed, budget_s=30.0)
        warm.append(time.perf_counter() - start)
    info = report.witness.info if report.witness else {}
    return cold, warm, info


def time_batching(floss: FunctionalLoss, k: int = 64, repeat: int = 3) -> tuple[float, float]:
    g = torch.Generator().manual_seed(0)
    thetas = floss.theta0 + 0.01 * torch.randn(k, floss.numel, generator=g)
    with torch.no_grad():
        floss.batched_loss(thetas[:2])  # warm-up (and vmap path selection)
        floss.loop_loss(thetas[:2])
        vm, lp = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            floss.batched_loss(thetas)
            vm.append(time.perf_counter() - start)
            start = time.perf_counter()
            floss.loop_loss(thetas)
            lp.append(time.perf_counter() - start)
    return min(vm), min(lp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, seed {args.seed}")
    print(f"\nTime to the first float64-verified witness (target < {TARGET_S} s)")
    print(f"{'case':44s} {'cold s':>8s} {'median s':>9s} {'max s':>7s}  source      met")
    all_cases = cases(args.seed)
    for name, floss in all_cases:
        cold, warm, info = time_search(floss, args.seed, args.repeat)
        med = statistics.median(warm)
        met = "yes" if info and med < TARGET_S else "NO"
        print(
            f"{name:44s} {cold:8.3f} {med:9.3f} {max(warm):7.3f}  "
            f"{info.get('source', 'none'):11s} {met}"
        )
    print("\nLoss at 64 parameter vectors: batched (vmap) vs Python loop")
    for name, floss in (all_cases[1], all_cases[-1]):
        vm, lp = time_batching(floss)
        print(
            f"{name:44s} vmap {vm:7.3f} s  loop {lp:7.3f} s  ratio {lp / vm:5.1f}x "
            f"({floss.batch_path})"
        )


if __name__ == "__main__":
    main()
