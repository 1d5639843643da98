"""Model file for the CLI: a trainable logistic head on frozen random features.

Run: ``convexcheck examples/models/logistic_head.py --expect convex`` (exit status 0: the loss
is *proved* convex in the trainable parameters by a structural certificate).

The features ``tanh(W x + c)`` come from a random layer with ``requires_grad=False``, so they are
fixed numbers; the head ``Linear(16, 1)`` is affine in its own weight and bias, and
``BCEWithLogitsLoss`` is convex in the logit. Convexity is judged in the trainable parameters
only, so this is a convex problem (a linear probe), although the network is not linear.

A model file is Python and is executed by ``convexcheck``; see ``docs/models.md``.
"""

from __future__ import annotations

import torch
from torch import nn


def build() -> dict:
    torch.manual_seed(0)
    features = nn.Sequential(nn.Linear(3, 16), nn.Tanh())
    features.requires_grad_(False)  # frozen: part of the data, not of the optimisation
    model = nn.Sequential(features, nn.Linear(16, 1))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(128, 3, generator=g)
    y = (x[:, :1] * x[:, 1:2] + 0.2 * torch.randn(128, 1, generator=g) > 0).float()
    return {"model": model, "loss_fn": nn.BCEWithLogitsLoss(), "data": (x, y)}
