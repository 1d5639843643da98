"""``convexcheck.check`` and ``convexcheck.check_model`` as users call them: the checks, plus the
progress bar that ``progress=True`` asks for.

The cores never draw (``shared/ARCHITECTURE.md``): they report to a
:class:`~convexcheck.progress.ProgressSink`. Drawing a bar on a terminal is this layer's job, so
the public names resolve here and turn ``progress=True`` into the same delayed stderr bar that
the command line shows; a callback or a sink passed by the caller, or ``False``, goes through
unchanged. The model check is imported only when ``check_model`` is first called; without
torch the name still resolves, and calling it raises the one-line
:class:`~convexcheck.errors.MissingDependencyError`.

The signatures are spelled out (not ``*args``) so that type checkers and IDEs see the real
parameters of the public API; the docstrings are the cores' own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from convexcheck.cli.progress import DelayedProgress
from convexcheck.errors import missing_dependency
from convexcheck.numeric.model_result import ModelCheckResult
from convexcheck.progress import ProgressEvent, ProgressSink
from convexcheck.result import CheckResult
from convexcheck.symbolic.check import check as _core_check
from convexcheck.symbolic.curvature import DEFAULT_MAX_BOXES
from convexcheck.symbolic.curvature_bounds import CurvatureBounds
from convexcheck.symbolic.curvature_bounds import curvature_bounds as _core_curvature_bounds
from convexcheck.symbolic.parser import DEFAULT_MAX_LENGTH

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import Tensor, nn

    from convexcheck.numeric.spectrum import HessianDensity, HessianExtremes

__all__ = ["check", "check_model", "curvature_bounds", "hessian_density", "hessian_extremes"]

#: What ``progress=`` accepts: ``True`` (a bar on stderr), ``False``, a callback, or a sink.
Progress = bool | ProgressSink | Callable[[ProgressEvent], None]


def check(
    expression: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    max_length: int | None = DEFAULT_MAX_LENGTH,
    stages: Sequence[str] | None = None,
    budget_s: float | None = None,
    psd_tolerance: float | None = None,
    progress: Progress = False,
) -> CheckResult:
    def run(sink: Any) -> CheckResult:
        return _core_check(
            expression,
            variables,
            seed=seed,
            max_length=max_length,
            stages=stages,
            budget_s=budget_s,
            psd_tolerance=psd_tolerance,
            progress=sink,
        )

    result: CheckResult = _with_bar("Checking", progress, run)
    return result


def curvature_bounds(
    expression: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    budget_s: float | None = None,
    max_boxes: int = DEFAULT_MAX_BOXES,
) -> CurvatureBounds:
    return _core_curvature_bounds(
        expression, variables, seed=seed, budget_s=budget_s, max_boxes=max_boxes
    )


curvature_bounds.__doc__ = _core_curvature_bounds.__doc__


def _with_bar(description: str, progress: Progress, run: Callable[[Any], Any]) -> Any:
    """Run ``run(sink)``: with the delayed stderr bar as the sink for ``progress=True``, else
    with the caller's value (a callback, a sink, or ``False``) unchanged."""
    if progress is True:
        with DelayedProgress(description) as bar:
            return run(bar)
    return run(progress)


check.__doc__ = _core_check.__doc__


def check_model(
    model: nn.Module,
    loss_fn: Callable[[Any, Any], Tensor] | None = None,
    data: Any = None,
    *,
    wrt: str | Sequence[str] = "parameters",
    device: str | torch.device = "auto",
    seed: int = 0,
    budget_s: float | None = None,
    hessian: bool = True,
    progress: Progress = False,
    shard_weights: str = "examples",
    **options: Any,
) -> ModelCheckResult:
    """Is the training loss ``loss_fn(model(inputs), targets)`` convex in ``wrt``?

    The numeric check, :func:`convexcheck.numeric.check.check_model` (its docstring and
    ``docs/api.md`` describe every option; ``**options`` are passed to it as they are), imported
    on the first call so that ``import convexcheck`` never loads torch. Without torch this
    raises :class:`~convexcheck.errors.MissingDependencyError` naming the extra to install.
    """
    try:
        from convexcheck.numeric.check import check_model as _core_check_model
    except ModuleNotFoundError as exc:  # the base install has no torch: say so
        missing = missing_dependency(exc, "convexcheck.check_model")
        if missing is None:
            raise
        raise missing from exc
    arguments: dict[str, Any] = {
        "wrt": wrt,
        "device": device,
        "seed": seed,
        "budget_s": budget_s,
        "hessian": hessian,
        "shard_weights": shard_weights,
        **options,
    }
    result: ModelCheckResult = _with_bar(
        "Checking the model",
        progress,
        lambda sink: _core_check_model(model, loss_fn, data, progress=sink, **arguments),
    )
    return result


def _spectrum(name: str) -> Any:
    """The function ``name`` of :mod:`convexcheck.numeric.spectrum`, imported on first use (it
    needs torch); without torch, the one-line MissingDependencyError."""
    try:
        from convexcheck.numeric import spectrum
    except ModuleNotFoundError as exc:
        missing = missing_dependency(exc, f"convexcheck.{name}")
        if missing is None:
            raise
        raise missing from exc
    return getattr(spectrum, name)


def hessian_extremes(
    model: nn.Module,
    loss_fn: Callable[[Any, Any], Tensor] | None = None,
    data: Any = None,
    *,
    tol: float = 1e-3,
    seed: int = 0,
    device: str | torch.device = "auto",
    wrt: str | Sequence[str] = "parameters",
    max_iter: int | None = None,
    method: str = "auto",
    shard_weights: str = "examples",
    relative_to: str = "radius",
) -> HessianExtremes:
    """λ_min and λ_max of the loss's Hessian with residual error bounds and the number of
    Hessian-vector products: :func:`convexcheck.numeric.spectrum.hessian_extremes`."""
    result: HessianExtremes = _spectrum("hessian_extremes")(
        model, loss_fn, data, tol=tol, seed=seed, device=device, wrt=wrt, max_iter=max_iter,
        method=method, shard_weights=shard_weights, relative_to=relative_to,
    )  # fmt: skip
    return result


def hessian_density(
    model: nn.Module,
    loss_fn: Callable[[Any, Any], Tensor] | None = None,
    data: Any = None,
    *,
    iterations: int = 80,
    probes: int = 4,
    seed: int = 0,
    device: str | torch.device = "auto",
    wrt: str | Sequence[str] = "parameters",
    method: str = "auto",
    shard_weights: str = "examples",
) -> HessianDensity:
    """The Hessian's spectral density by stochastic Lanczos quadrature:
    :func:`convexcheck.numeric.spectrum.hessian_density`."""
    result: HessianDensity = _spectrum("hessian_density")(
        model, loss_fn, data, iterations=iterations, probes=probes, seed=seed, device=device,
        wrt=wrt, method=method, shard_weights=shard_weights,
    )  # fmt: skip
    return result
