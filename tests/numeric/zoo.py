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
