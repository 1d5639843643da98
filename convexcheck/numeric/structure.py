"""Structural convexity proof for a PyTorch model + loss, by curvature analysis of fx graphs.

Why a structural proof: sampling can refute convexity (a Jensen violation) but never prove it. The
one family of models for which convexity in the parameters is provable from the code alone is
the one where the model output is AFFINE in the trainable parameters (linear/logistic/softmax
regression, a trainable linear head on a frozen feature extractor, ...) and the loss is convex in
that output. This module proves exactly that, and says precisely where the argument breaks
otherwise.

How: ``torch.fx.symbolic_trace`` turns ``model`` and ``loss_fn`` into graphs of primitive
operations. Each node gets a curvature label in the parameters ``θ`` (the tensors with
``requires_grad=True``), propagated by disciplined-convex-programming rules:

* ``const``: does not depend on ``θ`` at all. Everything computed from the data and frozen
  parameters is ``const`` whatever it is (a frozen ReLU network, BatchNorm with frozen
  parameters, ...), so a frozen feature extractor costs nothing.
* ``affine``: a trainable parameter, or an affine operation of affine nodes: ``Linear``/``Conv``/
  ``Embedding``/``matmul``/``F.linear`` whose other operand is ``const``; add/sub; mul/div by a
  ``const``; reshapes, indexing, concatenation, sums, means, average pooling; dropout in eval mode;
  BatchNorm in eval mode (running statistics).
* ``convex``/``concave``: DCP composition rules (a convex nondecreasing function of a convex
  argument, nonnegative combinations, ...), e.g. ``log_softmax`` of an affine node is concave, a
  squared error of an affine node is convex, ``relu``/``softplus``/``logsumexp`` of convex is
  convex.
* ``unknown``: anything else, e.g. a product of two parameter-dependent factors (deep linear
  networks), a nonlinear activation followed by a trainable layer, BatchNorm in training mode on a
  parameter-dependent input (it divides by batch statistics), an operation not in the tables.

The loss is traced too (a wrapper module calls ``loss_fn(out, tgt)``; the model is registered in
it so that a closure that reads a parameter is resolved to that parameter), with the model
output's label on ``out`` and ``tgt`` constant. Signs of constants (a weight, a coefficient, a
``pos_weight``) are read from their values, computed from the given data with the model's buffers
restored afterwards. The proof holds if the loss node is ``const``, ``affine`` or ``convex``, and
explicit ``penalties`` have nonnegative coefficients.

What the proof is about: the mathematical function the traced graph computes, for the given data
(held fixed) and the current values of frozen parameters and buffers. Known limits, all of which
fail closed (not proved) except the last: data-dependent Python control flow (fx cannot trace
it), in-place updates of parameter-dependent tensors that may be aliased, random operations on
parameter-dependent values. fx records ``a += b`` as an out-of-place add; aliasing through such
Python-level in-place operators is not modelled (torch.fx itself assumes it away).
"""

from __future__ import annotations

import inspect
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import Tensor, nn

from convexcheck.numeric import faithful

__all__ = ["Info", "StructuralAnalysis", "structural_proof"]

CONST, AFFINE, CONVEX, CONCAVE, UNKNOWN = "const", "affine", "convex", "concave", "unknown"
_MAX_ORIGINS = 8


@dataclass(frozen=True)
class Info:
    """Curvature label of one fx node in the trainable parameters.

    ``nonneg``/``nonpos`` are sign facts valid for every ``θ`` (used by the power/abs rules);
    ``origins`` are the messages of the nodes where the argument first stopped being affine, and
    ``issues`` their structured form, so a failed proof can point at the cause; ``meta`` marks
    shape/size metadata (constant even when taken from a parameter-dependent tensor).
    """

    curv: str
    deps: frozenset[str] = frozenset()
    nonneg: bool = False
    nonpos: bool = False
    origins: tuple[str, ...] = ()
    issues: tuple[tuple[str, str, str], ...] = ()  # (kind, node, message)
    meta: bool = False


CONST_INFO = Info(CONST)


@dataclass
class StructuralAnalysis:
    """Outcome of :func:`structural_proof`.

    ``proved`` comes with a ``certificate`` (the ``{"kind": "structural", ...}`` dict); otherwise
    ``obstacles`` says why in words and ``issues`` in structured form (``kind``/``node``/
    ``message``, kinds such as ``multiplicative_weights``, ``nonconvex_activation``,
    ``nonconvex_loss``, ``batch_statistics``, ``untraceable``). ``frozen`` names the frozen
    modules/parameters the argument relies on; ``output_curvature`` is the model output's label
    (``affine`` for the provable family).
    """

    proved: bool
    certificate: dict[str, Any] | None
    obstacles: list[str]
    steps: list[str]
    frozen: list[str]
    issues: list[dict[str, str]] = field(default_factory=list)
    output_curvature: str = UNKNOWN
    loss_curvature: str = UNKNOWN
    trainable: list[str] = field(default_factory=list)

    @property
    def affine_in_parameters(self) -> bool:
        return self.output_curvature in (CONST, AFFINE)

    def to_dict(self) -> dict[str, Any]:
        return {
            "proved": self.proved,
            "certificate": self.certificate,
            "obstacles": list(self.obstacles),
            "issues": list(self.issues),
            "frozen": list(self.frozen),
            "output_curvature": self.output_curvature,
            "loss_curvature": self.loss_curvature,
        }


# --------------------------------------------------------------------------------------------
# curvature algebra


def _flip(curv: str) -> str:
    return {CONVEX: CONCAVE, CONCAVE: CONVEX}.get(curv, curv)


def _add_curv(a: str, b: str) -> str:
    if a == CONST:
        return b
    if b == CONST:
        return a
    if UNKNOWN in (a, b):
        return UNKNOWN
    if a == AFFINE:
        return b
    if b == AFFINE or a == b:
        return a
    return UNKNOWN  # convex + concave


def _merge(infos: Iterable[Info]) -> tuple[frozenset[str], tuple[str, ...], tuple]:
    deps: set[str] = set()
    origins: list[str] = []
    issues: list[tuple[str, str, str]] = []
    for info in infos:
        deps |= info.deps
        for o in info.origins:
            if o not in origins and len(origins) < _MAX_ORIGINS:
                origins.append(o)
        for i in info.issues:
            if i not in issues and len(issues) < _MAX_ORIGINS:
                issues.append(i)
    return frozenset(deps), tuple(origins), tuple(issues)


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _describe_deps(deps: frozenset[str]) -> str:
    names = sorted(deps)
    if not names:
        return "no trainable parameter"
    if len(names) == 1:
        kind = names[0].rsplit(".", 1)[-1]
        kind = kind if kind in ("weight", "bias") else "parameter"
        return f"trainable {kind} '{names[0]}'"
    shown = ", ".join(f"'{n}'" for n in names[:3])
    more = f" (+{len(names) - 3} more)" if len(names) > 3 else ""
    return f"trainable parameters {shown}{more}"


# --------------------------------------------------------------------------------------------
# operation tables

# fmt: off

_VIEW_FUNCS: set[Any] = {
    torch.reshape, torch.flatten, torch.squeeze, torch.unsqueeze, torch.permute,
    torch.transpose, torch.t, torch.movedim, torch.moveaxis, torch.narrow, torch.select,
    torch.flip, torch.fliplr, torch.flipud, torch.roll, torch.diagonal, torch.diag, torch.tril,
    torch.triu, torch.swapaxes, torch.swapdims, torch.unflatten, torch.broadcast_to,
    torch.index_select, torch.gather, torch.take, torch.masked_select, torch.ravel,
    torch.atleast_1d, torch.atleast_2d, torch.atleast_3d, torch.clone, torch.detach,
    torch.real, torch.tile, torch.repeat_interleave,
}
_VIEW_METHODS = {
    "view", "view_as", "reshape", "reshape_as", "flatten", "unflatten", "squeeze", "unsqueeze",
    "permute", "transpose", "t", "movedim", "moveaxis", "narrow", "select", "flip", "roll",
    "diagonal", "tril", "triu", "expand", "expand_as", "repeat", "contiguous", "clone", "detach",
    "swapaxes", "swapdims", "index_select", "gather", "take", "masked_select", "ravel", "tile",
    "repeat_interleave", "float", "double", "half", "bfloat16", "to", "type_as", "type", "cpu",
    "cuda",
}
_ALIAS_OPS = _VIEW_METHODS | {"getitem", "getattr", "view-like"}
_SUM_FUNCS: set[Any] = {torch.sum, torch.mean, torch.cumsum, torch.trace}
_SUM_METHODS = {"sum", "mean", "cumsum", "trace"}
_CONCAT_FUNCS: set[Any] = {
    torch.cat, torch.concat, torch.concatenate, torch.stack, torch.hstack, torch.vstack,
    torch.dstack, torch.column_stack, torch.row_stack,
}
_SPLIT_FUNCS: set[Any] = {torch.split, torch.chunk, torch.unbind, torch.tensor_split}
_SPLIT_METHODS = {"split", "chunk", "unbind", "tensor_split"}
_META_METHODS = {"size", "dim", "numel", "ndimension", "nelement", "get_device", "is_contiguous"}
_META_ATTRS = {"shape", "dtype", "device", "ndim", "is_cuda", "layout", "requires_grad"}
_POOL_FUNCS: set[Any] = {
    F.avg_pool1d, F.avg_pool2d, F.avg_pool3d, F.adaptive_avg_pool1d, F.adaptive_avg_pool2d,
    F.adaptive_avg_pool3d, F.pad, F.pixel_shuffle, F.pixel_unshuffle, F.channel_shuffle,
}
_RANDOM_FUNCS: set[Any] = {
    torch.rand, torch.randn, torch.rand_like, torch.randn_like, torch.randint,
    torch.randint_like, torch.bernoulli, torch.normal, torch.multinomial, torch.randperm,
}
_DROPOUT_FUNCS: set[Any] = {
    F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout,
}

# elementwise functions: name -> (curvature, monotonicity, sign of the result)
_ELEMENTWISE: dict[str, tuple[str, str, str]] = {
    "relu": (CONVEX, "inc", "nonneg"),
    "exp": (CONVEX, "inc", "nonneg"),
    "softplus": (CONVEX, "inc", "nonneg"),
    "logsumexp": (CONVEX, "inc", ""),
    "amax": (CONVEX, "inc", ""),
    "logsigmoid": (CONCAVE, "inc", "nonpos"),
    "log": (CONCAVE, "inc", ""),
    "sqrt": (CONCAVE, "inc", "nonneg"),
}
_FUNC_NAMES: dict[Any, str] = {
    operator.add: "add", torch.add: "add", operator.sub: "sub", torch.sub: "sub",
    torch.subtract: "sub", operator.mul: "mul", torch.mul: "mul", torch.multiply: "mul",
    operator.truediv: "div", torch.div: "div", torch.divide: "div", torch.true_divide: "div",
    operator.neg: "neg", torch.neg: "neg", torch.negative: "neg", operator.pos: "pos",
    operator.matmul: "matmul", torch.matmul: "matmul", torch.mm: "matmul", torch.bmm: "matmul",
    torch.mv: "matmul", torch.dot: "matmul", torch.inner: "matmul", torch.outer: "matmul",
    torch.tensordot: "matmul", torch.einsum: "einsum", F.linear: "linear", F.conv1d: "conv",
    F.conv2d: "conv", F.conv3d: "conv", F.conv_transpose1d: "conv", F.conv_transpose2d: "conv",
    F.conv_transpose3d: "conv", F.embedding: "embedding", operator.getitem: "getitem",
    getattr: "getattr", torch.where: "where", F.relu: "relu", torch.relu: "relu",
    torch.abs: "abs", torch.absolute: "abs", torch.exp: "exp", F.softplus: "softplus",
    torch.logsumexp: "logsumexp", F.log_softmax: "log_softmax", torch.log_softmax: "log_softmax",
    F.logsigmoid: "logsigmoid", torch.log: "log", torch.sqrt: "sqrt", torch.square: "square",
    operator.pow: "pow", torch.pow: "pow", torch.clamp: "clamp", torch.clip: "clamp",
    torch.clamp_min: "clamp_min", torch.clamp_max: "clamp_max", torch.maximum: "maximum",
    torch.fmax: "maximum", torch.minimum: "minimum", torch.fmin: "minimum", torch.amax: "amax",
    torch.max: "max", torch.norm: "norm", torch.linalg.norm: "norm",
    torch.linalg.vector_norm: "norm", F.mse_loss: "mse_loss", F.l1_loss: "l1_loss",
    F.smooth_l1_loss: "smooth_l1_loss", F.huber_loss: "huber_loss",
    F.cross_entropy: "cross_entropy", F.nll_loss: "nll_loss",
    F.binary_cross_entropy_with_logits: "binary_cross_entropy_with_logits",
    F.soft_margin_loss: "soft_margin_loss",
    F.multilabel_soft_margin_loss: "multilabel_soft_margin_loss",
    F.leaky_relu: "leaky_relu",
}
_METHOD_NAMES = {
    "add": "add", "__add__": "add", "__radd__": "add", "sub": "sub", "subtract": "sub",
    "__sub__": "sub", "mul": "mul", "multiply": "mul", "__mul__": "mul", "__rmul__": "mul",
    "div": "div", "divide": "div", "true_divide": "div", "__truediv__": "div", "neg": "neg",
    "negative": "neg", "__neg__": "neg", "matmul": "matmul", "__matmul__": "matmul",
    "mm": "matmul", "bmm": "matmul", "mv": "matmul", "dot": "matmul", "relu": "relu",
    "abs": "abs", "absolute": "abs", "exp": "exp", "logsumexp": "logsumexp",
    "log_softmax": "log_softmax", "log": "log", "sqrt": "sqrt", "square": "square", "pow": "pow",
    "__pow__": "pow", "clamp": "clamp", "clip": "clamp", "clamp_min": "clamp_min",
    "clamp_max": "clamp_max", "maximum": "maximum", "minimum": "minimum", "amax": "amax",
    "max": "max", "norm": "norm", "where": "where_method",
}
_INT_DTYPES = {
    torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8, torch.bool,
}
_FLOAT_CASTS = {"float", "double", "half", "bfloat16"}
_CONVEX_LOSS_MODULES = (
    nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss, nn.BCEWithLogitsLoss,
    nn.CrossEntropyLoss, nn.NLLLoss, nn.SoftMarginLoss, nn.MultiLabelSoftMarginLoss,
)
_NORM_MODULES = (
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.LayerNorm, nn.GroupNorm,
    nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d,
)
_IDENTITY_MODULES = (
    nn.Identity, nn.Flatten, nn.Unflatten, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d,
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.ZeroPad2d,
    nn.ConstantPad1d, nn.ConstantPad2d, nn.ConstantPad3d, nn.ReflectionPad1d, nn.ReflectionPad2d,
    nn.ReplicationPad1d, nn.ReplicationPad2d, nn.ReplicationPad3d, nn.PixelShuffle,
    nn.PixelUnshuffle, nn.ChannelShuffle,
)
_DROPOUT_MODULES = (
    nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
    nn.FeatureAlphaDropout,
)
_LINEAR_MODULES = (
    nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)

# fmt: on


def _sign_of_value(v: Any) -> str:
    """'zero', 'nonneg', 'nonpos', 'mixed' or 'unknown' for a concrete number or tensor."""
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, (int, float)):
        if isinstance(v, float) and math.isnan(v):
            return "unknown"
        return "zero" if v == 0 else ("nonneg" if v > 0 else "nonpos")
    if isinstance(v, Tensor):
        if v.is_complex():
            return "unknown"
        if v.numel() == 0:
            return "zero"
        if v.is_floating_point() and bool(torch.isnan(v).any()):
            return "unknown"
        if bool((v == 0).all()):
            return "zero"
        if bool((v >= 0).all()):
            return "nonneg"
        if bool((v <= 0).all()):
            return "nonpos"
        return "mixed"
    return "unknown"


class _Rejected(Exception):
    """A rule cannot vouch for a node: the message becomes an obstacle."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# Builtins have no inspectable signature; their parameters are spelled out here.
_BUILTIN_PARAMS: dict[Any, tuple[tuple[str, Any], ...]] = {
    F.linear: (("input", None), ("weight", None), ("bias", None)),
    F.softplus: (("input", None), ("beta", 1.0), ("threshold", 20.0)),
}


def _bind(fn: Callable, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Arguments of a call by parameter name, defaults filled in.

    Raises :class:`_Rejected` when the call cannot be read: guessing an argument (and so its
    label) would be unsound, so an unreadable call is never analysed.
    """
    if fn in _BUILTIN_PARAMS:
        spec = _BUILTIN_PARAMS[fn]
        names = [n for n, _ in spec]
        if len(args) > len(names) or any(k not in names for k in kwargs):
            raise _Rejected("unsupported_operation", f"cannot read the arguments of {fn}")
        out = dict(spec)
        out.update(zip(names, args))
        out.update(kwargs)
        return out
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except (TypeError, ValueError):
        name = getattr(fn, "__name__", str(fn))
        raise _Rejected("unsupported_operation", f"cannot read the arguments of {name}") from None
    bound.apply_defaults()
    return dict(bound.arguments)


# --------------------------------------------------------------------------------------------
# graph analysis


class _Analyzer:
    """Labels every node of one fx graph; see the module docstring for the rules."""

    def __init__(
        self,
        gm: fx.GraphModule,
        trainable_ids: dict[int, str],
        placeholder_infos: dict[str, Info],
        placeholder_values: dict[str, Callable[[], Any]],
        prefix: str = "",
    ) -> None:
        self.gm = gm
        self.trainable_ids = trainable_ids
        self.placeholder_infos = placeholder_infos
        self.placeholder_values = placeholder_values
        self.prefix = prefix
        self.infos: dict[fx.Node, Info] = {}
        self.whys: dict[fx.Node, str] = {}
        self.values: dict[fx.Node, Any] = {}
        self.global_issues: list[tuple[str, str, str]] = []
        self.frozen_used: dict[fx.Node, str] = {}
        self.random_nodes: set[fx.Node] = set()
        self.output_node: fx.Node | None = None

    # -- helpers -------------------------------------------------------------------------
    def info(self, arg: Any) -> Info:
        if isinstance(arg, fx.Node):
            return self.infos[arg]
        if isinstance(arg, (list, tuple)):
            return self._join([self.info(a) for a in arg])
        if isinstance(arg, dict):
            return self._join([self.info(a) for a in arg.values()])
        if isinstance(arg, slice):
            return self._join([self.info(a) for a in (arg.start, arg.stop, arg.step)])
        return CONST_INFO

    def _join(self, infos: list[Info]) -> Info:
        """Curvature of a collection (concatenation, tuple): every element must share it."""
        if not infos:
            return CONST_INFO
        curv = CONST
        for i in infos:
            curv = _add_curv(curv, i.curv)
        deps, origins, issues = _merge(infos)
        nonconst = [i for i in infos if i.curv != CONST]
        return Info(
            curv,
            deps,
            nonneg=bool(nonconst) and all(i.nonneg for i in nonconst),
            nonpos=bool(nonconst) and all(i.nonpos for i in nonconst),
            origins=origins,
            issues=issues,
            meta=all(i.meta or i.curv == CONST for i in infos) and any(i.meta for i in infos),
        )

    def value(self, arg: Any) -> Any:
        """Concrete value of a constant argument (computed from the data, memoised)."""
        if isinstance(arg, fx.Node):
            if arg not in self.values:
                self.values[arg] = self._evaluate(arg)
            return self.values[arg]
        if isinstance(arg, (list, tuple)):
            return type(arg)(self.value(a) for a in arg)
        if isinstance(arg, dict):
            return {k: self.value(a) for k, a in arg.items()}
        if isinstance(arg, slice):
            return slice(self.value(arg.start), self.value(arg.stop), self.value(arg.step))
        return arg

    def _evaluate(self, node: fx.Node) -> Any:
        if node.op == "placeholder":
            if node.target in self.placeholder_values:
                return self.placeholder_values[node.target]()
            return node.args[0] if node.args else None
        if node.op == "get_attr":
            return self._attr(node.target)
        args = self.value(node.args)
        kwargs = self.value(node.kwargs)
        with torch.no_grad():
            if node.op == "call_module":
                return self.gm.get_submodule(node.target)(*args, **kwargs)
            if node.op == "call_function":
                return node.target(*args, **kwargs)
            if node.op == "call_method":
                return getattr(args[0], node.target)(*args[1:], **kwargs)
        raise ValueError(f"cannot evaluate node {node.name}")

    def sign(self, arg: Any) -> str:
        if isinstance(arg, fx.Node):
            info = self.infos[arg]
            if info.curv != CONST:
                return "nonneg" if info.nonneg else ("nonpos" if info.nonpos else "unknown")
            try:
                return _sign_of_value(self.value(arg))
            except Exception:
                return "unknown"
        if arg is None:
            return "zero"
        try:
            return _sign_of_value(self.value(arg))
        except Exception:
            return "unknown"

    def _attr(self, target: str) -> Any:
        obj: Any = self.gm
        for part in target.split("."):
            obj = getattr(obj, part)
        return obj

    def _param_info(self, p: Any) -> Info:
        if isinstance(p, Tensor) and id(p) in self.trainable_ids:
            return Info(AFFINE, frozenset({self.trainable_ids[id(p)]}))
        if isinstance(p, Tensor) and p.requires_grad:
            # e.g. a loss closure over the parameters of ANOTHER copy of the model: whether it
            # moves with θ depends on how the caller evaluates the loss, so nothing is assumed.
            raise _Rejected(
                "foreign_parameter",
                "reads a tensor that requires grad but is not a parameter of the analysed model "
                "(a closure over another copy of the model?); pass the model the closure uses",
            )
        return CONST_INFO

    def describe(self, node: fx.Node) -> str:
        if node.op == "call_module":
            mod = self.gm.get_submodule(node.target)
            return f"{type(mod).__name__} '{self.prefix}{node.target}'"
        if node.op == "call_function":
            return getattr(node.target, "__name__", str(node.target))
        if node.op == "call_method":
            return f".{node.target}()"
        return node.op

    # -- result constructors -------------------------------------------------------------
    def result(
        self,
        node: fx.Node,
        curv: str,
        parts: Sequence[Info],
        why: str,
        *,
        nonneg=False,
        nonpos=False,
        kind: str = "nonconvex_activation",
    ) -> Info:
        """Build the node's label; where affinity is first lost, record the origin message."""
        deps, origins, issues = _merge(parts)
        if curv == CONST:
            return CONST_INFO
        upstream_affine = all(p.curv in (CONST, AFFINE) for p in parts)
        if curv != AFFINE and upstream_affine:
            message = (
                f"output depends on {_describe_deps(deps)} through {self.describe(node)} "
                f"at node '{node.name}', which makes it {curv}, not affine, in them ({why})"
                if deps
                else f"{self.describe(node)} at node '{node.name}': {why}"
            )
            origins = (*origins, message)[:_MAX_ORIGINS]
            issues = (*issues, (kind, node.name, message))[:_MAX_ORIGINS]
        elif curv == UNKNOWN and all(p.curv != UNKNOWN for p in parts):
            message = f"{self.describe(node)} at node '{node.name}': {why}"
            origins = (*origins, message)[:_MAX_ORIGINS]
            issues = (*issues, (kind, node.name, message))[:_MAX_ORIGINS]
        self.whys[node] = why
        return Info(curv, deps, nonneg=nonneg, nonpos=nonpos, origins=origins, issues=issues)

    def unknown(self, node: fx.Node, parts: Sequence[Info], why: str, kind: str) -> Info:
        return self.result(node, UNKNOWN, parts, why, kind=kind)

    # -- rules ---------------------------------------------------------------------------
    def scale(self, node: fx.Node, x: Info, sign: str, parts: Sequence[Info], what: str) -> Info:
        """``c * x`` for a constant ``c`` of the given sign."""
        if sign == "zero":  # 0·x = 0: constant, hence affine (kept non-const: deps stay visible)
            return self.result(node, AFFINE, parts, f"{what} by zero")
        if x.curv in (CONST, AFFINE):
            return self.result(node, x.curv, parts, f"{what} of an affine term is affine")
        if sign == "nonneg":
            why = f"{what} with a nonnegative constant keeps {x.curv}"
            return self.result(node, x.curv, parts, why, nonneg=x.nonneg, nonpos=x.nonpos)
        if sign == "nonpos":
            why = f"{what} with a nonpositive constant flips {x.curv}"
            return self.result(node, _flip(x.curv), parts, why, nonneg=x.nonpos, nonpos=x.nonneg)
        return self.unknown(
            node,
            parts,
            f"{what} of {_a(x.curv)} term by a constant of unknown or mixed sign",
            "mixed_sign",
        )

    def add(
        self, node: fx.Node, terms: Sequence[Info], parts: Sequence[Info], const_signs=()
    ) -> Info:
        """Sum of ``terms``; ``const_signs`` are the signs of the constant terms (for signs)."""
        curv = CONST
        for t in terms:
            curv = _add_curv(curv, t.curv)
        nonconst = [t for t in terms if t.curv != CONST]
        if curv == UNKNOWN and not any(t.curv == UNKNOWN for t in terms):
            return self.unknown(node, parts, "sum of a convex and a concave term", "mixed_sum")
        why = "sum of affine terms" if curv == AFFINE else f"sum of {curv}/affine terms"
        nonneg = all(t.nonneg for t in nonconst) and all(
            s in ("nonneg", "zero") for s in const_signs
        )
        nonpos = all(t.nonpos for t in nonconst) and all(
            s in ("nonpos", "zero") for s in const_signs
        )
        return self.result(
            node,
            curv,
            parts,
            why,
            nonneg=nonneg and bool(nonconst),
            nonpos=nonpos and bool(nonconst),
        )

    def bilinear(self, node: fx.Node, operands: Sequence[Any], what: str, bias: Any = None) -> Info:
        """A product linear in each operand (matmul, conv, linear, elementwise mul)."""
        infos = [self.info(o) for o in operands]
        parts = infos + ([self.info(bias)] if bias is not None else [])
        varying = [(o, i) for o, i in zip(operands, infos) if i.curv != CONST]
        if len(varying) >= 2:
            deps = frozenset().union(*(i.deps for _, i in varying))
            return self.unknown(
                node,
                parts,
                f"{what} multiplies two parameter-dependent factors ({_describe_deps(deps)}): "
                "a product of parameters is not convex",
                "multiplicative_weights",
            )
        if not varying:
            prod = CONST_INFO
        else:
            x = varying[0][1]
            if x.curv == AFFINE:
                prod = x
            else:
                others = [o for o in operands if o is not varying[0][0]]
                signs = {self.sign(o) for o in others}
                sign = (
                    "nonneg"
                    if signs <= {"nonneg", "zero"}
                    else ("nonpos" if signs == {"nonpos"} else "unknown")
                )
                if len(others) > 1 and sign == "nonpos":
                    sign = "unknown"
                prod = self.scale(node, x, sign, parts, what)
                if prod.curv == UNKNOWN:
                    return prod
        if bias is None:
            if prod.curv == CONST:
                return CONST_INFO
            why = f"{what} with a constant operand is affine in the other"
            if prod.curv != AFFINE:
                why = f"{what} with a constant operand of fixed sign keeps {prod.curv}"
            return self.result(node, prod.curv, parts, why, nonneg=prod.nonneg, nonpos=prod.nonpos)
        total = _add_curv(prod.curv, self.info(bias).curv)
        if total == UNKNOWN:
            return self.unknown(node, parts, "sum of a convex and a concave term", "mixed_sum")
        why = f"{what} (one operand constant) plus bias"
        return self.result(node, total, parts, why)

    def compose(self, node: fx.Node, fname: str, x: Info, parts: Sequence[Info]) -> Info:
        """DCP composition of an elementwise/reduction function from ``_ELEMENTWISE``."""
        fcurv, mono, sign = _ELEMENTWISE[fname]
        if x.curv == CONST:
            return CONST_INFO
        ok = (
            x.curv == AFFINE
            or (mono == "inc" and x.curv == fcurv)
            or (mono == "dec" and x.curv == _flip(fcurv))
        )
        if not ok:
            return self.unknown(
                node,
                parts,
                f"{fname} is {fcurv} and {'nondecreasing' if mono == 'inc' else 'not monotone'};"
                f" its argument is {x.curv}",
                "nonconvex_activation",
            )
        why = f"{fname} is {fcurv} nondecreasing, argument {x.curv}"
        return self.result(
            node, fcurv, parts, why, nonneg=sign == "nonneg", nonpos=sign == "nonpos"
        )

    def power(self, node: fx.Node, x: Info, p: Any, parts: Sequence[Info]) -> Info:
        if x.curv == CONST:
            return CONST_INFO
        try:
            p = float(self.value(p)) if not isinstance(p, (int, float)) else float(p)
        except Exception:
            return self.unknown(node, parts, "exponent is not a constant number", "unsupported")
        if p == 1.0:
            return self.result(node, x.curv, parts, "power 1", nonneg=x.nonneg, nonpos=x.nonpos)
        if p == 0.0:
            return self.result(node, AFFINE, parts, "x**0 is constant")
        even = p.is_integer() and int(p) % 2 == 0
        if p > 1:
            if even and x.curv == AFFINE:
                return self.result(node, CONVEX, parts, f"x**{p:g} of an affine x", nonneg=True)
            if x.curv in (AFFINE, CONVEX) and x.nonneg:
                why = f"x**{p:g} is convex nondecreasing on x ≥ 0, x convex and nonnegative"
                return self.result(node, CONVEX, parts, why, nonneg=True)
            if even and x.curv == CONCAVE and x.nonpos:
                why = f"x**{p:g} is convex nonincreasing on x ≤ 0, x concave and nonpositive"
                return self.result(node, CONVEX, parts, why, nonneg=True)
        elif 0 < p < 1 and x.curv in (AFFINE, CONCAVE) and x.nonneg:
            why = f"x**{p:g} is concave nondecreasing on x ≥ 0, x concave and nonnegative"
            return self.result(node, CONCAVE, parts, why, nonneg=True)
        return self.unknown(node, parts, f"x**{p:g} of {_a(x.curv)} x", "nonconvex_activation")

    # -- driver --------------------------------------------------------------------------
    def run(self) -> Info:
        for node in self.gm.graph.nodes:
            if node.op == "output":
                self.output_node = node
                self.infos[node] = self.info(node.args[0])
                continue
            try:
                info = self.visit(node)
                parts = self._arg_infos(node)
                if info.curv == CONST and not info.meta and any(p.curv != CONST for p in parts):
                    # A rule may never make parameter dependence disappear (only metadata
                    # such as shapes is constant); this guards every rule against that bug.
                    raise _Rejected("unsupported_operation", "internal: dependence dropped")
                self.infos[node] = info
            except _Rejected as rej:
                self.infos[node] = self.unknown(node, self._arg_infos(node), rej.message, rej.kind)
            self._check_inplace(node)
        assert self.output_node is not None
        return self.infos[self.output_node]

    def _arg_infos(self, node: fx.Node) -> list[Info]:
        return [self.info(a) for a in node.args] + [self.info(v) for v in node.kwargs.values()]

    def _check_inplace(self, node: fx.Node) -> None:
        """In-place updates break the one-value-per-node view unless nothing else sees the tensor.

        An in-place op on a parameter-dependent tensor (or writing parameter-dependent values into
        any tensor) is accepted only when its input is a freshly computed tensor with no other
        user and not a view of something else; otherwise the whole proof is refused.
        """
        inplace = False
        if (
            (
                node.op == "call_method"
                and node.target.endswith("_")
                and not node.target.startswith("__")
            )
            or (
                node.op == "call_function"
                and node.target
                in (
                    operator.setitem,
                    operator.iadd,
                    operator.isub,
                    operator.imul,
                    operator.itruediv,
                )
            )
            or node.kwargs.get("inplace") is True
            or (
                node.op == "call_module"
                and getattr(self.gm.get_submodule(node.target), "inplace", False)
            )
        ):
            inplace = True
        if not inplace:
            return
        parts = self._arg_infos(node)
        if all(p.curv == CONST for p in parts):
            return
        target = node.args[0] if node.args else None
        fresh = (
            isinstance(target, fx.Node)
            and len(target.users) == 1
            and target.op in ("call_module", "call_function", "call_method")
            and not (target.op == "call_method" and target.target in _ALIAS_OPS)
            and not (target.op == "call_function" and _FUNC_NAMES.get(target.target) in _ALIAS_OPS)
            and target.target not in _VIEW_FUNCS
            and node.target is not operator.setitem
        )
        if not fresh:
            self.global_issues.append(
                (
                    "in_place",
                    node.name,
                    f"in-place operation {self.describe(node)} at node '{node.name}' changes a "
                    "parameter-dependent tensor that other nodes may see; not analysed",
                )
            )

    def visit(self, node: fx.Node) -> Info:
        if node.op == "placeholder":
            return self.placeholder_infos.get(node.target, CONST_INFO)
        if node.op == "get_attr":
            return self._param_info(self._attr(node.target))
        if node.op == "call_module":
            return self.visit_module(node)
        if node.op == "call_function":
            if node.target in _RANDOM_FUNCS:
                self.random_nodes.add(node)
            return self.visit_op(node, _FUNC_NAMES.get(node.target), node.target)
        if node.op == "call_method":
            name = node.target
            if name in ("bernoulli", "bernoulli_", "uniform_", "normal_", "random_"):
                self.random_nodes.add(node)
            return self.visit_op(node, _METHOD_NAMES.get(name, name), None)
        raise _Rejected("unsupported", f"unexpected fx node kind {node.op}")

    def visit_op(self, node: fx.Node, name: str | None, fn: Any) -> Info:
        args, kwargs = list(node.args), dict(node.kwargs)
        parts = self._arg_infos(node)
        if node.op == "call_function" and fn in _DROPOUT_FUNCS:
            return self.dropout(node, parts, fn)
        if all(p.curv == CONST for p in parts):
            return CONST_INFO if not any(p.meta for p in parts) else Info(CONST, meta=True)
        if node.op == "call_method" and name in _META_METHODS:
            return Info(CONST, meta=True)
        if name == "getattr":
            attr = args[1]
            if attr in _META_ATTRS:
                return Info(CONST, meta=True)
            if attr in ("T", "mT", "real"):
                x = self.info(args[0])
                return self.result(
                    node, x.curv, parts, "transpose", nonneg=x.nonneg, nonpos=x.nonpos
                )
            raise _Rejected("unsupported_operation", f"attribute .{attr} is not analysed")
        if name == "getitem":
            x, idx = self.info(args[0]), self.info(args[1])
            if x.meta:
                return Info(CONST, meta=True)
            if idx.curv != CONST:
                raise _Rejected("unsupported_operation", "index depends on the parameters")
            return self.result(
                node, x.curv, parts, "indexing selects entries", nonneg=x.nonneg, nonpos=x.nonpos
            )
        if (
            node.op == "call_function"
            and (fn in _VIEW_FUNCS or fn in _SUM_FUNCS or fn in _POOL_FUNCS or fn in _SPLIT_FUNCS)
        ) or (
            node.op == "call_method"
            and (name in _VIEW_METHODS or name in _SUM_METHODS or name in _SPLIT_METHODS)
        ):
            return self.structural(node, name, fn, args, kwargs, parts)
        if node.op == "call_function" and fn in _CONCAT_FUNCS:
            joined = self._join([self.info(a) for a in (args[0] if args else [])])
            if any(self.info(a).curv != CONST for a in args[1:]) or any(
                self.info(v).curv != CONST for v in kwargs.values()
            ):
                raise _Rejected("unsupported_operation", "concatenation axis is not constant")
            if joined.curv == UNKNOWN and all(
                self.info(a).curv != UNKNOWN for a in (args[0] if args else [])
            ):
                return self.unknown(node, parts, "joins convex and concave parts", "mixed_sum")
            return self.result(
                node,
                joined.curv,
                parts,
                "concatenation keeps each part's label",
                nonneg=joined.nonneg,
                nonpos=joined.nonpos,
            )
        handler = getattr(self, f"op_{name}", None) if name else None
        if handler is not None:
            return handler(node, args, kwargs, parts)
        what = name or self.describe(node)
        raise _Rejected(
            "nonconvex_activation" if name else "unsupported_operation",
            f"{what} is not a recognised affine or convexity-preserving operation",
        )

    def structural(self, node, name, fn, args, kwargs, parts) -> Info:
        x = self.info(args[0]) if args else CONST_INFO
        rest = [self.info(a) for a in args[1:]] + [self.info(v) for v in kwargs.values()]
        if any(r.curv != CONST for r in rest):
            raise _Rejected("unsupported_operation", "shape/index arguments depend on parameters")
        dtypes = [a for a in [*args[1:], *kwargs.values()] if isinstance(a, torch.dtype)]
        if name in ("long", "int", "short", "byte", "char", "bool") or any(
            d in _INT_DTYPES for d in dtypes
        ):
            raise _Rejected("unsupported_operation", "conversion to an integer type rounds")
        if name in ("type",) and args[1:] and isinstance(args[1], str) and "Float" not in args[1]:
            raise _Rejected("unsupported_operation", "conversion to a non-float type")
        if fn is F.pad and kwargs.get("mode", args[2] if len(args) > 2 else "constant") not in (
            "constant",
            "reflect",
            "replicate",
            "circular",
        ):
            raise _Rejected("unsupported_operation", "unknown padding mode")
        label = (
            "a nonnegative combination of entries"
            if (fn in _SUM_FUNCS or name in _SUM_METHODS or fn in _POOL_FUNCS)
            else "a rearrangement/selection of entries"
        )
        return self.result(
            node,
            x.curv,
            parts,
            f"{self.describe(node)} is {label}",
            nonneg=x.nonneg,
            nonpos=x.nonpos,
        )

    def dropout(self, node: fx.Node, parts: Sequence[Info], fn: Any) -> Info:
        b = _bind(fn, node.args, node.kwargs)
        p, training = self.value(b.get("p", 0.5)), self.value(b.get("training", True))
        x = self.info(b.get("input"))
        if not training or p == 0:
            return (
                x
                if x.curv == CONST
                else self.result(
                    node,
                    x.curv,
                    parts,
                    "dropout is the identity outside training",
                    nonneg=x.nonneg,
                    nonpos=x.nonpos,
                )
            )
        self.random_nodes.add(node)
        if x.curv == CONST:
            return CONST_INFO
        raise _Rejected("stochastic", "dropout in training mode makes the loss random")

    # arithmetic
    def op_add(self, node, args, kwargs, parts) -> Info:
        return self._sum(node, args, kwargs, parts, negate=False)

    def op_sub(self, node, args, kwargs, parts) -> Info:
        return self._sum(node, args, kwargs, parts, negate=True)

    def _sum(self, node, args, kwargs, parts, negate: bool) -> Info:
        """``a + alpha·b`` (or ``a - alpha·b``): the second term is scaled by a constant."""
        a = args[0] if args else kwargs.get("input")
        b = args[1] if len(args) > 1 else kwargs.get("other")
        alpha = args[2] if len(args) > 2 else kwargs.get("alpha", 1)
        if self.info(alpha).curv != CONST:
            raise _Rejected("multiplicative_weights", "alpha depends on the parameters")
        sign = self.sign(alpha)
        if negate:
            sign = {"nonneg": "nonpos", "nonpos": "nonneg"}.get(sign, sign)
        ai, bi = self.info(a), self.info(b)
        signs = []
        if ai.curv == CONST:
            signs.append(self.sign(a))
        if bi.curv == CONST:
            sb = self.sign(b)
            if sign == "nonpos":
                sb = {"nonneg": "nonpos", "nonpos": "nonneg"}.get(sb, sb)
            signs.append(sb if sign in ("nonneg", "nonpos", "zero") else "unknown")
        elif sign != "nonneg":
            bi = self.scale(node, bi, sign, [bi], "subtraction" if negate else "scaling")
        return self.add(node, [ai, bi], parts, signs)

    def op_neg(self, node, args, kwargs, parts) -> Info:
        x = self.info(args[0])
        return self.result(
            node, _flip(x.curv), parts, "negation flips curvature", nonneg=x.nonpos, nonpos=x.nonneg
        )

    def op_pos(self, node, args, kwargs, parts) -> Info:
        x = self.info(args[0])
        return self.result(node, x.curv, parts, "unary plus", nonneg=x.nonneg, nonpos=x.nonpos)

    def op_mul(self, node, args, kwargs, parts) -> Info:
        return self.bilinear(node, args[:2], "multiplication")

    def op_div(self, node, args, kwargs, parts) -> Info:
        num, den = args[0], args[1] if len(args) > 1 else kwargs.get("other")
        if kwargs.get("rounding_mode") is not None:
            raise _Rejected("unsupported_operation", "division with rounding")
        if self.info(den).curv != CONST:
            raise _Rejected("nonconvex_activation", "division by a parameter-dependent quantity")
        sign = self.sign(den)
        if sign in ("zero", "unknown") or (
            isinstance(self.value(den), Tensor) and bool((self.value(den) == 0).any())
        ):
            raise _Rejected("unsupported_operation", "division by a constant that may be zero")
        return self.scale(node, self.info(num), sign, parts, "division")

    def op_matmul(self, node, args, kwargs, parts) -> Info:
        return self.bilinear(node, args[:2], "matrix product")

    def op_einsum(self, node, args, kwargs, parts) -> Info:
        operands = args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
        return self.bilinear(node, operands, "einsum")

    def op_linear(self, node, args, kwargs, parts) -> Info:
        b = _bind(F.linear, args, kwargs)
        return self.bilinear(node, [b.get("input"), b.get("weight")], "linear map", b.get("bias"))

    def op_conv(self, node, args, kwargs, parts) -> Info:
        x = args[0] if args else kwargs.get("input")
        w = args[1] if len(args) > 1 else kwargs.get("weight")
        bias = args[2] if len(args) > 2 else kwargs.get("bias")
        others = [self.info(a) for a in args[3:]] + [
            self.info(v) for k, v in kwargs.items() if k not in ("input", "weight", "bias")
        ]
        if any(o.curv != CONST for o in others):
            raise _Rejected("unsupported_operation", "convolution settings depend on parameters")
        return self.bilinear(node, [x, w], "convolution", bias)

    def op_embedding(self, node, args, kwargs, parts) -> Info:
        b = _bind(F.embedding, args, kwargs)
        return self.embedding(node, b.get("input"), b.get("weight"), b.get("max_norm"), parts)

    def embedding(self, node, idx, weight, max_norm, parts) -> Info:
        if self.info(idx).curv != CONST:
            raise _Rejected("unsupported_operation", "embedding indices depend on parameters")
        if max_norm is not None:
            raise _Rejected("unsupported_operation", "max_norm renormalises the embedding")
        w = self.info(weight)
        return self.result(
            node,
            w.curv,
            parts,
            "embedding lookup selects rows of the table",
            nonneg=w.nonneg,
            nonpos=w.nonpos,
        )

    def op_where(self, node, args, kwargs, parts) -> Info:
        if len(args) < 3 or self.info(args[0]).curv != CONST:
            raise _Rejected("nonconvex_activation", "condition depends on the parameters")
        joined = self._join([self.info(args[1]), self.info(args[2])])
        if joined.curv == UNKNOWN:
            raise _Rejected("mixed_sum", "selects between convex and concave values")
        return self.result(
            node,
            joined.curv,
            parts,
            "entrywise selection with a constant mask",
            nonneg=joined.nonneg,
            nonpos=joined.nonpos,
        )

    # elementwise and reductions
    def _unary_rest_const(self, args, kwargs, skip: int = 1) -> None:
        rest = [self.info(a) for a in args[skip:]] + [self.info(v) for v in kwargs.values()]
        if any(r.curv != CONST for r in rest):
            raise _Rejected("unsupported_operation", "extra arguments depend on parameters")

    def op_relu(self, node, args, kwargs, parts) -> Info:
        self._unary_rest_const(args, kwargs)
        return self.compose(node, "relu", self.info(args[0]), parts)

    def op_leaky_relu(self, node, args, kwargs, parts) -> Info:
        b = _bind(F.leaky_relu, args, kwargs)
        return self.leaky(
            node, self.info(b.get("input")), self.value(b.get("negative_slope")), parts
        )

    def leaky(self, node, x: Info, slope: Any, parts) -> Info:
        if not isinstance(slope, (int, float)) or not 0 <= slope <= 1:
            raise _Rejected("nonconvex_activation", "leaky relu with a slope outside [0, 1]")
        if x.curv not in (AFFINE, CONVEX):
            raise _Rejected("nonconvex_activation", f"leaky relu of {_a(x.curv)} argument")
        return self.result(
            node, CONVEX, parts, "leaky relu max(x, a·x), 0≤a≤1, is convex nondecreasing"
        )

    def op_exp(self, node, args, kwargs, parts) -> Info:
        self._unary_rest_const(args, kwargs)
        return self.compose(node, "exp", self.info(args[0]), parts)

    def op_softplus(self, node, args, kwargs, parts) -> Info:
        b = _bind(F.softplus, args, kwargs)
        beta = self.value(b.get("beta", 1.0))
        if not isinstance(beta, (int, float)) or beta <= 0:
            raise _Rejected("nonconvex_activation", "softplus with a nonpositive beta")
        return self.compose(node, "softplus", self.info(b.get("input")), parts)

    def op_logsumexp(self, node, args, kwargs, parts) -> Info:
        self._unary_rest_const(args, kwargs)
        return self.compose(node, "logsumexp", self.info(args[0]), parts)

    def op_logsigmoid(self, node, args, kwargs, parts) -> Info:
        self._unary_rest_const(args, kwargs)
        return self.compose(node, "logsigmoid", self.info(args[0]), parts)

    def op_log(self, node, args, kwargs, parts) -> Info:
        self._unary_rest_const(args, kwargs)
        return self.compose(node, "log", self.info(args[0]), parts)

    def op_sqrt(self, node, args, kwargs, parts) -> Info:
        self._unary_rest_const(args, kwargs)
        return self.compose(node, "sqrt", self.info(args[0]), parts)

    def op_amax(self, node, args, kwargs, parts) -> Info:
        self._unary_rest_const(args, kwargs)
        return self.compose(node, "amax", self.info(args[0]), parts)

    def op_max(self, node, args, kwargs, parts) -> Info:
        if len(args) == 1 and not kwargs:
            return self.compose(node, "amax", self.info(args[0]), parts)
        other = args[1] if len(args) > 1 else kwargs.get("other")
        if isinstance(other, fx.Node) and not self.info(other).meta and "dim" not in kwargs:
            return self.op_maximum(node, [args[0], other], {}, parts)
        raise _Rejected("nonconvex_activation", "max along a dimension returns argmax indices")

    def op_maximum(self, node, args, kwargs, parts) -> Info:
        infos = [self.info(a) for a in args[:2]]
        if all(i.curv in (CONST, AFFINE, CONVEX) for i in infos):
            return self.result(
                node,
                CONVEX,
                parts,
                "maximum of convex terms is convex",
                nonneg=any(i.nonneg for i in infos)
                or any(self.sign(a) == "nonneg" for a in args[:2]),
            )
        raise _Rejected("nonconvex_activation", "maximum of a non-convex term")

    def op_minimum(self, node, args, kwargs, parts) -> Info:
        infos = [self.info(a) for a in args[:2]]
        if all(i.curv in (CONST, AFFINE, CONCAVE) for i in infos):
            return self.result(node, CONCAVE, parts, "minimum of concave terms is concave")
        raise _Rejected("nonconvex_activation", "minimum of a non-concave term")

    def op_abs(self, node, args, kwargs, parts) -> Info:
        x = self.info(args[0])
        if x.nonneg:
            return self.result(node, x.curv, parts, "abs of a nonnegative term", nonneg=True)
        if x.nonpos:
            return self.result(node, _flip(x.curv), parts, "abs of a nonpositive term", nonneg=True)
        if x.curv == AFFINE:
            return self.result(node, CONVEX, parts, "abs of an affine term", nonneg=True)
        raise _Rejected("nonconvex_activation", f"abs of {_a(x.curv)} term")

    def op_square(self, node, args, kwargs, parts) -> Info:
        return self.power(node, self.info(args[0]), 2, parts)

    def op_pow(self, node, args, kwargs, parts) -> Info:
        base = args[0] if args else kwargs.get("input", kwargs.get("self"))
        exponent = args[1] if len(args) > 1 else kwargs.get("exponent")
        if self.info(exponent).curv != CONST:
            raise _Rejected("nonconvex_activation", "exponent depends on the parameters")
        return self.power(node, self.info(base), exponent, parts)

    def op_clamp(self, node, args, kwargs, parts, lo: Any = ..., hi: Any = ...) -> Info:
        x = self.info(args[0])
        if lo is ...:
            lo = args[1] if len(args) > 1 else kwargs.get("min")
        if hi is ...:
            hi = args[2] if len(args) > 2 else kwargs.get("max")
        if self.info(lo).curv != CONST or self.info(hi).curv != CONST:
            raise _Rejected("nonconvex_activation", "clamp bounds depend on the parameters")
        if lo is not None and hi is not None:
            raise _Rejected(
                "nonconvex_activation", "clamp with both bounds is neither convex nor concave"
            )
        if lo is not None:
            if x.curv not in (AFFINE, CONVEX):
                raise _Rejected("nonconvex_activation", f"max(x, c) of {_a(x.curv)} x")
            return self.result(
                node,
                CONVEX,
                parts,
                "max(x, c) (clamp below, e.g. a hinge) is convex nondecreasing",
                nonneg=self.sign(lo) in ("nonneg", "zero"),
            )
        if hi is not None:
            if x.curv not in (AFFINE, CONCAVE):
                raise _Rejected("nonconvex_activation", f"min(x, c) of {_a(x.curv)} x")
            return self.result(
                node,
                CONCAVE,
                parts,
                "min(x, c) is concave nondecreasing",
                nonpos=self.sign(hi) in ("nonpos", "zero"),
            )
        return self.result(
            node, x.curv, parts, "clamp without bounds", nonneg=x.nonneg, nonpos=x.nonpos
        )

    def op_clamp_min(self, node, args, kwargs, parts) -> Info:
        return self.op_clamp(node, args[:1], {}, parts, lo=args[1], hi=None)

    def op_clamp_max(self, node, args, kwargs, parts) -> Info:
        return self.op_clamp(node, args[:1], {}, parts, lo=None, hi=args[1])

    def op_log_softmax(self, node, args, kwargs, parts) -> Info:
        self._unary_rest_const(args, kwargs)
        x = self.info(args[0])
        if x.curv != AFFINE:
            raise _Rejected("nonconvex_activation", f"log_softmax of {_a(x.curv)} argument")
        return self.result(
            node,
            CONCAVE,
            parts,
            "log_softmax(z) = z - logsumexp(z) is concave in an affine z",
            nonpos=True,
        )

    def op_norm(self, node, args, kwargs, parts) -> Info:
        x = self.info(args[0])
        rest = [a for a in args[1:]] + list(kwargs.values())
        if any(self.info(r).curv != CONST for r in rest):
            raise _Rejected("unsupported_operation", "norm arguments depend on parameters")
        order = args[1] if len(args) > 1 else kwargs.get("p", kwargs.get("ord"))
        ok_order = order in (None, "fro", "nuc") or (isinstance(order, (int, float)) and order >= 1)
        if not ok_order:
            raise _Rejected("nonconvex_activation", f"norm of order {order!r} is not convex")
        if x.curv == AFFINE or (x.curv == CONVEX and x.nonneg):
            return self.result(
                node, CONVEX, parts, "a norm of an affine term is convex", nonneg=True
            )
        raise _Rejected("nonconvex_activation", f"norm of {_a(x.curv)} term")

    # losses
    def loss_rule(self, node, name: str, b: dict[str, Any], parts) -> Info:
        x, tgt = b.get("input"), b.get("target")
        xi, ti = self.info(x), self.info(tgt)
        weight = b.get("weight")
        if weight is not None:
            if self.info(weight).curv != CONST:
                raise _Rejected("nonconvex_loss", f"{name}: weight depends on the parameters")
            if self.sign(weight) not in ("nonneg", "zero"):
                raise _Rejected("nonconvex_loss", f"{name}: weight has negative entries")
        if name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
            diff = AFFINE if CONST in (xi.curv, ti.curv) else _add_curv(xi.curv, ti.curv)
            if xi.curv not in (CONST, AFFINE) or ti.curv not in (CONST, AFFINE):
                diff = xi.curv if xi.curv not in (CONST, AFFINE) else ti.curv
            if name == "huber_loss" and not self.value(b.get("delta", 1.0)) > 0:
                raise _Rejected("nonconvex_loss", "huber_loss needs delta > 0")
            if name == "smooth_l1_loss" and not self.value(b.get("beta", 1.0)) >= 0:
                raise _Rejected("nonconvex_loss", "smooth_l1_loss needs beta >= 0")
            if diff not in (CONST, AFFINE):
                raise _Rejected(
                    "nonconvex_loss",
                    f"{name} is convex in input - target only "
                    f"when that difference is affine; it is {diff}",
                )
            return self.result(
                node,
                CONVEX,
                parts,
                f"{name} is a convex function of the affine difference input - target",
                nonneg=True,
                kind="nonconvex_loss",
            )
        if ti.curv != CONST:
            raise _Rejected("nonconvex_loss", f"{name}: target depends on the parameters")
        if name == "cross_entropy":
            if xi.curv != AFFINE:
                raise _Rejected(
                    "nonconvex_loss",
                    f"cross_entropy needs logits affine in the parameters; they are {xi.curv}",
                )
            tv = self.value(tgt)
            if (
                isinstance(tv, Tensor)
                and tv.is_floating_point()
                and self.sign(tgt)
                not in (
                    "nonneg",
                    "zero",
                )
            ):
                raise _Rejected("nonconvex_loss", "cross_entropy with negative soft targets")
            ls = self.value(b.get("label_smoothing", 0.0))
            if not 0.0 <= float(ls) <= 1.0:
                raise _Rejected("nonconvex_loss", "label_smoothing outside [0, 1]")
            return self.result(
                node,
                CONVEX,
                parts,
                "cross-entropy = logsumexp(z) - Σ q_c z_c with q ≥ 0 is convex in affine logits z",
            )
        if name == "nll_loss":
            if xi.curv not in (AFFINE, CONCAVE):
                raise _Rejected(
                    "nonconvex_loss",
                    f"nll_loss(x) = -x[target] needs x concave "
                    f"(e.g. log_softmax of affine logits); it is {xi.curv}",
                )
            return self.result(
                node,
                _flip(xi.curv),
                parts,
                f"nll_loss = -(nonnegative weights × selected entries) of {_a(xi.curv)} input",
            )
        if name in ("binary_cross_entropy_with_logits", "multilabel_soft_margin_loss"):
            if xi.curv != AFFINE:
                raise _Rejected(
                    "nonconvex_loss",
                    f"{name} needs logits affine in the parameters; they are {xi.curv}",
                )
            pw = b.get("pos_weight")
            if pw is not None:
                if self.info(pw).curv != CONST:
                    raise _Rejected("nonconvex_loss", "pos_weight depends on the parameters")
                y, p = self.value(tgt), self.value(pw)
                coef = torch.as_tensor(p) * torch.as_tensor(y) + 1 - torch.as_tensor(y)
                if self.sign(pw) not in ("nonneg", "zero") or _sign_of_value(coef) not in (
                    "nonneg",
                    "zero",
                ):
                    raise _Rejected("nonconvex_loss", "pos_weight·y + 1 - y must be ≥ 0")
            return self.result(
                node,
                CONVEX,
                parts,
                f"{name} = (p·y + 1 - y)·softplus(z) - p·y·z"
                " with a nonnegative coefficient is convex in affine z",
            )
        if name == "soft_margin_loss":
            if xi.curv != AFFINE:
                raise _Rejected("nonconvex_loss", f"soft_margin_loss of {_a(xi.curv)} input")
            return self.result(node, CONVEX, parts, "log(1 + exp(-y·z)) is convex in affine z")
        raise _Rejected("nonconvex_loss", f"{name} is not a recognised convex loss")

    def _functional_loss(self, node, args, kwargs, parts, fn, name) -> Info:
        b = _bind(fn, args, kwargs)
        if b.get("size_average") is not None or b.get("reduce") is not None:
            raise _Rejected("nonconvex_loss", f"{name}: deprecated size_average/reduce")
        if self.value(b.get("reduction", "mean")) not in ("mean", "sum", "none"):
            raise _Rejected("nonconvex_loss", f"{name}: unknown reduction")
        return self.loss_rule(node, name, b, parts)

    def op_mse_loss(self, node, args, kwargs, parts) -> Info:
        return self._functional_loss(node, args, kwargs, parts, F.mse_loss, "mse_loss")

    def op_l1_loss(self, node, args, kwargs, parts) -> Info:
        return self._functional_loss(node, args, kwargs, parts, F.l1_loss, "l1_loss")

    def op_smooth_l1_loss(self, node, args, kwargs, parts) -> Info:
        return self._functional_loss(node, args, kwargs, parts, F.smooth_l1_loss, "smooth_l1_loss")

    def op_huber_loss(self, node, args, kwargs, parts) -> Info:
        return self._functional_loss(node, args, kwargs, parts, F.huber_loss, "huber_loss")

    def op_cross_entropy(self, node, args, kwargs, parts) -> Info:
        return self._functional_loss(node, args, kwargs, parts, F.cross_entropy, "cross_entropy")

    def op_nll_loss(self, node, args, kwargs, parts) -> Info:
        return self._functional_loss(node, args, kwargs, parts, F.nll_loss, "nll_loss")

    def op_binary_cross_entropy_with_logits(self, node, args, kwargs, parts) -> Info:
        fn = F.binary_cross_entropy_with_logits
        return self._functional_loss(node, args, kwargs, parts, fn, fn.__name__)

    def op_soft_margin_loss(self, node, args, kwargs, parts) -> Info:
        fn = F.soft_margin_loss
        return self._functional_loss(node, args, kwargs, parts, fn, "soft_margin_loss")

    def op_multilabel_soft_margin_loss(self, node, args, kwargs, parts) -> Info:
        fn = F.multilabel_soft_margin_loss
        return self._functional_loss(node, args, kwargs, parts, fn, fn.__name__)

    # modules
    def visit_module(self, node: fx.Node) -> Info:
        mod = self.gm.get_submodule(node.target)
        args, kwargs = list(node.args), dict(node.kwargs)
        parts = self._arg_infos(node)
        own = list(mod.named_parameters())
        pinfo = {k: self._param_info(p) for k, p in own}
        trainable_here = any(i.curv != CONST for i in pinfo.values())
        all_parts = parts + list(pinfo.values())
        x = args[0] if args else next(iter(kwargs.values()), None)
        if not trainable_here and all(p.curv == CONST for p in parts):
            if isinstance(mod, _DROPOUT_MODULES) and mod.training and mod.p > 0:
                self.random_nodes.add(node)
            if own or any(True for _ in mod.buffers()):
                self.frozen_used[node] = self.prefix + node.target
            return CONST_INFO
        if any(p.requires_grad is False for _, p in own):
            self.frozen_used[node] = self.prefix + node.target
        if isinstance(mod, _LINEAR_MODULES):
            return self.bilinear_module(node, mod, x, pinfo, all_parts)
        if isinstance(mod, nn.Embedding):
            return self.embedding(node, x, mod.weight, mod.max_norm, all_parts)
        if isinstance(mod, nn.EmbeddingBag):
            if mod.mode not in ("sum", "mean") or mod.max_norm is not None:
                raise _Rejected("unsupported_operation", "EmbeddingBag mode max / max_norm")
            if any(p.curv != CONST for p in parts):
                raise _Rejected("unsupported_operation", "EmbeddingBag inputs depend on params")
            w = pinfo["weight"]
            return self.result(
                node,
                w.curv,
                all_parts,
                "bag of embeddings: a weighted sum of rows with constant weights",
            )
        if isinstance(mod, _NORM_MODULES):
            return self.norm_module(node, mod, x, pinfo, all_parts)
        if isinstance(mod, _IDENTITY_MODULES) or (
            isinstance(mod, nn.Upsample)
            and mod.mode
            in (
                "nearest",
                "nearest-exact",
                "linear",
                "bilinear",
                "trilinear",
            )
        ):
            xi = self.info(x)
            return self.result(
                node,
                xi.curv,
                all_parts,
                f"{type(mod).__name__} is a rearrangement or nonnegative averaging of entries",
                nonneg=xi.nonneg,
                nonpos=xi.nonpos,
            )
        if isinstance(mod, _DROPOUT_MODULES):
            xi = self.info(x)
            if not mod.training or mod.p == 0:
                return self.result(
                    node,
                    xi.curv,
                    all_parts,
                    "dropout is the identity in eval mode",
                    nonneg=xi.nonneg,
                    nonpos=xi.nonpos,
                )
            self.random_nodes.add(node)
            raise _Rejected(
                "stochastic",
                f"{type(mod).__name__} in training mode makes the loss random; call model.eval()",
            )
        if trainable_here:
            raise _Rejected(
                "unsupported_module",
                f"{type(mod).__name__} with trainable parameters is not a recognised affine layer",
            )
        if isinstance(mod, nn.ReLU):
            return self.compose(node, "relu", self.info(x), all_parts)
        if isinstance(mod, nn.LeakyReLU):
            return self.leaky(node, self.info(x), mod.negative_slope, all_parts)
        if isinstance(mod, nn.Softplus):
            if mod.beta <= 0:
                raise _Rejected("nonconvex_activation", "softplus with a nonpositive beta")
            return self.compose(node, "softplus", self.info(x), all_parts)
        if isinstance(mod, nn.LogSigmoid):
            return self.compose(node, "logsigmoid", self.info(x), all_parts)
        if isinstance(mod, nn.LogSoftmax):
            return self.op_log_softmax(node, [x], {}, all_parts)
        if isinstance(mod, _CONVEX_LOSS_MODULES):
            return self.loss_module(node, mod, args, kwargs, all_parts)
        kind = (
            "nonconvex_activation"
            if not isinstance(mod, nn.modules.loss._Loss)
            else ("nonconvex_loss")
        )
        raise _Rejected(kind, f"{type(mod).__name__} is not affine, convex or otherwise recognised")

    def bilinear_module(self, node, mod, x, pinfo, parts) -> Info:
        w, b = pinfo.get("weight", CONST_INFO), pinfo.get("bias", CONST_INFO)
        xi = self.info(x)
        what = f"{type(mod).__name__} '{self.prefix}{node.target}'"
        if w.curv != CONST and xi.curv != CONST:
            return self.unknown(
                node,
                parts,
                f"{what} multiplies its trainable weight by a parameter-dependent input "
                f"({_describe_deps(xi.deps)}): a product of parameters is not convex",
                "multiplicative_weights",
            )
        if w.curv != CONST or xi.curv in (CONST, AFFINE):
            curv = _add_curv(AFFINE if (w.curv != CONST or xi.curv != CONST) else CONST, b.curv)
            return self.result(node, curv, parts, "W·x + b with x constant or W frozen is affine")
        sign = self.sign(mod.weight)
        prod = self.scale(node, xi, sign, parts, f"{what} (frozen weight)")
        if prod.curv == UNKNOWN:
            return prod
        return self.result(
            node,
            _add_curv(prod.curv, b.curv),
            parts,
            f"frozen weight of sign {sign} keeps {prod.curv}",
        )

    def norm_module(self, node, mod, x, pinfo, parts) -> Info:
        xi = self.info(x)
        running = (
            isinstance(mod, nn.modules.batchnorm._BatchNorm | nn.modules.instancenorm._InstanceNorm)
            and not mod.training
            and getattr(mod, "running_mean", None) is not None
        )
        if xi.curv == CONST:
            normed = CONST_INFO
        elif running:
            normed = xi  # (x - μ)/σ with stored μ, σ > 0: a positive scaling plus a shift
        else:
            why = (
                "normalises by batch statistics (training mode): not affine in a "
                "parameter-dependent input"
                if isinstance(mod, nn.modules.batchnorm._BatchNorm)
                else "normalises by per-sample statistics: not affine in a parameter-dependent "
                "input"
            )
            return self.unknown(node, parts, why, "batch_statistics")
        gamma, beta = pinfo.get("weight", CONST_INFO), pinfo.get("bias", CONST_INFO)
        if gamma.curv != CONST and normed.curv != CONST:
            return self.unknown(
                node,
                parts,
                "trainable scale times a parameter-dependent input",
                "multiplicative_weights",
            )
        if gamma.curv != CONST or normed.curv in (CONST, AFFINE):
            curv = _add_curv(
                AFFINE if (gamma.curv != CONST or normed.curv != CONST) else CONST, beta.curv
            )
            return self.result(
                node,
                curv,
                parts,
                f"{type(mod).__name__} {'in eval mode ' if running else ''}is affine here",
            )
        sign = self.sign(mod.weight) if getattr(mod, "weight", None) is not None else "nonneg"
        prod = self.scale(node, normed, sign, parts, "normalisation scale")
        if prod.curv == UNKNOWN:
            return prod
        return self.result(
            node,
            _add_curv(prod.curv, beta.curv),
            parts,
            "eval-mode normalisation with a fixed-sign scale",
        )

    def loss_module(self, node, mod, args, kwargs, parts) -> Info:
        name = (
            {
                nn.MSELoss: "mse_loss",
                nn.L1Loss: "l1_loss",
                nn.SmoothL1Loss: "smooth_l1_loss",
                nn.HuberLoss: "huber_loss",
                nn.BCEWithLogitsLoss: "binary_cross_entropy_with_logits",
                nn.CrossEntropyLoss: "cross_entropy",
                nn.NLLLoss: "nll_loss",
                nn.SoftMarginLoss: "soft_margin_loss",
                nn.MultiLabelSoftMarginLoss: "multilabel_soft_margin_loss",
            }[type(mod)]
            if type(mod) in _CONVEX_LOSS_MODULES
            else None
        )
        if name is None:  # a subclass: its forward may differ from the base class
            raise _Rejected(
                "nonconvex_loss",
                f"{type(mod).__name__} subclasses a loss; its forward is not analysed",
            )
        if mod.reduction not in ("mean", "sum"):
            raise _Rejected(
                "nonconvex_loss",
                f"{type(mod).__name__} with reduction {mod.reduction!r}: the loss must be a scalar",
            )
        b: dict[str, Any] = {
            "input": args[0] if args else kwargs.get("input"),
            "target": args[1] if len(args) > 1 else kwargs.get("target"),
            "weight": getattr(mod, "weight", None),
            "pos_weight": getattr(mod, "pos_weight", None),
            "label_smoothing": getattr(mod, "label_smoothing", 0.0),
            "delta": getattr(mod, "delta", 1.0),
            "beta": getattr(mod, "beta", 1.0),
        }
        return self.loss_rule(node, name, b, parts)

    # -- reporting -----------------------------------------------------------------------
    def ancestors(self) -> list[fx.Node]:
        assert self.output_node is not None
        seen: set[fx.Node] = set()
        stack = [self.output_node]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            stack.extend(n.all_input_nodes)
        return [n for n in self.gm.graph.nodes if n in seen]


# --------------------------------------------------------------------------------------------
# entry point


class _LossHarness(nn.Module):
    """``forward(out, tgt) = loss_fn(out, tgt)``, with the model registered (never called) so a
    loss closure that reads ``model.fc.weight`` is traced to that very parameter."""

    def __init__(self, loss_fn: Callable, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        if isinstance(loss_fn, nn.Module):
            self.fn = loss_fn
        else:
            object.__setattr__(self, "_loss_callable", loss_fn)

    def forward(self, out: Any, tgt: Any) -> Any:
        if "fn" in self._modules:
            return self.fn(out, tgt)
        return self._loss_callable(out, tgt)


class _ParameterTracer(fx.Tracer):
    """A tracer under which ``model.parameters()`` and ``model.named_parameters()`` (of the model
    registered in the loss harness and of its submodules) yield graph nodes, not the tensors.

    Why: weight decay and lasso terms are usually written in ``loss_fn`` as
    ``lam * sum(p.pow(2).sum() for p in model.parameters())``. Plain fx tracing evaluates such a
    term eagerly and bakes it in as a constant; with this tracer it becomes ``get_attr`` nodes
    the curvature rules can read, so the penalty is proved convex (or found not to be).
    """

    def trace(self, root: Any, concrete_args: Any = None) -> fx.Graph:
        patched: list[nn.Module] = []
        model = getattr(root, "model", None)
        try:
            if isinstance(model, nn.Module):
                for name, module in model.named_modules():
                    self._patch(module, f"model.{name}." if name else "model.")
                    patched.append(module)
            return super().trace(root, concrete_args)
        finally:
            for module in patched:
                module.__dict__.pop("named_parameters", None)
                module.__dict__.pop("parameters", None)

    def _patch(self, module: nn.Module, qualifier: str) -> None:
        tracer = self
        original = type(module).named_parameters

        def named_parameters(prefix: str = "", recurse: bool = True, remove_duplicate=True):
            for name, _ in original(module, "", recurse, remove_duplicate):
                proxy = tracer.create_proxy("get_attr", qualifier + name, (), {})
                yield (f"{prefix}.{name}" if prefix else name), proxy

        def parameters(recurse: bool = True):
            for _, proxy in named_parameters(recurse=recurse):
                yield proxy

        module.__dict__["named_parameters"] = named_parameters
        module.__dict__["parameters"] = parameters


def _trace_loss(harness: nn.Module) -> fx.GraphModule:
    tracer = _ParameterTracer()
    graph = tracer.trace(harness)
    return fx.GraphModule(tracer.root, graph, type(harness).__name__)


def _not_proved(
    obstacles, issues, steps, frozen, out_curv=UNKNOWN, loss_curv=UNKNOWN, trainable=()
) -> StructuralAnalysis:
    return StructuralAnalysis(
        proved=False,
        certificate=None,
        obstacles=list(obstacles),
        steps=list(steps),
        frozen=list(frozen),
        issues=list(issues),
        output_curvature=out_curv,
        loss_curvature=loss_curv,
        trainable=list(trainable),
    )


def _issue_dicts(issues: Iterable[tuple[str, str, str]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for kind, node, message in issues:
        d = {"kind": kind, "node": node, "message": message}
        if d not in out:
            out.append(d)
    return out


def _check_penalties(penalties) -> tuple[list[dict[str, Any]], list[str]]:
    described: list[dict[str, Any]] = []
    problems: list[str] = []
    for entry in penalties or ():
        if not isinstance(entry, (tuple, list)) or len(entry) not in (2, 3):
            problems.append(f"penalty {entry!r}: expected (kind, coefficient[, parameter names])")
            continue
        kind, coef = entry[0], entry[1]
        names = list(entry[2]) if len(entry) == 3 else None
        if kind not in ("l1", "l2"):
            problems.append(f"penalty kind {kind!r} is not 'l1' or 'l2'")
            continue
        try:
            c = float(coef)
        except (TypeError, ValueError):
            problems.append(f"{kind} penalty coefficient {coef!r} is not a number")
            continue
        if not c >= 0:
            problems.append(f"{kind} penalty coefficient {c} is negative: the penalty is concave")
            continue
        norm = "Σ|θ_i|" if kind == "l1" else "Σθ_i²"
        described.append(
            {
                "kind": kind,
                "coefficient": c,
                "parameters": names or "all trainable",
                "why": f"{c:g}·{norm} is convex (a norm / squared norm with a nonnegative weight)",
            }
        )
    return described, problems


def structural_proof(
    model: nn.Module,
    loss_fn: Callable[[Any, Any], Tensor],
    data: tuple[Any, Any],
    *,
    penalties: Sequence[tuple] | None = None,
    reference: Any = None,
) -> StructuralAnalysis:
    """Try to prove ``θ -> loss_fn(model_θ(inputs), targets) (+ penalties)`` convex.

    ``θ`` are the parameters with ``requires_grad=True``; ``data = (inputs, targets)`` is fixed.
    ``penalties`` describes regularisers the caller adds to the loss outside ``loss_fn`` (a
    closure over the whole model is invisible to fx when it is applied outside ``loss_fn``): a
    list of ``("l2", c)`` (adds ``c·Σθ_i²``) and ``("l1", c)`` (adds ``c·Σ|θ_i|``), optionally
    ``(kind, c, [parameter names])``; each is convex when ``c ≥ 0``, so only the sign matters.

    Before a proof is returned, :mod:`convexcheck.numeric.faithful` checks that the graphs are
    what runs: no parametrized weight reading a trainable tensor, no forward hooks, and the traced
    graphs equal to the user's program (``reference``, a penalty-free ``FunctionalLoss`` of the
    same model and loss; built here when not given) at several parameter vectors.

    Never raises for an unsupported model: it returns ``proved=False`` with obstacles.
    """
    inputs, targets = data
    trainable_ids: dict[int, str] = {}
    frozen_params: list[str] = []
    for name, p in model.named_parameters():
        if p.requires_grad:
            trainable_ids[id(p)] = name
        else:
            frozen_params.append(name)
    trainable = list(trainable_ids.values())
    pen_described, pen_problems = _check_penalties(penalties)
    if pen_problems:
        issues = [{"kind": "nonconvex_penalty", "node": "", "message": m} for m in pen_problems]
        return _not_proved(pen_problems, issues, [], [], trainable=trainable)

    hidden = faithful.hidden_computation(model, loss_fn)
    if hidden:
        return _not_proved(faithful.refused(hidden), hidden, [], [], trainable=trainable)

    buffers = {k: b.detach().clone() for k, b in model.named_buffers()}
    try:
        return _analyse(
            model, loss_fn, inputs, targets, trainable_ids, trainable, pen_described, reference
        )
    finally:
        with torch.no_grad():  # evaluating constants may have run BatchNorm in training mode
            for k, b in model.named_buffers():
                if k in buffers and b.shape == buffers[k].shape:
                    b.copy_(buffers[k])


def _graph_mismatch(gm, harness, model, loss_fn, data, reference) -> str | None:
    """``faithful.graph_mismatch`` against ``reference`` (built from the model when missing).
    Without trainable parameters the loss is a constant of no variables: nothing to compare."""
    if not any(p.requires_grad for p in model.parameters()):
        return None
    if reference is None:
        try:
            from convexcheck.numeric.functional import FunctionalLoss

            reference = FunctionalLoss(model, loss_fn, data)
        except Exception as exc:
            return (
                f"the model's own loss could not be evaluated to compare it with the graph ({exc})"
            )
    return faithful.graph_mismatch(gm, harness, model, reference)


def _analyse(model, loss_fn, inputs, targets, trainable_ids, trainable, pen_described, reference):
    try:
        gm = fx.symbolic_trace(model)
    except Exception as exc:
        msg = (
            f"model could not be traced by torch.fx ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); data-dependent control flow "
            "or non-torch code cannot be analysed structurally"
        )
        return _not_proved(
            [msg],
            [{"kind": "untraceable", "node": "", "message": msg}],
            [],
            [],
            trainable=trainable,
        )

    model_out: dict[str, Any] = {}

    def model_output() -> Any:
        if "v" not in model_out:
            with torch.no_grad():
                model_out["v"] = model(inputs)
        return model_out["v"]

    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    first = placeholders[0].target if placeholders else None
    ma = _Analyzer(gm, trainable_ids, {}, {first: lambda: inputs} if first else {})
    out_info = ma.run()

    try:
        harness = _trace_loss(_LossHarness(loss_fn, model))
    except Exception as exc:
        msg = (
            f"loss function could not be traced by torch.fx ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})"
        )
        issues = [{"kind": "untraceable", "node": "", "message": msg}]
        return _not_proved([msg], issues, [], [], out_curv=out_info.curv, trainable=trainable)
    lph = [n.target for n in harness.graph.nodes if n.op == "placeholder"]
    la = _Analyzer(
        harness,
        trainable_ids,
        {lph[0]: out_info, lph[1]: CONST_INFO},
        {lph[0]: model_output, lph[1]: lambda: targets},
        prefix="",
    )
    loss_info = la.run()

    model_anc = ma.ancestors()
    loss_anc = la.ancestors()
    global_issues = list(ma.global_issues) + list(la.global_issues)
    for analyzer, anc in ((ma, model_anc), (la, loss_anc)):
        for n in anc:
            if n in analyzer.random_nodes:
                global_issues.append(
                    (
                        "stochastic",
                        n.name,
                        f"random operation {analyzer.describe(n)} at node "
                        f"'{n.name}' reaches the loss: it is not a fixed function of θ",
                    )
                )

    frozen = []
    for analyzer, anc in ((ma, model_anc), (la, loss_anc)):
        for n in anc:
            if n in analyzer.frozen_used:
                name = analyzer.frozen_used[n]
                name = (
                    name[len("model.") :]
                    if analyzer is la and name.startswith("model.")
                    else (name)
                )
                if name not in frozen:
                    frozen.append(name)

    steps_cert: list[dict[str, str]] = []
    for analyzer, anc, where in ((ma, model_anc, "model"), (la, loss_anc, "loss")):
        for n in anc:
            if n.op in ("placeholder", "output"):
                continue
            info = analyzer.infos[n]
            if info.curv == CONST:
                if n in analyzer.frozen_used:
                    steps_cert.append(
                        {
                            "node": f"{where}:{n.name}",
                            "op": analyzer.describe(n),
                            "curvature": CONST,
                            "why": "frozen module applied to data only: constant in the trainable "
                            "parameters",
                        }
                    )
                continue
            why = analyzer.whys.get(n) or ("trainable parameter" if n.op == "get_attr" else "")
            steps_cert.append(
                {
                    "node": f"{where}:{n.name}",
                    "op": analyzer.describe(n),
                    "curvature": info.curv,
                    "why": why,
                }
            )
    steps = [f"{s['node']} {s['op']}: {s['curvature']} ({s['why']})" for s in steps_cert]
    steps += [f"penalty {p['kind']}: {p['why']}" for p in pen_described]

    loss_name = (
        type(loss_fn).__name__
        if isinstance(loss_fn, nn.Module)
        else getattr(loss_fn, "__name__", type(loss_fn).__name__)
    )
    if global_issues or loss_info.curv not in (CONST, AFFINE, CONVEX):
        issues = list(global_issues)
        if loss_info.curv not in (CONST, AFFINE, CONVEX):
            issues += list(loss_info.issues)
            if out_info.curv not in (CONST, AFFINE) and not loss_info.issues:
                issues += list(out_info.issues)
        if loss_info.curv not in (CONST, AFFINE, CONVEX):
            kind = "nonconvex_loss" if out_info.curv in (CONST, AFFINE) else "not_affine"
            issues.append(
                (
                    kind,
                    "",
                    f"the loss is {loss_info.curv} in the trainable parameters "
                    f"(model output: {out_info.curv}), so convexity is not proved",
                )
            )
        dicts = _issue_dicts(issues)
        return _not_proved(
            [d["message"] for d in dicts],
            dicts,
            steps,
            frozen,
            out_info.curv,
            loss_info.curv,
            trainable,
        )

    mismatch = _graph_mismatch(gm, harness, model, loss_fn, (inputs, targets), reference)
    if mismatch is not None:
        issues = [{"kind": "tracing_dependent", "node": "", "message": mismatch}]
        return _not_proved(
            [mismatch], issues, steps, frozen, out_info.curv, loss_info.curv, trainable
        )

    loss_why = (
        la.whys.get(la.output_node.args[0])
        if la.output_node is not None and isinstance(la.output_node.args[0], fx.Node)
        else None
    )
    loss_why = loss_why or f"the loss is {loss_info.curv} in θ"
    reasons = [
        {
            "kind": "affine_in_parameters"
            if out_info.curv in (CONST, AFFINE)
            else "concave_output",
            "detail": f"the model output is {out_info.curv} in the trainable parameters",
        },
        {"kind": "convex_loss", "detail": f"{loss_name}: {loss_why}"},
    ]
    if frozen:
        names = ", ".join(f"'{name}'" for name in frozen)
        reasons.append(
            {
                "kind": "frozen_features",
                "detail": f"frozen modules, constant in the trainable parameters: {names}",
            }
        )
    reasons += [{"kind": "convex_penalty", "detail": p["why"]} for p in pen_described]
    certificate = {
        "kind": "structural",
        "reasons": reasons,
        "trainable": trainable,
        "frozen": frozen,
        "output_curvature": out_info.curv,
        "steps": steps_cert,
        "loss": {"name": loss_name, "curvature": loss_info.curv, "why": loss_why},
        "penalties": pen_described,
        "scope": "the function computed by the traced graphs, for the given data and the "
        "current frozen parameters and buffers",
    }
    return StructuralAnalysis(
        proved=True,
        certificate=certificate,
        obstacles=[],
        steps=steps,
        frozen=frozen,
        issues=[],
        output_curvature=out_info.curv,
        loss_curvature=loss_info.curv,
        trainable=trainable,
    )
