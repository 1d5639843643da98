"""``check_model``: is a model's training loss convex in its trainable parameters?

The ladder, cheapest sound answer first:

1. **Structural proof** (:mod:`convexcheck.torchgraph`): the objective, translated from its
   torch.fx graph into the tensor engine, is proved convex by the one DCP engine and agrees with
   the user's program at the probe points (plus convex penalties) -> ``yes`` with that
   derivation as its certificate. Nothing numeric can say ``yes``.
2. **Jensen search** (:mod:`convexcheck.numeric.jensen`): a float64-verified violation -> ``no``.
3. **Hessian extremes** (:mod:`convexcheck.numeric.lanczos`): reported as evidence;
   a clearly negative ``lambda_min`` gives its eigenvector as one more Jensen candidate, which
   must still pass the float64 verification to become a ``no``.
4. Otherwise ``unknown`` with the evidence: pairs tried, largest gap, ``lambda_min`` and its
   error bound.

``wrt`` chooses the variables (the trainable parameters, a named subset, or the inputs;
:mod:`convexcheck.numeric.objective` builds the function of one flat vector for each); the
ladder is the same, except that the structural prover runs for ``wrt="parameters"`` only.

Every evaluation runs the user's own model and loss (a closure over the parameters sees the
candidate values; :mod:`convexcheck.numeric.program`), and leaves them exactly as they were.
Effort is counted in evaluations, not seconds: the same seed gives the same answer under any
machine load (``budget_s`` is only an outer wall-clock cap).

Nothing here prints or renders: ``reasons`` are :class:`~convexcheck.numeric.reason_types.Reason`
records (given to the result as their JSON objects), and progress goes to the caller's
:class:`~convexcheck.progress.ProgressSink`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from convexcheck.errors import ConvexcheckInputError
from convexcheck.numeric.distributed import (
    CollectiveTimeout,
    ShardedHVP,
    ShardedLoss,
    Shards,
    active_shards,
    fingerprint,
)
from convexcheck.numeric.functional import FunctionalLoss
from convexcheck.numeric.hessian import make_hvp
from convexcheck.numeric.jensen import DEFAULT_TIME_CAP_S, JensenSearch, JensenSearchReport
from convexcheck.numeric.lanczos import lanczos_extremes
from convexcheck.numeric.mechanisms import model_reasons
from convexcheck.numeric.model_result import ModelCheckResult
from convexcheck.numeric.objective import (
    INPUTS,
    PARAMETERS,
    build_objective,
    output_itself,
    subset_groups_complete,
)
from convexcheck.numeric.reason_types import Reason, ReasonKind
from convexcheck.progress import ProgressEvent, ProgressSink, progress_sink
from convexcheck.result import Verdict

HESSIAN_MAX_PARAMETERS = 20_000_000
HESSIAN_MAX_ITER = 60
# after a verified witness the estimate is evidence only; above this many parameters it is the
# most expensive step of the check (HESSIAN_MAX_ITER products and a k x n basis) and is skipped
HESSIAN_AFTER_WITNESS_MAX_PARAMETERS = 1_000_000

# the reason a verified witness gives, by the candidate family that found it
_SOURCE_KINDS = {
    "permutation": ReasonKind.PERMUTATION_SYMMETRY,
    "rescaling": ReasonKind.RESCALING_SYMMETRY,
    "sign_flip": ReasonKind.SIGN_SYMMETRY,
    "multiplicative": ReasonKind.MULTIPLICATIVE_WEIGHTS,
    "global_sign_flip": ReasonKind.SIGN_SYMMETRY,
    "hessian_direction": ReasonKind.NEGATIVE_CURVATURE,
}


def resolve_device(device: str | torch.device) -> torch.device:
    """``auto`` -> cuda when available, else cpu; asking for an absent cuda is an input error."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConvexcheckInputError("--device cuda was requested but CUDA is not available")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise ConvexcheckInputError(f"unknown device {name!r}") from exc


def check_model(
    model: nn.Module,
    loss_fn: Callable[[Any, Any], Tensor] | None = None,
    data: Any = None,
    *,
    wrt: str | Sequence[str] = PARAMETERS,
    device: str | torch.device = "auto",
    seed: int = 0,
    budget_s: float | None = None,
    hessian: bool = True,
    progress: bool | ProgressSink | Callable[[ProgressEvent], None] = False,
    penalties: Sequence[Callable[[dict[str, Tensor]], Tensor]] | None = None,
    max_pairs: int = 2048,
    max_evaluations: int | None = None,
    hessian_max_iter: int = HESSIAN_MAX_ITER,
    explain: bool = True,
    shard_weights: str = "examples",
) -> ModelCheckResult:
    """Judge convexity of ``loss_fn(model(inputs), targets)`` (+ ``penalties``) in the
    variables ``wrt``: by default the parameters with ``requires_grad=True``, the data
    ``(inputs, targets)`` held fixed.

    ``wrt`` (:mod:`convexcheck.numeric.objective`): ``"parameters"``; a list of parameter
    names (exactly those, every other parameter and buffer fixed, whatever its
    ``requires_grad``); or ``"inputs"`` (the inputs tensor, every parameter fixed; without a
    ``loss_fn`` the model must give one scalar per example and their sum is judged). With
    ``loss_fn=None`` and parameters judged, the model's output must be a scalar. ``data`` is
    required (for ``"inputs"`` without a loss it may be the inputs tensor alone).

    The Jensen search's effort is ``max_pairs`` pairs and ``max_evaluations`` loss evaluations
    (default three per pair), deterministic for a ``seed``; ``budget_s`` is an outer wall-clock
    cap only (default ``DEFAULT_TIME_CAP_S``), and ``jensen["stopped_by"]`` says which one ended
    the search;
    ``hessian`` enables the Lanczos estimate of the Hessian's extreme eigenvalues (evidence,
    and a candidate direction). ``penalties`` are callables on ``{name: tensor}`` of the
    model's parameters returning a scalar added to the loss (see ``L2Penalty``). The same
    ``seed`` gives the same candidates. ``explain`` adds the symmetry and multiplicative
    arguments (:mod:`convexcheck.numeric.mechanisms`) to ``reasons``, each with its own
    float64-verified numbers, when the answer is not ``yes``. ``progress``: a
    :class:`~convexcheck.progress.ProgressSink` told each stage and how far it got
    (``convexcheck model`` passes its terminal bar), or a callable that receives
    :class:`~convexcheck.progress.ProgressEvent` records; ``False`` or ``True`` report nothing,
    since this function never draws.

    Inside an initialised ``torch.distributed`` process group with more than one rank, each
    rank's ``data`` is its shard and the function judged is ``Σ_r w_r · loss_r``
    (:mod:`convexcheck.numeric.distributed`): ``shard_weights="examples"`` weights each rank by
    its share of the examples (for a mean-reduced loss, exactly the loss on the concatenated
    data), ``"equal"`` by ``1/world_size``. Every rank must call this with the same model and
    arguments; every rank returns the same result.
    """
    facts = {
        "the seed": seed,
        "the variables (wrt)": wrt if isinstance(wrt, str) else list(wrt),
        "the effort": [max_pairs, max_evaluations, hessian_max_iter, bool(hessian)],
        "the budget": budget_s,
        "explain": bool(explain),
        "the device type": str(device).split(":")[0],
    }
    shards = active_shards(data, shard_weights, facts)
    if shards is None:
        return _check_model(
            model, loss_fn, data, wrt=wrt, device=device, seed=seed, budget_s=budget_s,
            hessian=hessian, progress=progress, penalties=penalties, max_pairs=max_pairs,
            max_evaluations=max_evaluations, hessian_max_iter=hessian_max_iter, explain=explain,
        )  # fmt: skip
    result = _check_model(
        model, loss_fn, data, wrt=wrt, device=device, seed=seed, budget_s=budget_s,
        hessian=hessian, progress=progress, penalties=penalties, max_pairs=max_pairs,
        max_evaluations=max_evaluations, hessian_max_iter=hessian_max_iter, explain=explain,
        shards=shards,
    )  # fmt: skip
    result.distributed = shards.describe()
    return result


def _check_model(
    model: nn.Module,
    loss_fn: Callable[[Any, Any], Tensor] | None,
    data: Any,
    *,
    wrt: str | Sequence[str],
    device: str | torch.device,
    seed: int,
    budget_s: float | None,
    hessian: bool,
    progress: bool | ProgressSink | Callable[[ProgressEvent], None],
    penalties: Sequence[Callable[[dict[str, Tensor]], Tensor]] | None,
    max_pairs: int,
    max_evaluations: int | None,
    hessian_max_iter: int,
    explain: bool,
    shards: Shards | None = None,
) -> ModelCheckResult:
    """:func:`check_model` on this process's data, or on the sharded data when ``shards``."""

    def prepare() -> tuple[torch.device, Any]:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConvexcheckInputError(f"seed must be a nonnegative integer, got {seed!r}")
        if budget_s is not None and (
            isinstance(budget_s, bool) or not isinstance(budget_s, (int, float)) or not budget_s > 0
        ):
            raise ConvexcheckInputError(
                f"budget_s must be a positive number of seconds, got {budget_s!r}"
            )
        if shards is not None and wrt == INPUTS:
            raise ConvexcheckInputError(
                "wrt='inputs' cannot be data-parallel: the inputs are the variables, and each "
                "rank holds different ones (run it in one process)"
            )
        return resolve_device(device), build_objective(
            model, loss_fn, data, wrt, penalties=penalties
        )

    if shards is None:
        dev, objective = prepare()
    else:
        dev, objective = shards.run("building the objective", prepare)
        shards.agree_on(fingerprint(objective.floss), "comparing the ranks' models")
        objective.floss = ShardedLoss(objective.floss, shards)
    floss, wrt = objective.floss, objective.wrt
    if wrt == INPUTS:
        penalties = None  # constants in the inputs (objective.warnings says so)
    reasons: list[Reason] = []
    warnings: list[str] = list(objective.warnings)
    common = {
        "trainable_parameters": objective.trainable,
        "seed": seed,
        "device": str(dev),
        "mode": floss.mode,
        "warnings": warnings,
        "functional": floss,
        "wrt": wrt,
        "objective": objective.description,
        "payload": objective.witness_payload,
    }
    if floss.in_place_only:
        warnings.append(f"evaluated with {floss.evaluation}")
    hessian_ok = hessian and not floss.in_place_only
    no_gradients = "skipped: the loss reads captured parameter objects (evaluated in place)"

    plain = (data, None) if isinstance(data, Tensor) else data  # loss_fn=None: inputs only
    user_loss = loss_fn if loss_fn is not None or wrt == INPUTS else output_itself
    if shards is None:
        structural = _structural(model, user_loss, plain, penalties, reasons, floss, wrt)
    else:
        structural = shards.run(
            "proving convexity from the traced graph",
            lambda: _structural(model, user_loss, plain, penalties, reasons, floss, wrt),
        )
        _agree_on_proof(structural, shards, reasons)
    hess: dict[str, Any] | None = None
    if structural is not None and structural.proved and hessian_ok:
        hess = _hessian(floss, dev, seed, hessian_max_iter, wrt)
        if hess.get("min_eigenvalue") is not None and _clearly_negative(hess):
            # the proof and the numbers disagree: trust neither the proof nor a silent pass
            structural.proved = False
            message = (
                f"the structural proof was refused: the Hessian estimate has a clearly negative "
                f"eigenvalue ({hess['min_eigenvalue']:.4g}), so the traced graph cannot be the "
                "function computed"
            )
            structural.obstacles = [*structural.obstacles, message]
            reasons[:] = [Reason(ReasonKind.STRUCTURAL_OBSTACLE, message, source="check")]
            warnings.append(message)
    if structural is not None and structural.proved:
        reasons = _name_frozen(reasons, floss)
        if hess is None:
            hess = _no_hessian("disabled" if not hessian else no_gradients)
        verdict = Verdict.proved(
            "convex",
            "structural",
            _proof_summary(structural.certificate or {}, wrt),
            structural.certificate or {"steps": list(structural.steps)},
        )
        return ModelCheckResult(
            convex=verdict,
            jensen={"skipped": "the structural proof settles convexity"},
            hessian=hess,
            reasons=_as_dicts(reasons),
            **common,
        )

    bar = progress_sink(progress)
    bar.phase("Jensen search")
    search = JensenSearch(
        floss, device=dev, seed=seed,
        budget_s=DEFAULT_TIME_CAP_S if budget_s is None else budget_s,
        max_pairs=max_pairs, max_evaluations=max_evaluations, progress=bar.update,
    )  # fmt: skip
    report = search.run()
    if not hessian_ok:
        hess = _no_hessian("disabled" if not hessian else no_gradients)
    elif report.witness is not None and floss.numel > HESSIAN_AFTER_WITNESS_MAX_PARAMETERS:
        limit = HESSIAN_AFTER_WITNESS_MAX_PARAMETERS
        hess = _no_hessian(
            "skipped: a float64-verified Jensen witness settles the answer, and the "
            f"estimate is not computed after one above {limit:,} parameters"
        )
    else:
        bar.phase("Hessian extremes (Lanczos)")
        eigen, hess = _hessian_with_vector(floss, dev, seed, hessian_max_iter, wrt)
        if report.witness is None and eigen is not None and _clearly_negative(hess):
            bar.phase("Jensen along the lambda_min eigenvector")
            search.try_directions([(eigen.min_vector, "hessian_direction")])
        if eigen is not None and _clearly_negative(hess):
            reasons.append(
                Reason(
                    ReasonKind.NEGATIVE_CURVATURE,
                    f"Hessian lambda_min ~ {hess['min_eigenvalue']:.4g} "
                    f"(error bound {hess['min_error']:.2g})",
                )
            )
    if explain and not floss.in_place_only and wrt != INPUTS:
        # the constructions permute and rescale parameters: for wrt="inputs" they say nothing
        if wrt == PARAMETERS or subset_groups_complete(model, floss):
            bar.phase("Symmetry arguments")
            reasons.extend(_argued_reasons(model, floss, search, warnings, seed))
        else:
            warnings.append(
                "the symmetry arguments were skipped: the parameters in wrt leave out part of "
                "a hidden layer (e.g. its bias), so permuting or rescaling its units is not a "
                "symmetry of the restricted function"
            )
    jensen = report.to_dict()
    if report.witness is not None:
        info = report.witness.info
        kind = _SOURCE_KINDS.get(_base_source(info["source"]))
        if wrt == INPUTS:
            _inputs_wording(info)
            if kind != ReasonKind.NEGATIVE_CURVATURE:
                kind = None  # the parameter constructions' names mean nothing for the inputs
        if kind is not None:
            reasons.insert(0, Reason(kind, _construction_text(info), source="witness"))
        verdict = Verdict.refuted(
            "convex",
            "jensen",
            f"Jensen's inequality fails along a segment ({info['source']}), verified in "
            "float64 with a rounding margin",
            info,
        )
        return ModelCheckResult(
            convex=verdict,
            jensen=jensen,
            hessian=hess,
            reasons=_as_dicts(reasons),
            witness_points=report.witness,
            **common,
        )
    evidence = dict(jensen)
    if hess is not None and hess.get("min_eigenvalue") is not None:
        evidence.update(
            {
                "min_eigenvalue": hess["min_eigenvalue"],
                "min_error": hess.get("min_error"),
                "max_eigenvalue": hess["max_eigenvalue"],
            }
        )
    if structural is not None:
        evidence["structural_obstacles"] = list(structural.obstacles)
    if "rule" in objective.description:
        evidence["objective"] = objective.description["expression"]
        evidence["objective_rule"] = objective.description["rule"]
    verdict = Verdict.unknown(
        "convex",
        "jensen+hessian" if hessian else "jensen",
        "no proof of convexity and no verified Jensen violation within the budget",
        evidence,
    )
    return ModelCheckResult(
        convex=verdict, jensen=jensen, hessian=hess, reasons=_as_dicts(reasons), **common
    )


# -- structural proof ------------------------------------------------------------------------
def _structural(
    model: nn.Module,
    loss_fn: Any,
    data: Any,
    penalties: Sequence[Any] | None,
    reasons: list[Reason],
    floss: FunctionalLoss,
    wrt: str | list[str] = PARAMETERS,
) -> Any:
    """Run the structural prover on the user's model (it restores what it evaluates); the
    traced graphs are compared with ``floss`` without its penalties. Fill ``reasons``.

    ``loss_fn`` is the user's own (``output_itself`` when they gave none and the parameters are
    judged; ``None`` for the inputs, whose objective is then the sum of the outputs)."""
    from convexcheck.torchgraph import structural_proof

    reference = copy.copy(getattr(floss, "local", floss))  # this rank's own shard
    reference.penalties = []
    analysis = structural_proof(model, loss_fn, data, wrt=wrt, reference=reference)
    if analysis.proved and penalties:
        # user penalties are duck-typed on purpose: any object may declare `convex = True`
        unknown = [p for p in penalties if not getattr(p, "convex", False)]
        if unknown:
            message = (
                "a penalty term is not known to be convex (only L2Penalty and objects with "
                "convex = True are)"
            )
            analysis.proved = False
            analysis.obstacles = [*analysis.obstacles, message]
            reasons.append(Reason(ReasonKind.STRUCTURAL_OBSTACLE, message, source="structure"))
            return analysis
    if analysis.proved:
        reasons.extend(_certificate_reasons(analysis.certificate, analysis.steps))
        for p in penalties or []:
            describe = getattr(p, "describe", None)
            detail = describe() if callable(describe) else type(p).__name__
            reasons.append(Reason(ReasonKind.CONVEX_PENALTY, detail))
        return analysis
    for issue in analysis.issues:  # a proof that failed always says why, one issue at least
        reasons.append(
            Reason(
                issue.get("kind", ReasonKind.STRUCTURAL_OBSTACLE),
                str(issue.get("message", "")),
                source="structure",
            )
        )
    return analysis


def _agree_on_proof(structural: Any, shards: Shards, reasons: list[Reason]) -> None:
    """A proof counts only when it holds on every rank's shard: ``Σ_r w_r L_r`` with positive
    weights is convex when every ``L_r`` is (a rank's proof is about its own data)."""
    everywhere = shards.all(bool(structural is not None and structural.proved), "the proof")
    if structural is None or not structural.proved or everywhere:
        return
    message = (
        "the structural proof holds on this rank's shard but not on every rank's, so it says "
        "nothing about the combined loss"
    )
    structural.proved = False
    structural.obstacles = [*structural.obstacles, message]
    reasons[:] = [Reason(ReasonKind.STRUCTURAL_OBSTACLE, message, source="check")]


def _proof_summary(certificate: dict[str, Any], wrt: Any) -> str:
    what = {"parameters": "trainable parameters", "inputs": "inputs"}.get(
        wrt if isinstance(wrt, str) else "", "parameters " + ", ".join(wrt)
    )
    out = certificate.get("output_curvature", "")
    head = (
        "the loss is a convex function of an affine function of the "
        if out in ("affine", "constant")
        else "the objective is convex in the "
    )
    points = (certificate.get("faithfulness") or {}).get("points")
    tail = f", and equals the program at {points} probe points" if points else ""
    where = (
        ", on the set where it is defined (torch gives NaN outside it)"
        if certificate.get("restricted")
        else ""
    )
    return f"{head}{what}{where} (DCP derivation over the traced graph{tail})"


def _certificate_reasons(certificate: Any, steps: Sequence[str]) -> list[Reason]:
    """The reasons a structural certificate lists (the generic pair if it lists none)."""
    if isinstance(certificate, dict):
        listed = certificate.get("reasons")
        if isinstance(listed, list) and all(isinstance(r, dict) and "kind" in r for r in listed):
            return [Reason.from_dict(r) for r in listed]
    return [
        Reason(
            ReasonKind.AFFINE_IN_PARAMETERS,
            "the model output is affine in the trainable parameters",
        ),
        Reason(ReasonKind.CONVEX_LOSS, "the loss is convex in the model output"),
    ]


# -- Hessian extremes ------------------------------------------------------------------------
def _no_hessian(status: str) -> dict[str, Any]:
    return {"min_eigenvalue": None, "max_eigenvalue": None, "status": status}


def _hessian(
    floss: FunctionalLoss, dev: torch.device, seed: int, max_iter: int, wrt: Any = PARAMETERS
) -> dict:
    return _hessian_with_vector(floss, dev, seed, max_iter, wrt)[1]


def _hessian_with_vector(
    floss: FunctionalLoss, dev: torch.device, seed: int, max_iter: int, wrt: Any = PARAMETERS
) -> tuple[Any, dict[str, Any]]:
    """Lanczos extremes of the Hessian at ``theta0`` (float32 products, float64 recurrence)."""
    if floss.numel > HESSIAN_MAX_PARAMETERS:
        return None, _no_hessian(f"skipped: {floss.numel} parameters is too many")
    f = floss if floss.device == dev else floss.to(device=dev)
    try:
        # double backward measured 2-2.5x faster per product than forward-over-reverse on the
        # CPU (benchmarks/hessian_vs_pyhessian.py); on CUDA the automatic choice stands
        method = "double-backward" if dev.type == "cpu" else "auto"
        local = getattr(f, "local", f)
        hvp: Any = make_hvp(local.loss, f.theta0.detach(), method=method)
        if isinstance(f, ShardedLoss):
            hvp = ShardedHVP(hvp, f.shards)
        eigen = lanczos_extremes(
            hvp,
            f.numel,
            tol=1e-4,
            max_iter=max_iter,
            seed=seed,
            dtype=torch.float64,
            device=dev,
            hvp_dtype=f.dtype,
            method="block",  # products kept: no extra ones for the final residuals
        )
    except CollectiveTimeout:  # a rank stopped answering: no later collective can succeed
        raise
    except Exception as exc:  # the estimate is evidence only: never fail the check on it
        return None, _no_hessian(f"failed: {type(exc).__name__}: {exc}")
    out = eigen.to_dict() if hasattr(eigen, "to_dict") else {}
    out.update(
        {
            "min_eigenvalue": float(eigen.min_eigenvalue),
            "max_eigenvalue": float(eigen.max_eigenvalue),
            "min_error": float(eigen.min_error),
            "max_error": float(eigen.max_error),
            "at": "the given inputs" if wrt == INPUTS else "the model's current parameters",
            "precision": f"{str(f.dtype).replace('torch.', '')} products",
        }
    )
    return eigen, out


def _clearly_negative(hess: dict[str, Any]) -> bool:
    lo, err, hi = hess.get("min_eigenvalue"), hess.get("min_error"), hess.get("max_eigenvalue")
    if lo is None or err is None or not math.isfinite(lo):
        return False
    scale = max(abs(hi or 0.0), abs(lo))
    return lo < 0 and -lo > max(err, 1e-6 * scale, 1e-12)


# -- reasons ---------------------------------------------------------------------------------
def _name_frozen(reasons: list[Reason], floss: FunctionalLoss) -> list[Reason]:
    """A convex verdict's ``affine_in_parameters`` says which parts are held fixed."""
    return [
        r.with_facts(frozen=list(floss.frozen_names), trainable=list(floss.names))
        if r.kind == ReasonKind.AFFINE_IN_PARAMETERS
        else r
        for r in reasons
    ]


def _as_dicts(reasons: list[Reason]) -> list[dict[str, Any]]:
    """The reasons as the result (and its JSON) carries them."""
    return [r.to_dict() for r in reasons]


def _argued_reasons(
    model: nn.Module, floss: FunctionalLoss, search: JensenSearch, warnings: list[str], seed: int
) -> list[Reason]:
    """The constructions on the model; never fail the check on them (they explain, not
    decide)."""
    try:
        return model_reasons(model, floss, verifier=search.verifier, seed=seed)
    except CollectiveTimeout:
        raise
    except Exception as exc:
        warnings.append(f"could not build the symmetry arguments: {type(exc).__name__}: {exc}")
        return []


def _inputs_wording(info: dict[str, Any]) -> None:
    """A candidate family built for parameters, described in terms of the inputs."""
    detail = info.get("detail")
    if isinstance(detail, dict) and isinstance(detail.get("construction"), str):
        text = detail["construction"].replace("every trainable parameter", "every input value")
        detail["construction"] = text.replace("scalar against the rest", "one input value "
                                              "against the rest")  # fmt: skip


def _base_source(source: str) -> str:
    if source.startswith("adversarial(from="):
        source = source[len("adversarial(from=") : -1]
    return source.split("(", 1)[0]


def _construction_text(info: dict[str, Any]) -> str:
    detail = info.get("detail") or {}
    parts = []
    if "layers" in detail:
        parts.append(f"layers {detail['layers'][0]} -> {detail['layers'][1]}")
    if "construction" in detail:
        parts.append(detail["construction"])
    if "scalar" in detail:
        parts.append(f"scalar parameter {detail['scalar']}")
    return "; ".join(parts) or info.get("source", "")


def search_only(floss: FunctionalLoss, **kw: Any) -> JensenSearchReport:
    """The Jensen search alone (for benchmarks and tests)."""
    return JensenSearch(floss, **kw).run()
