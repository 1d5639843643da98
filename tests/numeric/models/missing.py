"""Defines a model but no loss_fn or data."""

from torch import nn

model = nn.Linear(3, 1)
