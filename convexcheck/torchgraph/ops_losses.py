"""Op rows for the torch losses: each written as the formula torch computes, in shared atoms.

``F.cross_entropy`` is ``log_sum_exp(z) - z[y]`` with torch's class weights, ``ignore_index`` and
label smoothing; ``F.binary_cross_entropy_with_logits`` is ``w (p y softplus(-z) + (1-y)
softplus(z))``; ``F.poisson_nll_loss`` with ``log_input`` is ``exp(z) - y z``; ``F.kl_div`` of
log-probabilities is ``y (log y - z)``; Huber and smooth L1 are CVXPY's ``huber`` rescaled. The
engine then decides convexity from the signs of the data (targets in [0, 1], non-negative
weights), so a loss that is convex only for valid targets is proved only for them.

The targets are data: a target that depends on the variables (a distillation loss against the
model's own output) is refused, except where the formula stays an expression (MSE, L1).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from convexcheck.torchgraph import values as v
from convexcheck.torchgraph.ops import row
from convexcheck.torchgraph.ops_reductions import log_softmax
from convexcheck.torchgraph.values import Refused, is_sym


def reduce_loss(loss: Any, reduction: str) -> Any:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return v.total(loss)
    if reduction == "mean":
        return v.mean(loss)
    raise Refused("unsupported_op", f"reduction={reduction!r}")


def _data(t: Any, what: str) -> Tensor:
    if is_sym(t):
        raise Refused("unsupported_op", f"{what} depends on the variables")
    return torch.as_tensor(t)


@row("mse_loss", kind="loss", functions=(F.mse_loss,))
def _mse(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Any:
    diff = v.sub(input, target)
    sq = v.unary("power", diff, (2,))
    if weight is not None:
        sq = v.mul(sq, weight)
    return reduce_loss(sq, reduction)


@row("l1_loss", kind="loss", functions=(F.l1_loss,))
def _l1(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Any:
    out = v.unary("abs", v.sub(input, target))
    if weight is not None:
        out = v.mul(out, weight)
    return reduce_loss(out, reduction)


def _huber(diff: Any, delta: float) -> Any:
    """torch's Huber: 0.5 x^2 below delta, delta (|x| - delta/2) above = huber_M=delta(x) / 2."""
    return v.mul(0.5, v.unary("huber", diff, (delta,)))


@row("huber_loss", kind="loss", functions=(F.huber_loss,))
def _huber_loss(
    input: Any, target: Any, reduction: str = "mean", delta: float = 1.0, weight: Any = None
) -> Any:
    out = _huber(v.sub(input, target), float(delta))
    if weight is not None:
        out = v.mul(out, weight)
    return reduce_loss(out, reduction)


@row("smooth_l1_loss", kind="loss", functions=(F.smooth_l1_loss,))
def _smooth_l1(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Any:
    diff = v.sub(input, target)
    if beta == 0:
        return reduce_loss(v.unary("abs", diff), reduction)
    # 0.5 x^2 / beta below beta, |x| - beta/2 above = huber_M=beta(x) / (2 beta)
    return reduce_loss(v.div(v.unary("huber", diff, (float(beta),)), 2.0 * beta), reduction)


def _softplus(z: Any) -> Any:
    return v.unary("logistic", z)


@row(
    "binary_cross_entropy_with_logits", kind="loss", functions=(F.binary_cross_entropy_with_logits,)
)
def _bce_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Any:
    y = _data(target, "the BCE target")
    p = 1.0 if pos_weight is None else _data(pos_weight, "pos_weight")
    # torch's own form: (1 - y) z + (1 + (p - 1) y) softplus(-z), equal to p y softplus(-z) +
    # (1 - y) softplus(z); convex exactly where the coefficient 1 + (p - 1) y is >= 0, which
    # also covers soft targets outside [0, 1] with a large enough pos_weight
    coef = 1 + (p - 1) * y
    loss = v.add(v.mul(1 - y, input), v.mul(coef, _softplus(v.neg(input))))
    if weight is not None:
        loss = v.mul(loss, weight)
    return reduce_loss(loss, reduction)


@row("binary_cross_entropy", kind="refused", functions=(F.binary_cross_entropy,))
def _bce(*args: Any, **kwargs: Any) -> Any:
    raise Refused(
        "nonconvex_loss",
        "binary_cross_entropy on probabilities clamps log at -100, so it is not convex near 0 "
        "and 1 (use binary_cross_entropy_with_logits on logits)",
    )


@row("soft_margin_loss", kind="loss", functions=(F.soft_margin_loss,))
def _soft_margin(
    input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean"
) -> Any:
    y = _data(target, "the target")
    return reduce_loss(_softplus(v.neg(v.mul(y, input))), reduction)


@row("multilabel_soft_margin_loss", kind="loss", functions=(F.multilabel_soft_margin_loss,))
def _multilabel_soft_margin(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    y = _data(target, "the target")
    loss = v.add(v.mul(y, _softplus(v.neg(input))), v.mul(1 - y, _softplus(input)))
    if weight is not None:
        loss = v.mul(loss, weight)
    per = v.mean(loss, len(v.shape_of(input)) - 1)
    return reduce_loss(per, reduction)


def _class_axis(input: Any) -> int:
    return 1 if len(v.shape_of(input)) >= 2 else 0


def _pick(logits: Any, target: Tensor, axis: int) -> Any:
    """``logits[n, target[n]]`` (and the same per extra dimension)."""
    idx = target.detach().cpu().numpy()
    if axis == 0:
        return v.index(logits, (idx,))
    grids = list(np.indices(idx.shape, sparse=True))
    key = (grids[0], idx, *grids[1:])
    return v.index(logits, tuple(key))


@row("nll_loss", kind="loss", functions=(F.nll_loss,))
def _nll(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    ignore_index: int = -100,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    return _nll_of(input, _data(target, "the NLL target"), weight, ignore_index, reduction)


def _nll_of(logp: Any, target: Tensor, weight: Any, ignore_index: int, reduction: str) -> Any:
    axis = _class_axis(logp)
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target))
    w = torch.ones(v.shape_of(logp)[axis], dtype=torch.float64) if weight is None else weight
    wt = _data(w, "class weights").double()[safe] * keep.double()
    loss = v.neg(v.mul(wt, _pick(logp, safe, axis)))
    if reduction == "mean":
        return v.div(v.total(loss), float(wt.sum()))
    return reduce_loss(loss, reduction)


@row("cross_entropy", kind="loss", functions=(F.cross_entropy,))
def _cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    ignore_index: int = -100,
    reduce: Any = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Any:
    y = _data(target, "the cross-entropy target")
    axis = _class_axis(input)
    logp = log_softmax(input, axis)
    classes = v.shape_of(input)[axis]
    w = None if weight is None else _data(weight, "class weights").double()
    eps = float(label_smoothing)
    if y.is_floating_point():  # class probabilities
        probs = y.double() * (1 - eps) + eps / classes
        shape = [1] * len(v.shape_of(input))
        shape[axis] = classes
        coef = probs if w is None else probs * w.reshape(shape)
        per = v.neg(v.total(v.mul(coef, logp), axis))
        if reduction == "mean":
            n = math.prod(v.shape_of(input)) // classes
            return v.div(v.total(per), float(n))
        return reduce_loss(per, reduction)
    nll = _nll_of(logp, y, w, ignore_index, reduction)
    if eps == 0:
        return nll
    keep = (y != ignore_index).double()
    shape = [1] * len(v.shape_of(input))
    shape[axis] = classes
    cw = torch.ones(classes, dtype=torch.float64) if w is None else w
    smooth = v.neg(v.total(v.mul(cw.reshape(shape), logp), axis))  # per example
    smooth = v.mul(keep, smooth)
    if reduction == "mean":
        safe = torch.where(y != ignore_index, y, torch.zeros_like(y))
        denom = float((cw[safe] * keep).sum()) if w is not None else float(keep.sum())
        smooth_red = v.div(v.total(smooth), denom)
    else:
        smooth_red = reduce_loss(smooth, reduction)
    return v.add(v.mul(1 - eps, nll), v.mul(eps / classes, smooth_red))


@row("poisson_nll_loss", kind="loss", functions=(F.poisson_nll_loss,))
def _poisson(
    input: Any,
    target: Any,
    log_input: bool = True,
    full: bool = False,
    size_average: Any = None,
    eps: float = 1e-8,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    y = _data(target, "the Poisson target").double()
    if log_input:
        loss = v.sub(v.unary("exp", input), v.mul(y, input))
    else:
        loss = v.sub(input, v.mul(y, v.unary("log", v.add(input, float(eps)))))
    if full:
        stirling = y * torch.log(y) - y + 0.5 * torch.log(2 * math.pi * y)
        loss = v.add(loss, torch.where(y > 1, stirling, torch.zeros_like(y)))
    return reduce_loss(loss, reduction)


@row("kl_div", kind="loss", functions=(F.kl_div,))
def _kl_div(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Any:
    y = _data(target, "the KL target").double()
    if log_target:
        loss = v.mul(torch.exp(y), v.sub(y, input))
    else:
        loss = v.sub(torch.xlogy(y, y), v.mul(y, input))
    if reduction == "batchmean":
        n = v.shape_of(input)[0] if v.shape_of(input) else 1
        return v.div(v.total(loss), float(n))
    return reduce_loss(loss, reduction)


@row("multi_margin_loss", kind="loss", functions=(F.multi_margin_loss,))
def _multi_margin(
    input: Any,
    target: Any,
    p: int = 1,
    margin: float = 1.0,
    weight: Any = None,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    y = _data(target, "the target")
    if len(v.shape_of(input)) != 2 or p not in (1, 2):
        raise Refused("unsupported_op", "multi_margin_loss other than (N, C) with p in {1, 2}")
    n, c = v.shape_of(input)
    picked = v.reshape(_pick(input, y, 1), (n, 1))
    hinge = v.maximum(v.add(v.sub(input, picked), float(margin)), 0.0)
    if p == 2:
        hinge = v.unary("power", hinge, (2,))
    mask = torch.ones(n, c, dtype=torch.float64)
    mask[torch.arange(n), y] = 0.0
    if weight is not None:
        mask = mask * _data(weight, "class weights").double()[y].reshape(n, 1)
    per = v.div(v.total(v.mul(mask, hinge), 1), float(c))
    return reduce_loss(per, reduction)


@row("margin_ranking_loss", kind="loss", functions=(F.margin_ranking_loss,))
def _margin_ranking(
    input1: Any,
    input2: Any,
    target: Any,
    margin: float = 0.0,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    y = _data(target, "the target")
    diff = v.sub(input1, input2)
    return reduce_loss(v.maximum(v.add(v.neg(v.mul(y, diff)), float(margin)), 0.0), reduction)


@row("hinge_embedding_loss", kind="loss", functions=(F.hinge_embedding_loss,))
def _hinge_embedding(
    input: Any,
    target: Any,
    margin: float = 1.0,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    y = _data(target, "the target")
    pos = v.select(y == 1, input, 0.0)
    neg = v.select(y == -1, v.maximum(v.sub(float(margin), input), 0.0), 0.0)
    return reduce_loss(v.add(pos, neg), reduction)


@row("gaussian_nll_loss", kind="loss", functions=(F.gaussian_nll_loss,))
def _gaussian_nll(
    input: Any,
    target: Any,
    var: Any,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Any:
    var_t = _data(var, "the variance").double().clamp(min=eps)
    loss = v.mul(
        0.5, v.add(torch.log(var_t), v.div(v.unary("power", v.sub(input, target), (2,)), var_t))
    )
    if full:
        loss = v.add(loss, 0.5 * math.log(2 * math.pi))
    return reduce_loss(loss, reduction)


_REFUSED_LOSSES = (
    F.cosine_embedding_loss,
    F.triplet_margin_loss,
    F.triplet_margin_with_distance_loss,
    F.ctc_loss,
    F.multilabel_margin_loss,
)


def _refuse_loss(fn: Any) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise Refused("unsupported_op", f"{fn.__name__} is not in the op table")

    return refuse


for _fn in _REFUSED_LOSSES:
    row(_fn.__name__, kind="refused", functions=(_fn,))(_refuse_loss(_fn))
