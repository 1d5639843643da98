"""Hessian-vector products and the spectral summaries built on them (trace, density).

A model with ``n`` trainable parameters has an ``n × n`` Hessian that is never formed: everything
here needs only ``v -> H(θ) v``, which costs about two backward passes. Two ways to get it:

* forward-over-reverse, ``jvp(grad(f), (θ,), (v,))`` with ``torch.func``: differentiates the
  gradient in the direction ``v`` with forward-mode AD; it does not keep a double-backward graph
  alive and is the cheapest in memory.
* double backward: ``g = autograd.grad(f, θ, create_graph=True)`` once, then
  ``autograd.grad(g · v, θ, retain_graph=True)`` per product. The gradient graph is built once
  and reused, so repeated products skip the forward pass; it works for modules whose operations
  have no forward-mode AD formula, which is why it is the fallback.

* reverse-over-forward, ``grad(θ -> jvp(f, (θ,), (v,))[1])``: the same product differentiated in
  the other order. It exists because some forward-mode formulas fail inside ``grad`` (in torch
  2.13 ``jvp(grad(mse_loss ∘ linear))`` raises "ZeroTensors are immutable" while this order works).

``make_hvp`` (method ``"auto"``) tries them in that order on the first product and keeps the
first that works for good; the chosen method is visible as ``hvp.method`` and the reason for a
fall back as ``hvp.fallback_reason``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from convexcheck.numeric.lanczos import _rademacher, lanczos_tridiagonal

__all__ = [
    "HVP",
    "METHODS",
    "Density",
    "TraceEstimate",
    "dense_hessian",
    "hutchinson_trace",
    "make_hvp",
    "spectral_density",
]

Loss = Callable[[Tensor], Tensor]
METHODS = ("forward-over-reverse", "reverse-over-forward", "double-backward")


class HVP:
    """Callable ``v -> H(θ) v`` at a fixed ``θ``; counts its products in ``calls``.

    ``method`` is one of :data:`METHODS` or ``"auto"`` (try them in order, keep the first that
    works; after the first product ``method`` names the one in use). The double-backward graph
    is built lazily on first use and then reused.
    """

    def __init__(self, loss: Loss, theta: Tensor, method: str = "auto") -> None:
        if method != "auto" and method not in METHODS:
            raise ValueError(f"unknown HVP method {method!r}")
        self.loss = loss
        self.theta = theta.detach()
        self.method = method
        self.calls = 0
        self.fallback_reason: str | None = None
        self._grad_fn: Callable[[Tensor], Tensor] | None = None
        self._theta_req: Tensor | None = None
        self._grad: Tensor | None = None
        self._batched_ok: bool | None = None
        self.batched_fallback_reason: str | None = None

    def __call__(self, v: Tensor) -> Tensor:
        v = (
            v.detach()
            .to(dtype=self.theta.dtype, device=self.theta.device)
            .reshape(self.theta.shape)
        )
        self.calls += 1
        if self.method != "auto":
            return self._product(self.method, v)
        reasons = []
        for method in METHODS:
            try:
                out = self._product(method, v)
            except Exception as exc:  # torch.func raises many types for unsupported ops
                if method == METHODS[-1]:
                    raise
                reasons.append(f"{method}: {type(exc).__name__}: {exc}")
                continue
            self.method = method
            self.fallback_reason = "; ".join(reasons) or None
            return out
        raise AssertionError("unreachable")  # pragma: no cover

    def batched(self, vs: Tensor) -> Tensor:
        """``H V`` for the rows of ``vs`` (``k × n``) in one batched call; counts ``k`` products.

        Double backward uses ``autograd.grad(..., is_grads_batched=True)``, the torch.func methods
        ``vmap`` over the product. Where the transform fails for this loss (an op without a
        batching rule), the rows are multiplied one at a time from then on, and
        ``batched_fallback_reason`` says why. Why bother: on a GPU one product of a small model
        leaves the device mostly idle and ``k`` batched ones cost far less than ``k`` single
        ones; on a CPU one product already fills a core, so batching measured no gain there
        (see ``benchmarks/hessian_vs_pyhessian.py``) and the block eigensolver defaults to
        single products.
        """
        vs = vs.detach().to(dtype=self.theta.dtype, device=self.theta.device)
        k = vs.shape[0]
        vs = vs.reshape(k, -1)
        if k == 1 or self._batched_ok is False:
            return torch.stack([self(v) for v in vs])
        first: Tensor | None = None
        if self.method == "auto":
            first = self(vs[0])  # settle the method on one (counted) product before batching
            vs = vs[1:]
        try:
            out = self._batched_product(vs)
            self._batched_ok = True
            self.calls += vs.shape[0]
        except Exception as exc:  # vmap raises many types for ops without batching rules
            if self._batched_ok:  # it worked before: a genuine error, not a missing rule
                raise
            self._batched_ok = False
            self.batched_fallback_reason = f"{type(exc).__name__}: {exc}"
            out = torch.stack([self(v) for v in vs])
        if first is not None:
            out = torch.cat([first.reshape(1, -1), out.reshape(vs.shape[0], -1)])
        return out.reshape(k, -1)

    def _batched_product(self, vs: Tensor) -> Tensor:
        shaped = vs.reshape(vs.shape[0], *self.theta.shape)
        if self.method == "double-backward":
            self._ensure_graph()
            g = self._grad
            if g is None or not g.requires_grad:
                return torch.zeros_like(vs)
            (hv,) = torch.autograd.grad(
                g,
                self._theta_req,
                grad_outputs=shaped,
                retain_graph=True,
                is_grads_batched=True,
                allow_unused=True,
            )
            return torch.zeros_like(vs) if hv is None else hv.detach().reshape(vs.shape)
        from torch.func import vmap

        single = (
            self._forward_over_reverse
            if self.method == "forward-over-reverse"
            else self._reverse_over_forward
        )
        return vmap(single)(shaped).detach().reshape(vs.shape)

    def _product(self, method: str, v: Tensor) -> Tensor:
        if method == "forward-over-reverse":
            return self._forward_over_reverse(v)
        if method == "reverse-over-forward":
            return self._reverse_over_forward(v)
        return self._double_backward(v)

    def _forward_over_reverse(self, v: Tensor) -> Tensor:
        from torch.func import grad, jvp

        if self._grad_fn is None:
            self._grad_fn = grad(self.loss)
        return jvp(self._grad_fn, (self.theta,), (v,))[1].detach()

    def _reverse_over_forward(self, v: Tensor) -> Tensor:
        from torch.func import grad, jvp

        loss = self.loss
        return grad(lambda t: jvp(loss, (t,), (v,))[1])(self.theta).detach()

    def _ensure_graph(self) -> None:
        """Build the gradient graph once; every double-backward product reuses it."""
        if self._theta_req is None:
            theta = self.theta.clone().requires_grad_(True)
            with torch.enable_grad():
                value = self.loss(theta)
                (g,) = torch.autograd.grad(value, theta, create_graph=True, allow_unused=True)
            self._theta_req = theta
            self._grad = g

    def _double_backward(self, v: Tensor) -> Tensor:
        self._ensure_graph()
        g = self._grad
        if g is None or not g.requires_grad:  # loss affine in θ (or independent): H = 0
            return torch.zeros_like(v)
        # the scalar g . v, not grad_outputs=v: the same product (d(g . v)/dtheta = H v, and
        # the backward of the sum hands exactly v to g), but autograd.grad with grad_outputs
        # imports torch.fx.experimental.symbolic_shapes (and SymPy) on first use, 0.3-0.6 s
        (hv,) = torch.autograd.grad(
            (g * v).sum(), self._theta_req, retain_graph=True, allow_unused=True
        )
        return torch.zeros_like(v) if hv is None else hv.detach()


def make_hvp(loss: Loss, theta: Tensor, *, method: str = "auto") -> HVP:
    """Return ``v -> H(θ) v`` for the scalar function ``loss`` of a flat parameter vector.

    Forward-over-reverse via ``torch.func.jvp(grad(loss))`` by default, with an automatic and
    permanent fall back to reverse-over-forward and then double backward if torch.func cannot
    handle ``loss`` (see the module docstring).
    """
    return HVP(loss, theta, method)


def dense_hessian(loss: Loss, theta: Tensor) -> Tensor:
    """The full ``n × n`` Hessian; only for small ``n`` (tests and cross-checks).

    Uses ``torch.func.hessian`` (forward-over-reverse, vectorised) and falls back to
    ``torch.autograd.functional.hessian`` for losses torch.func cannot transform.
    """
    theta = theta.detach()
    try:
        from torch.func import hessian

        h = hessian(loss)(theta)
    except Exception:
        h = torch.autograd.functional.hessian(loss, theta)
    n = theta.numel()
    return h.detach().reshape(n, n)


@dataclass
class TraceEstimate:
    """Hutchinson estimate of ``tr H``: sample mean, its standard error and the raw samples."""

    mean: float
    stderr: float
    samples: int
    seed: int
    values: list[float]

    def to_dict(self) -> dict[str, float | int]:
        return {
            "mean": self.mean,
            "stderr": self.stderr,
            "samples": self.samples,
            "seed": self.seed,
        }


def hutchinson_trace(
    hvp: Callable[[Tensor], Tensor],
    n: int,
    *,
    samples: int = 64,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> TraceEstimate:
    """Estimate ``tr H = E[zᵀHz]`` with Rademacher probes ``z`` (seeded, drawn on the CPU).

    Rademacher probes give the smallest variance among i.i.d. probes (``2·Σ_{i≠j} H_ij²``; the
    diagonal contributes nothing). The standard error is the sample standard deviation over
    ``√samples`` (zero for one sample, where no spread can be measured).
    """
    if samples < 1:
        raise ValueError("samples must be >= 1")
    generator = torch.Generator().manual_seed(seed)
    values: list[float] = []
    for _ in range(samples):
        z = _rademacher(n, generator, dtype).to(device if device is not None else "cpu")
        values.append(float(torch.dot(z, hvp(z).to(dtype))))
    mean = math.fsum(values) / samples
    if samples > 1:
        var = math.fsum((x - mean) ** 2 for x in values) / (samples - 1)
        stderr = math.sqrt(var / samples)
    else:
        stderr = 0.0
    return TraceEstimate(mean=mean, stderr=stderr, samples=samples, seed=seed, values=values)


@dataclass
class Density:
    """Stochastic Lanczos quadrature estimate of the Hessian's spectral density.

    ``nodes``/``weights`` (float64, 1-D, same length) define a discrete measure whose weights sum
    to 1 and which approximates ``(1/n) Σ_i δ(λ - λ_i)``: each probe contributes the Gauss
    quadrature rule of its Lanczos tridiagonal matrix, weighted ``1/probes``.
    """

    nodes: Tensor
    weights: Tensor
    probes: int
    iterations: int
    seed: int

    def smoothed(self, grid: Tensor, sigma: float | None = None) -> Tensor:
        """The density convolved with a Gaussian of width ``sigma``, evaluated on ``grid``.

        Without ``sigma`` it is 1% of the spectral range (or 1e-3 for a point spectrum), which
        resolves the bulk without showing the individual quadrature nodes as spikes.
        """
        return gaussian_density(self, grid, sigma)

    def to_dict(self) -> dict[str, object]:
        return {
            "nodes": self.nodes.tolist(),
            "weights": self.weights.tolist(),
            "probes": self.probes,
            "iterations": self.iterations,
            "seed": self.seed,
        }


def gaussian_density(density: Density, grid: Tensor, sigma: float | None = None) -> Tensor:
    """Evaluate ``Σ_k w_k N(x; node_k, σ²)`` on ``grid`` (integrates to ~1 over a wide grid)."""
    nodes = density.nodes.to(torch.float64)
    weights = density.weights.to(torch.float64)
    x = grid.detach().to("cpu", torch.float64).reshape(-1, 1)
    if sigma is None:
        span = float(nodes.max() - nodes.min()) if nodes.numel() else 0.0
        sigma = 0.01 * span if span > 0 else 1e-3
    if sigma <= 0:
        raise ValueError("sigma must be positive")
    z = (x - nodes.reshape(1, -1)) / sigma
    dens = torch.exp(-0.5 * z * z) @ weights / (sigma * math.sqrt(2.0 * math.pi))
    return dens.reshape(grid.shape)


def spectral_density(
    hvp: Callable[[Tensor], Tensor],
    n: int,
    *,
    iterations: int = 80,
    probes: int = 4,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> Density:
    """Stochastic Lanczos quadrature: ``probes`` Lanczos runs of ``iterations`` steps each.

    For a unit probe ``v``, ``vᵀ f(H) v ≈ Σ_k τ_k² f(θ_k)`` where ``θ_k`` are the eigenvalues of
    the Lanczos tridiagonal matrix and ``τ_k`` the first components of its eigenvectors (Gauss
    quadrature). Averaging over random probes estimates ``tr f(H) / n``, i.e. integrates ``f``
    against the spectral density. Probes are seeded Rademacher vectors (normalised).
    """
    if probes < 1 or iterations < 1:
        raise ValueError("probes and iterations must be >= 1")
    device = torch.device(device) if device is not None else torch.device("cpu")
    generator = torch.Generator().manual_seed(seed)
    all_nodes: list[Tensor] = []
    all_weights: list[Tensor] = []
    for p in range(probes):
        v = _rademacher(n, generator, dtype).to(device)
        run = lanczos_tridiagonal(hvp, v, iterations, seed=seed + 1 + p)
        evals, evecs = torch.linalg.eigh(run.tridiagonal())
        all_nodes.append(evals)
        all_weights.append(evecs[0, :] ** 2 / probes)
    return Density(
        nodes=torch.cat(all_nodes),
        weights=torch.cat(all_weights),
        probes=probes,
        iterations=iterations,
        seed=seed,
    )
