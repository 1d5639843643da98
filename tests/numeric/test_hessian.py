"""Hessian-vector products, dense Hessians, Hutchinson trace and stochastic Lanczos quadrature."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from convexcheck.numeric.hessian import (
    METHODS,
    Density,
    dense_hessian,
    gaussian_density,
    hutchinson_trace,
    make_hvp,
    spectral_density,
)
from tests.helpers.torch_models import MODELS, flat_loss, with_spectrum

F64 = torch.float64


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors: see conftest


@pytest.mark.parametrize("method", ["auto", *METHODS])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_hvp_equals_dense_hessian_times_v(name: str, method: str) -> None:
    model, loss_fn, data = MODELS[name]
    loss, theta = flat_loss(model, loss_fn, data)
    h = dense_hessian(loss, theta)
    assert torch.allclose(h, h.T, atol=1e-10)
    if name == "linear-regression" and method == "forward-over-reverse":
        # torch 2.13: jvp(grad(mse_loss(linear))) raises "ZeroTensors are immutable"; auto
        # mode steps over it (checked below), the explicit method lets the error through.
        with pytest.raises(RuntimeError):
            make_hvp(loss, theta, method=method)(theta)
        return
    hvp = make_hvp(loss, theta, method=method)
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        v = torch.randn(theta.numel(), generator=g, dtype=F64)
        assert torch.allclose(hvp(v), h @ v, rtol=1e-9, atol=1e-10)
    assert hvp.calls == 3
    assert hvp.method in METHODS
    if method == "auto":
        expected = "reverse-over-forward" if name == "linear-regression" else METHODS[0]
        assert hvp.method == expected


def test_dense_hessian_of_quadratic() -> None:
    a = with_spectrum(torch.linspace(-1.0, 2.0, 7), seed=1)
    b = torch.arange(7.0, dtype=F64)

    def loss(t: torch.Tensor) -> torch.Tensor:
        return 0.5 * t @ a @ t + b @ t

    h = dense_hessian(loss, torch.zeros(7, dtype=F64))
    assert torch.allclose(h, a, atol=1e-12)


class _OpaqueSquare(torch.autograd.Function):
    """Old-style custom Function: double-backward works, torch.func transforms do not."""

    @staticmethod
    def forward(ctx, x):  # type: ignore[override]
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return 2.0 * x * grad


def test_auto_falls_back_to_double_backward() -> None:
    w = torch.tensor([1.0, -3.0, 0.5], dtype=F64)

    def loss(t: torch.Tensor) -> torch.Tensor:
        return (w * _OpaqueSquare.apply(t)).sum()

    theta = torch.tensor([0.3, 0.1, -2.0], dtype=F64)
    hvp = make_hvp(loss, theta)
    v = torch.tensor([1.0, 2.0, 3.0], dtype=F64)
    assert torch.allclose(hvp(v), 2.0 * w * v)
    assert hvp.method == "double-backward"
    assert hvp.fallback_reason
    assert torch.allclose(hvp(v), 2.0 * w * v)  # stays on the fallback
    with pytest.raises(Exception):  # noqa: B017 - any torch.func error type is acceptable
        make_hvp(loss, theta, method="forward-over-reverse")(v)


def test_hvp_of_affine_loss_is_zero() -> None:
    c = torch.tensor([1.0, 2.0], dtype=F64)
    for method in ("auto", *METHODS):
        hvp = make_hvp(lambda t: c @ t + 3.0, torch.zeros(2, dtype=F64), method=method)
        assert torch.equal(hvp(torch.ones(2, dtype=F64)), torch.zeros(2, dtype=F64))


def test_make_hvp_rejects_unknown_method() -> None:
    with pytest.raises(ValueError):
        make_hvp(lambda t: t.sum(), torch.zeros(1), method="finite-differences")


def test_hutchinson_exact_for_diagonal() -> None:
    d = torch.tensor([1.0, -2.0, 5.0, 0.25], dtype=F64)
    est = hutchinson_trace(lambda v: d * v, 4, samples=10, seed=3)
    assert est.mean == pytest.approx(float(d.sum()), abs=1e-12)
    assert est.stderr == pytest.approx(0.0, abs=1e-12)  # zᵀDz = tr D for every ±1 vector


def test_hutchinson_mean_within_standard_errors() -> None:
    a = with_spectrum(torch.linspace(-1.0, 3.0, 60), seed=2)
    est = hutchinson_trace(lambda v: a @ v, 60, samples=400, seed=0)
    assert est.samples == 400 and len(est.values) == 400
    assert est.stderr > 0
    assert abs(est.mean - float(torch.trace(a))) <= 4 * est.stderr
    again = hutchinson_trace(lambda v: a @ v, 60, samples=400, seed=0)
    assert again.mean == est.mean  # seeded


def test_hutchinson_on_model_matches_dense_trace() -> None:
    model, loss_fn, data = MODELS["tanh-mlp"]
    loss, theta = flat_loss(model, loss_fn, data)
    h = dense_hessian(loss, theta)
    est = hutchinson_trace(make_hvp(loss, theta), theta.numel(), samples=200, seed=1)
    assert abs(est.mean - float(torch.trace(h))) <= 4 * est.stderr


def test_spectral_density_moments_exact_with_full_krylov_space() -> None:
    d = torch.linspace(-2.0, 6.0, 40, dtype=F64)
    dens = spectral_density(lambda v: d * v, 40, iterations=40, probes=3, seed=0)
    assert isinstance(dens, Density)
    assert float(dens.weights.sum()) == pytest.approx(1.0, abs=1e-12)
    # Rademacher probes of a diagonal matrix: vᵀ H^k v = tr(H^k)/n exactly
    for k in (1, 2, 3):
        moment = float((dens.weights * dens.nodes**k).sum())
        assert moment == pytest.approx(float((d**k).mean()), rel=1e-9, abs=1e-9)
    assert float(dens.nodes.min()) >= -2.0 - 1e-9 and float(dens.nodes.max()) <= 6.0 + 1e-9


def test_spectral_density_locates_the_outlier() -> None:
    spectrum = torch.cat([torch.linspace(0.0, 1.0, 199), torch.tensor([-20.0])])
    a = with_spectrum(spectrum, seed=4)
    dens = spectral_density(lambda v: a @ v, 200, iterations=30, probes=2, seed=0)
    assert float(dens.nodes.min()) == pytest.approx(-20.0, abs=1e-6)
    # the outlier carries about 1/n of the mass, the bulk the rest
    assert float(dens.weights[dens.nodes < -10].sum()) < 0.05
    assert float(dens.weights[(dens.nodes > -0.1) & (dens.nodes < 1.1)].sum()) > 0.95


def test_gaussian_density_integrates_to_one() -> None:
    dens = Density(
        nodes=torch.tensor([0.0, 1.0, 4.0], dtype=F64),
        weights=torch.tensor([0.5, 0.25, 0.25], dtype=F64),
        probes=1,
        iterations=3,
        seed=0,
    )
    grid = torch.linspace(-5.0, 10.0, 3001, dtype=F64)
    y = dens.smoothed(grid, sigma=0.2)
    assert y.shape == grid.shape and float(y.min()) >= 0.0
    assert float(torch.trapezoid(y, grid)) == pytest.approx(1.0, abs=1e-6)
    assert float(y[torch.argmin(torch.abs(grid))]) > float(y[torch.argmin(torch.abs(grid - 4))])
    default = gaussian_density(dens, grid)  # sigma defaults to 1% of the spread
    assert float(torch.trapezoid(default, grid)) == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError):
        gaussian_density(dens, grid, sigma=0.0)


def test_spectral_density_of_model_brackets_lanczos_extremes() -> None:
    model, loss_fn, data = MODELS["relu-mlp"]
    loss, theta = flat_loss(model, loss_fn, data)
    evals = torch.linalg.eigvalsh(dense_hessian(loss, theta))
    dens = spectral_density(make_hvp(loss, theta), theta.numel(), iterations=50, probes=2)
    assert float(dens.nodes.min()) >= float(evals[0]) - 1e-8
    assert float(dens.nodes.max()) <= float(evals[-1]) + 1e-8
    assert dens.to_dict()["probes"] == 2


def test_model_with_frozen_parameters_differentiates_only_trainable() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    model[0].weight.requires_grad_(False)
    x = torch.randn(10, 3, dtype=F64)
    y = torch.randn(10, 1, dtype=F64)
    loss, theta = flat_loss(model, nn.MSELoss(), (x, y))
    assert theta.numel() == 4 + 4 + 1
    h = dense_hessian(loss, theta)
    v = torch.ones(theta.numel(), dtype=F64)
    assert torch.allclose(make_hvp(loss, theta)(v), h @ v, atol=1e-12)
