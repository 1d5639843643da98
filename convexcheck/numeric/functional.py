"""A model's training loss as a pure function of one flat vector of its trainable parameters.

Every numeric prover (Jensen search, float64 verification, Hessian-vector products) wants
``theta -> loss`` rather than a module with state. :class:`FunctionalLoss` builds that function
over the user's OWN model and loss (never a copy, so a loss that reads the parameters through a
closure is judged as the user's program computes it; see :mod:`convexcheck.numeric.program`),
with :func:`torch.func.functional_call`, which swaps values in for the call and restores the
originals, and batches it with :func:`torch.func.vmap` where the model allows.

What is held fixed: the data, every parameter with ``requires_grad=False`` (or, with
``variables=``, every parameter not named there) and every buffer. The module's mode is
respected, because it changes the function being judged:

* BatchNorm in train mode normalises with the batch statistics, which are part of the function.
  Its running statistics do not affect the train-mode output, so tracking is switched off for
  the duration of each call (and back on after); that keeps evaluations free of side effects
  and lets ``vmap`` batch the model.
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
from convexcheck.numeric.program import (
    Program,
    attribute_snapshot,
    batchnorm_in_train_mode,
    loaded_in_place,
    restoring,
    unique_slots,
)

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

    ``variables``: the parameter names to judge, whatever their ``requires_grad`` (default: the
    parameters with ``requires_grad=True``); the flags themselves are never changed.

    ``names``/``shapes`` list the trainable parameters in ``named_parameters`` order; ``theta0``
    is their current value, flattened. ``batch_path`` says whether :meth:`batched_loss` used
    ``vmap`` (``"vmap"``), a Python loop (``"loop"``, with ``batch_fallback_reason``), parameters
    loaded in place (``"in place"``), or has not run yet (``None``).

    Every evaluation runs the user's own model and loss (:mod:`convexcheck.numeric.program`):
    :meth:`loss` through ``functional_call`` (differentiable, batched), :meth:`program_losses`
    with the values loaded into the parameter objects themselves. The two are compared at two
    probe points when the object is built; if they differ (a closure over captured parameter
    objects), ``in_place_only`` is set and every evaluation loads values in place (no gradients:
    no Hessian estimate and no adversarial refinement, said in ``evaluation``).
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
        variables: Sequence[str] | None = None,
        _template: dict[str, Tensor] | None = None,
        _aliases: dict[str, str] | None = None,
        _evaluations: int = 2,
        _in_place_only: bool | None = None,
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
        if variables is None:
            self.names: list[str] = [n for n, p in params.items() if p.requires_grad]
        else:
            self.names = chosen_parameters(params, variables, _aliases)
        if not self.names:
            raise ConvexcheckInputError(
                "the model has no trainable parameters (none with requires_grad=True)"
            )
        first = params[self.names[0]]
        self.device = torch.device(device) if device is not None else first.device
        self.dtype: torch.dtype = dtype if dtype is not None else first.dtype
        self.model = model  # the user's own object: never copied (see program.py)
        self.mode = _mode_report(model)
        self.loss_fn = loss_fn
        self._program = Program(model, loss_fn)
        self._batchnorms = batchnorm_in_train_mode(self._program)
        self._snapshot = attribute_snapshot(self._program)

        self.shapes: list[torch.Size] = [params[n].shape for n in self.names]
        self.numels: list[int] = [params[n].numel() for n in self.names]
        self.numel: int = sum(self.numels)
        self.offsets: dict[str, tuple[int, int]] = {}
        start = 0
        for name, count in zip(self.names, self.numels):
            self.offsets[name] = (start, start + count)
            start += count
        self.theta0: Tensor = torch.cat(
            [params[n].detach().reshape(-1).to(device=self.device, dtype=self.dtype)
             for n in self.names]
        )  # fmt: skip
        # every slot of the program (each module once, each of its parameters and buffers),
        # with the trainable parameter it holds, if any (found by identity, so tied weights and
        # a loss module that holds the model resolve to the same name); every other slot gets a
        # converted copy of its value. Each slot is swapped exactly once (tie_weights=False): a
        # module registered under two paths would otherwise be restored to the swapped value.
        by_id = {id(params[n]): n for n in self.names}
        self._slots: list[tuple[str, Tensor, str | None, bool]] = [
            (key, t, by_id.get(id(t)), is_buffer)
            for key, t, is_buffer in unique_slots(self._program)
        ]
        self._fixed: dict[str, Tensor] = {
            key: _convert(t.detach(), dtype, self.device).clone()
            for key, t, name, _ in self._slots
            if name is None
        }
        # buffers a forward may update in place (spectral_norm's power iteration, BatchNorm):
        # every evaluation starts from a fresh copy of their current values, so the function
        # is the same at every call and the user's buffers are never written
        self._fresh = {key for key, _, name, is_buffer in self._slots if is_buffer}
        self._buffer_names = {n for n, _ in model.named_buffers()}
        self.frozen_names: list[str] = [n for n in params if n not in set(self.names)]

        self.inputs, self.targets = _convert(tuple(data), dtype, self.device)
        self.penalties = list(penalties or [])
        for penalty in self.penalties:
            if not callable(penalty):
                raise ConvexcheckInputError(
                    f"each penalty must be callable, got {type(penalty).__name__}"
                )
        self.chunk_size = chunk_size or self._default_chunk()
        self.batch_path: str | None = None
        self.batch_fallback_reason: str | None = None
        self.in_place_only = bool(_in_place_only)
        self.evaluation = "functional_call on the user's model"
        self.in_place_error: str | None = None
        self.loss0: float = self._validate(_evaluations)
        if _in_place_only is None:
            self._probe_in_place()
        if self.in_place_only:
            self.evaluation = (
                "parameters loaded in place into the user's model (the loss reads parameter "
                "objects that functional_call cannot swap, e.g. a captured list): no gradients"
            )
        self.mode["evaluation"] = self.evaluation

    # -- the function ---------------------------------------------------------------------
    def unflatten(self, theta: Tensor) -> dict[str, Tensor]:
        """Split a flat vector into ``{name: tensor}`` with the trainable parameters' shapes."""
        pieces = torch.split(theta, self.numels, dim=-1)
        lead = theta.shape[:-1]
        return {n: p.reshape(lead + s) for n, p, s in zip(self.names, pieces, self.shapes)}

    def loss(self, theta: Tensor) -> Tensor:
        """The loss at the flat parameter vector ``theta`` (differentiable, vmap-able, except
        when ``in_place_only``: then the value of :meth:`program_losses`, without gradients)."""
        if self.in_place_only:
            return self.program_losses(theta.reshape(1, -1))[0]
        return self._raw_loss(theta).reshape(())

    def program_losses(self, thetas: Tensor) -> Tensor:
        """Losses at the rows of ``thetas`` with the values loaded into the user's parameter
        objects (and the program's other tensors converted), restored afterwards."""
        out = []
        with torch.no_grad():
            for theta in thetas:
                values = self.unflatten(theta.detach())
                pairs, seen = [], set()
                for key, tensor, name, _ in self._slots:
                    if id(tensor) in seen or not tensor.is_floating_point():
                        continue  # a tied tensor is loaded once, through its first slot
                    seen.add(id(tensor))
                    if name is not None:
                        value = values[name]
                    else:
                        value = self._fixed[key]
                        value = value.clone() if key in self._fresh else value
                    pairs.append((tensor, value))
                with loaded_in_place(pairs), restoring(self._batchnorms, self._snapshot):
                    value = self._program(self.inputs, self.targets, self.penalties)
                out.append(value.reshape(()).to(self.dtype))
        return torch.stack(out)

    def batched_loss(self, thetas: Tensor) -> Tensor:
        """Losses at the rows of ``thetas`` (``[k, n] -> [k]``), in chunks of ``chunk_size``.

        Uses ``vmap`` when the model allows it and falls back, once and for good, to a loop when
        it does not (in-place updates, data-dependent control flow, ...); ``batch_path`` records
        which path ran, so timings and reports can say so.
        """
        if thetas.dim() != 2 or thetas.shape[1] != self.numel:
            raise ValueError(f"expected a [k, {self.numel}] tensor, got {list(thetas.shape)}")
        if self.in_place_only:
            self.batch_path = "in place"
            return self.program_losses(thetas)
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
        """The same function in another dtype or on another device (a new object over the same
        user's model: only the values handed to it are converted)."""
        return FunctionalLoss(
            self.model,
            self.loss_fn,
            (self.inputs, self.targets),
            dtype=dtype if dtype is not None else self.dtype,
            device=device if device is not None else self.device,
            chunk_size=self.chunk_size,
            penalties=[_convert_penalty(p, dtype, device) for p in self.penalties],
            variables=self.names,
            _template=self._template,
            _aliases=self._aliases,
            _evaluations=1,
            _in_place_only=self.in_place_only,
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
        """The program's value at ``theta`` through ``functional_call``, without shape checks."""
        values = self.unflatten(theta)
        state = {}
        for key, _, name, _ in self._slots:
            if name is not None:
                state[key] = values[name]
            else:
                value = self._fixed[key]
                state[key] = value.clone() if key in self._fresh else value
        args = (self.inputs, self.targets, self.penalties)
        with restoring(self._batchnorms, self._snapshot):
            return torch.func.functional_call(
                self._program, state, args, strict=False, tie_weights=False
            )

    def tensor_slices(self) -> list[tuple[str, int, int, torch.Size]]:
        """``(name, start, stop, shape)`` for each trainable tensor inside the flat vector."""
        return [(n, *self.offsets[n], s) for n, s in zip(self.names, self.shapes)]

    def _default_chunk(self) -> int:
        data_elems = sum(t.numel() for t in (self.inputs, self.targets) if isinstance(t, Tensor))
        per_row = max(1, self.numel + 4 * data_elems)
        return int(max(1, min(64, _MEMORY_ELEMENTS // per_row)))

    def _probe_in_place(self) -> None:
        """Compare ``functional_call`` with values loaded in place at two points away from
        ``theta0``: a closure over captured parameter objects sees only the second."""
        g = torch.Generator().manual_seed(12345)
        noise = torch.randn(2, self.numel, generator=g, dtype=torch.float64)
        base = self.theta0.detach().double().cpu()
        scale = base.abs().mean().item() or 1.0
        points = torch.stack([1.5 * base + 0.5 * scale * noise[0], -base + scale * noise[1]])
        points = points.to(device=self.device, dtype=self.dtype)
        try:
            in_place = self.program_losses(points)
        except Exception as exc:  # e.g. a tensor subclass refusing ``.data =``
            self.in_place_error = _describe_error(exc)
            return
        if self.in_place_only:
            return
        try:
            with torch.no_grad():
                functional = torch.stack([self.loss(p) for p in points])
        except Exception:
            self.in_place_only = True
            return
        if not _agree(functional, in_place, self.dtype):
            self.in_place_only = True

    def _validate(self, evaluations: int = 2) -> float:
        """Evaluate at ``theta0`` twice: scalar, finite, deterministic, or a clear input error.

        Conversions (:meth:`to`) evaluate once: determinism was checked on the original. When
        ``functional_call`` itself fails on this program, the in-place evaluation is tried.
        """
        values = []
        for _ in range(evaluations):
            try:
                with torch.no_grad():
                    if self.in_place_only:
                        value = self.program_losses(self.theta0.reshape(1, -1))[0]
                    else:
                        value = self._raw_loss(self.theta0)
            except ConvexcheckInputError:
                raise
            except Exception as exc:
                if not self.in_place_only and self._in_place_works():
                    self.in_place_only = True
                    return self._validate(evaluations)
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

    def _in_place_works(self) -> bool:
        try:
            value = self.program_losses(self.theta0.reshape(1, -1))
        except Exception:
            return False
        return bool(torch.isfinite(value).all())


def _agree(x: Tensor, y: Tensor, dtype: torch.dtype) -> bool:
    """Equal up to rounding: ``1e3 * eps`` relative, for the same computation done twice."""
    x, y = x.double().cpu(), y.double().cpu()
    if not (torch.isfinite(x).all() and torch.isfinite(y).all()):
        return bool(torch.equal(torch.isfinite(x), torch.isfinite(y)))
    eps = torch.finfo(dtype).eps if dtype.is_floating_point else 1e-7
    tol = 1e3 * eps * (x.abs() + y.abs()) + 1e-30
    return bool(((x - y).abs() <= tol).all())


def chosen_parameters(
    params: dict[str, Tensor], variables: Sequence[str], aliases: dict[str, str]
) -> list[str]:
    """The named parameters to judge, in ``named_parameters`` order (a tied alias counts as its
    canonical name), whatever their ``requires_grad``; a one-line input error for a name that
    is not a floating-point parameter of the model."""
    wanted = set()
    for name in variables:
        key = aliases.get(name, name)
        if key not in params:
            valid = list(params)
            shown = ", ".join(valid[:6]) + (", ..." if len(valid) > 6 else "")
            raise ConvexcheckInputError(
                f"wrt: {name!r} is not a parameter of the model (valid names: {shown or 'none'})"
            )
        if not params[key].is_floating_point():
            raise ConvexcheckInputError(
                f"wrt: {name!r} is a {params[key].dtype} parameter; only floating-point "
                "parameters can be variables"
            )
        wanted.add(key)
    return [n for n in params if n in wanted]


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
