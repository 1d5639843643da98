"""What ``check_model`` judges for each choice of ``wrt``, as a :class:`FunctionalLoss`.

Every numeric prover (Jensen search, float64 verification, Hessian-vector products) takes a
``FunctionalLoss``: a function of one flat vector over the user's own model. ``wrt`` only
changes what that vector is:

* ``"parameters"``: the parameters with ``requires_grad=True`` (the original meaning), the data
  held fixed. With ``loss_fn=None`` the model's output must be a scalar and is the objective.
* a list of parameter names: exactly those parameters (whatever their ``requires_grad``),
  every other parameter and buffer held fixed (``FunctionalLoss(variables=...)``). The user's
  ``requires_grad`` flags are never touched: fixed values are detached copies.
* ``"inputs"``: the inputs tensor, every parameter and buffer held fixed at its current value.
  The user's model is registered, without a copy, as the child of a small wrapper module whose
  one parameter is the inputs (:class:`InputsAsParameter`), so the same ``functional_call``,
  ``vmap``, in-place and float64 machinery evaluate ``model(x)`` at any candidate ``x``. With a
  ``loss_fn`` the objective is ``loss_fn(model(x), targets)`` (a scalar); without one the model
  must give one scalar per example and the objective is their SUM. That loses nothing: a sum
  of convex functions is convex, so a Jensen violation of the sum is a violation for at least
  one example (a segment of inputs that breaks it), and a proof is given per example.

The wrapper indexes the inputs with the data's "inputs" slot (``arange(N)``), so reversing the
batch (the verifier's second summation order) reverses the examples and their targets together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import torch
from torch import Tensor, nn

from convexcheck.errors import ConvexcheckInputError
from convexcheck.numeric.functional import (
    FunctionalLoss,
    _mode_report,
    _refuse_random_modules,
)

PARAMETERS, INPUTS = "parameters", "inputs"
SUM_RULE = (
    "the objective is the sum over examples of model(x): a sum of convex functions is convex, "
    "so a Jensen violation of the sum is a violation for at least one example"
)


def normalize_wrt(wrt: Any) -> str | list[str]:
    """``"parameters"``, ``"inputs"`` or a non-empty list of parameter names (order kept,
    duplicates dropped); anything else is a one-line input error."""
    if isinstance(wrt, str):
        if wrt in (PARAMETERS, INPUTS):
            return wrt
        raise ConvexcheckInputError(
            f"wrt must be 'parameters', 'inputs' or a list of parameter names, got {wrt!r} "
            f"(for one parameter write wrt=[{wrt!r}])"
        )
    if isinstance(wrt, (list, tuple)) and wrt and all(isinstance(n, str) and n for n in wrt):
        return list(dict.fromkeys(wrt))
    raise ConvexcheckInputError(
        f"wrt must be 'parameters', 'inputs' or a non-empty list of parameter names, got {wrt!r}"
    )


def wrt_label(wrt: str | list[str]) -> str:
    """``wrt`` in words, for text output."""
    if wrt == PARAMETERS:
        return "the trainable parameters"
    if wrt == INPUTS:
        return "the inputs"
    return "the parameters " + ", ".join(wrt)


class InputsAsParameter(nn.Module):
    """``forward(index) = model(inputs[index])`` with ``inputs`` a parameter of this wrapper
    and the user's ``model`` its child (the same object: registering a child copies nothing).
    ``index`` is ``None`` for a 0-dimensional input."""

    def __init__(self, model: nn.Module, inputs: Tensor) -> None:
        super().__init__()
        self.model = model
        self.inputs = nn.Parameter(inputs.detach().clone(), requires_grad=False)
        self.training = model.training  # not .train(): that would set the user's modules

    def forward(self, index: Tensor | None) -> Any:
        x = self.inputs if index is None else self.inputs.index_select(0, index)
        return self.model(x)


def output_itself(out: Any, targets: Any) -> Any:
    """The objective when ``loss_fn`` is None and parameters are judged: the model's output,
    which must be a scalar (checked by :class:`FunctionalLoss`)."""
    return out


class SumOverExamples:
    """The objective when ``loss_fn`` is None and the inputs are judged: the sum of the
    model's ``N`` per-example scalars (output shape ``(N,)`` or ``(N, 1)``)."""

    def __init__(self, examples: int) -> None:
        self.examples = examples

    def __call__(self, out: Any, targets: Any) -> Tensor:
        n = self.examples
        if not isinstance(out, Tensor) or tuple(out.shape) not in ((n,), (n, 1)):
            got = list(out.shape) if isinstance(out, Tensor) else type(out).__name__
            raise ConvexcheckInputError(
                f"wrt='inputs' without a loss_fn needs one scalar per example from "
                f"model(inputs), shape [{n}] or [{n}, 1], got {got} (or pass a loss_fn)"
            )
        return out.sum()


@dataclass
class Objective:
    """The function judged: ``floss`` over the variables ``wrt``, described for the result."""

    floss: FunctionalLoss
    wrt: str | list[str]
    trainable: dict[str, Any]
    description: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def witness_payload(self, a: Tensor, b: Tensor, t: float) -> dict[str, Any]:
        """The ``--witness-out`` payload for flat witness vectors ``a``, ``b``."""
        if self.wrt == INPUTS:
            return {"wrt": INPUTS, "a": self._inputs_at(a), "b": self._inputs_at(b), "t": float(t)}
        return {
            "a": self.floss.state_dict_at(a),
            "b": self.floss.state_dict_at(b),
            "t": float(t),
        }

    def _inputs_at(self, theta: Tensor) -> Tensor:
        """The inputs at a flat witness vector, in the inputs' own dtype when that keeps the
        verified values exactly (float32 -> float64 always does), else as verified."""
        value = self.floss.unflatten(theta.detach().cpu())["inputs"].clone()
        cast = self.floss.state_dict_at(theta)["inputs"]
        return cast if torch.equal(cast.to(value.dtype), value) else value


def build_objective(
    model: nn.Module,
    loss_fn: Callable[[Any, Any], Tensor] | None,
    data: Any,
    wrt: Any = PARAMETERS,
    *,
    penalties: Sequence[Callable[[dict[str, Tensor]], Tensor]] | None = None,
) -> Objective:
    """The :class:`Objective` for ``check_model``'s arguments (see the module doc)."""
    wrt = normalize_wrt(wrt)
    if data is None:
        raise ConvexcheckInputError(
            "check_model needs data: an (inputs, targets) pair of tensors (or, without a "
            "loss_fn, the inputs tensor)"
        )
    if not isinstance(model, nn.Module):
        raise ConvexcheckInputError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if loss_fn is not None and not callable(loss_fn):
        raise ConvexcheckInputError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if wrt == INPUTS:
        return _inputs_objective(model, loss_fn, data, penalties)
    variables = None if wrt == PARAMETERS else wrt
    if loss_fn is None:
        if isinstance(data, Tensor):
            data = (data, None)
        try:
            floss = FunctionalLoss(
                model, output_itself, data, penalties=penalties, variables=variables
            )
        except ConvexcheckInputError as exc:
            if "must return a scalar" not in str(exc):
                raise
            shape = str(exc).split("shape ", 1)[-1].split(" (", 1)[0]
            raise ConvexcheckInputError(
                f"loss_fn is None, so model(inputs) must be a scalar (the objective), got "
                f"shape {shape}; pass a loss_fn, or use wrt='inputs' for one scalar per example"
            ) from None
        expression = "model(inputs)"
    else:
        floss = FunctionalLoss(model, loss_fn, data, penalties=penalties, variables=variables)
        expression = "loss_fn(model(inputs), targets)"
    if penalties:
        expression += " + penalties"
    trainable = {
        "count": floss.numel,
        "names": list(floss.names),
        "shapes": [list(s) for s in floss.shapes],
        "frozen": list(floss.frozen_names),
    }
    held = "the data, every buffer and " + (
        "every parameter with requires_grad=False"
        if wrt == PARAMETERS
        else "every parameter not named in wrt (whatever its requires_grad)"
    )
    description = {"expression": expression, "variables": wrt_label(wrt), "held_fixed": held}
    return Objective(floss, wrt, trainable, description)


def _inputs_objective(
    model: nn.Module,
    loss_fn: Callable[[Any, Any], Tensor] | None,
    data: Any,
    penalties: Sequence[Any] | None,
) -> Objective:
    if isinstance(data, Tensor):
        inputs, targets = data, None
    elif isinstance(data, (tuple, list)) and len(data) in (1, 2):
        inputs, targets = data[0], (data[1] if len(data) == 2 else None)
    else:
        raise ConvexcheckInputError(
            "with wrt='inputs', data must be the inputs tensor or an (inputs, targets) pair"
        )
    if not isinstance(inputs, Tensor):
        raise ConvexcheckInputError(
            f"with wrt='inputs', the inputs must be a torch.Tensor, got {type(inputs).__name__}"
        )
    if not inputs.is_floating_point():
        raise ConvexcheckInputError(
            f"with wrt='inputs', the inputs must be floating point, got {inputs.dtype} (integer "
            "inputs such as token ids are not a continuous variable)"
        )
    warnings: list[str] = []
    if penalties:
        warnings.append(
            "penalties were left out: they are functions of the parameters, which are held "
            "fixed with wrt='inputs', so they are constants and do not change convexity"
        )
    if loss_fn is None:
        if inputs.dim() == 0:
            raise ConvexcheckInputError(
                "wrt='inputs' without a loss_fn needs inputs with a batch dimension, got a "
                "0-dimensional tensor"
            )
        n = inputs.shape[0]
        objective: Callable[[Any, Any], Tensor] = SumOverExamples(n)
        targets = torch.zeros(n, dtype=inputs.dtype, device=inputs.device)  # unused, reversible
        expression = "sum over examples of model(x)"
    else:
        objective = loss_fn
        expression = "loss_fn(model(x), targets)"
    _refuse_random_modules(model)  # with the user's module names in the message
    index = None if inputs.dim() == 0 else torch.arange(inputs.shape[0], device=inputs.device)
    wrapper = InputsAsParameter(model, inputs)
    floss = FunctionalLoss(
        wrapper,
        objective,
        (index, targets),
        variables=["inputs"],
        _template={"inputs": inputs.detach().cpu().clone()},
        _aliases={},
    )
    floss.mode = {**_mode_report(model), "evaluation": floss.evaluation}
    trainable = {
        "count": floss.numel,
        "names": ["inputs"],
        "shapes": [list(inputs.shape)],
        "frozen": [n for n, _ in model.named_parameters()],
    }
    description = {
        "expression": expression,
        "variables": "the inputs",
        "held_fixed": "every parameter and buffer of the model, at its current value"
        + ("" if loss_fn is None else ", and the targets"),
    }
    if loss_fn is None:
        description["rule"] = SUM_RULE
    return Objective(floss, INPUTS, trainable, description, warnings)


def subset_groups_complete(model: nn.Module, floss: FunctionalLoss) -> bool:
    """Whether every hidden-unit group found on a parameter subset carries every per-unit
    parameter of the same group on the whole model (weights, biases, per-unit scales), so the
    permutation and rescaling constructions are symmetries of the restricted function too."""
    from convexcheck.numeric.candidates import find_unit_groups

    every = SimpleNamespace(names=[n for n, p in model.named_parameters() if p.is_floating_point()])
    full = {(g.first, g.second): g for g in find_unit_groups(model, every)}  # type: ignore[arg-type]
    for group in find_unit_groups(model, floss):
        whole = full.get((group.first, group.second))
        if whole is None or whole.incoming != group.incoming or whole.outgoing != group.outgoing:
            return False
    return True
