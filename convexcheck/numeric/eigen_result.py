"""What an extreme-eigenvalue run returns, and the seeded start vectors every run draws.

A module of its own so that the classic Lanczos loop (:mod:`convexcheck.numeric.lanczos`) and
the block method with stored products (:mod:`convexcheck.numeric.block_eigen`) share the result
type and the random vectors without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["ExtremeEigen", "rademacher"]


@dataclass
class ExtremeEigen:
    """Extreme eigenpairs of a symmetric operator, with residual-based error bounds.

    ``min_error``/``max_error`` are ``‖Hx - θx‖`` for the unit Ritz vector ``x``: some eigenvalue
    lies within that distance of the reported value (see the module docstring for the caveats).
    ``converged`` is true when both bounds met the tolerance or the Krylov space was exhausted.
    """

    min_eigenvalue: float
    max_eigenvalue: float
    min_vector: Tensor
    max_vector: Tensor
    min_error: float
    max_error: float
    iterations: int
    matvecs: int
    converged: bool
    exhausted: bool = False
    restarts: int = 0
    seed: int = 0

    def to_dict(self) -> dict[str, float | int | bool]:
        """JSON-ready summary (vectors left out: they are as long as the parameter vector)."""
        return {
            "min_eigenvalue": self.min_eigenvalue,
            "max_eigenvalue": self.max_eigenvalue,
            "min_error": self.min_error,
            "max_error": self.max_error,
            "iterations": self.iterations,
            "matvecs": self.matvecs,
            "converged": self.converged,
            "exhausted": self.exhausted,
            "restarts": self.restarts,
            "seed": self.seed,
        }


def rademacher(n: int, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
    """A ±1 vector, drawn on the CPU so that a seed gives the same vector on every device."""
    return torch.randint(0, 2, (n,), generator=generator, dtype=torch.int64).to(dtype) * 2 - 1
