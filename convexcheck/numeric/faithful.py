"""Is the traced graph the program that runs? Guards before a structural ``yes``.

The structural prover (:mod:`convexcheck.numeric.structure`) reasons about the graphs that
``torch.fx`` records. Three ways they can differ from what the user's program computes, each of
which gave a wrong ``yes`` (issue 10), and the guard for each:

* **Parametrized weights** (``torch.nn.utils.parametrizations.weight_norm``, ``spectral_norm``,
  ``orthogonal``, any ``register_parametrization``): the trainable tensors are the ``original*``
  tensors and the weight is a non-linear function of them, so "W x + b is affine" says nothing
  about the parameters being trained. Refused whenever a parametrization reads a trainable
  tensor (proving the parametrization itself affine is not attempted).
* **Hooks** (forward pre-hooks and forward hooks, on any module or global): fx does not record
  them for leaf modules, yet they run. The old ``torch.nn.utils.weight_norm`` is one: a pre-hook
  rebuilds ``weight`` from the trainable ``weight_g``/``weight_v``. Refused.
* **A forward that behaves differently while traced** (``is_fx_tracing()``, Python-level state,
  a value computed from a ``.detach()``-ed parameter and baked into the graph as a constant):
  :func:`graph_mismatch` evaluates the traced graphs and the user's program (values loaded in
  place into the user's own model) at the current parameters and at random points and segment
  midpoints like the Jensen search's, and the proof is refused if they differ beyond rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from convexcheck.numeric.candidates import random_pairs, tensor_scales
from convexcheck.numeric.program import (
    attribute_snapshot,
    batchnorm_in_train_mode,
    restoring,
    unique_slots,
)

PROBE_SCALES = (0.1, 1.0, 3.0)
PROBE_SEED = 2024
RELATIVE_TOLERANCE_EPS = 1e3  # "beyond rounding": 1000 ulps of the evaluation dtype


def _modules(*objects: Any) -> list[tuple[str, nn.Module]]:
    out: list[tuple[str, nn.Module]] = []
    for prefix, obj in zip(("model", "loss_fn"), objects):
        if isinstance(obj, nn.Module):
            out += [(f"{prefix}.{n}" if n else prefix, m) for n, m in obj.named_modules()]
    return out


def hidden_computation(model: nn.Module, loss_fn: Any) -> list[dict[str, str]]:
    """Issues (``kind``/``node``/``message``) for parametrizations and hooks that fx does not
    see; empty when there are none."""
    from torch.nn.utils import parametrize

    issues: list[dict[str, str]] = []
    for name, module in _modules(model, loss_fn):
        if parametrize.is_parametrized(module):
            for tensor_name, plist in module.parametrizations.items():
                trainable = [n for n, p in plist.named_parameters() if p.requires_grad]
                if not trainable:
                    continue
                kinds = ", ".join(type(p).__name__ for p in plist)
                issues.append(
                    {
                        "kind": "parametrized_weight",
                        "node": f"{name}.{tensor_name}",
                        "message": f"'{name}.{tensor_name}' is a parametrization ({kinds}) of the "
                        f"trainable tensor(s) {', '.join(trainable)}: the layer is affine in its "
                        "weight, but the weight is a non-linear function of what is trained, "
                        "so the structural argument does not apply",
                    }
                )
        hooks = [
            *module._forward_pre_hooks.values(),
            *module._forward_hooks.values(),
        ]
        if hooks:
            names = ", ".join(sorted({_hook_name(h) for h in hooks}))
            issues.append(
                {
                    "kind": "forward_hook",
                    "node": name,
                    "message": f"module '{name}' has forward hooks ({names}) that change what it "
                    "computes outside the traced graph (e.g. the old torch.nn.utils.weight_norm "
                    "rebuilds the weight from weight_g and weight_v); not analysed structurally",
                }
            )
    from torch.nn.modules import module as module_mod

    if module_mod._global_forward_hooks or module_mod._global_forward_pre_hooks:
        issues.append(
            {
                "kind": "forward_hook",
                "node": "",
                "message": "global forward hooks are registered (torch.nn.modules.module."
                "register_module_forward_hook): the traced graph may not be what runs",
            }
        )
    return issues


def _hook_name(hook: Any) -> str:
    return getattr(hook, "__qualname__", None) or type(hook).__name__


def probe_points(reference: Any, seed: int = PROBE_SEED) -> Tensor:
    """The current parameters, then for each scale in ``PROBE_SCALES`` a random pair around
    them (like the search's) and its weighted midpoint, then the global sign flip."""
    theta0 = reference.theta0.detach()
    gen = torch.Generator().manual_seed(seed)
    rms, init = tensor_scales(reference, theta0)
    rows = [theta0]
    for scale in PROBE_SCALES:
        pairs = random_pairs(theta0, rms, init, scale, 1, gen)
        a, b = pairs.a[0], pairs.b[0]
        t = float(pairs.t[0])
        rows += [a, b, t * a + (1 - t) * b]
    rows.append(-theta0)
    return torch.stack(rows)


def graph_mismatch(
    gm: nn.Module,
    harness: nn.Module,
    model: nn.Module,
    reference: Any,
) -> str | None:
    """``None`` when the traced graphs give the user's program's loss at every probe point;
    otherwise a sentence naming the first point where they differ."""
    points = probe_points(reference)
    try:
        with torch.no_grad():
            expected = reference.program_losses(points)
    except Exception as exc:
        return f"the program could not be evaluated to compare it with the traced graph ({exc})"
    traced = _traced(gm, harness, model, reference)
    eps = torch.finfo(reference.dtype).eps
    for i, theta in enumerate(points):
        try:
            with torch.no_grad():
                got = float(traced(theta))
        except Exception as exc:
            return f"the traced graph could not be evaluated at probe point {i} ({exc})"
        want = float(expected[i])
        tol = RELATIVE_TOLERANCE_EPS * eps * (abs(got) + abs(want)) + 1e-30
        if not abs(got - want) <= tol:
            where = "the current parameters" if i == 0 else f"probe point {i}"
            return (
                f"the traced graph gives {got:.10g} but the model's own forward gives "
                f"{want:.10g} at {where}: the forward behaves differently while traced "
                "(is_fx_tracing, Python-level state, or a parameter-dependent value baked in "
                "as a constant), so a proof about the graph is not a proof about the model"
            )
    return None


def _traced(
    gm: nn.Module, harness: nn.Module, model: nn.Module, reference: Any
) -> Callable[[Tensor], Tensor]:
    """``theta -> harness(gm(inputs), targets)`` with theta swapped into the traced modules."""
    by_id = {id(p): n for n, p in model.named_parameters() if n in reference.offsets}
    gm_slots = [(k, by_id.get(id(t))) for k, t, _ in unique_slots(gm)]
    harness_slots = [(k, by_id.get(id(t))) for k, t, _ in unique_slots(harness)]
    batchnorms = batchnorm_in_train_mode(model)
    snapshot = attribute_snapshot(model)
    x, y = reference.inputs, reference.targets

    def evaluate(theta: Tensor) -> Tensor:
        values = reference.unflatten(theta.to(reference.theta0))
        # each slot swapped once, found by identity (a module under two paths stays sound)
        mine = {k: values[n] for k, n in gm_slots if n is not None}
        theirs = {k: values[n] for k, n in harness_slots if n is not None}
        with restoring(batchnorms, snapshot):
            out = torch.func.functional_call(gm, mine, (x,), strict=False, tie_weights=False)
            value = torch.func.functional_call(
                harness, theirs, (out, y), strict=False, tie_weights=False
            )
        return value.reshape(())

    return evaluate


def refused(issues: Sequence[dict[str, str]]) -> list[str]:
    """The messages of ``issues`` (for a ``StructuralAnalysis``'s ``obstacles``)."""
    return [i["message"] for i in issues]
