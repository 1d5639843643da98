"""The user's program, ``loss_fn(model(inputs), targets) + penalties``, evaluated on the user's
own objects at any parameter vector, and always left as it was found.

Why not a private copy of the model: a ``loss_fn`` may read the parameters itself (weight decay
written as ``lam * sum(p.pow(2).sum() for p in model.parameters())``, a lasso term, a list of
parameters captured when the file was written). On a copy such a closure still sees the
original parameters, the penalty looks constant, and the function judged is not the one the
user's program computes (issue 10: a convex ridge loss answered "not convex", and
``MSE - 10 |theta|^2`` reported a positive lambda_min). So there is no copy:

* :class:`Program` registers the user's ``model`` (and ``loss_fn`` when it is a module) as
  children of one wrapper module, without copying them. ``torch.func.functional_call`` on the
  wrapper swaps the candidate tensors into the user's modules for the duration of the whole
  program (model, loss and penalties), so a closure that reads ``model.parameters()``,
  ``model.fc.weight`` or ``model.state_dict()`` sees them; the call is differentiable and
  vmap-able, and torch restores the originals afterwards.
* :func:`loaded_in_place` goes one step further for the closures ``functional_call`` cannot
  reach (a Python list of the parameter objects, captured before the call): it assigns
  ``tensor.data`` of every registered tensor, so every reference to a parameter object sees the
  candidate value (and dtype), and restores the original storage in a ``finally`` block, even
  when the program raises. It is not differentiable; it is the reference every witness is
  re-verified against, and the fallback evaluation when the two ways disagree.

Side effects of a forward are undone too (:func:`restoring`): BatchNorm in train mode stops
tracking running statistics during the call (same output, no in-place buffer updates) and
plain tensor attributes that a forward pre-hook recomputes (the old ``torch.nn.utils.weight_norm``
writes ``module.weight``) are put back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn

from convexcheck.errors import ConvexcheckInputError

_BATCHNORM_TYPES = (nn.modules.batchnorm._BatchNorm,)


class Program(nn.Module):
    """``forward(inputs, targets, penalties) = loss_fn(model(inputs), targets) + sum(penalties)``
    over the user's own ``model`` (child ``model``) and ``loss_fn`` (child ``loss`` when it is a
    module). Penalties receive ``{name: tensor}`` of the model's parameters as seen during the
    call (the candidate values)."""

    def __init__(self, model: nn.Module, loss_fn: Callable[[Any, Any], Tensor]) -> None:
        super().__init__()
        self.model = model
        if isinstance(loss_fn, nn.Module):
            self.loss = loss_fn
        else:
            object.__setattr__(self, "_loss_callable", loss_fn)

    def forward(self, inputs: Any, targets: Any, penalties: Sequence[Callable] = ()) -> Any:
        out = self.model(inputs)
        fn = self.loss if "loss" in self._modules else self._loss_callable
        value = fn(out, targets)
        if not penalties or not isinstance(value, Tensor) or value.numel() != 1:
            return value
        params = dict(self.model.named_parameters())
        value = value.reshape(())
        for penalty in penalties:
            term = penalty(params)
            if not isinstance(term, Tensor) or term.numel() != 1:
                raise ConvexcheckInputError("each penalty must return a scalar tensor")
            value = value + term.reshape(())
        return value


def batchnorm_in_train_mode(program: nn.Module) -> list[nn.Module]:
    """BatchNorm modules in train mode that track running statistics."""
    return [
        m
        for m in program.modules()
        if isinstance(m, _BATCHNORM_TYPES) and m.training and m.track_running_stats
    ]


def attribute_snapshot(program: nn.Module) -> list[tuple[nn.Module, str, Tensor]]:
    """Plain (unregistered) tensor attributes of every module, to put back after a call."""
    return [
        (m, key, value)
        for m in program.modules()
        for key, value in list(vars(m).items())
        if isinstance(value, Tensor) and not key.startswith("__")
    ]


@contextmanager
def restoring(
    batchnorms: Sequence[nn.Module], snapshot: Sequence[tuple[nn.Module, str, Tensor]]
) -> Iterator[None]:
    """Train-mode BatchNorm without running statistics during the call; afterwards (always)
    the statistics and the plain tensor attributes are exactly as before."""
    try:
        for m in batchnorms:
            m.track_running_stats = False  # train mode: batch statistics, no buffer updates
        yield
    finally:
        for m in batchnorms:
            m.track_running_stats = True
        for m, key, value in snapshot:
            m.__dict__[key] = value


@contextmanager
def loaded_in_place(assignments: Sequence[tuple[Tensor, Tensor]]) -> Iterator[None]:
    """``tensor.data = value`` for each pair; the original storage comes back in ``finally``."""
    saved: list[tuple[Tensor, Tensor]] = []
    try:
        with torch.no_grad():
            for tensor, value in assignments:
                saved.append((tensor, tensor.data))
                tensor.data = value
        yield
    finally:
        with torch.no_grad():
            for tensor, original in reversed(saved):
                tensor.data = original


def unique_slots(module: nn.Module) -> list[tuple[str, Tensor, bool]]:
    """``(key, tensor, is_buffer)`` for every parameter and buffer slot of every module, each
    module once under its first path (``named_modules`` removes duplicates), so that swapping
    all keys touches each slot exactly once and restoring puts back every original."""
    out: list[tuple[str, Tensor, bool]] = []
    for path, m in module.named_modules():
        prefix = f"{path}." if path else ""
        for slot, t in m._parameters.items():
            if t is not None:
                out.append((prefix + slot, t, False))
        for slot, t in m._buffers.items():
            if t is not None:
                out.append((prefix + slot, t, True))
    return out
