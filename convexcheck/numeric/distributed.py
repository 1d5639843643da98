"""Data-parallel model checks: each rank of a ``torch.distributed`` process group holds a shard.

Inside an initialised default process group with more than one rank, ``check_model`` judges

    F(θ) = Σ_r w_r · L_r(θ)

where ``L_r`` is the loss the user's program computes on rank ``r``'s own ``data`` and the
weights sum to one. ``shard_weights="examples"`` (the default) takes ``w_r = n_r / N`` with
``n_r`` the rank's number of examples (the first dimension of its inputs): for a loss that
averages over its examples (``reduction="mean"``, torch's default) ``F`` is then exactly the
loss on the concatenated data, whatever the shard sizes. ``"equal"`` takes ``w_r = 1/R``, the
plain mean of the ranks' losses: the same thing when the shards are equal, and for a loss that
sums over its examples a positive multiple (1/R) of the full-data sum, so the same convexity.

Why reduce OUTPUTS, not the loss inside the transforms: the search batches the loss with
``vmap`` and the Hessian products use ``torch.func``; a collective cannot run inside those
transforms. Every quantity the provers use is linear in the per-rank losses (values, gradients,
Hessian-vector products), so each rank evaluates its own shard with the unchanged machinery and
the results are combined once:

* loss values (search batches and the float64 verification): every rank's weighted values are
  gathered and summed in rank order, so every rank holds bitwise the same numbers and the
  rounding of the sum has an explicit bound, ``(R + 1)·eps·Σ_r |w_r L_r|`` per value, which the
  verifier adds to its margin (``margin_terms["reduction"]``);
* gradients (adversarial refinement, the verifier's midpoint term, the slice Hessians of the
  explanations) flow through two conjugate autograd functions, the pattern of tensor-parallel
  training: the shared input is the identity forward and sums the ranks' gradients backward,
  the combined value is the gathered sum forward and scales by ``w_r`` backward. Second
  derivatives compose the same way (the backward of the gradient sum is the identity);
* Hessian-vector products are all-reduced (``Σ_r w_r H_r v``).

Staying in step: every rank runs the same seeded search from the same parameters (checked: the
ranks must agree on the parameter names, shapes, dtypes, values, the seed and the options, or
the check stops with a one-line error), and every decision is taken on reduced numbers that
are identical on all ranks. The two wall-clock decisions (the search's outer cap and the
explanations' time box) are agreed with a collective, so a slow rank cannot leave the others
waiting in a collective it never reaches.

Failures: an error on one rank while the others wait would hang them, so every local step that
may fail (building the objective, each evaluation, each product) is followed by a status that
travels with the step's own collective; when any rank failed, every rank raises the same
:class:`ShardError` naming the rank and its message. A rank that dies or hangs makes the others'
collectives time out (the process group's timeout; ``convexcheck model`` under ``torchrun``
sets :data:`DEFAULT_TIMEOUT_S`), reported as a :class:`ShardError` as well.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch
from torch import Tensor

from convexcheck.errors import ConvexcheckInputError

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "WEIGHTINGS",
    "CollectiveTimeout",
    "ShardError",
    "ShardedHVP",
    "ShardedLoss",
    "Shards",
    "active_shards",
    "examples_in",
]

WEIGHTINGS = ("examples", "equal")
DEFAULT_TIMEOUT_S = 300.0
EPS64 = float(torch.finfo(torch.float64).eps)
T = TypeVar("T")


class ShardError(ConvexcheckInputError):
    """One rank failed: raised on every rank, with the same message, at the same step."""


class CollectiveTimeout(ShardError):
    """A collective did not complete (a rank crashed, hung or left): no later one can either,
    so callers that turn other errors into evidence must let this one through."""


def examples_in(data: Any) -> int | None:
    """The number of examples in a rank's ``data``: the first dimension of its inputs."""
    inputs = data[0] if isinstance(data, (tuple, list)) and data else data
    if isinstance(inputs, Tensor) and inputs.dim() >= 1:
        return int(inputs.shape[0])
    return None


@dataclass
class Shards:
    """This rank's place in the process group and the weights of the ranks' losses."""

    rank: int
    world: int
    weights: list[float]
    examples: list[int | None]
    weighting: str
    backend: str
    notes: list[str] = field(default_factory=list)
    _cpu_group: Any = None  # a gloo group when the default backend cannot reduce CPU tensors

    @property
    def weight(self) -> float:
        return self.weights[self.rank]

    @property
    def rounding_factor(self) -> float:
        """``(R + 1)·eps64``: a bound on the relative rounding of the weighted sum of ``R``
        float64 values (one rounding per product, ``R - 1`` in the sum), first order."""
        return (self.world + 1) * EPS64

    def describe(self) -> dict[str, Any]:
        """What the result and its JSON say about the data-parallel run."""
        return {
            "world_size": self.world,
            "backend": self.backend,
            "weighting": self.weighting,
            "weights": list(self.weights),
            "examples": list(self.examples),
            "objective": "sum over ranks of weight * the rank's loss on its own data",
            "notes": list(self.notes),
        }

    # -- collectives ----------------------------------------------------------------------------
    def _device_for(self, t: Tensor) -> tuple[torch.device, Any]:
        """Where a collective on ``t`` runs, and in which group (``None``: the default)."""
        if self.backend == "nccl":
            if t.device.type == "cuda":
                return t.device, None
            return torch.device("cpu"), self._cpu_group
        return torch.device("cpu"), None

    def _collective(self, what: str, call: Callable[[], T]) -> T:
        """Run one collective; a timeout or a lost peer becomes a one-line :class:`ShardError`."""
        try:
            return call()
        except RuntimeError as exc:
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CollectiveTimeout(
                f"rank {self.rank} of {self.world}: a collective failed while {what} (another "
                f"rank crashed, hung or left the group): {text}"
            ) from exc

    def _raise_if_failed(self, failed: float, error: BaseException | None, what: str) -> None:
        if failed <= 0:
            return
        import torch.distributed as dist

        message = None if error is None else _one_line(error)
        messages: list[Any] = [None] * self.world
        self._collective(what, lambda: dist.all_gather_object(messages, message))
        culprit = next(r for r, m in enumerate(messages) if m is not None)
        raise ShardError(f"rank {culprit} of {self.world} failed while {what}: {messages[culprit]}")

    def run(self, what: str, step: Callable[[], T]) -> T:
        """Run ``step`` on every rank; when any rank raises, every rank raises the same error."""
        import torch.distributed as dist

        error: BaseException | None = None
        result: Any = None
        try:
            result = step()
        except Exception as exc:  # reported to every rank below
            error = exc
        flag = torch.tensor([0.0 if error is None else 1.0])
        device, group = self._device_for(flag)
        flag = flag.to(device)
        self._collective(what, lambda: dist.all_reduce(flag, group=group))
        self._raise_if_failed(float(flag.item()), error, what)
        return result  # type: ignore[no-any-return]

    def any(self, local: bool, what: str) -> bool:
        """Whether ``local`` is true on at least one rank (the same answer on every rank)."""
        import torch.distributed as dist

        flag = torch.tensor([1.0 if local else 0.0])
        device, group = self._device_for(flag)
        flag = flag.to(device)
        self._collective(what, lambda: dist.all_reduce(flag, group=group))
        return float(flag.item()) > 0

    def all(self, local: bool, what: str) -> bool:
        """Whether ``local`` is true on every rank."""
        return not self.any(not local, what)

    def agree_on(self, facts: dict[str, Any], what: str) -> None:
        """Every rank must hold the same ``facts`` (names, shapes, seed, ...) as rank 0."""
        import torch.distributed as dist

        gathered: list[Any] = [None] * self.world
        self._collective(what, lambda: dist.all_gather_object(gathered, facts))
        for r, other in enumerate(gathered[1:], start=1):
            for key, value in gathered[0].items():
                if other.get(key) != value:
                    raise ShardError(
                        f"rank {r} disagrees with rank 0 on {key} ({_short(other.get(key))} vs "
                        f"{_short(value)}): every rank must build the same model and call the "
                        "check with the same arguments, only the data may differ"
                    )

    def combine_values(
        self, local: Tensor | None, error: BaseException | None, what: str
    ) -> tuple[Tensor, Tensor]:
        """``(Σ_r w_r local_r, Σ_r |w_r local_r|)`` elementwise, summed in rank order in
        float64 (bitwise the same on every rank), cast back to ``local``'s dtype and device.
        ``local`` is ``None`` when this rank failed (``error`` says why)."""
        import torch.distributed as dist

        if local is None:
            raise ValueError("combine_values needs the local values' shape")
        values = local.detach().reshape(-1).to(torch.float64)
        if error is not None:
            values = torch.full_like(values, math.nan)
        packed = torch.cat([self.weight * values, torch.tensor([0.0 if error is None else 1.0],
                                                              dtype=torch.float64)])  # fmt: skip
        device, group = self._device_for(packed)
        packed = packed.to(device)
        parts = [torch.empty_like(packed) for _ in range(self.world)]
        self._collective(what, lambda: dist.all_gather(parts, packed, group=group))
        failed = sum(float(p[-1]) for p in parts)
        self._raise_if_failed(failed, error, what)
        total = parts[0][:-1].clone()
        spread = parts[0][:-1].abs()
        for p in parts[1:]:
            total = total + p[:-1]
            spread = spread + p[:-1].abs()
        shape, dtype, dev = local.shape, local.dtype, local.device
        return total.to(dtype=dtype, device=dev).reshape(shape), spread.cpu().reshape(shape)

    def sum_vectors(self, local: Tensor, error: BaseException | None, what: str) -> Tensor:
        """``Σ_r local_r`` by ``all_reduce`` (the caller weights its own term), with this
        rank's failure status riding along as one extra entry."""
        import torch.distributed as dist

        flat = local.detach().reshape(-1)
        if error is not None:
            flat = torch.zeros_like(flat)
        status = torch.tensor([0.0 if error is None else 1.0], dtype=flat.dtype)
        packed = torch.cat([flat, status.to(flat.device)])
        device, group = self._device_for(packed)
        moved = packed.to(device)
        self._collective(what, lambda: dist.all_reduce(moved, group=group))
        self._raise_if_failed(float(moved[-1]), error, what)
        return moved[:-1].to(local.device).reshape(local.shape)

    def sum_tensor(self, local: Tensor, what: str) -> Tensor:
        """``Σ_r local_r`` without a status (inside a backward pass, where every rank is)."""
        import torch.distributed as dist

        device, group = self._device_for(local)
        moved = local.detach().to(device).clone()
        self._collective(what, lambda: dist.all_reduce(moved, group=group))
        return moved.to(local.device)


def active_shards(data: Any, weighting: str, facts: dict[str, Any]) -> Shards | None:
    """The :class:`Shards` of the default process group, or ``None`` outside one (or with a
    single rank: then nothing changes). A collective: every rank must call it.

    ``facts`` (the seed and the check's options) must agree across ranks; they are compared
    here, before anything else can fail on one rank only.
    """
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover (torch built without distributed support)
        return None
    if not dist.is_available() or not dist.is_initialized():
        return None
    world = dist.get_world_size()
    if world <= 1:
        return None
    rank = dist.get_rank()
    backend = str(dist.get_backend()).lower()
    cpu_group = dist.new_group(backend="gloo") if backend == "nccl" else None
    shards = Shards(rank, world, [1.0 / world] * world, [], weighting, backend, [], cpu_group)
    if weighting not in WEIGHTINGS:
        bad = f"shard_weights must be one of {', '.join(WEIGHTINGS)}, got {weighting!r}"
        shards.run("reading the options", lambda: _raise(ConvexcheckInputError(bad)))
    shards.agree_on({**facts, "shard_weights": weighting}, "comparing the ranks' arguments")
    gathered: list[Any] = [None] * world
    mine = examples_in(data)
    shards._collective("counting examples", lambda: dist.all_gather_object(gathered, mine))
    shards.examples = gathered
    if weighting == "examples":
        if all(isinstance(n, int) for n in gathered) and sum(gathered) > 0:
            total = sum(gathered)
            shards.weights = [n / total for n in gathered]
        else:
            shards.weighting = "equal"
            shards.notes.append(
                "a rank's data has no batch dimension to count examples in, so every rank's "
                "loss is weighted 1/world_size"
            )
    return shards


def fingerprint(floss: Any) -> dict[str, Any]:
    """What every rank's objective must share: variables, their layout and their values."""
    theta = floss.theta0.detach().to("cpu").contiguous()
    digest = hashlib.sha256(theta.view(torch.uint8).numpy().tobytes()).hexdigest()[:16]
    return {
        "the variables": list(floss.names),
        "the parameter shapes": [list(s) for s in floss.shapes],
        "the parameter dtype": str(floss.dtype),
        "the parameter values (sha256 of theta)": digest,
        "how the loss is evaluated": bool(floss.in_place_only),
    }


class _SharedInput(torch.autograd.Function):
    """Identity forward; the ranks' gradients summed backward (the input is replicated)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, shards: Shards) -> Tensor:  # type: ignore[override]
        ctx.shards = shards
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:  # type: ignore[override]
        return _SumAcross.apply(grad, ctx.shards), None


class _SumAcross(torch.autograd.Function):
    """The ranks' tensors summed forward; identity backward (the adjoint of _SharedInput)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, shards: Shards) -> Tensor:  # type: ignore[override]
        return shards.sum_tensor(x, "summing gradients")

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:  # type: ignore[override]
        return grad, None


class _Combined(torch.autograd.Function):
    """Forward: the already combined values; backward: ``w_r·g`` into this rank's own values
    (the other ranks' terms do not depend on them)."""

    @staticmethod
    def forward(ctx: Any, local: Tensor, combined: Tensor, weight: float) -> Tensor:  # type: ignore[override]
        ctx.weight = weight
        return combined.clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:  # type: ignore[override]
        return grad * ctx.weight, None, None


class ShardedLoss:
    """A :class:`~convexcheck.numeric.functional.FunctionalLoss` over the whole sharded data.

    Values (:meth:`loss`, :meth:`batched_loss`, :meth:`program_losses`) are the weighted sums
    over the ranks, differentiable once or twice through the conjugate functions above; every
    other attribute (names, shapes, ``theta0``, the model, ...) is the local object's, which
    the ranks share (:func:`fingerprint`). ``last_spread`` is ``Σ_r |w_r L_r|`` of the latest
    values, for the verifier's reduction term.
    """

    def __init__(self, local: Any, shards: Shards, loss0: float | None = None) -> None:
        self.local = local
        self.shards = shards
        self.last_spread: Tensor | None = None
        if loss0 is None:
            value = torch.tensor([float(local.loss0)], dtype=torch.float64)
            loss0 = float(self._combine(value, None, "evaluating the loss at theta0")[0])
        self.loss0 = loss0

    def __getattr__(self, name: str) -> Any:
        if name in ("local", "shards"):  # not yet set (copying, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.local, name)

    def _combine(self, local: Tensor, error: BaseException | None, what: str) -> Tensor:
        total, spread = self.shards.combine_values(local, error, what)
        self.last_spread = spread
        if local.requires_grad:
            return _Combined.apply(local, total, self.shards.weight)  # type: ignore[no-any-return]
        return total

    def _evaluated(self, what: str, shape: tuple[int, ...], step: Callable[[], Tensor]) -> Tensor:
        try:
            local = step()
        except Exception as exc:  # every rank raises it (combine_values)
            self._combine(torch.zeros(shape, dtype=torch.float64), exc, what)
            raise  # pragma: no cover (combine_values raised already)
        return self._combine(local, None, what)

    def loss(self, theta: Tensor) -> Tensor:
        shared = _SharedInput.apply(theta, self.shards)
        return self._evaluated("evaluating the loss", (), lambda: self.local.loss(shared))

    def batched_loss(self, thetas: Tensor) -> Tensor:
        shared = _SharedInput.apply(thetas, self.shards)
        rows = (int(thetas.shape[0]),)
        return self._evaluated("evaluating the loss", rows, lambda: self.local.batched_loss(shared))

    def loop_loss(self, thetas: Tensor) -> Tensor:
        shared = _SharedInput.apply(thetas, self.shards)
        rows = (int(thetas.shape[0]),)
        return self._evaluated("evaluating the loss", rows, lambda: self.local.loop_loss(shared))

    def program_losses(self, thetas: Tensor) -> Tensor:
        rows = (int(thetas.shape[0]),)
        what = "evaluating the program with the parameters loaded in place"
        return self._evaluated(what, rows, lambda: self.local.program_losses(thetas))

    def to(self, dtype: torch.dtype | None = None, device: Any = None) -> ShardedLoss:
        local = self.shards.run("converting the loss", lambda: self.local.to(dtype, device))
        return ShardedLoss(local, self.shards)

    def reordered(self) -> ShardedLoss | None:
        """The batch reversed on every rank, or ``None`` on all when any rank cannot."""
        local = self.shards.run("reversing the batch", self.local.reordered)
        if self.shards.any(local is None, "reversing the batch"):
            return None
        return ShardedLoss(local, self.shards, loss0=self.loss0)


class ShardedHVP:
    """``v -> Σ_r w_r H_r v`` from this rank's product; ``calls`` counts the products."""

    def __init__(self, local: Any, shards: Shards) -> None:
        self.local = local
        self.shards = shards
        self.calls = 0

    @property
    def method(self) -> str:
        return str(self.local.method)

    def __call__(self, v: Tensor) -> Tensor:
        self.calls += 1
        error: BaseException | None = None
        try:
            hv = self.local(v) * self.shards.weight
        except Exception as exc:
            error, hv = exc, torch.zeros_like(v)
        return self.shards.sum_vectors(hv, error, "computing a Hessian-vector product")


def agreed(flag: bool, floss: Any, what: str) -> bool:
    """``flag`` as every rank sees it (true when true on any rank); ``flag`` itself when the
    loss is not sharded. For wall-clock decisions, which differ between ranks."""
    shards = getattr(floss, "shards", None)
    if shards is None:
        return flag
    return bool(shards.any(flag, what))


def _raise(error: BaseException) -> Any:
    raise error


def _one_line(error: BaseException) -> str:
    """The first line of ``error``; an input error needs no type name in front."""
    text = str(error).strip().splitlines()
    if isinstance(error, ConvexcheckInputError) and text:
        return text[0]
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
