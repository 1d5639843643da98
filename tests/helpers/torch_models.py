"""Small PyTorch models and matrices shared by the Hessian, Lanczos and structural tests.

They live outside any test module so that a test file never imports another one (which would
make pytest collect the imported file's tests twice). Everything is float64 and seeded, so each
test sees the same models and spectra on every run.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call

F64 = torch.float64


def flat_loss(model: nn.Module, loss_fn, data):
    """A flat-parameter loss of its own, so these tests do not depend on numeric/functional.py."""
    names = [k for k, p in model.named_parameters() if p.requires_grad]
    params = dict(model.named_parameters())
    shapes = [params[k].shape for k in names]
    sizes = [params[k].numel() for k in names]
    theta0 = torch.cat([params[k].detach().reshape(-1) for k in names])
    x, y = data

    def loss(theta: torch.Tensor) -> torch.Tensor:
        chunks = torch.split(theta, sizes)
        p = {k: c.reshape(s) for k, c, s in zip(names, chunks, shapes)}
        return loss_fn(functional_call(model, p, (x,)), y)

    return loss, theta0


def _models() -> dict[str, tuple[nn.Module, nn.Module, tuple[torch.Tensor, torch.Tensor]]]:
    """Four tiny seeded models with their losses and data: a convex one and three indefinite."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(32, 6, generator=g, dtype=F64)
    y = torch.randn(32, 2, generator=g, dtype=F64)
    labels = torch.randint(0, 3, (32,), generator=g)
    img = torch.randn(8, 1, 6, 6, generator=g, dtype=F64)
    img_labels = torch.randint(0, 3, (8,), generator=g)
    torch.manual_seed(2)
    linear = nn.Linear(6, 2).double()
    tanh_mlp = nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 3)).double()
    relu_mlp = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).double()
    cnn = nn.Sequential(
        nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Conv2d(3, 2, 3), nn.Flatten(), nn.Linear(2 * 2 * 2, 3)
    ).double()
    ce = nn.CrossEntropyLoss()
    return {
        "linear-regression": (linear, nn.MSELoss(), (x, y)),
        "tanh-mlp": (tanh_mlp, ce, (x, labels)),
        "relu-mlp": (relu_mlp, ce, (x, labels)),
        "cnn": (cnn, ce, (img, img_labels)),
    }


MODELS = _models()


def with_spectrum(spectrum: torch.Tensor, seed: int) -> torch.Tensor:
    """A dense symmetric matrix with exactly ``spectrum`` as eigenvalues (random rotation)."""
    n = spectrum.numel()
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=F64))
    return q @ torch.diag(spectrum.to(F64)) @ q.T
