"""Candidate pairs ``(a, b, t)`` for the Jensen search, cheap-and-likely first.

Two kinds of candidates:

* **Symmetry constructions.** Hidden units between two consecutive trainable layers can be
  permuted (rows of the incoming weight and bias, the matching columns of the outgoing weight;
  channels for convolutions) without changing the function, so ``f(a) = f(b)`` and only the
  midpoint has to be worse than the common value. ReLU-like units can also be rescaled (incoming
  times ``c``, outgoing divided by ``c``), and odd units (tanh) sign-flipped. A midpoint of a
  permutation pair averages units together (a smaller function), the midpoint of a rescaling pair
  multiplies them up (a larger one), so between them one of the two usually breaks Jensen.
* **Random pairs** around ``theta0`` at several scales relative to each tensor's RMS (or its
  PyTorch init scale when the tensor is zero), fresh init-like draws, and symmetric segments.

Layer pairs are found by walking ``model.named_modules()`` in order and pairing consecutive
trainable ``Linear``/``Conv`` leaves whose sizes match. That is the registration order, which
is the execution order for ``nn.Sequential`` and for most hand-written models; when it is not,
the construction is merely a weaker candidate, never a wrong answer, because every pair is
verified like any other.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from convexcheck.numeric.functional import FunctionalLoss

_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_HOMOGENEOUS = {
    "ReLU", "LeakyReLU", "Identity", "Flatten", "MaxPool1d", "MaxPool2d", "MaxPool3d",
    "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
    "Dropout", "PReLU",
}  # fmt: skip
_ODD = {"Tanh", "Hardtanh", "Softsign", "Identity", "Flatten", "Dropout", "Tanhshrink"}


@dataclass
class Pairs:
    """A batch of candidate pairs: rows of ``a`` and ``b`` (``a_is_theta0`` skips one
    evaluation), weights ``t`` in (0, 1), and where each pair came from."""

    b: Tensor
    t: Tensor
    sources: list[str]
    details: list[dict[str, Any]]
    a: Tensor | None = None  # None: every a is theta0
    label: str = ""

    def __len__(self) -> int:
        return len(self.sources)


@dataclass
class UnitGroup:
    """The hidden units between two consecutive trainable layers.

    ``incoming``: ``(name, dim)`` slices that index units along ``dim`` (previous layer's
    weight rows and bias, per-unit normalisation parameters). ``outgoing``: ``(name, dim,
    split)``, the next layer's weight with units along ``dim`` after viewing the unit axis as
    ``[units, split]`` (``split > 1`` when a Linear follows a flattened convolution).
    """

    first: str
    second: str
    units: int
    incoming: list[tuple[str, int]]
    outgoing: list[tuple[str, int, int]]
    between: list[str] = field(default_factory=list)

    @property
    def homogeneous(self) -> bool:
        return all(b in _HOMOGENEOUS for b in self.between)

    @property
    def odd(self) -> bool:
        return all(b in _ODD for b in self.between)

    def describe(self) -> dict[str, Any]:
        return {
            "layers": [self.first, self.second],
            "units": self.units,
            "between": list(self.between),
        }


def _units_out(layer: nn.Module) -> int:
    return layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels


def find_unit_groups(model: nn.Module, floss: FunctionalLoss) -> list[UnitGroup]:
    """Consecutive trainable Linear/Conv pairs in ``named_modules`` order (see module doc)."""
    trainable = set(floss.names)
    groups: list[UnitGroup] = []
    prev: tuple[str, nn.Module] | None = None
    between: list[tuple[str, nn.Module]] = []
    for name, module in model.named_modules():
        if next(module.children(), None) is not None:
            continue  # containers: only leaves are layers
        weight = f"{name}.weight" if name else "weight"
        if isinstance(module, _LAYERS):
            if getattr(module, "groups", 1) != 1 or weight not in trainable:
                prev, between = None, []
                continue
            if prev is not None:
                group = _pair(prev, (name, module), between, trainable)
                if group is not None:
                    groups.append(group)
            prev, between = (name, module), []
        elif prev is not None:
            between.append((name, module))
    return groups


def _pair(
    prev: tuple[str, nn.Module],
    nxt: tuple[str, nn.Module],
    between: list[tuple[str, nn.Module]],
    trainable: set[str],
) -> UnitGroup | None:
    (pname, player), (nname, nlayer) = prev, nxt
    units = _units_out(player)
    prefix = f"{pname}." if pname else ""
    nprefix = f"{nname}." if nname else ""
    if isinstance(nlayer, nn.Linear):
        fan = nlayer.in_features
        if isinstance(player, nn.Linear):
            if fan != units:
                return None
            split = 1
        else:
            if fan % units:
                return None
            split = fan // units
    else:
        if isinstance(player, nn.Linear) or nlayer.in_channels != units:
            return None
        split = 1
    incoming = [(prefix + "weight", 0)]
    if prefix + "bias" in trainable:
        incoming.append((prefix + "bias", 0))
    kinds = []
    for bname, module in between:
        kinds.append(type(module).__name__)
        bprefix = f"{bname}." if bname else ""
        for pname_, p in module.named_parameters(recurse=False):
            full = bprefix + pname_
            if full in trainable and p.dim() == 1 and p.shape[0] == units:
                incoming.append((full, 0))
    return UnitGroup(
        first=pname or "<root>",
        second=nname or "<root>",
        units=units,
        incoming=incoming,
        outgoing=[(nprefix + "weight", 1, split)],
        between=kinds,
    )


# -- transformations of a flat vector -------------------------------------------------------
def _views(floss: FunctionalLoss, theta: Tensor, name: str) -> Tensor:
    start, stop = floss.offsets[name]
    return theta[start:stop].view(floss.shapes[floss.names.index(name)])


def _unit_view(tensor: Tensor, dim: int, units: int, split: int = 1) -> Tensor:
    """``tensor`` with the unit axis ``dim`` viewed as ``[units, split]`` (``split`` folded)."""
    if split == 1:
        return tensor
    shape = list(tensor.shape)
    return tensor.reshape(*shape[:dim], units, split, *shape[dim + 1 :])


def transform_units(
    floss: FunctionalLoss,
    theta: Tensor,
    group: UnitGroup,
    *,
    perm: Tensor | None = None,
    scale: Tensor | None = None,
) -> Tensor:
    """A copy of ``theta`` with the group's units permuted by ``perm`` and/or scaled: incoming
    slices times ``scale``, outgoing slices divided by it (``scale`` may contain -1 signs)."""
    out = theta.clone()
    for name, dim in group.incoming:
        view = _views(floss, out, name)
        new = view
        if perm is not None:
            new = new.index_select(dim, perm)
        if scale is not None:
            shape = [1] * view.dim()
            shape[dim] = group.units
            new = new * scale.view(shape)
        view.copy_(new)
    for name, dim, split in group.outgoing:
        view = _views(floss, out, name)
        unit = _unit_view(view, dim, group.units, split)
        new = unit
        if perm is not None:
            new = new.index_select(dim, perm)
        if scale is not None:
            shape = [1] * unit.dim()
            shape[dim] = group.units
            new = new / scale.view(shape)
        view.copy_(new.reshape(view.shape))
    return out


# -- candidate families ---------------------------------------------------------------------
def _dyadic(t: float) -> float:
    """Round ``t`` to a multiple of 1/1024 inside (0, 1): exact products in float64 later."""
    return min(max(round(t * 1024), 1), 1023) / 1024


def symmetry_pairs(
    floss: FunctionalLoss, theta0: Tensor, groups: list[UnitGroup], gen: torch.Generator
) -> list[Pairs]:
    """The two batches of :func:`symmetry_stages`, built at once."""
    return [make() for _, make in symmetry_stages(floss, theta0, groups, gen)]


def symmetry_stages(
    floss: FunctionalLoss, theta0: Tensor, groups: list[UnitGroup], gen: torch.Generator
) -> list[tuple[str, Callable[[], Pairs]]]:
    """Symmetry constructions, in two batches, as ``(label, build)`` stages: each batch is
    built when its stage is reached (call them in order: they draw from ``gen``).

    First, for the hidden layer nearest the output only, a random permutation of its units and
    a rescaling by ``c = 9`` (both against ``theta0``, so ``f(a)`` is already known): two pairs,
    four evaluations, and on trained and untrained ReLU/tanh MLPs alike one of them usually
    violates Jensen. Then every hidden layer: permutations, rescaling by 1/4 against 4 (midpoint
    scaled by 4.5 for ReLU units) and sign flips (midpoint zero for odd units).
    """
    groups = [g for g in groups if g.units >= 2]
    if not groups:
        return []
    dev, dtype = theta0.device, theta0.dtype

    def perm_of(g: UnitGroup) -> Tensor:
        return torch.randperm(g.units, generator=gen).to(dev)

    def ones(g: UnitGroup) -> Tensor:
        return torch.ones(g.units, dtype=dtype, device=dev)

    last = groups[-1]

    def first_batch() -> Pairs:
        return _last_layer_pairs(floss, theta0, last, perm_of, ones)

    def second_batch() -> Pairs:
        return _all_layer_pairs(floss, theta0, groups, perm_of, ones)

    return [
        ("symmetry(last hidden layer)", first_batch),
        ("symmetry(all hidden layers)", second_batch),
    ]


def _last_layer_pairs(
    floss: FunctionalLoss,
    theta0: Tensor,
    last: UnitGroup,
    perm_of: Callable[[UnitGroup], Tensor],
    ones: Callable[[UnitGroup], Tensor],
) -> Pairs:
    return Pairs(
        b=torch.stack(
            [
                transform_units(floss, theta0, last, perm=perm_of(last)),
                transform_units(floss, theta0, last, scale=9 * ones(last)),
            ]
        ),
        t=torch.full((2,), 0.5, dtype=torch.float64),
        sources=["permutation", "rescaling"],
        details=[
            {**last.describe(), "construction": "all units permuted at random"},
            {**last.describe(), "construction": "units scaled by 9 (incoming) and 1/9 (outgoing)"},
        ],
        label="symmetry(last hidden layer)",
    )


def _all_layer_pairs(
    floss: FunctionalLoss,
    theta0: Tensor,
    groups: list[UnitGroup],
    perm_of: Callable[[UnitGroup], Tensor],
    ones: Callable[[UnitGroup], Tensor],
) -> Pairs:
    last = groups[-1]
    a_rows, b_rows, sources, details = [], [], [], []
    for g in groups:
        if g is not last:
            a_rows.append(theta0)
            b_rows.append(transform_units(floss, theta0, g, perm=perm_of(g)))
            sources.append("permutation")
            details.append({**g.describe(), "construction": "all units permuted at random"})
        a_rows.append(transform_units(floss, theta0, g, scale=ones(g) / 4))
        b_rows.append(transform_units(floss, theta0, g, scale=ones(g) * 4))
        sources.append("rescaling")
        details.append({**g.describe(), "construction": "units scaled by 1/4 and by 4"})
        a_rows.append(theta0)
        b_rows.append(transform_units(floss, theta0, g, scale=-ones(g)))
        sources.append("sign_flip")
        details.append({**g.describe(), "construction": "all units sign-flipped"})
    return Pairs(
        b=torch.stack(b_rows),
        t=torch.full((len(b_rows),), 0.5, dtype=torch.float64),
        sources=sources,
        details=details,
        a=torch.stack(a_rows),
        label="symmetry(all hidden layers)",
    )


def multiplicative_pairs(floss: FunctionalLoss, theta0: Tensor) -> Pairs | None:
    """Scalar parameters multiplying the rest (``s * layer(x)``): rescale and sign-flip the
    scalar against every other trainable parameter, and flip the sign of everything."""
    scalars = [n for n, c in zip(floss.names, floss.numels) if c == 1]
    bs, as_, ds = [], [], []
    for name in scalars[:4]:
        start, stop = floss.offsets[name]
        mask = torch.ones_like(theta0, dtype=torch.bool)
        mask[start:stop] = False
        for c in (-1.0, 4.0):
            a = theta0.clone()
            b = theta0.clone()
            if c < 0:
                b[start:stop] = -theta0[start:stop]
                b[mask] = -theta0[mask]
            else:
                a[start:stop] = theta0[start:stop] / c
                a[mask] = theta0[mask] * c
                b[start:stop] = theta0[start:stop] * c
                b[mask] = theta0[mask] / c
            as_.append(a)
            bs.append(b)
            ds.append({"scalar": name, "factor": c, "construction": "scalar against the rest"})
    as_.append(theta0.clone())
    bs.append(-theta0)
    ds.append({"construction": "every trainable parameter sign-flipped"})
    pairs = _constant_t(bs, "multiplicative", ds, theta0)
    pairs.sources[-1] = "global_sign_flip"
    pairs.a = torch.stack(as_)
    return pairs


def _constant_t(rows: list[Tensor], source: str, details: list[dict], theta0: Tensor) -> Pairs:
    k = len(rows)
    return Pairs(
        b=torch.stack(rows),
        t=torch.full((k,), 0.5, dtype=torch.float64),
        sources=[source] * k,
        details=details,
        label=source,
    )


def tensor_scales(floss: FunctionalLoss, theta0: Tensor) -> tuple[Tensor, Tensor]:
    """Per-coordinate scales: each tensor's RMS (init scale where it is ~0) and its PyTorch
    default init scale ``1/sqrt(fan_in)`` (the bound of ``kaiming_uniform(a=sqrt(5))``)."""
    rms = torch.empty_like(theta0)
    init = torch.empty_like(theta0)
    fans: dict[str, int] = {}
    for name, shape in zip(floss.names, floss.shapes):
        if len(shape) >= 2:
            fans[name.rsplit(".", 1)[0]] = math.prod(shape[1:])
    for name, start, stop, shape in floss.tensor_slices():
        owner = name.rsplit(".", 1)[0] if "." in name else ""
        fan = (
            math.prod(shape[1:])
            if len(shape) >= 2
            else fans.get(owner, max(1, shape[0] if shape else 1))
        )
        bound = 1.0 / math.sqrt(max(1, fan))
        piece = theta0[start:stop]
        r = float(piece.pow(2).mean().sqrt()) if stop > start else 0.0
        rms[start:stop] = r if r > 1e-12 else bound
        init[start:stop] = bound
    return rms, init


def random_pairs(
    theta0: Tensor,
    rms: Tensor,
    init: Tensor,
    scale: float,
    k: int,
    gen: torch.Generator,
    *,
    kind: str = "random",
) -> Pairs:
    """``k`` random pairs: ``random`` (two independent perturbations at ``scale`` x RMS, random
    ``t``), ``segment`` (theta0 +- perturbation, midpoint theta0), ``init`` (two fresh draws at
    the PyTorch init scale, random ``t``) or ``origin`` (two draws at ``scale`` x the init scale
    around zero, where products of parameters and odd powers have their saddle)."""
    n = theta0.numel()
    noise = torch.randn(2, k, n, generator=gen, dtype=torch.float32).to(theta0)
    if kind == "init":
        u = torch.rand(2, k, n, generator=gen, dtype=torch.float32).to(theta0) * 2 - 1
        a, b = u[0] * init, u[1] * init
        source = "init_scale"
    elif kind == "origin":
        a, b = scale * init * noise[0], scale * init * noise[1]
        source = f"near_origin(scale={scale:g})"
    elif kind == "segment":
        a = theta0 + scale * rms * noise[0]
        b = theta0 - scale * rms * noise[0]
        source = f"segment(scale={scale:g})"
    else:
        a = theta0 + scale * rms * noise[0]
        b = theta0 + scale * rms * noise[1]
        source = f"random(scale={scale:g})"
    if kind == "segment":
        t = torch.full((k,), 0.5, dtype=torch.float64)
    else:
        raw = torch.rand(k, generator=gen, dtype=torch.float64) * 0.8 + 0.1
        t = torch.tensor([_dyadic(float(x)) for x in raw], dtype=torch.float64)
    relative = {"init": "init", "origin": "init, around zero"}.get(kind, "tensor RMS")
    details = [{"scale": scale, "relative_to": relative}] * k
    return Pairs(b=b, t=t, sources=[source] * k, details=[dict(d) for d in details], a=a)


def direction_pairs(theta0: Tensor, direction: Tensor, rms_norm: float, source: str) -> Pairs:
    """Symmetric segments ``theta0 +- eps * v`` along a unit direction at several lengths."""
    v = direction.to(theta0) / direction.norm().clamp_min(1e-30)
    lengths = [rms_norm * s for s in (0.01, 0.03, 0.1, 0.3, 1.0)]
    a = torch.stack([theta0 + e * v for e in lengths])
    b = torch.stack([theta0 - e * v for e in lengths])
    return Pairs(
        b=b,
        t=torch.full((len(lengths),), 0.5, dtype=torch.float64),
        sources=[source] * len(lengths),
        details=[{"length": e} for e in lengths],
        a=a,
    )
