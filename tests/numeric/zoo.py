"""Small seeded models for the numeric tests: ``name -> (model, loss_fn, data, penalties)``.

Each builder is deterministic (its own seed) and tiny, so a whole verdict takes milliseconds.
``CONVEX`` are provably convex in their trainable parameters, ``NONCONVEX`` are not (each has a
known Jensen violation the search is expected to find).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from convexcheck.numeric.functional import L2Penalty


def _data(n: int = 32, d: int = 3, out: int = 1, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    y = torch.randn(n, out, generator=g)
    return x, y


def _labels(n: int = 32, d: int = 3, classes: int = 3, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, classes, (n,), generator=g)


def linear_regression() -> tuple:
    torch.manual_seed(1)
    return nn.Linear(3, 1), nn.MSELoss(), _data(), None


def logistic_regression() -> tuple:
    torch.manual_seed(2)
    x, _ = _data()
    y = (x[:, :1] > 0).float()
    return nn.Linear(3, 1), nn.BCEWithLogitsLoss(), (x, y), None


def softmax_regression() -> tuple:
    torch.manual_seed(3)
    return nn.Linear(3, 4), nn.CrossEntropyLoss(), _labels(classes=4), None


def l2_linear() -> tuple:
    torch.manual_seed(4)
    return nn.Linear(3, 1), nn.MSELoss(), _data(), [L2Penalty(0.1)]


def frozen_features_head() -> tuple:
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    for p in model[0].parameters():
        p.requires_grad_(False)
    return model, nn.CrossEntropyLoss(), _labels(classes=2), None


def deep_linear() -> tuple:
    torch.manual_seed(6)
    return nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1)), nn.MSELoss(), _data(), None


def relu_mlp() -> tuple:
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 1))
    return model, nn.MSELoss(), _data(d=2), None


def tanh_mlp() -> tuple:
    torch.manual_seed(8)
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 3))
    return model, nn.CrossEntropyLoss(), _labels(), None


def small_cnn() -> tuple:
    torch.manual_seed(9)
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(4 * 2 * 2, 3),
    )  # fmt: skip
    g = torch.Generator().manual_seed(9)
    x = torch.randn(8, 1, 6, 6, generator=g)
    y = torch.randint(0, 3, (8,), generator=g)
    return model, nn.CrossEntropyLoss(), (x, y), None


def batchnorm_train() -> tuple:
    torch.manual_seed(10)
    model = nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 1))
    model.train()
    return model, nn.MSELoss(), _data(), None


class ScaledLinear(nn.Module):
    """``s * (W x + b)`` with a trainable scalar ``s``: bilinear in (s, W)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(1.5))
        self.linear = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * self.linear(x)


def scalar_times_linear() -> tuple:
    torch.manual_seed(11)
    return ScaledLinear(), nn.MSELoss(), _data(), None


CONVEX: dict[str, Any] = {
    "linear_regression": linear_regression,
    "logistic_regression": logistic_regression,
    "softmax_regression": softmax_regression,
    "l2_linear": l2_linear,
    "frozen_features_head": frozen_features_head,
}
NONCONVEX: dict[str, Any] = {
    "deep_linear": deep_linear,
    "relu_mlp": relu_mlp,
    "tanh_mlp": tanh_mlp,
    "small_cnn": small_cnn,
    "batchnorm_train": batchnorm_train,
    "scalar_times_linear": scalar_times_linear,
}


# -- hostile models (issue 10): what real users train, each with its ground truth --------------
# ``HOSTILE[name] = (builder, truth)`` with truth "convex", "nonconvex" or "refused" (an input
# error is the right answer). Ground truth comes from known math, stated per builder; the
# tests re-establish it independently in float64 through the user's own module.
def _parametrized(kind: str) -> tuple:
    from torch.nn.utils import parametrizations

    torch.manual_seed(20)
    layer = nn.Linear(3, 3)
    if kind == "weight_norm":
        layer = parametrizations.weight_norm(layer)
    elif kind == "spectral_norm":
        layer = parametrizations.spectral_norm(layer)
    else:
        layer = parametrizations.orthogonal(layer)
    return layer, nn.MSELoss(), _data(out=3), None


def weight_norm_layer() -> tuple:
    """W = g v/|v|: the loss is invariant under v -> c v (c > 0) but not convex in v."""
    return _parametrized("weight_norm")


def spectral_norm_layer() -> tuple:
    """W = V/sigma(V) (train mode: one power iteration per call, from the stored u)."""
    return _parametrized("spectral_norm")


def orthogonal_layer() -> tuple:
    """W = matrix_exp / Cayley of a skew matrix: a compact set, never convex in the original."""
    return _parametrized("orthogonal")


def old_weight_norm_layer() -> tuple:
    """``torch.nn.utils.weight_norm``: a forward pre-hook rebuilds ``weight`` from g and v."""
    import warnings

    torch.manual_seed(21)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        layer = nn.utils.weight_norm(nn.Linear(3, 1))
    return layer, nn.MSELoss(), _data(), None


def _closure(sign: float, weight: float, kind: str = "l2", captured: bool = False) -> tuple:
    torch.manual_seed(22)
    model = nn.Linear(3, 1)
    params = list(model.parameters())

    def loss_fn(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        source = params if captured else model.parameters()
        if kind == "l1":
            penalty = sum(p.abs().sum() for p in source)
        else:
            penalty = sum(p.pow(2).sum() for p in source)
        return nn.functional.mse_loss(out, target) + sign * weight * penalty

    return model, loss_fn, _data(), None


def ridge_in_loss_fn() -> tuple:
    """MSE of a linear model + 0.1 |theta|^2 written in loss_fn: convex (a sum of convex)."""
    return _closure(1.0, 0.1)


def lasso_in_loss_fn() -> tuple:
    """MSE + 0.1 |theta|_1 written in loss_fn: convex."""
    return _closure(1.0, 0.1, "l1")


def concave_penalty_in_loss_fn() -> tuple:
    """MSE - 10 |theta|^2: the Hessian is 2 X^T X / n - 20 I, negative along any direction
    with |X d|^2 / n < 10 |d|^2 (e.g. every direction for this data): not convex."""
    return _closure(-1.0, 10.0)


def ridge_over_captured_list() -> tuple:
    """As ridge_in_loss_fn, but the penalty reads a list captured before any call."""
    return _closure(1.0, 0.1, captured=True)


def concave_over_captured_list() -> tuple:
    """As concave_penalty_in_loss_fn, through a captured list."""
    return _closure(-1.0, 10.0, captured=True)


TANH_RIDGE = 5.0


def tanh_ridge_in_loss_fn() -> tuple:
    """MSE(tanh(w x + b), y) + 5 |theta|^2 in loss_fn: convex because the ridge's curvature (10)
    exceeds the data term's most negative possible curvature (see
    ``tests/numeric/test_zoo.py::tanh_ridge_curvature_bound``)."""
    torch.manual_seed(23)
    model = nn.Linear(3, 1)

    def loss_fn(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ridge = sum(p.pow(2).sum() for p in model.parameters())
        return nn.functional.mse_loss(torch.tanh(out), target) + TANH_RIDGE * ridge

    return model, loss_fn, _data(), None


class _PenalisedLoss(nn.Module):
    """A loss MODULE that holds the model and penalises its parameters: the model is then
    registered under two paths of any wrapper, which must still swap and restore each slot
    exactly once."""

    def __init__(self, net: nn.Module, weight: float) -> None:
        super().__init__()
        self.net = net
        self.weight = weight

    def forward(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        penalty = sum(p.pow(2).sum() for p in self.net.parameters())
        return nn.functional.mse_loss(out, target) + self.weight * penalty


def loss_module_holding_the_model_ridge() -> tuple:
    """MSE + 0.1 |theta|^2 from a loss module that holds the model: convex."""
    torch.manual_seed(31)
    model = nn.Linear(3, 1)
    return model, _PenalisedLoss(model, 0.1), _data(), None


def loss_module_holding_the_model_concave() -> tuple:
    """MSE - 10 |theta|^2 from a loss module that holds the model: not convex."""
    torch.manual_seed(31)
    model = nn.Linear(3, 1)
    return model, _PenalisedLoss(model, -10.0), _data(), None


class TracingDependent(nn.Module):
    """Affine while fx traces it, ``sin(3 (w x + b))`` when it runs: the MSE is not convex."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.linear(x)
        if torch.fx._symbolic_trace.is_fx_tracing():
            return z
        return torch.sin(3 * z)


def tracing_dependent_forward() -> tuple:
    torch.manual_seed(24)
    return TracingDependent(), nn.MSELoss(), _data(), None


def cubing_forward_hook() -> tuple:
    """A forward hook cubes the output of a Linear: MSE of (w x + b)^3 is not convex."""
    torch.manual_seed(25)
    layer = nn.Linear(3, 1)
    layer.register_forward_hook(lambda module, args, out: out**3)
    return layer, nn.MSELoss(), _data(), None


def dropout_eval() -> tuple:
    """Dropout in eval mode is the identity: a linear model's MSE, convex."""
    torch.manual_seed(26)
    model = nn.Sequential(nn.Dropout(0.5), nn.Linear(3, 1))
    model.eval()
    return model, nn.MSELoss(), _data(), None


def dropout_train() -> tuple:
    """Dropout in train mode: the loss is random, convexity undefined -> refused."""
    torch.manual_seed(27)
    model = nn.Sequential(nn.Dropout(0.5), nn.Linear(3, 1))
    model.train()
    return model, nn.MSELoss(), _data(), None


def batchnorm_eval_frozen_features() -> tuple:
    """Frozen Linear + BatchNorm (eval: running statistics) + ReLU, trainable head: convex."""
    torch.manual_seed(28)
    model = nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 1))
    with torch.no_grad():
        model[1].running_mean.uniform_(-0.5, 0.5)
        model[1].running_var.uniform_(0.5, 2.0)
    for p in [*model[0].parameters(), *model[1].parameters()]:
        p.requires_grad_(False)
    model.eval()
    return model, nn.MSELoss(), _data(), None


def batchnorm_eval_trainable_scale() -> tuple:
    """Linear then BatchNorm in eval mode with trainable gamma: gamma * (W x) is bilinear."""
    torch.manual_seed(29)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    model.eval()
    return model, nn.MSELoss(), _data(), None


def batchnorm_train_head() -> tuple:
    """Trainable Linear into BatchNorm in train mode (batch statistics): not convex."""
    torch.manual_seed(30)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, affine=False), nn.Linear(4, 1))
    model.train()
    return model, nn.MSELoss(), _data(), None


HOSTILE: dict[str, tuple[Any, str]] = {
    "weight_norm_layer": (weight_norm_layer, "nonconvex"),
    "spectral_norm_layer": (spectral_norm_layer, "nonconvex"),
    "orthogonal_layer": (orthogonal_layer, "nonconvex"),
    "old_weight_norm_layer": (old_weight_norm_layer, "nonconvex"),
    "ridge_in_loss_fn": (ridge_in_loss_fn, "convex"),
    "lasso_in_loss_fn": (lasso_in_loss_fn, "convex"),
    "concave_penalty_in_loss_fn": (concave_penalty_in_loss_fn, "nonconvex"),
    "ridge_over_captured_list": (ridge_over_captured_list, "convex"),
    "concave_over_captured_list": (concave_over_captured_list, "nonconvex"),
    "tanh_ridge_in_loss_fn": (tanh_ridge_in_loss_fn, "convex"),
    "loss_module_holding_the_model_ridge": (loss_module_holding_the_model_ridge, "convex"),
    "loss_module_holding_the_model_concave": (loss_module_holding_the_model_concave, "nonconvex"),
    "tracing_dependent_forward": (tracing_dependent_forward, "nonconvex"),
    "cubing_forward_hook": (cubing_forward_hook, "nonconvex"),
    "dropout_eval": (dropout_eval, "convex"),
    "dropout_train": (dropout_train, "refused"),
    "batchnorm_eval_frozen_features": (batchnorm_eval_frozen_features, "convex"),
    "batchnorm_eval_trainable_scale": (batchnorm_eval_trainable_scale, "nonconvex"),
    "batchnorm_train_head": (batchnorm_train_head, "nonconvex"),
}
