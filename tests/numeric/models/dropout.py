"""Dropout in train mode: the loss is random, convexcheck refuses it."""

import torch
from torch import nn

model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.ReLU(), nn.Linear(8, 1))
loss_fn = nn.MSELoss()
data = (torch.randn(16, 3), torch.randn(16, 1))
