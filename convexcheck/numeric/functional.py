"""A model's training loss as a pure function of one flat vector of its trainable parameters.

Every numeric prover (Jensen search, float64 verification, Hessian-vector products) wants
``theta -> loss`` rather than a module with state. :class:`FunctionalLoss` builds that function
with :func:`torch.func.functional_call` on a private deep copy of the model, so the user's model
is never mutated, and batches it with :func:`torch.func.vmap` where the model allows.

What is held fixed: the data, every parameter with ``requires_grad=False`` and every buffer. The
module's mode is respected, because it changes the function being judged:

* BatchNorm in train mode normalises with the batch statistics, which are part of the function.
  Its running statistics do not affect the train-mode output, so the private copy stops tracking
  them; that keeps evaluations free of side effects and lets ``vmap`` batch the model.
* Dropout in train mode makes the loss a random variable, for which "convex in the parameters" is
  not defined. We refuse such a model with a clear message (call ``model.eval()`` or use ``p=0``)
  rather than fix a mask: a witness for one fixed mask says nothing about the expected loss, and a
  certificate for it would be misleading. Any other source of randomness is caught by evaluating
  the loss twice at the same point.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from convexcheck.errors import ConvexcheckInputError

_DROPOUT_TYPES = (nn.modules.dropout._DropoutNd,)
_BATCHNORM_TYPES = (nn.modules.batchnorm._BatchNorm,)
_MEMORY_ELEMENTS = 2**26  # rough bound on elements touched by one vmap chunk


def _is_float(x: Any) -> bool:
    return isinstance(x, Tensor) and x.is_floating_point()


def _convert(x: Any, dtype: torch.dtype | None, device: torch.device | None) -> Any:
    """Move a tensor (or a tuple/list/dict of them) to ``device``; cast only floating tensors."""
    if isinstance(x, Tensor):
        if dtype is not None and x.is_floating_point():
            return x.detach().to(device=device, dtype=dtype)
        return x.detach().to(device=device)
    if isinstance(x, (tuple, list)):
        return type(x)(_convert(v, dtype, device) for v in x)
    if isinstance(x, dict):
        return {k: _convert(v, dtype, device) for k, v in x.items()}
    return x


def _describe_error(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class FunctionalLoss:
    """``theta -> loss_fn(model(inputs), targets)`` over the trainable parameters, data fixed.

    ``names``/``shapes`` list the trainable parameters in ``named_parameters`` order; ``theta0``
    is their current value, flattened. ``batch_path`` says whether :meth:`batched_loss` used
    ``vmap`` (``"vmap"``), a Python loop (``"loop"``, with ``batch_fallback_reason``), or has
    not run yet (``None``).
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: Callable[[Any, Any], Tensor],
        data: Any,
        *,
        dtype: torch.dtype | None = None,
        device: str | torch.device | None = None,
        chunk_size: int | None = None,
        penalties: Sequence[Callable[[dict[str, Tensor]], Tensor]] | None = None,
        _template: dict[str, Tensor] | None = None,
        _aliases: dict[str, str] | None = None,
        _evaluations: int = 2,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise ConvexcheckInputError(
                f"model must be a torch.nn.Module, got {type(model).__name__}"
            )
        if not callable(loss_fn):
            raise ConvexcheckInputError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ConvexcheckInputError("data must be an (inputs, targets) pair")
        _refuse_random_modules(model)
        if _template is None:
            _template = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        if _aliases is None:
            _aliases = _tied_aliases(model)
        self._template = _template
        self._aliases = _aliases

        params = dict(model.named_parameters())
        self.names: list[str] = [n for n, p in params.items() if p.requires_grad]
        if not self.names:
            raise ConvexcheckInputError(
                "the model has no trainable parameters (none with requires_grad=True)"
            )
        first = params[self.names[0]]
        self.device = torch.device(device) if device is not None else first.device
        self.model = copy.deepcopy(model).to(device=self.device)
        if dtype is not None:
            self.model = self.model.to(dtype=dtype)
        self.dtype: torch.dtype = dtype if dtype is not None else first.dtype
        self.mode = _mode_report(self.model)
        _stop_tracking_batch_statistics(self.model)

        copied = dict(self.model.named_parameters())
        self.shapes: list[torch.Size] = [copied[n].shape for n in self.names]
        self.numels: list[int] = [copied[n].numel() for n in self.names]
        self.numel: int = sum(self.numels)
        self.offsets: dict[str, tuple[int, int]] = {}
        start = 0
        for name, count in zip(self.names, self.numels):
            self.offsets[name] = (start, start + count)
            start += count
        self.theta0: Tensor = torch.cat(
            [copied[n].detach().reshape(-1).to(self.dtype) for n in self.names]
        )
        trainable = set(self.names)
        self._fixed: dict[str, Tensor] = {
            n: p.detach() for n, p in copied.items() if n not in trainable
        }
        buffers = {n: b for n, b in self.model.named_buffers() if b is not None}
        self._fixed.update(buffers)
        self._buffer_names = set(buffers)
        self.frozen_names: list[str] = [n for n in copied if n not in trainable]

        self.inputs, self.targets = _convert(tuple(data), dtype, self.device)
        if isinstance(loss_fn, nn.Module):
            loss_fn = copy.deepcopy(loss_fn).to(device=self.device)
            if dtype is not None:
                loss_fn = loss_fn.to(dtype=dtype)
        self.loss_fn = loss_fn
        self.penalties = list(penalties or [])
        for penalty in self.penalties:
            if not callable(penalty):
                raise ConvexcheckInputError(
                    f"each penalty must be callable, got {type(penalty).__name__}"
                )
        self.chunk_size = chunk_size or self._default_chunk()
        self.batch_path: str | None = None
        self.batch_fallback_reason: str | None = None
        self.loss0: float = self._validate(_evaluations)

    # -- the function ---------------------------------------------------------------------
    def unflatten(self, theta: Tensor) -> dict[str, Tensor]:
        """Split a flat vector into ``{name: tensor}`` with the trainable parameters' shapes."""
        pieces = torch.split(theta, self.numels, dim=-1)
        lead = theta.shape[:-1]
        return {n: p.reshape(lead + s) for n, p, s in zip(self.names, pieces, self.shapes)}

    def loss(self, theta: Tensor) -> Tensor:
        """The loss at the flat parameter vector ``theta`` (differentiable, vmap-able)."""
        state = dict(self._fixed)
        state.update(self.unflatten(theta))
        output = torch.func.functional_call(self.model, state, (self.inputs,))
        value = self.loss_fn(output, self.targets).reshape(())
        if self.penalties:
            params = {k: v for k, v in state.items() if k not in self._buffer_names}
            for penalty in self.penalties:
                value = value + penalty(params).reshape(())
        return value

    def batched_loss(self, thetas: Tensor) -> Tensor:
        """Losses at the rows of ``thetas`` (``[k, n] -> [k]``), in chunks of ``chunk_size``.

        Uses ``vmap`` when the model allows it and falls back, once and for good, to a loop when
        it does not (in-place updates, data-dependent control flow, ...); ``batch_path`` records
        which path ran, so timings and reports can say so.
        """
        if thetas.dim() != 2 or thetas.shape[1] != self.numel:
            raise ValueError(f"expected a [k, {self.numel}] tensor, got {list(thetas.shape)}")
        if self.batch_path != "loop":
            try:
                batched = torch.func.vmap(self.loss)
                out = torch.cat(
                    [batched(chunk) for chunk in torch.split(thetas, self.chunk_size, dim=0)]
                )
                self.batch_path = "vmap"
                return out
            except Exception as exc:  # vmap unsupported by this model: loop instead
                if self.batch_path == "vmap":
                    raise
                self.batch_path = "loop"
                self.batch_fallback_reason = _describe_error(exc)
        return torch.stack([self.loss(row) for row in thetas])

    def loop_loss(self, thetas: Tensor) -> Tensor:
        """Losses at the rows of ``thetas`` one at a time (the reference for ``batched_loss``)."""
        return torch.stack([self.loss(row) for row in thetas])

    # -- conversions --------------------------------------------------------------------------
    def state_dict_at(self, theta: Tensor) -> dict[str, Tensor]:
        """The FULL model's state dict with the trainable entries set to ``theta`` (on the CPU).

        Frozen parameters and buffers are those of the model as given (running statistics
        included), and tensors keep the model's own dtypes, so ``model.load_state_dict`` takes
        the result as it is.
        """
        values = self.unflatten(theta.detach().cpu())
        state: dict[str, Tensor] = {}
        for key, tensor in self._template.items():
            source = self._aliases.get(key, key)
            if source in values:
                state[key] = values[source].to(tensor.dtype).clone()
            else:
                state[key] = tensor.clone()
        return state

    def to(
        self, dtype: torch.dtype | None = None, device: str | torch.device | None = None
    ) -> FunctionalLoss:
        """The same function in another dtype or on another device (a new object)."""
        return FunctionalLoss(
            self.model,
            self.loss_fn,
            (self.inputs, self.targets),
            dtype=dtype if dtype is not None else self.dtype,
            device=device if device is not None else self.device,
            chunk_size=self.chunk_size,
            penalties=[_convert_penalty(p, dtype, device) for p in self.penalties],
            _template=self._template,
            _aliases=self._aliases,
            _evaluations=1,
        )

    def reordered(self) -> FunctionalLoss | None:
        """The same function with the batch in reverse order (a second summation order).

        Returns ``None`` when the data has no batch dimension to reverse.
        """
        x, y = self.inputs, self.targets
        if not (isinstance(x, Tensor) and isinstance(y, Tensor)) or x.dim() == 0 or y.dim() == 0:
            return None
        if x.shape[0] != y.shape[0] or x.shape[0] < 2:
            return None
        other = copy.copy(self)
        other.inputs, other.targets = x.flip(0), y.flip(0)
        other.batch_path, other.batch_fallback_reason = self.batch_path, self.batch_fallback_reason
        return other

    # -- helpers ------------------------------------------------------------------------------
    def _raw_loss(self, theta: Tensor) -> Any:
        """Like :meth:`loss` but without shape assumptions, for validation."""
        state = dict(self._fixed)
        state.update(self.unflatten(theta))
        output = torch.func.functional_call(self.model, state, (self.inputs,))
        value = self.loss_fn(output, self.targets)
        if not isinstance(value, Tensor) or value.numel() != 1:
            return value
        params = {k: v for k, v in state.items() if k not in self._buffer_names}
        for penalty in self.penalties:
            term = penalty(params)
            if not isinstance(term, Tensor) or term.numel() != 1:
                raise ConvexcheckInputError("each penalty must return a scalar tensor")
            value = value.reshape(()) + term.reshape(())
        return value

    def tensor_slices(self) -> list[tuple[str, int, int, torch.Size]]:
        """``(name, start, stop, shape)`` for each trainable tensor inside the flat vector."""
        return [(n, *self.offsets[n], s) for n, s in zip(self.names, self.shapes)]

    def _default_chunk(self) -> int:
        data_elems = sum(t.numel() for t in (self.inputs, self.targets) if isinstance(t, Tensor))
        per_row = max(1, self.numel + 4 * data_elems)
        return int(max(1, min(64, _MEMORY_ELEMENTS // per_row)))

    def _validate(self, evaluations: int = 2) -> float:
        """Evaluate at ``theta0`` twice: scalar, finite, deterministic, or a clear input error.

        Conversions (:meth:`to`) evaluate once: determinism was checked on the original.
        """
        values = []
        for _ in range(evaluations):
            try:
                with torch.no_grad():
                    value = self._raw_loss(self.theta0)
            except ConvexcheckInputError:
                raise
            except Exception as exc:
                raise ConvexcheckInputError(
                    f"evaluating loss_fn(model(inputs), targets) failed: {_describe_error(exc)}"
                ) from exc
            if not isinstance(value, Tensor):
                raise ConvexcheckInputError(
                    f"loss_fn must return a scalar tensor, got {type(value).__name__}"
                )
            if value.numel() != 1:
                raise ConvexcheckInputError(
                    f"loss_fn must return a scalar, got a tensor of shape {list(value.shape)} "
                    "(use reduction='mean' or 'sum')"
                )
            if not value.is_floating_point():
                raise ConvexcheckInputError(f"loss_fn returned a {value.dtype} tensor, not a float")
            number = float(value.reshape(()))
            if not math.isfinite(number):
                raise ConvexcheckInputError(
                    f"the loss is not finite at the model's current parameters ({number})"
                )
            values.append(number)
        first, second = values[0], values[-1]
        if abs(first - second) > 1e-4 * max(abs(first), abs(second), 1e-30):
            raise ConvexcheckInputError(
                f"the loss is random: two evaluations at the same parameters gave {first!r} and "
                f"{second!r}; convexity is only defined for a deterministic loss"
            )
        return first


def _refuse_random_modules(model: nn.Module) -> None:
    active = [
        f"{name or type(m).__name__} (p={m.p})"
        for name, m in model.named_modules()
        if isinstance(m, _DROPOUT_TYPES) and m.training and m.p > 0
    ]
    if active:
        raise ConvexcheckInputError(
            f"the model has Dropout in training mode ({', '.join(active[:3])}): the loss is "
            "random, so its convexity is not defined; call model.eval() in the model file (or "
            "use p=0)"
        )


def _mode_report(model: nn.Module) -> dict[str, Any]:
    """Train/eval mode and the mode-dependent modules, for the result's ``mode`` field."""
    batchnorm = [n for n, m in model.named_modules() if isinstance(m, _BATCHNORM_TYPES)]
    dropout = [n for n, m in model.named_modules() if isinstance(m, _DROPOUT_TYPES)]
    bn_train = [
        n for n, m in model.named_modules() if isinstance(m, _BATCHNORM_TYPES) and m.training
    ]
    notes = []
    if bn_train:
        notes.append(
            "BatchNorm in train mode: the batch statistics are part of the function "
            "(running statistics are neither used nor updated)"
        )
    elif batchnorm:
        notes.append("BatchNorm in eval mode: normalises with the fixed running statistics")
    if dropout:
        notes.append("Dropout in eval mode (or p=0): it is the identity")
    return {
        "mode": "train" if model.training else "eval",
        "batchnorm": batchnorm,
        "dropout": dropout,
        "notes": notes,
    }


def _stop_tracking_batch_statistics(model: nn.Module) -> None:
    """Train-mode BatchNorm without running statistics: same output, no in-place updates."""
    for module in model.modules():
        if isinstance(module, _BATCHNORM_TYPES) and module.training:
            module.track_running_stats = False
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None


def _tied_aliases(model: nn.Module) -> dict[str, str]:
    """``{alias: canonical name}`` for parameters shared under several names (tied weights)."""
    canonical: dict[int, str] = {}
    aliases: dict[str, str] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        key = id(p)
        if key in canonical:
            aliases[name] = canonical[key]
        else:
            canonical[key] = name
    return aliases


class L2Penalty:
    """``weight * sum ||p||^2`` over the named parameters (all trainable ones if ``names`` is
    None): the usual weight decay written as a loss term. It is convex, and says so through
    ``convex = True``, so a structural proof of the data term extends to the penalised loss."""

    convex = True

    def __init__(self, weight: float, names: Sequence[str] | None = None) -> None:
        if weight < 0:
            raise ConvexcheckInputError("an L2 penalty needs a non-negative weight")
        self.weight = float(weight)
        self.names = list(names) if names is not None else None

    def __call__(self, params: dict[str, Tensor]) -> Tensor:
        keys = self.names if self.names is not None else list(params)
        total = sum(params[k].pow(2).sum() for k in keys if params[k].is_floating_point())
        return self.weight * total

    def describe(self) -> str:
        which = ", ".join(self.names) if self.names is not None else "all parameters"
        return f"{self.weight:g} * squared L2 norm of {which}"


def _convert_penalty(penalty: Any, dtype: torch.dtype | None, device: Any) -> Any:
    if isinstance(penalty, nn.Module):
        penalty = copy.deepcopy(penalty).to(device=device)
        if dtype is not None:
            penalty = penalty.to(dtype=dtype)
    return penalty
