"""Least squares with module-level names: convex in the parameters."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Linear(3, 1)
loss_fn = nn.MSELoss()
data = (torch.randn(32, 3), torch.randn(32, 1))
print("this line goes to stderr, never into --json output")
