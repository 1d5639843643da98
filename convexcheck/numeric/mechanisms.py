"""Why a network is not convex, argued on *this* model with numbers anyone can re-check.

These are the numeric constructions behind the ``reasons`` of ``check_model``; each returns a
typed :class:`~convexcheck.numeric.reason_types.Reason` (``explain/`` only renders them).

The textbook arguments for non-convexity become concrete constructions on the model's own
parameter vector ``theta0``, each checked with the same float64 verifier that backs a ``no``
verdict (:class:`convexcheck.numeric.verify.Verifier`):

* ``permutation_symmetry``: swapping hidden units ``i`` and ``j`` between two trainable layers
  (rows of the incoming weight and bias, columns of the outgoing weight) leaves the function
  unchanged, so ``f(a) = f(b)`` up to rounding; their midpoint averages the two units into one
  function that is generally different, and when it is worse that is a Jensen violation.
* ``multiplicative_weights``: one incoming weight ``s`` of a unit and one outgoing weight ``u``
  enter the output through the product ``u * act(s x + ...)``; on the two-parameter slice
  ``(s, u)`` the 2x2 Hessian is indefinite somewhere (like ``f(s, u) = s u``) and a segment
  along its negative eigenvector violates Jensen.
* ``rescaling_symmetry``: for positively homogeneous activations (ReLU, LeakyReLU, identity),
  ``act(c z) = c act(z)`` for ``c > 0``, so scaling a unit's incoming weights by ``c`` and its
  outgoing weights by ``1/c`` keeps the loss; on the segment the unit is amplified by
  ``(1 + c)(1 + 1/c)/4 > 1``.

Each reason carries ``witnessed`` (the float64 verification accepted the violation) and its
numbers; a construction that does not break Jensen at this model's parameters is reported with
``witnessed: False`` rather than dropped, so the reader sees that the argument was tried.

Effort. Every candidate costs full float64 evaluations of the loss (a 5M-parameter CNN: about
half a second each), so on a model above ``LARGE_MODEL`` parameters each argument is made once
(groups are tried in order only until one is witnessed) and the reasons together may spend
``LARGE_MODEL_EVALUATIONS`` float64 evaluations (a slice Hessian counts as
``SLICE_HESSIAN_EVALUATIONS``); a verification is started only when its worst case fits in what
is left, so the budget is never exceeded. The budget is a count, not a clock: the same model
and seed give the same reasons under any machine load. Smaller models are not limited by it.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

import torch
from torch import Tensor, nn

from convexcheck.numeric.candidates import UnitGroup, find_unit_groups, transform_units
from convexcheck.numeric.distributed import agreed
from convexcheck.numeric.functional import FunctionalLoss
from convexcheck.numeric.reason_types import Reason, ReasonKind
from convexcheck.numeric.verify import Verifier

MAX_GROUPS = 3  # unit groups examined per model (each costs a few float64 evaluations)
MAX_UNIT_PAIRS = 28  # unit pairs per group tried for the permutation argument
LARGE_MODEL = 1_000_000  # above this many parameters, try few candidates (each is a full copy)
LARGE_MODEL_EVALUATIONS = 12  # float64 loss evaluations for all the reasons of a large model
SLICE_HESSIAN_EVALUATIONS = 4  # what one 2x2 slice Hessian costs, in loss evaluations
# The slice search is bounded by its count (at most 6 units x 3 inputs x 2 outputs x 2 centres);
# the clock is only an outer cap, so the reasons do not change with machine load.
SLICE_BUDGET_S = 30.0
_SCALES = (4.0, 0.25)  # powers of two: the rescaled parameters stay exact in float32
_SLICE_STEPS = (0.5, 1.0, 2.0, 0.25, 4.0)


def model_reasons(
    model: nn.Module, floss: FunctionalLoss, *, verifier: Verifier | None = None, seed: int = 0
) -> list[Reason]:
    """The symmetry and multiplicative arguments for ``floss`` at its current parameters.

    ``model`` supplies the layer structure (``find_unit_groups`` walks its modules);
    ``verifier`` may be shared with a Jensen search to reuse its float64 copy.
    """
    groups = find_unit_groups(model, floss)[:MAX_GROUPS]
    if not groups:
        return []
    verifier = verifier or Verifier(floss)
    theta0 = floss.theta0.detach().to("cpu", torch.float32)
    f32 = floss if floss.device.type == "cpu" and floss.dtype == torch.float32 else None
    if f32 is None:
        f32 = floss.to(dtype=torch.float32, device="cpu")
    large = floss.numel > LARGE_MODEL
    effort = Effort(verifier, LARGE_MODEL_EVALUATIONS if large else None)
    out: list[Reason] = []
    for group in groups:
        perm = permutation_reason(f32, verifier, group, theta0, effort=effort)
        if perm is not None:
            out.append(perm)
            if large and perm.witnessed:
                break  # a large model: one witnessed argument of each kind
    for group in groups:
        mult = multiplicative_reason(f32, verifier, group, theta0, effort=effort)
        if mult is not None:
            out.append(mult)
            break  # one slice makes the point; more would only repeat it
    for group in groups:
        if _positively_homogeneous(group):
            resc = rescaling_reason(f32, verifier, group, theta0, effort=effort)
            if resc is not None:
                out.append(resc)
                if large and resc.witnessed:
                    break
    return out


class Effort:
    """The float64 evaluations the reasons may still spend (``limit=None``: no limit), read
    from the shared verifier's own count so that nothing is counted twice."""

    def __init__(self, verifier: Verifier, limit: int | None) -> None:
        self.verifier = verifier
        self.limit = limit
        self.start = verifier.evaluations
        self.extra = 0  # evaluations spent outside the verifier (slice Hessians)

    @property
    def spent(self) -> int:
        return self.verifier.evaluations - self.start + self.extra

    def allows(self, cost: int) -> bool:
        return self.limit is None or self.spent + cost <= self.limit

    def allows_check(self, a: Tensor, b: Tensor, extra: int = 0) -> bool:
        return self.allows(self.verifier.worst_case_evaluations(a, b) + extra)


def _positively_homogeneous(group: UnitGroup) -> bool:
    return group.homogeneous and group.units >= 1


def _layers(group: UnitGroup) -> str:
    between = ", ".join(group.between) or "nothing"
    return f"{group.first} -> {group.second} (through {between})"


# -- permutation -------------------------------------------------------------------------------
def permutation_reason(
    floss: FunctionalLoss,
    verifier: Verifier,
    group: UnitGroup,
    theta0: Tensor,
    *,
    effort: Effort | None = None,
) -> Reason | None:
    """Swap two units of ``group``; keep the pair whose float64 midpoint gap is largest."""
    if group.units < 2:
        return None
    effort = effort or Effort(verifier, None)
    if not effort.allows(verifier.worst_case_evaluations(theta0, None)):
        return None
    limit = MAX_UNIT_PAIRS if floss.numel <= LARGE_MODEL else 3
    pairs = list(itertools.combinations(range(group.units), 2))[:limit]
    swapped = []
    for i, j in pairs:
        perm = torch.arange(group.units)
        perm[i], perm[j] = j, i
        swapped.append(transform_units(floss, theta0, group, perm=perm))
    with torch.no_grad():
        mids = floss.batched_loss(0.5 * (theta0 + torch.stack(swapped)))
    order = torch.argsort(mids, descending=True)[:4]
    best = None
    for k in order.tolist():
        if not effort.allows_check(theta0, swapped[k]):
            break
        check = verifier.check(theta0, swapped[k], 0.5)
        if best is None or check.gap > best[1].gap:
            best = (k, check)
        if check.accepted:
            break
    if best is None:
        return None
    k, check = best
    i, j = pairs[k]
    return Reason(
        ReasonKind.PERMUTATION_SYMMETRY,
        f"swapping hidden units {i} and {j} of {_layers(group)} keeps the loss "
        f"({check.loss_a:.6g} vs {check.loss_b:.6g}); the midpoint has loss "
        f"{check.loss_at_t:.6g}, {check.gap:.3g} above the chord",
        {
            "layers": [group.first, group.second],
            "units": [i, j],
            **_midpoint_facts(check),
        },
        source="reasons",
    )


# -- rescaling ---------------------------------------------------------------------------------
def rescaling_reason(
    floss: FunctionalLoss,
    verifier: Verifier,
    group: UnitGroup,
    theta0: Tensor,
    *,
    effort: Effort | None = None,
) -> Reason | None:
    """Scale one unit's incoming weights by ``c`` and its outgoing ones by ``1/c``."""
    effort = effort or Effort(verifier, None)
    if not effort.allows(verifier.worst_case_evaluations(theta0, None)):
        return None
    candidates = []
    for unit in range(min(group.units, 16 if floss.numel <= LARGE_MODEL else 2)):
        for c in _SCALES:
            scale = torch.ones(group.units)
            scale[unit] = c
            candidates.append((unit, c, transform_units(floss, theta0, group, scale=scale)))
    with torch.no_grad():
        mids = floss.batched_loss(0.5 * (theta0 + torch.stack([b for _, _, b in candidates])))
    best = None
    for k in torch.argsort(mids, descending=True)[:4].tolist():
        if not effort.allows_check(theta0, candidates[k][2]):
            break
        check = verifier.check(theta0, candidates[k][2], 0.5)
        if best is None or check.gap > best[1].gap:
            best = (k, check)
        if check.accepted:
            break
    if best is None:
        return None
    k, check = best
    unit, c, _ = candidates[k]
    amplification = (1 + c) * (1 + 1 / c) / 4
    return Reason(
        ReasonKind.RESCALING_SYMMETRY,
        f"unit {unit} of {_layers(group)}: incoming weights x {c:g}, outgoing / {c:g} "
        f"keeps the loss ({check.loss_a:.6g} vs {check.loss_b:.6g}); at the midpoint the unit "
        f"is amplified {amplification:.4g}x and the loss is {check.gap:.3g} above the chord",
        {
            "layers": [group.first, group.second],
            "unit": unit,
            "factor": c,
            "midpoint_amplification": amplification,
            "between": list(group.between),
            **_midpoint_facts(check),
        },
        source="reasons",
    )


# -- multiplicative slice ----------------------------------------------------------------------
def slice_indices(floss: FunctionalLoss, group: UnitGroup, unit: int, k: int, o: int) -> list:
    """Flat indices of incoming weight ``W1[unit, k, ...first]`` and outgoing ``W2[o, unit]``."""
    in_name = group.incoming[0][0]
    out_name, _, split = group.outgoing[0]
    s0, _ = floss.offsets[in_name]
    in_shape = floss.shapes[floss.names.index(in_name)]
    per_unit = math.prod(in_shape[1:])
    o0, _ = floss.offsets[out_name]
    out_shape = floss.shapes[floss.names.index(out_name)]
    per_out = math.prod(out_shape[1:])
    per_in_elem = math.prod(in_shape[2:]) if len(in_shape) > 2 else 1
    inner = math.prod(out_shape[2:]) if len(out_shape) > 2 else 1
    s_index = s0 + unit * per_unit + k * per_in_elem
    u_index = o0 + o * per_out + unit * split * inner
    return [
        (in_name, s_index - s0, s_index),
        (out_name, u_index - o0, u_index),
    ]


def slice_function(floss: FunctionalLoss, base: Tensor, idx: tuple[int, int]) -> Any:
    """``(s, u) -> loss`` with every other parameter fixed at ``base``."""

    def g(z: Tensor) -> Tensor:
        theta = base.clone()
        theta = theta.index_put((torch.tensor(list(idx)),), z.to(theta.dtype))
        return floss.loss(theta)

    return g


def multiplicative_reason(
    floss: FunctionalLoss,
    verifier: Verifier,
    group: UnitGroup,
    theta0: Tensor,
    *,
    effort: Effort | None = None,
) -> Reason | None:
    """An indefinite 2x2 slice Hessian ``(s, u)`` and a Jensen violation along it."""
    effort = effort or Effort(verifier, None)
    f64 = verifier.f64
    base64 = theta0.to(torch.float64)
    in_shape = floss.shapes[floss.names.index(group.incoming[0][0])]
    out_shape = floss.shapes[floss.names.index(group.outgoing[0][0])]
    fan_in = in_shape[1] if len(in_shape) > 1 else 1
    outs = out_shape[0]
    best: dict[str, Any] | None = None
    tries = 0
    deadline = time.perf_counter() + SLICE_BUDGET_S
    for unit in range(min(group.units, 6)):
        for k in range(min(fan_in, 3)):
            for o in range(min(outs, 2)):
                sl = slice_indices(floss, group, unit, k, o)
                idx = (sl[0][2], sl[1][2])
                for centre_kind in ("current", "origin"):
                    if agreed(time.perf_counter() > deadline, floss, "the explanations' time box"):
                        break
                    # a slice Hessian and at least one segment (two points off theta0)
                    if not effort.allows(SLICE_HESSIAN_EVALUATIONS + 9):
                        break
                    tries += 1
                    found = _slice_witness(floss, f64, verifier, base64, idx, centre_kind, effort)
                    if found is None:
                        continue
                    found.update(
                        {
                            "unit": unit,
                            "parameters": [[sl[0][0], sl[0][1]], [sl[1][0], sl[1][1]]],
                            "flat_indices": list(idx),
                        }
                    )
                    if best is None or (found["witnessed"] and not best["witnessed"]):
                        best = found
                    if best["witnessed"]:
                        break
                if best is not None and best["witnessed"]:
                    break
            if best is not None and best["witnessed"]:
                break
        if best is not None and best["witnessed"]:
            break
    if best is None:
        return None
    h = best["slice_hessian"]
    names = best["parameters"]
    return Reason(
        ReasonKind.MULTIPLICATIVE_WEIGHTS,
        f"weights {names[0][0]}[{names[0][1]}] = s and {names[1][0]}[{names[1][1]}] "
        f"= u multiply on one path; the 2x2 Hessian of the loss in (s, u) at "
        f"({best['point'][0]:.4g}, {best['point'][1]:.4g}) is "
        f"[[{h[0][0]:.4g}, {h[0][1]:.4g}], [{h[1][0]:.4g}, {h[1][1]:.4g}]] with eigenvalues "
        f"{best['slice_eigenvalues'][0]:.4g} < 0 < {best['slice_eigenvalues'][1]:.4g}, and a "
        f"segment along the negative eigenvector breaks Jensen by {best['midpoint_gap']:.3g}",
        {
            "layers": [group.first, group.second],
            **best,
            "slices_tried": tries,
            "verified_in": "float64 on the cpu",
        },
        source="reasons",
    )


def _midpoint_facts(check: Any) -> dict[str, Any]:
    """The numbers of a float64 midpoint check, in the order every reason's JSON lists them
    (after the reason's own facts)."""
    return {
        "loss_a": check.loss_a,
        "loss_b": check.loss_b,
        "loss_difference": abs(check.loss_a - check.loss_b),
        "loss_midpoint": check.loss_at_t,
        "midpoint_gap": check.gap,
        "margin": check.margin,
        "t": 0.5,
        "witnessed": check.accepted,
        "verified_in": "float64 on the cpu",
    }


def _slice_witness(
    floss: FunctionalLoss,
    f64: FunctionalLoss,
    verifier: Verifier,
    base64: Tensor,
    idx: tuple[int, int],
    centre_kind: str,
    effort: Effort | None = None,
) -> dict[str, Any] | None:
    effort = effort or Effort(verifier, None)
    base = base64.clone()
    if centre_kind == "origin":
        base[list(idx)] = 0.0
    point = base[list(idx)].clone()
    g = slice_function(f64, base, idx)
    hess = torch.autograd.functional.hessian(g, point)
    effort.extra += SLICE_HESSIAN_EVALUATIONS
    evals, evecs = torch.linalg.eigh(hess)
    if not bool(evals[0] < -1e-9 * max(1.0, float(evals.abs().max()))):
        return None
    direction = evecs[:, 0]
    scale = float(point.abs().max()) or 1.0
    result = None
    for step in _SLICE_STEPS:
        h = step * scale
        a = base.clone()
        b = base.clone()
        a[list(idx)] = point - h * direction
        b[list(idx)] = point + h * direction
        a32, b32 = a.float(), b.float()
        if result is not None and not effort.allows_check(a32, b32):
            break
        check = verifier.check(a32, b32, 0.5)
        if result is None or check.gap > result.gap:
            result = check
            kept = (a32, b32, h)
        if check.accepted:
            break
    assert result is not None
    a32, b32, h = kept
    return {
        "point": [float(point[0]), float(point[1])],
        "centre": "the model's current parameters"
        if centre_kind == "current"
        else "the current parameters with s = u = 0",
        "slice_hessian": hess.tolist(),
        "slice_eigenvalues": evals.tolist(),
        "direction": direction.tolist(),
        "half_length": h,
        "a": [float(a32[idx[0]]), float(a32[idx[1]])],
        "b": [float(b32[idx[0]]), float(b32[idx[1]])],
        "loss_a": result.loss_a,
        "loss_b": result.loss_b,
        "loss_midpoint": result.loss_at_t,
        "midpoint_gap": result.gap,
        "margin": result.margin,
        "t": 0.5,
        "witnessed": result.accepted,
        "centre_kind": centre_kind,
    }


def slice_base(theta0: Tensor, reason: dict[str, Any]) -> Tensor:
    """The float64 parameter vector around which a ``multiplicative_weights`` slice was taken."""
    base = theta0.detach().to("cpu", torch.float64).clone()
    if reason.get("centre_kind") == "origin":
        base[list(reason["flat_indices"])] = 0.0
    return base
