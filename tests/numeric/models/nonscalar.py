"""loss_fn returns a vector (reduction='none'): not a valid loss."""

import torch
from torch import nn

model = nn.Linear(3, 1)
loss_fn = nn.MSELoss(reduction="none")
data = (torch.randn(8, 3), torch.randn(8, 1))
