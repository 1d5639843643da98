"""Independent re-verification of a saved model witness (plain modules, no convexcheck code)."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


def losses_from_state_dicts(
    model: nn.Module, loss_fn: Any, data: tuple, payload: dict[str, Any]
) -> tuple[float, float, float]:
    """``(f(a), f(b), f(t a + (1-t) b))`` in float64 with ``load_state_dict`` and a forward."""
    t = float(payload["t"])
    a, b = payload["a"], payload["b"]
    mid = {
        k: (t * a[k].double() + (1 - t) * b[k].double()) if a[k].is_floating_point() else a[k]
        for k in a
    }
    inputs, targets = data
    inputs = inputs.double() if inputs.is_floating_point() else inputs
    targets = targets.double() if targets.is_floating_point() else targets
    loss = copy.deepcopy(loss_fn)
    if isinstance(loss, nn.Module):
        loss = loss.double()
    values = []
    for state in (a, b, mid):
        net = copy.deepcopy(model).double()
        net.load_state_dict(
            {k: v.double() if v.is_floating_point() else v for k, v in state.items()}
        )
        with torch.no_grad():
            values.append(float(loss(net(inputs), targets)))
    return values[0], values[1], values[2]


def losses_on_user_model(
    model: nn.Module, loss_fn: Any, data: tuple, payload: dict[str, Any]
) -> tuple[float, float, float]:
    """``(f(a), f(b), f(t a + (1-t) b))`` in float64 on the USER'S OWN model object.

    No copy: the model (and ``loss_fn`` when it is a module) is converted to float64 in place
    (``Module.double`` keeps the parameter objects), each state is loaded with
    ``load_state_dict``, the user's ``loss_fn`` is called on the forward, and the original
    dtype and values are restored afterwards, even on an exception. A closure over
    ``model.parameters()`` or over a captured list of the parameters therefore sees each point.
    """
    t = float(payload["t"])
    a, b = payload["a"], payload["b"]
    mid = {
        k: (t * a[k].double() + (1 - t) * b[k].double()) if a[k].is_floating_point() else a[k]
        for k in a
    }
    inputs, targets = data
    inputs = inputs.double() if inputs.is_floating_point() else inputs
    targets = targets.double() if targets.is_floating_point() else targets
    original = {k: v.detach().clone() for k, v in model.state_dict().items()}
    dtype = next(model.parameters()).dtype
    values = []
    try:
        model.double()
        if isinstance(loss_fn, nn.Module):
            loss_fn.double()
        for state in (a, b, mid):
            model.load_state_dict(
                {k: v.double() if v.is_floating_point() else v for k, v in state.items()}
            )
            with torch.no_grad():
                values.append(float(loss_fn(model(inputs), targets)))
    finally:
        model.to(dtype)
        if isinstance(loss_fn, nn.Module):
            loss_fn.to(dtype)
        model.load_state_dict(original)
    return values[0], values[1], values[2]
