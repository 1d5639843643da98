"""L2 regularisation moves the whole Hessian spectrum up by 2*lambda, and that is all it does.

Run: ``python examples/l2_spectrum.py [--plot PATH.png]``.

Adding ``lambda * ||theta||^2`` to a loss adds ``2 lambda I`` to its Hessian: every eigenvalue
moves up by exactly ``2 lambda``. The example measures that shift with the library's tools:

1. ridge regression (``Linear(5, 1)`` + MSE): ``cc.check_model(..., penalties=[L2Penalty(lam)])``
   proves the penalised loss convex (structural certificate, the penalty included) and reports
   the Hessian's extreme eigenvalues (Lanczos); the measured shift of both ends is ``2 lambda``;
2. the 2-10-1 ReLU MLP at its current parameters, with float64 Hessian-vector products and
   Lanczos (``convexcheck.numeric.hessian.make_hvp``, ``convexcheck.numeric.lanczos``), cross-
   checked against the dense Hessian: a large enough ``lambda`` makes the Hessian positive
   definite *at this point*;
3. ... but not convex: ``check_model`` with that penalty still finds a verified Jensen witness,
   because convexity is about every point, not the one where the Hessian was measured.

``--plot PATH.png`` saves the MLP's spectral density (stochastic Lanczos quadrature) before and
after the penalty. Deterministic: every number comes from seeded data and a seeded Lanczos run.
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import convexcheck as cc
from convexcheck.numeric.functional import FunctionalLoss, L2Penalty
from convexcheck.numeric.hessian import dense_hessian, make_hvp, spectral_density
from convexcheck.numeric.lanczos import lanczos_extremes

RIDGE_LAMBDAS = (0.01, 0.1)
MLP_LAMBDAS = (0.1, 0.5)


def ridge_problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(128, 5, generator=g)
    y = x @ torch.randn(5, 1, generator=g) + 0.1 * torch.randn(128, 1, generator=g)
    torch.manual_seed(0)
    return nn.Linear(5, 1), nn.MSELoss(), (x, y)


def mlp_problem():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 1))
    x = torch.randn(64, 2)
    return model, nn.MSELoss(), (x, torch.sin(x[:, :1]))


def penalties(lam: float) -> list[L2Penalty] | None:
    return [L2Penalty(lam)] if lam else None


def float64_loss(model, loss_fn, data, lam: float) -> FunctionalLoss:
    return FunctionalLoss(model, loss_fn, data, penalties=penalties(lam)).to(dtype=torch.float64)


def extremes(f: FunctionalLoss):
    """Lanczos extremes of the Hessian at the current parameters, float64 products."""
    hvp = make_hvp(f.loss, f.theta0, method="double-backward")
    return lanczos_extremes(hvp, f.numel, tol=1e-10, seed=0)


def shift_line(lam: float, lo: float, hi: float, lo0: float, hi0: float) -> str:
    return (
        f"   lambda = {lam:g}: lambda_min {lo:.6f}, lambda_max {hi:.6f}; measured shift "
        f"{lo - lo0:.6f} (min), {hi - hi0:.6f} (max); 2*lambda = {2 * lam:.6f}"
    )


def ridge() -> None:
    model, loss_fn, data = ridge_problem()
    print("1. ridge regression: Linear(5, 1) + MSE on 128 points (check_model, Lanczos)")
    base = cc.check_model(model, loss_fn, data, device="cpu")
    lo0, hi0 = base.hessian["min_eigenvalue"], base.hessian["max_eigenvalue"]
    print(
        f"   lambda = 0: convex {base.convex.answer} ({base.convex.method}); "
        f"lambda_min {lo0:.6f}, lambda_max {hi0:.6f}"
    )
    for lam in RIDGE_LAMBDAS:
        r = cc.check_model(model, loss_fn, data, device="cpu", penalties=penalties(lam))
        penalty = [x["detail"] for x in r.reasons if x["kind"] == "convex_penalty"]
        print(
            f"   lambda = {lam:g}: convex {r.convex.answer} ({r.convex.method}; "
            f"penalty: {', '.join(penalty)})"
        )
        print(shift_line(lam, r.hessian["min_eigenvalue"], r.hessian["max_eigenvalue"], lo0, hi0))


def mlp(plot: str | None) -> None:
    model, loss_fn, data = mlp_problem()
    print("\n2. the 2-10-1 ReLU MLP at its current parameters (float64 products, Lanczos)")
    f0 = float64_loss(model, loss_fn, data, 0.0)
    e0 = extremes(f0)
    dense0 = torch.linalg.eigvalsh(dense_hessian(f0.loss, f0.theta0))
    print(
        f"   lambda = 0: lambda_min {e0.min_eigenvalue:.6f} +- {e0.min_error:.0e}, "
        f"lambda_max {e0.max_eigenvalue:.6f}; {int((dense0 < -1e-10).sum())} of {f0.numel} "
        "eigenvalues below -1e-10 (dense Hessian)"
    )
    for lam in MLP_LAMBDAS:
        f = float64_loss(model, loss_fn, data, lam)
        e = extremes(f)
        dense = torch.linalg.eigvalsh(dense_hessian(f.loss, f.theta0))
        print(
            shift_line(
                lam, e.min_eigenvalue, e.max_eigenvalue, e0.min_eigenvalue, e0.max_eigenvalue
            )
        )
        deviation = float(((dense - dense0) - 2 * lam).abs().max())
        definite = "positive definite here" if float(dense[0]) > 0 else "still indefinite here"
        print(
            f"     all {f.numel} dense eigenvalues moved by 2*lambda within {deviation:.1e}; "
            f"Hessian {definite}"
        )

    lam = MLP_LAMBDAS[-1]
    print(f"\n3. is the MLP's loss convex with lambda = {lam:g}? (check_model, seed 0)")
    r = cc.check_model(model, loss_fn, data, device="cpu", penalties=penalties(lam), explain=False)
    print(f"   convex: {r.convex.answer} ({r.convex.method})")
    if r.convex.witness:
        w = r.convex.witness
        print(
            f"   witness ({w['source']}): gap {w['gap']:.3g} > margin {w['margin']:.2g}: "
            "a PD Hessian at one point does not make the loss convex"
        )
    if plot:
        save_plot(model, loss_fn, data, lam, plot)


def save_plot(model, loss_fn, data, lam: float, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    grid = torch.linspace(-2.0, 8.0, 800, dtype=torch.float64)
    for value, colour in ((0.0, "tab:blue"), (lam, "tab:orange")):
        f = float64_loss(model, loss_fn, data, value)
        hvp = make_hvp(f.loss, f.theta0, method="double-backward")
        density = spectral_density(hvp, f.numel, iterations=20, probes=4, seed=0)
        ax.plot(grid, density.smoothed(grid, sigma=0.05), color=colour, label=f"lambda = {value:g}")
    ax.axvline(0.0, color="grey", linewidth=0.8)
    ax.set_xlabel("Hessian eigenvalue")
    ax.set_ylabel("density")
    ax.set_title(f"2-10-1 ReLU MLP: L2 penalty shifts the spectrum by 2*lambda = {2 * lam:g}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"   spectral density plot saved to {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="PATH.png", help="save the spectral density plot")
    args = parser.parse_args(argv)
    ridge()
    mlp(args.plot)


if __name__ == "__main__":
    main()
