"""``hessian_extremes`` and ``hessian_density``: the Hessian of a model's loss, as PyHessian and
curvlinops users ask for it, on one process or data-parallel.

Why a public API beside ``check_model``: the extreme eigenvalues are what people call PyHessian
for (sharpness, the largest stable learning rate ``2/λ_max``, how negative the curvature gets),
and a convexity checker already has the parts: the user's own loss as a function of one flat
vector (:mod:`convexcheck.numeric.objective`, the same ``wrt`` choices), Hessian-vector products
by the cheapest method that works (:mod:`convexcheck.numeric.hessian`), Lanczos with residual
error bounds (:mod:`convexcheck.numeric.lanczos`) and the data-parallel reduction
(:mod:`convexcheck.numeric.distributed`). These functions only assemble them.

What the numbers mean. ``min_error``/``max_error`` are explicit residual norms ``‖Hx − θx‖``
of the returned unit vectors: some eigenvalue of the Hessian lies within that distance of each
reported value (Krylov–Bogoliubov). ``tol`` is the stopping rule on that bound, relative to
the spectral radius (or, asked for, to ``max(1, |θ|)`` for each end). The products are those of
:mod:`convexcheck.numeric.block_eigen`: each kept beside its basis vector, so the residuals
come from products already made and are checked before the run stops. As for any Krylov
method, that the eigenvalue found is the extreme one is a probability-one statement about the
random start vector, not a proof.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from convexcheck.errors import ConvexcheckInputError
from convexcheck.numeric.distributed import (
    ShardedHVP,
    ShardedLoss,
    Shards,
    active_shards,
    fingerprint,
)
from convexcheck.numeric.hessian import METHODS, gaussian_density, make_hvp, spectral_density
from convexcheck.numeric.lanczos import lanczos_extremes
from convexcheck.numeric.objective import PARAMETERS, build_objective

__all__ = ["HessianDensity", "HessianExtremes", "hessian_density", "hessian_extremes"]

#: ``relative_to`` -> the scale ``tol`` multiplies in :func:`lanczos_extremes`
RELATIVE_TO = {"radius": "radius", "each": "unit"}


@dataclass
class HessianExtremes:
    """The smallest and largest Hessian eigenvalue with their residual error bounds.

    ``hvps`` counts every Hessian-vector product (the final residuals included);
    ``converged`` is true when both ends met ``tol`` (or the Krylov space was exhausted);
    ``min_vector``/``max_vector`` are the unit Ritz vectors (flat, in the order of the
    variables, on ``device``); ``distributed`` describes a data-parallel run.
    """

    min_eigenvalue: float
    max_eigenvalue: float
    min_error: float
    max_error: float
    hvps: int
    iterations: int
    converged: bool
    tol: float
    seed: int
    device: str
    method: str
    parameters: int
    min_vector: Tensor
    max_vector: Tensor
    distributed: dict[str, Any] | None = None
    relative_to: str = "radius"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the vectors left out: they are as long as the parameter vector)."""
        out = {
            k: getattr(self, k)
            for k in (
                "min_eigenvalue", "max_eigenvalue", "min_error", "max_error", "hvps",
                "iterations", "converged", "tol", "relative_to", "seed", "device", "method",
                "parameters",
            )
        }  # fmt: skip
        if self.distributed is not None:
            out["distributed"] = self.distributed
        return out


@dataclass
class HessianDensity:
    """Stochastic Lanczos quadrature of the Hessian's spectral density (see
    :class:`~convexcheck.numeric.hessian.Density`): ``nodes`` and ``weights`` (summing to 1)
    approximate ``(1/n) Σ_i δ(λ − λ_i)``; :meth:`smoothed` evaluates it on a grid."""

    nodes: Tensor
    weights: Tensor
    probes: int
    iterations: int
    seed: int
    hvps: int
    device: str
    method: str
    parameters: int
    distributed: dict[str, Any] | None = None

    def smoothed(self, grid: Tensor, sigma: float | None = None) -> Tensor:
        """The density convolved with a Gaussian of width ``sigma`` (default: 1% of the
        spectral range) on ``grid``."""
        return gaussian_density(self, grid, sigma)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "nodes": self.nodes.tolist(),
            "weights": self.weights.tolist(),
            "probes": self.probes,
            "iterations": self.iterations,
            "seed": self.seed,
            "hvps": self.hvps,
            "device": self.device,
            "method": self.method,
            "parameters": self.parameters,
        }
        if self.distributed is not None:
            out["distributed"] = self.distributed
        return out


def hessian_extremes(
    model: nn.Module,
    loss_fn: Callable[[Any, Any], Tensor] | None = None,
    data: Any = None,
    *,
    tol: float = 1e-3,
    seed: int = 0,
    device: str | torch.device = "auto",
    wrt: str | Sequence[str] = PARAMETERS,
    max_iter: int | None = None,
    method: str = "auto",
    shard_weights: str = "examples",
    relative_to: str = "radius",
) -> HessianExtremes:
    """λ_min and λ_max of the Hessian of ``loss_fn(model(inputs), targets)`` in ``wrt`` at the
    model's current parameters, each with a residual error bound ``≤ tol·s``: ``s`` is the
    spectral radius ``max(|λ_min|, |λ_max|)`` (``relative_to="radius"``, the default: the
    scale of ``‖H‖``, on which the products' own rounding and a negative eigenvalue are judged)
    or ``max(1, |λ|)`` for each end separately (``relative_to="each"``, stricter for a small
    ``λ_min``).

    ``wrt`` and ``data`` as in ``check_model``. ``method``: the Hessian-vector product,
    ``"auto"`` (double backward on the CPU, where it measured fastest, else forward-over-reverse
    with fall backs) or one of ``forward-over-reverse``, ``reverse-over-forward``,
    ``double-backward``. ``max_iter`` caps the Lanczos steps (default ``min(n, 300)``); the
    result says whether ``tol`` was met (``converged``). Inside an initialised process group,
    each rank's ``data`` is its shard (``shard_weights`` as in ``check_model``); every rank
    must call this, and every rank gets the same numbers.
    """
    if not (isinstance(tol, (int, float)) and not isinstance(tol, bool) and 0 < tol < 1):
        raise ConvexcheckInputError(f"tol must be a number in (0, 1), got {tol!r}")
    if max_iter is not None and (isinstance(max_iter, bool) or not isinstance(max_iter, int)
                                 or max_iter < 1):  # fmt: skip
        raise ConvexcheckInputError(f"max_iter must be a positive integer, got {max_iter!r}")
    if relative_to not in RELATIVE_TO:
        raise ConvexcheckInputError(f"relative_to must be 'radius' or 'each', got {relative_to!r}")
    facts = {"the seed": seed, "tol": tol, "max_iter": max_iter, "the method": method,
             "relative_to": relative_to}  # fmt: skip
    f, shards, dev = _prepared(model, loss_fn, data, wrt, seed, device, method, facts,
                               shard_weights)  # fmt: skip
    hvp = _product(f, shards, dev, method)
    eigen = lanczos_extremes(
        hvp,
        f.numel,
        tol=float(tol),
        max_iter=max_iter,
        seed=seed,
        dtype=torch.float64,
        device=dev,
        hvp_dtype=f.dtype,
        method="block",  # the products kept: residuals checked before stopping, none after
        scale=RELATIVE_TO[relative_to],
    )
    return HessianExtremes(
        min_eigenvalue=float(eigen.min_eigenvalue),
        max_eigenvalue=float(eigen.max_eigenvalue),
        min_error=float(eigen.min_error),
        max_error=float(eigen.max_error),
        hvps=int(hvp.calls),
        iterations=int(eigen.iterations),
        converged=bool(eigen.converged),
        tol=float(tol),
        seed=seed,
        device=str(dev),
        method=str(hvp.method),
        parameters=int(f.numel),
        min_vector=eigen.min_vector,
        max_vector=eigen.max_vector,
        distributed=None if shards is None else shards.describe(),
        relative_to=relative_to,
    )


def hessian_density(
    model: nn.Module,
    loss_fn: Callable[[Any, Any], Tensor] | None = None,
    data: Any = None,
    *,
    iterations: int = 80,
    probes: int = 4,
    seed: int = 0,
    device: str | torch.device = "auto",
    wrt: str | Sequence[str] = PARAMETERS,
    method: str = "auto",
    shard_weights: str = "examples",
) -> HessianDensity:
    """The Hessian's spectral density by stochastic Lanczos quadrature: ``probes`` seeded
    Rademacher probes, ``iterations`` Lanczos steps each (``probes × iterations`` products).
    Arguments as in :func:`hessian_extremes`; data-parallel inside a process group."""
    for name, value in (("iterations", iterations), ("probes", probes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConvexcheckInputError(f"{name} must be a positive integer, got {value!r}")
    facts = {"the seed": seed, "iterations": iterations, "probes": probes, "the method": method}
    f, shards, dev = _prepared(model, loss_fn, data, wrt, seed, device, method, facts,
                               shard_weights)  # fmt: skip
    hvp = _product(f, shards, dev, method)
    n = int(f.numel)
    density = spectral_density(hvp, n, iterations=iterations, probes=probes, seed=seed, device=dev)
    return HessianDensity(
        nodes=density.nodes,
        weights=density.weights,
        probes=probes,
        iterations=iterations,
        seed=seed,
        hvps=int(hvp.calls),
        device=str(dev),
        method=str(hvp.method),
        parameters=n,
        distributed=None if shards is None else shards.describe(),
    )


# -- shared assembly ------------------------------------------------------------------------
def _prepared(
    model: nn.Module,
    loss_fn: Any,
    data: Any,
    wrt: Any,
    seed: int,
    device: Any,
    method: str,
    facts: dict[str, Any],
    shard_weights: str,
) -> tuple[Any, Shards | None, torch.device]:
    """The loss as a function of one flat vector on ``device`` (sharded in a process group)."""
    from convexcheck.numeric.check import resolve_device

    wrt_facts = wrt if isinstance(wrt, str) else list(wrt)
    shards = active_shards(data, shard_weights, {**facts, "the variables (wrt)": wrt_facts})

    def build() -> tuple[Any, torch.device]:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConvexcheckInputError(f"seed must be a nonnegative integer, got {seed!r}")
        if method != "auto" and method not in METHODS:
            raise ConvexcheckInputError(
                f"method must be 'auto' or one of {', '.join(METHODS)}, got {method!r}"
            )
        if shards is not None and wrt == "inputs":
            raise ConvexcheckInputError(
                "wrt='inputs' cannot be data-parallel: the inputs are the variables, and each "
                "rank holds different ones"
            )
        dev = resolve_device(device)
        floss = build_objective(model, loss_fn, data, wrt).floss
        if floss.in_place_only:
            raise ConvexcheckInputError(
                "the loss reads captured parameter objects (evaluated in place), so it has no "
                "gradients and no Hessian-vector products"
            )
        return (floss if floss.device == dev else floss.to(device=dev)), dev

    if shards is None:
        f, dev = build()
        return f, None, dev
    f, dev = shards.run("building the objective", build)
    shards.agree_on(fingerprint(f), "comparing the ranks' models")
    return ShardedLoss(f, shards), shards, dev


def _product(f: Any, shards: Shards | None, dev: torch.device, method: str) -> Any:
    local = getattr(f, "local", f)
    chosen = method if method != "auto" else ("double-backward" if dev.type == "cpu" else "auto")
    hvp: Any = make_hvp(local.loss, local.theta0.detach(), method=chosen)
    if shards is not None:
        hvp = ShardedHVP(hvp, shards)
    return _Counted(hvp)


class _Counted:
    """Counts every product, whichever wrapper is inside, and names the method used."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    @property
    def method(self) -> str:
        return str(getattr(self.inner, "method", "auto"))

    def __call__(self, v: Tensor) -> Tensor:
        self.calls += 1
        try:
            out: Tensor = self.inner(v)
        except ConvexcheckInputError:
            raise
        except Exception as exc:  # e.g. a forward-mode formula torch lacks for this loss
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise ConvexcheckInputError(
                f"the Hessian-vector product ({self.method}) failed on this loss: "
                f"{type(exc).__name__}: {first} (method='auto' falls back to another product)"
            ) from exc
        if not bool(torch.isfinite(out).all()):
            raise ConvexcheckInputError(
                "a Hessian-vector product is not finite at the model's current parameters"
            )
        return out
