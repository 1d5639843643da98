"""Benchmark: our Lanczos (λ_min AND λ_max) against PyHessian's power iteration (λ_max only).

Why this comparison: PyHessian is the usual tool for Hessian spectra of PyTorch models; its
``hessian(...).eigenvalues(top_n=1)`` runs power iteration for the top eigenvalue only. A convexity
check needs the bottom one too. The target is both extremes in at most half of PyHessian's time
for the top one alone, at the same relative tolerance (1e-3, PyHessian's default).

The two stopping rules differ and the script says so: PyHessian stops when the eigenvalue estimate
changes by less than ``tol`` (relative) between iterations; ``lanczos_extremes`` stops when the
residual bound ``‖Hx - θx‖`` of both extremes is below ``tol·max(1, |θ|)`` (a stronger rule: the
eigenvalue error is then about ``residual²/gap``). Both count Hessian-vector products (HVPs).

Usage::

    pip install pyhessian          # not a dependency of convexcheck
    python benchmarks/hessian_vs_pyhessian.py [--device auto|cpu|cuda] [--tol 1e-3] [--seed 0]

Models (synthetic data, seeded): an MLP 784-256-256-10 (ReLU) with batch 512 and a small CNN
(two 5×5 convolutions, max pooling, 28×28 inputs), cross-entropy loss, float32 parameters as
PyHessian uses them. Our products run in float32 and the Lanczos recurrence in float64.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.func import functional_call

from convexcheck.numeric.hessian import METHODS, make_hvp
from convexcheck.numeric.lanczos import lanczos_extremes


def build_mlp() -> nn.Module:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, 10),
    )  # fmt: skip


def build_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 4 * 4, 10),
    )  # fmt: skip


def make_case(name: str, batch: int, seed: int, device: torch.device):
    torch.manual_seed(seed)
    model = (build_mlp() if name == "mlp" else build_cnn()).to(device)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(batch, 1, 28, 28, generator=g).to(device)
    y = torch.randint(0, 10, (batch,), generator=g).to(device)
    return model, nn.CrossEntropyLoss(), (x, y)


def flat_loss(model: nn.Module, criterion, data) -> tuple[Callable[[Tensor], Tensor], Tensor]:
    """The loss as a function of one flat parameter vector (what Lanczos needs)."""
    names = [k for k, p in model.named_parameters() if p.requires_grad]
    params = dict(model.named_parameters())
    shapes = [params[k].shape for k in names]
    sizes = [params[k].numel() for k in names]
    theta = torch.cat([params[k].detach().reshape(-1) for k in names])
    x, y = data

    def loss(t: Tensor) -> Tensor:
        chunks = torch.split(t, sizes)
        return criterion(functional_call(model, dict(zip(names, [
            c.reshape(s) for c, s in zip(chunks, shapes)])), (x,)), y)  # fmt: skip

    return loss, theta


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def run_pyhessian(model, criterion, data, tol: float, seed: int, device: torch.device) -> dict:
    import importlib

    # ``pyhessian.hessian`` the attribute is the class; the module is in sys.modules
    importlib.import_module("pyhessian")
    ph = sys.modules["pyhessian.hessian"]

    calls = {"n": 0}
    original = ph.hessian_vector_product

    def counting(gradsH, params, v):
        calls["n"] += 1
        return original(gradsH, params, v)

    ph.hessian_vector_product = counting
    try:
        torch.manual_seed(seed)
        sync(device)
        t0 = time.perf_counter()
        h = ph.hessian(model, criterion, data=data, cuda=device.type == "cuda")
        eigs, _ = h.eigenvalues(top_n=1, tol=tol)
        sync(device)
        elapsed = time.perf_counter() - t0
    finally:
        ph.hessian_vector_product = original
        model.zero_grad(set_to_none=True)
    return {"seconds": elapsed, "hvps": calls["n"], "max_eigenvalue": float(eigs[0])}


def run_ours(
    model, criterion, data, tol: float, seed: int, device, method: str,
    stop: str = "residual", which: str = "both",
) -> dict:  # fmt: skip
    sync(device)
    t0 = time.perf_counter()
    loss, theta = flat_loss(model, criterion, data)
    hvp = make_hvp(loss, theta, method=method)
    res = lanczos_extremes(
        hvp, theta.numel(), tol=tol, seed=seed, dtype=torch.float64, device=device,
        hvp_dtype=theta.dtype, criterion=stop, which=which,
    )  # fmt: skip
    sync(device)
    elapsed = time.perf_counter() - t0
    out = res.to_dict()
    out.update(seconds=elapsed, hvps=hvp.calls, method=hvp.method, criterion=stop, which=which)
    return out


def best_of(repeats: int, fn: Callable[..., dict], *args) -> dict:
    """Fastest of ``repeats`` runs (the least disturbed by other load), with all times kept."""
    runs = [fn(*args) for _ in range(repeats)]
    best = min(runs, key=lambda r: r["seconds"])
    best["all_seconds"] = [round(r["seconds"], 4) for r in runs]
    return best


def time_hvps(model, criterion, data, repeats: int, device) -> dict[str, float]:
    """Milliseconds per HVP for each method (double backward includes its one-off graph build)."""
    loss, theta = flat_loss(model, criterion, data)
    g = torch.Generator().manual_seed(0)
    vs = [torch.randn(theta.numel(), generator=g).to(theta) for _ in range(repeats)]
    out: dict[str, float] = {}
    for method in METHODS:
        hvp = make_hvp(loss, theta, method=method)
        try:
            hvp(vs[0])  # warm-up (and graph build for double backward)
        except Exception as exc:  # a method torch cannot run on this model
            out[method] = float("nan")
            print(f"  {method}: unavailable ({type(exc).__name__})", file=sys.stderr)
            continue
        sync(device)
        t0 = time.perf_counter()
        for v in vs:
            hvp(v)
        sync(device)
        out[method] = 1000 * (time.perf_counter() - t0) / repeats
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--tol", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--models", default="mlp,cnn")
    parser.add_argument(
        "--method",
        default="double-backward",
        choices=["auto", *METHODS],
        help="our HVP method (default: double backward, PyHessian's product)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing (best kept)")
    parser.add_argument("--hvp-repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    args = parser.parse_args(argv)
    try:
        import pyhessian  # noqa: F401
    except ImportError:
        print("PyHessian is missing: pip install pyhessian", file=sys.stderr)
        return 2
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"device={device} torch={torch.__version__} threads={torch.get_num_threads()} "
          f"tol={args.tol} seed={args.seed} batch={args.batch}")  # fmt: skip
    report: dict[str, dict] = {}
    configs = [
        ("both extremes, change rule (PyHessian's)", "change", "both"),
        ("both extremes, residual rule", "residual", "both"),
        ("λ_max only, change rule", "change", "max"),
    ]
    for name in args.models.split(","):
        model, criterion, data = make_case(name, args.batch, args.seed, device)
        n = sum(p.numel() for p in model.parameters())
        case = (model, criterion, data, args.tol, args.seed, device)
        run_pyhessian(*case)  # warm-up
        ph = best_of(args.repeats, run_pyhessian, *case)
        print(f"\n{name}: {n} parameters (best of {args.repeats}; all runs in --json)")
        print(f"  PyHessian λ_max only            : {ph['seconds']:.3f} s, {ph['hvps']:3d} HVPs, "
              f"λ_max={ph['max_eigenvalue']:.6g}")  # fmt: skip
        entry: dict[str, object] = {"parameters": n, "pyhessian": ph}
        for label, stop, which in configs:
            ours = best_of(args.repeats, run_ours, *case, args.method, stop, which)
            ratio = ours["seconds"] / ph["seconds"]
            entry[f"ours: {label}"] = {**ours, "time_ratio": ratio}
            print(f"  ours {label:<36}: {ours['seconds']:.3f} s, {ours['hvps']:3d} HVPs, "
                  f"ratio {ratio:.2f}, λ_min={ours['min_eigenvalue']:.6g} "
                  f"(±{ours['min_error']:.2g}), λ_max={ours['max_eigenvalue']:.6g} "
                  f"(±{ours['max_error']:.2g})")  # fmt: skip
        hvp_ms = time_hvps(model, criterion, data, args.hvp_repeats, device)
        entry["hvp_ms"] = hvp_ms
        head = entry["ours: " + configs[0][0]]
        print(
            f"  target (both extremes ≤ 0.5 × PyHessian's λ_max time): "
            f"{'met' if head['time_ratio'] <= 0.5 else 'NOT met'} "
            f"(ratio {head['time_ratio']:.2f} with the same stopping rule)"
        )
        print(
            "  ms per HVP: "
            + ", ".join(
                f"{k}={v:.1f}" if not math.isnan(v) else f"{k}=n/a" for k, v in hvp_ms.items()
            )
        )
        report[name] = entry
    if args.json:
        print(json.dumps(report, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
