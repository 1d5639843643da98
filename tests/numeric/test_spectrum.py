"""The public spectrum API (``hessian_extremes``, ``hessian_density``) against dense Hessians."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import convexcheck as cc
from convexcheck.errors import ConvexcheckInputError
from convexcheck.numeric.hessian import dense_hessian
from convexcheck.numeric.objective import build_objective


def small_case(seed: int = 0, hidden: int = 4):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, 1))
    g = torch.Generator().manual_seed(seed + 1)
    return net, nn.MSELoss(), (torch.randn(12, 3, generator=g), torch.randn(12, 1, generator=g))


def dense_spectrum(net, loss, data, wrt="parameters"):
    floss = build_objective(net, loss, data, wrt).floss.to(dtype=torch.float64)
    return torch.linalg.eigvalsh(dense_hessian(floss.loss, floss.theta0))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("method", ["auto", "reverse-over-forward", "double-backward"])
def test_the_error_bounds_bound_the_true_error(seed: int, method: str) -> None:
    net, loss, data = small_case(seed)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    e = cc.hessian_extremes(net, loss, data, tol=1e-6, method=method, device="cpu")
    spectrum = dense_spectrum(net, loss, data)
    # float32 products: the bound holds up to their rounding (about 1e-6 of the scale)
    slack = 1e-5 * float(spectrum.abs().max())
    assert abs(e.min_eigenvalue - float(spectrum[0])) <= e.min_error + slack
    assert abs(e.max_eigenvalue - float(spectrum[-1])) <= e.max_error + slack
    radius = max(abs(e.min_eigenvalue), abs(e.max_eigenvalue))
    assert e.converged and max(e.min_error, e.max_error) <= 1e-6 * radius
    assert e.hvps == e.iterations  # the residuals come from the stored products
    assert e.parameters == 21 and e.min_vector.shape == (21,)
    assert float(e.min_vector.norm()) == pytest.approx(1.0)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # untouched
    if method != "auto":
        assert e.method == method
    assert set(e.to_dict()) >= {"min_eigenvalue", "max_error", "hvps", "converged", "method"}


def test_the_same_seed_gives_the_same_numbers() -> None:
    net, loss, data = small_case()
    a = cc.hessian_extremes(net, loss, data, seed=3).to_dict()
    b = cc.hessian_extremes(net, loss, data, seed=3).to_dict()
    assert a == b


def test_each_end_relative_to_itself_is_stricter_for_a_small_lambda_min() -> None:
    net, loss, data = small_case(hidden=16)
    radius = cc.hessian_extremes(net, loss, data, tol=1e-3)
    each = cc.hessian_extremes(net, loss, data, tol=1e-3, relative_to="each")
    assert each.relative_to == "each" and each.converged
    assert each.min_error <= 1e-3 * max(1.0, abs(each.min_eigenvalue))
    assert each.hvps >= radius.hvps
    with pytest.raises(ConvexcheckInputError, match="relative_to must be"):
        cc.hessian_extremes(net, loss, data, relative_to="norm")


def test_a_subset_of_parameters_is_the_subset_hessian() -> None:
    net, loss, data = small_case()
    wrt = ["2.weight", "2.bias"]  # the last layer: MSE in it is a convex quadratic
    e = cc.hessian_extremes(net, loss, data, wrt=wrt, tol=1e-8)
    spectrum = dense_spectrum(net, loss, data, wrt)
    assert e.parameters == 5
    assert e.min_eigenvalue == pytest.approx(float(spectrum[0]), abs=1e-5)
    assert e.max_eigenvalue == pytest.approx(float(spectrum[-1]), rel=1e-5)


def test_max_iter_caps_the_work_and_says_so() -> None:
    net, loss, data = small_case(hidden=16)
    e = cc.hessian_extremes(net, loss, data, tol=1e-12, max_iter=3)
    assert e.iterations == 3 and not e.converged and e.hvps == 3


def test_the_density_first_moment_is_the_probes_quadratic_forms() -> None:
    """Gauss quadrature is exact for degree 1: Σ w θ = mean over probes of vᵀHv / n, with the
    same seeded Rademacher probes, computed here from the dense Hessian."""
    net, loss, data = small_case()
    d = cc.hessian_density(net, loss, data, iterations=6, probes=3, seed=5)
    assert d.hvps == 18 and d.nodes.shape == d.weights.shape == (18,)
    assert float(d.weights.sum()) == pytest.approx(1.0, abs=1e-12)
    floss = build_objective(net, loss, data).floss.to(dtype=torch.float64)
    h = dense_hessian(floss.loss, floss.theta0)
    n = h.shape[0]
    g = torch.Generator().manual_seed(5)
    forms = []
    for _ in range(3):
        v = (torch.randint(0, 2, (n,), generator=g, dtype=torch.int64) * 2 - 1).double()
        forms.append(float(v @ h @ v) / n)
    assert float((d.nodes * d.weights).sum()) == pytest.approx(sum(forms) / 3, rel=1e-5)
    grid = torch.linspace(float(d.nodes.min()) - 1, float(d.nodes.max()) + 1, 2001)
    area = float(torch.trapezoid(d.smoothed(grid), grid))
    assert area == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"tol": 0}, "tol must be a number in (0, 1)"),
        ({"tol": True}, "tol must be a number in (0, 1)"),
        ({"max_iter": 0}, "max_iter must be a positive integer"),
        ({"method": "finite-differences"}, "method must be 'auto' or one of"),
        ({"seed": -1}, "seed must be a nonnegative integer"),
    ],
)
def test_bad_arguments_are_one_line_errors(kwargs, words) -> None:
    net, loss, data = small_case()
    with pytest.raises(ConvexcheckInputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        cc.hessian_extremes(net, loss, data, **kwargs)


def test_a_product_torch_cannot_form_is_a_one_line_error() -> None:
    """torch 2.13 has no forward-over-reverse for MSE after a linear layer ("ZeroTensors are
    immutable"): asked for explicitly, that is an input error; "auto" falls back."""
    net, loss, data = small_case()
    try:
        e = cc.hessian_extremes(net, loss, data, method="forward-over-reverse")
    except ConvexcheckInputError as exc:
        assert "forward-over-reverse" in str(exc) and "\n" not in str(exc)
        assert "method='auto'" in str(exc)
    else:  # a torch that can: then it must be right
        assert e.method == "forward-over-reverse" and e.converged


def test_density_arguments_are_checked() -> None:
    net, loss, data = small_case()
    with pytest.raises(ConvexcheckInputError, match="probes must be a positive integer"):
        cc.hessian_density(net, loss, data, probes=0)


def test_a_loss_without_gradients_is_refused() -> None:
    """A loss that reads captured parameter objects is evaluated in place: no products."""
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    captured = [net.weight]

    def loss(out, target):
        return ((captured[0] ** 2).sum() + out.sum()) ** 2

    data = (torch.randn(4, 3), torch.randn(4, 1))
    with pytest.raises(ConvexcheckInputError, match="no gradients"):
        cc.hessian_extremes(net, loss, data)
