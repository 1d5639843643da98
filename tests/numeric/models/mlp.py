"""A 2-10-1 ReLU MLP on a small regression problem: not convex in its parameters."""

import torch
from torch import nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 1))
    x = torch.randn(64, 2)
    y = torch.sin(x[:, :1]) + 0.1 * torch.randn(64, 1)
    return {"model": model, "loss_fn": nn.MSELoss(), "data": (x, y)}
