"""FunctionalLoss: the loss as a function of a flat vector, batched, validated, side-effect free."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from convexcheck.errors import ConvexcheckInputError
from convexcheck.numeric.functional import FunctionalLoss, L2Penalty
from tests.numeric import zoo

ALL = {**zoo.CONVEX, **zoo.NONCONVEX}


@pytest.mark.parametrize("name", sorted(ALL))
def test_batched_loss_equals_loop_loss(name: str) -> None:
    model, loss_fn, data, penalties = ALL[name]()
    f = FunctionalLoss(model, loss_fn, data, penalties=penalties)
    g = torch.Generator().manual_seed(0)
    thetas = f.theta0 + 0.3 * torch.randn(5, f.numel, generator=g)
    with torch.no_grad():
        batched = f.batched_loss(thetas)
        loop = f.loop_loss(thetas)
    assert f.batch_path == "vmap"
    torch.testing.assert_close(batched, loop, rtol=1e-5, atol=1e-6)
    # and the loss at theta0 is the model's own loss
    with torch.no_grad():
        direct = loss_fn(model(data[0]), data[1])
        if penalties:
            direct = direct + sum(p(dict(model.named_parameters())) for p in penalties)
    assert float(f.loss(f.theta0)) == pytest.approx(float(direct), rel=1e-6)


class _InPlace(nn.Module):
    """Writes into a fresh buffer in place: fine in eager mode, impossible under vmap."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(x.shape[0], 2)
        out += self.lin(x)
        return out


def test_vmap_failure_falls_back_to_a_loop_and_says_so() -> None:
    x, y = torch.randn(6, 3), torch.randn(6, 2)
    f = FunctionalLoss(_InPlace(), nn.MSELoss(), (x, y))
    thetas = f.theta0 + torch.randn(4, f.numel)
    with torch.no_grad():
        values = f.batched_loss(thetas)
    assert f.batch_path == "loop"
    assert f.batch_fallback_reason
    torch.testing.assert_close(values, f.loop_loss(thetas))


def test_trainable_selection_order_and_unflatten() -> None:
    model, loss_fn, data, _ = zoo.frozen_features_head()
    f = FunctionalLoss(model, loss_fn, data)
    assert f.names == ["2.weight", "2.bias"]
    assert f.frozen_names == ["0.weight", "0.bias"]
    assert f.numel == 8 * 2 + 2
    parts = f.unflatten(f.theta0)
    torch.testing.assert_close(parts["2.weight"], model[2].weight.detach())
    state = f.state_dict_at(torch.zeros(f.numel))
    assert set(state) == set(model.state_dict())
    assert torch.count_nonzero(state["2.weight"]) == 0
    torch.testing.assert_close(state["0.weight"], model[0].weight.detach())


def test_state_dict_at_keeps_batchnorm_buffers() -> None:
    model, loss_fn, data, _ = zoo.batchnorm_train()
    model[1].running_mean.fill_(0.25)
    f = FunctionalLoss(model, loss_fn, data)
    state = f.state_dict_at(f.theta0)
    assert torch.all(state["1.running_mean"] == 0.25)
    assert "1.num_batches_tracked" in state
    assert f.mode["mode"] == "train" and f.mode["batchnorm"] == ["1"]
    assert any("BatchNorm in train mode" in n for n in f.mode["notes"])


def test_float64_copy_agrees_and_original_is_untouched() -> None:
    model, loss_fn, data, _ = zoo.batchnorm_train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    f = FunctionalLoss(model, loss_fn, data)
    f64 = f.to(dtype=torch.float64)
    assert f64.theta0.dtype == torch.float64
    with torch.no_grad():
        f.batched_loss(f.theta0 + torch.randn(3, f.numel))
        assert float(f64.loss(f64.theta0)) == pytest.approx(f.loss0, rel=1e-5)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert model.training and model[1].track_running_stats


@pytest.mark.parametrize(
    ("builder", "message"),
    [
        (lambda: (nn.Linear(3, 1), nn.MSELoss(reduction="none")), "must return a scalar"),
        (lambda: (nn.Linear(3, 1), lambda out, y: (out - y).abs().sum() * float("nan")), "finite"),
        (lambda: (nn.Linear(3, 1).requires_grad_(False), nn.MSELoss()), "no trainable"),
        (lambda: (nn.Linear(4, 1), nn.MSELoss()), "failed: RuntimeError"),
        (
            lambda: (
                nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.Linear(3, 1)),
                nn.MSELoss(),
            ),
            "Dropout in training mode",
        ),
        (
            lambda: (nn.Linear(3, 1), lambda out, y: (out - y).pow(2).mean() * torch.rand(())),
            "random",
        ),
    ],
)
def test_invalid_models_are_input_errors(builder, message: str) -> None:
    torch.manual_seed(0)
    model, loss_fn = builder()
    data = (torch.randn(8, 3), torch.randn(8, 1))
    with pytest.raises(ConvexcheckInputError, match=message):
        FunctionalLoss(model, loss_fn, data)


def test_dropout_in_eval_mode_is_accepted_and_noted() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.Linear(3, 1)).eval()
    f = FunctionalLoss(model, nn.MSELoss(), (torch.randn(8, 3), torch.randn(8, 1)))
    assert f.mode["mode"] == "eval" and f.mode["dropout"] == ["1"]


def test_l2_penalty_adds_the_squared_norm() -> None:
    model = nn.Linear(2, 1)
    data = (torch.randn(4, 2), torch.randn(4, 1))
    plain = FunctionalLoss(model, nn.MSELoss(), data)
    pen = FunctionalLoss(model, nn.MSELoss(), data, penalties=[L2Penalty(0.5)])
    expected = plain.loss0 + 0.5 * float(plain.theta0.pow(2).sum())
    assert pen.loss0 == pytest.approx(expected, rel=1e-6)


def test_tied_weights_are_one_parameter_and_both_entries_are_saved() -> None:
    first, second = nn.Linear(3, 3, bias=False), nn.Linear(3, 1)
    model = nn.Sequential(first, nn.Tanh(), nn.Linear(3, 3, bias=False), second)
    model[2].weight = first.weight  # tied
    f = FunctionalLoss(model, nn.MSELoss(), (torch.randn(5, 3), torch.randn(5, 1)))
    assert f.names == ["0.weight", "3.weight", "3.bias"]
    theta = f.theta0.clone()
    theta[:9] = 7.0
    state = f.state_dict_at(theta)
    assert torch.all(state["0.weight"] == 7.0) and torch.all(state["2.weight"] == 7.0)
