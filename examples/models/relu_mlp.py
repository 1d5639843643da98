"""Model file for the CLI: the 2-10-1 ReLU MLP with MSE on 64 fixed random points.

Run: ``convexcheck model examples/models/relu_mlp.py --expect nonconvex`` (exit status 0: a
float64-verified Jensen witness establishes that the loss is not convex in the weights), or add
``--json``, ``--witness-out witness.pt`` or ``--report report.html``.

A model file is Python and is executed by ``convexcheck``: it defines ``build()`` returning a
dict with ``model``, ``loss_fn`` (called as ``loss_fn(model(inputs), targets)``) and ``data``
(an ``(inputs, targets)`` pair). See ``docs/models.md``.
"""

from __future__ import annotations

import torch
from torch import nn


def build() -> dict:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 1))
    x = torch.randn(64, 2)
    y = torch.sin(x[:, :1])
    return {"model": model, "loss_fn": nn.MSELoss(), "data": (x, y)}
