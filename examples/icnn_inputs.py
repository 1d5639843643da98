"""Convexity in the inputs: an input-convex network (ICNN) proved, an ordinary MLP refuted.

Input-convex networks (Amos, Xu and Kolter, 2017) are used where a learned function must be
convex in its input: optimal-transport potentials, value functions for control, energy models.
Their recipe is a convex, non-decreasing activation (softplus here) and non-negative weights on
the path from one hidden layer to the next; the "passthrough" layers from the input may have
any sign. ``cc.check_model(..., wrt="inputs")`` judges x -> model(x) with the parameters held
at their values: the ICNN gets a ``yes`` with the DCP derivation over its graph, the MLP a
``no`` with two inputs whose midpoint breaks Jensen's inequality, re-checked in float64.

Run: ``python examples/icnn_inputs.py``
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

import convexcheck as cc


class NonNegative(nn.Module):
    """A parametrization W = softplus(raw): the weight is non-negative whatever is trained."""

    def forward(self, raw: torch.Tensor) -> torch.Tensor:
        return F.softplus(raw)


class ICNN(nn.Module):
    """z1 = softplus(A0 x + b0); z2 = softplus(W1 z1 + A1 x + b1); f = w2 . z2 + a2 . x."""

    def __init__(self, d: int = 2, hidden: int = 16) -> None:
        super().__init__()
        self.a0 = nn.Linear(d, hidden)
        self.w1 = nn.Linear(hidden, hidden, bias=False)
        self.a1 = nn.Linear(d, hidden)
        self.w2 = nn.Linear(hidden, 1, bias=False)
        self.a2 = nn.Linear(d, 1)
        for layer in (self.w1, self.w2):  # the z-path weights: non-negative by construction
            parametrize.register_parametrization(layer, "weight", NonNegative())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z1 = F.softplus(self.a0(x))
        z2 = F.softplus(self.w1(z1) + self.a1(x))
        return self.w2(z2) + self.a2(x)


def main() -> None:
    torch.manual_seed(0)
    x = torch.randn(64, 2)
    icnn = ICNN().eval()
    mlp = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1)).eval()
    for name, model in (("ICNN", icnn), ("MLP with tanh", mlp)):
        result = cc.check_model(model, data=x, wrt="inputs", seed=0)
        print(f"== {name}: convex in its inputs? {result.convex.answer}")
        print(result.explain())
        print()
    assert cc.check_model(icnn, data=x, wrt="inputs").convex.answer == "yes"
    assert cc.check_model(mlp, data=x, wrt="inputs").convex.answer == "no"


if __name__ == "__main__":
    main()
