"""Lanczos iteration for the extreme eigenvalues of a symmetric operator given only as ``v -> Hv``.

Why Lanczos and not power iteration: power iteration finds only the eigenvalue of largest
magnitude and converges at the rate ``|λ2/λ1|``; Lanczos builds the whole Krylov space
``span{v, Hv, H²v, ...}`` and reads *both* ends of the spectrum from it, converging roughly with
the square root of power iteration's number of steps. A convexity check needs ``λ_min`` (is the
Hessian ever negative?) and ``λ_max`` (the scale against which "negative" is judged), so one
Lanczos run answers what would otherwise take two shifted power iterations.

Why FULL reorthogonalisation: plain three-term Lanczos loses orthogonality in floating point as
soon as a Ritz value converges, and then produces spurious copies of converged eigenvalues ("ghost"
eigenvalues). Reorthogonalising every new vector against the whole basis (classical Gram-Schmidt,
a second pass whenever the first cancelled — "twice is enough", Kahan/Parlett, with the DGKS test
deciding) keeps the basis orthonormal to working precision.
Storing the basis costs ``k·n`` numbers, which is affordable for the few hundred steps used here.

Error bounds. For a symmetric matrix ``H`` and any unit vector ``x`` with Rayleigh quotient
``θ = xᵀHx``, there is an eigenvalue ``λ`` of ``H`` with ``|λ - θ| ≤ ‖Hx - θx‖`` (Bauer–Fike /
Krylov–Bogoliubov bound). ``lanczos_extremes`` reports that residual norm, recomputed with one
explicit product per extreme at the end (not just the cheap in-recurrence estimate
``|β_k y_k|``), as ``min_error``/``max_error``. Two caveats, stated honestly:

* the bound guarantees *an* eigenvalue near the Ritz value, not that it is the extreme one. In
  exact arithmetic the smallest Ritz value is an upper bound for ``λ_min`` (Courant–Fischer), so a
  negative ``min_eigenvalue`` is a genuine direction of negative curvature whatever the bound says;
  an eigenvalue missing from the Krylov space (a start vector orthogonal to its eigenvector) is
  not detected by any Krylov method. A random start vector makes that a probability-zero event.
* the residual is computed in floating point with the given ``hvp``; its rounding error (about
  ``ε·‖H‖``) is not added, hence "rigorous-ish".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from convexcheck.numeric.eigen_result import ExtremeEigen, rademacher

__all__ = ["ExtremeEigen", "LanczosRun", "lanczos_extremes", "lanczos_tridiagonal"]

_rademacher = rademacher  # the name this module's users import


@dataclass
class LanczosRun:
    """The raw output of the Lanczos recurrence: ``Qᵀ H Q = T`` with ``T`` tridiagonal.

    ``alphas`` is the diagonal, ``betas`` the off-diagonal (``len(alphas) - 1`` entries; a zero
    marks a restart after an invariant subspace), ``basis`` the ``k × n`` orthonormal rows and
    ``last_beta`` the norm of the residual after the final step (zero when the space is exhausted).
    """

    alphas: Tensor
    betas: Tensor
    basis: Tensor
    last_beta: float
    matvecs: int
    restarts: int
    exhausted: bool

    def tridiagonal(self) -> Tensor:
        """The dense tridiagonal matrix ``T`` (float64 on the CPU, it is tiny)."""
        a = self.alphas.detach().to("cpu", torch.float64)
        b = self.betas.detach().to("cpu", torch.float64)
        return torch.diag(a) + torch.diag(b, 1) + torch.diag(b, -1)


def _random_unit(n: int, generator: torch.Generator, dtype: torch.dtype, device) -> Tensor:
    v = torch.randn(n, generator=generator, dtype=torch.float64).to(dtype=dtype, device=device)
    return v / torch.linalg.vector_norm(v)


def _orthogonalise(w: Tensor, basis: Tensor, *, always_twice: bool = False) -> Tensor:
    """Project ``w`` off the rows of ``basis`` by classical Gram-Schmidt, twice when needed.

    "Twice is enough" (Kahan, Parlett): one pass leaves ``w`` orthogonal to working precision
    unless it cancelled heavily (``w`` nearly in the span); the second pass is then sufficient.
    The DGKS test runs the second pass only when the first shrank ``w`` below ``1/√2`` of its
    norm, which in a healthy Lanczos step it does not — halving the dominant O(k·n) cost.
    ``always_twice`` forces both passes (used for restart vectors, which are random).
    """
    if basis.shape[0] == 0:
        return w
    before = torch.linalg.vector_norm(w)
    w = w - (w @ basis.T) @ basis
    if always_twice or torch.linalg.vector_norm(w) < 0.7071067811865476 * before:
        w = w - (w @ basis.T) @ basis
    return w


class _Basis:
    """A growable ``k × n`` row store; doubling avoids re-copying the basis at every step."""

    def __init__(self, n: int, dtype: torch.dtype, device, capacity: int) -> None:
        self.data = torch.empty((max(1, capacity), n), dtype=dtype, device=device)
        self.size = 0

    def append(self, row: Tensor) -> None:
        if self.size == self.data.shape[0]:
            grown = torch.empty(
                (2 * self.data.shape[0], self.data.shape[1]),
                dtype=self.data.dtype,
                device=self.data.device,
            )
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size] = row
        self.size += 1

    @property
    def rows(self) -> Tensor:
        return self.data[: self.size]


def _as_operator(
    hvp: Callable[[Tensor], Tensor], dtype: torch.dtype, hvp_dtype: torch.dtype | None
) -> Callable[[Tensor], Tensor]:
    """Wrap ``hvp`` so it is fed ``hvp_dtype`` vectors and its answer comes back in ``dtype``.

    Running the products in float32 and the recurrence in float64 keeps the basis orthogonal to
    float64 precision while paying float32 prices for the expensive part (the model's HVP).
    """
    if hvp_dtype is None or hvp_dtype == dtype:
        return lambda v: hvp(v).to(dtype)
    return lambda v: hvp(v.to(hvp_dtype)).to(dtype)


class _Recurrence:
    """State of one Lanczos recurrence with full reorthogonalisation and restarts."""

    def __init__(
        self,
        op: Callable[[Tensor], Tensor],
        n: int,
        v0: Tensor,
        generator: torch.Generator,
        capacity: int,
        max_restarts: int,
    ) -> None:
        self.op = op
        self.n = n
        self.generator = generator
        self.dtype = v0.dtype
        self.device = v0.device
        self.basis = _Basis(n, v0.dtype, v0.device, capacity)
        self.alphas: list[float] = []
        self.betas: list[float] = []  # betas[j] couples basis rows j and j+1
        self.matvecs = 0
        self.restarts = 0
        self.max_restarts = max_restarts
        self.exhausted = False
        self.finished = False
        self.anorm = 0.0  # running estimate of ‖H‖, the scale for "beta is zero"
        self.last_beta = 0.0
        self.just_restarted = False
        self._q = v0 / torch.linalg.vector_norm(v0)
        self._q_prev: Tensor | None = None
        self._beta_prev = 0.0

    def step(self) -> None:
        """One Lanczos step: append the current vector, compute alpha and the next vector."""
        q = self._q
        self.just_restarted = False
        self.basis.append(q)
        w = self.op(q)
        self.matvecs += 1
        alpha = float(torch.dot(q, w))
        w = w - alpha * q
        if self._q_prev is not None:
            w = w - self._beta_prev * self._q_prev
        w = _orthogonalise(w, self.basis.rows)
        beta = float(torch.linalg.vector_norm(w))
        self.alphas.append(alpha)
        self.anorm = max(self.anorm, abs(alpha) + beta + self._beta_prev)
        eps = torch.finfo(self.dtype).eps
        k = self.basis.size
        if k >= self.n:
            self.exhausted = True
            self.finished = True
            self.last_beta = 0.0
            return
        if not math.isfinite(beta) or not math.isfinite(alpha):
            raise FloatingPointError("Hessian-vector product returned a non-finite value")
        if beta <= 100.0 * eps * max(self.anorm, 1e-300) * math.sqrt(self.n) or beta == 0.0:
            # Invariant subspace: T's eigenvalues are exact eigenvalues of H. A random start
            # vector touches every eigenspace, so this usually means the spectrum is found; but
            # a start vector may be deficient, so restart with a fresh vector orthogonal to the
            # basis (a zero coupling in T) a bounded number of times before accepting it.
            self.last_beta = 0.0
            if self.restarts >= self.max_restarts:
                self.finished = True
                self.exhausted = True
                return
            fresh = _orthogonalise(
                _random_unit(self.n, self.generator, self.dtype, self.device),
                self.basis.rows,
                always_twice=True,
            )
            norm = float(torch.linalg.vector_norm(fresh))
            if norm <= math.sqrt(eps):  # numerically the basis already spans everything
                self.finished = True
                self.exhausted = True
                return
            self.restarts += 1
            self.just_restarted = True
            self.betas.append(0.0)
            self._q_prev = None
            self._beta_prev = 0.0
            self._q = fresh / norm
            return
        self.betas.append(beta)
        self.last_beta = beta
        self._q_prev = q
        self._beta_prev = beta
        self._q = w / beta

    def ritz(self) -> tuple[Tensor, Tensor]:
        """Eigen-decomposition of T (CPU float64): Ritz values ascending and their vectors."""
        # NumPy's LAPACK call: for these tiny matrices torch's threaded eigh costs milliseconds
        # per call under load, which adds up when it runs after every step.
        k = len(self.alphas)
        t = np.diag(np.asarray(self.alphas, dtype=np.float64))
        if k > 1:
            b = np.asarray(self.betas[: k - 1], dtype=np.float64)
            t = t + np.diag(b, 1) + np.diag(b, -1)
        evals, evecs = np.linalg.eigh(t)
        return torch.from_numpy(evals), torch.from_numpy(evecs)

    def run_result(self) -> LanczosRun:
        k = len(self.alphas)
        return LanczosRun(
            alphas=torch.tensor(self.alphas, dtype=torch.float64),
            betas=torch.tensor(self.betas[: k - 1], dtype=torch.float64),
            basis=self.basis.rows,
            last_beta=self.last_beta,
            matvecs=self.matvecs,
            restarts=self.restarts,
            exhausted=self.exhausted,
        )


def lanczos_tridiagonal(
    hvp: Callable[[Tensor], Tensor],
    v0: Tensor,
    iterations: int,
    *,
    seed: int = 0,
    max_restarts: int = 0,
    hvp_dtype: torch.dtype | None = None,
) -> LanczosRun:
    """Run ``iterations`` Lanczos steps from ``v0`` (fewer if the Krylov space is exhausted).

    This is the building block of stochastic Lanczos quadrature: the eigenvalues of ``T`` are
    quadrature nodes and the squared first components of its eigenvectors the weights, for the
    spectral measure of ``H`` seen from ``v0``. ``max_restarts`` is 0 by default because
    quadrature wants the measure of ``v0`` itself, not of fresh vectors.
    """
    n = v0.numel()
    generator = torch.Generator().manual_seed(seed)
    op = _as_operator(hvp, v0.dtype, hvp_dtype)
    rec = _Recurrence(op, n, v0.reshape(-1), generator, min(n, iterations) + 1, max_restarts)
    for _ in range(min(n, iterations)):
        rec.step()
        if rec.finished:
            break
    return rec.run_result()


def lanczos_extremes(
    hvp: Callable[[Tensor], Tensor],
    n: int,
    *,
    tol: float = 1e-6,
    max_iter: int | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
    v0: Tensor | None = None,
    hvp_dtype: torch.dtype | None = None,
    max_restarts: int = 2,
    check_every: int = 1,
    criterion: str = "residual",
    which: str = "both",
    method: str = "classic",
    block: int = 1,
    batched: Callable[[Tensor], Tensor] | None = None,
    scale: str = "unit",
    basis_dtype: torch.dtype | None = None,
) -> ExtremeEigen:
    """Smallest and largest eigenvalue of the symmetric operator ``hvp`` on ``R^n``.

    Stops when both extremes' residual estimates ``|β_k y_k|`` are ``≤ tol·max(1, |λ|)``, when
    the Krylov space is exhausted (then the answer is exact up to rounding and ``converged`` is
    true), or after ``max_iter`` steps (default ``min(n, 300)``). The reported errors are the
    residual norms ``‖Hx - θx‖`` recomputed explicitly for the returned unit Ritz vectors (two
    extra products): for a symmetric ``H`` some eigenvalue lies within that distance of the
    Ritz value (see the module docstring for what this does and does not guarantee).

    ``criterion="change"`` instead stops when the Ritz value moved by at most
    ``tol·(|θ_prev| + 1e-6)`` since the previous step — PyHessian's power-iteration rule, weaker
    than the residual rule (a slowly drifting value stops it early), offered for like-for-like
    comparisons; the explicit residual bounds are reported either way. ``which`` ("both", "min",
    "max") says which extremes must meet the criterion; both are always returned.

    The start vector is a seeded Rademacher vector (drawn on the CPU, so the same seed gives the
    same run on any device) unless ``v0`` is given. ``hvp_dtype`` runs the products in another
    precision (e.g. float32) while the recurrence stays in ``dtype``.

    ``scale`` is what ``tol`` is relative to: "unit" (``max(1, |θ|)`` per end, the default) or
    "radius" (the spectral-radius estimate ``max(|θ_min|, |θ_max|)`` for both ends).

    ``method="block"`` runs :func:`convexcheck.numeric.block_eigen.block_lanczos_extremes`
    instead (residual criterion only): the same residual-bound answer with the products stored,
    so that no product is spent after the last step and the explicit residual is checked before
    stopping, the basis kept in ``basis_dtype`` (default: the products' precision), and
    ``block`` vectors per step through ``batched`` (``V[k, n] -> H V``; ``k`` single products
    without it). ``check_every`` does not apply there.
    """
    if method == "block":
        if criterion != "residual":
            raise ValueError("method='block' stops on the residual bound only")
        from convexcheck.numeric.block_eigen import block_lanczos_extremes

        return block_lanczos_extremes(
            hvp,
            n,
            tol=tol,
            max_iter=max_iter,
            seed=seed,
            dtype=dtype,
            device=device,
            v0=v0,
            hvp_dtype=hvp_dtype,
            max_restarts=max_restarts,
            which=which,
            block=block,
            batched=batched,
            scale=scale,
            basis_dtype=basis_dtype,
        )
    if method != "classic":
        raise ValueError("method must be 'classic' or 'block'")
    if block != 1 or batched is not None or basis_dtype is not None:
        raise ValueError("block, batched and basis_dtype need method='block'")
    if scale not in ("unit", "radius"):
        raise ValueError("scale must be 'unit' or 'radius'")
    if n < 1:
        raise ValueError("lanczos_extremes needs n >= 1")
    if tol <= 0:
        raise ValueError("tol must be positive")
    if criterion not in ("residual", "change") or which not in ("both", "min", "max"):
        raise ValueError("criterion must be 'residual' or 'change'; which 'both', 'min' or 'max'")
    device = torch.device(device) if device is not None else torch.device("cpu")
    max_iter = min(n, 300) if max_iter is None else max(1, min(n, int(max_iter)))
    generator = torch.Generator().manual_seed(seed)
    if v0 is None:
        start = _rademacher(n, generator, dtype).to(device)
    else:
        start = v0.detach().reshape(-1).to(dtype=dtype, device=device)
        if float(torch.linalg.vector_norm(start)) == 0.0:
            raise ValueError("v0 must be nonzero")
    op = _as_operator(hvp, dtype, hvp_dtype)
    rec = _Recurrence(op, n, start, generator, min(max_iter, 64) + 1, max_restarts)
    converged = False
    previous: tuple[float, float] | None = None
    while len(rec.alphas) < max_iter:
        rec.step()
        if rec.finished:
            converged = True
            break
        k = len(rec.alphas)
        if rec.just_restarted or (k % check_every and k < max_iter):
            continue
        evals, evecs = rec.ritz()
        lo, hi = float(evals[0]), float(evals[-1])
        if criterion == "residual":
            radius = max(abs(lo), abs(hi))
            s_min = radius if scale == "radius" else max(1.0, abs(lo))
            s_max = radius if scale == "radius" else max(1.0, abs(hi))
            ok_min = abs(rec.last_beta * float(evecs[-1, 0])) <= tol * s_min
            ok_max = abs(rec.last_beta * float(evecs[-1, -1])) <= tol * s_max
        else:
            ok_min = previous is not None and abs(lo - previous[0]) <= tol * (
                abs(previous[0]) + 1e-6
            )
            ok_max = previous is not None and abs(hi - previous[1]) <= tol * (
                abs(previous[1]) + 1e-6
            )
        previous = (lo, hi)
        if (ok_min or which == "max") and (ok_max or which == "min"):
            converged = True
            break
    evals, evecs = rec.ritz()
    basis = rec.basis.rows
    y = evecs.to(dtype=dtype, device=device)
    x_min = y[:, 0] @ basis
    x_max = y[:, -1] @ basis
    x_min = x_min / torch.linalg.vector_norm(x_min)
    x_max = x_max / torch.linalg.vector_norm(x_max)
    hx_min = op(x_min)
    if n == 1:
        hx_max = hx_min
        rec.matvecs += 1
    else:
        hx_max = op(x_max)
        rec.matvecs += 2
    # Rayleigh quotients of the final vectors: within rounding of the Ritz values, and the
    # quantity the residual bound is about.
    lam_min = float(torch.dot(x_min, hx_min))
    lam_max = float(torch.dot(x_max, hx_max))
    err_min = float(torch.linalg.vector_norm(hx_min - lam_min * x_min))
    err_max = float(torch.linalg.vector_norm(hx_max - lam_max * x_max))
    return ExtremeEigen(
        min_eigenvalue=lam_min,
        max_eigenvalue=lam_max,
        min_vector=x_min,
        max_vector=x_max,
        min_error=err_min,
        max_error=err_max,
        iterations=len(rec.alphas),
        matvecs=rec.matvecs,
        converged=converged,
        exhausted=rec.exhausted,
        restarts=rec.restarts,
        seed=seed,
    )
