"""The torch op table: one row per torch operation, mapping it onto atoms of the shared table.

A row names the torch callables and ``Tensor`` methods it covers and translates one call, whose
arguments are :class:`~convexcheck.torchgraph.values.Sym` (depends on the judged variables) or
plain torch values, into the tensor engine's atoms, mirroring the formula torch computes
(``F.softplus(x, beta)`` is ``logistic(beta x)/beta``, ``F.log_softmax`` is ``x - log_sum_exp``).
Facts such as curvature and monotonicity are *not* stated here: they live once, in the tensor
atom table, and the one DCP engine applies them. A row is consulted only when some argument is a
``Sym``; a call on constants alone is evaluated by torch.

Rows that refuse (``tanh``, ``softmax``, ``layer_norm`` of a variable...) raise
:class:`~convexcheck.torchgraph.values.Refused` with the reason kind the report shows.
``tests/torchgraph/test_op_rows.py`` runs every row against the eager op numerically.
The layer rows (linear, convolution, embeddings, bilinear, normalisation) are in
:mod:`convexcheck.torchgraph.ops_layers`, the losses in :mod:`convexcheck.torchgraph.ops_losses`.
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from convexcheck.torchgraph import values as v
from convexcheck.torchgraph.trace import model_output
from convexcheck.torchgraph.values import Opaque, Refused, is_sym


@dataclass(frozen=True)
class OpRow:
    """One torch operation: the callables and method names it covers, its kind (for the docs
    and the reports) and its translation."""

    name: str
    kind: str  # structural | arithmetic | linear | activation | reduction | loss | refused
    translate: Callable[..., Any]
    functions: tuple[Any, ...] = ()
    methods: tuple[str, ...] = ()
    note: str = ""


ROWS: dict[str, OpRow] = {}
FUNCTIONS: dict[Any, OpRow] = {}
METHODS: dict[str, OpRow] = {}


def row(
    name: str, *, kind: str, functions: tuple = (), methods: tuple = (), note: str = ""
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        entry = OpRow(name, kind, fn, tuple(functions), tuple(methods), note)
        ROWS[name] = entry
        for f in functions:
            FUNCTIONS[f] = entry
        for m in methods:
            METHODS[m] = entry
        return fn

    return register


def lookup_function(target: Any) -> OpRow | None:
    try:
        return FUNCTIONS.get(target)
    except TypeError:  # an unhashable callable
        return None


def lookup_method(name: str) -> OpRow | None:
    return METHODS.get(name)


def _dims(dim: Any) -> Any:
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        return tuple(int(d) for d in dim)
    return int(dim)


def _number(x: Any, what: str) -> float:
    if isinstance(x, Tensor):
        if x.numel() != 1:
            raise Refused("unsupported_op", f"{what}: a tensor where a number is needed")
        return float(x)
    if is_sym(x):
        raise Refused("unsupported_op", f"{what} depends on the variables")
    return float(x)


def _exponent(p: Any) -> Fraction:
    return Fraction(_number(p, "an exponent"))


# ---- metadata: values that never depend on the variables -------------------------------------
_META_ATTRS = {"shape", "dtype", "device", "ndim", "is_cuda", "requires_grad", "layout", "T", "mT"}


@row("getattr", kind="structural", functions=(builtins.getattr,))
def _getattr(obj: Any, name: str, *default: Any) -> Any:
    if not is_sym(obj):
        return getattr(obj, name, *default)
    if name == "shape":
        return obj.shape
    if name == "dtype":
        return obj.dtype
    if name == "ndim":
        return obj.dim()
    if name == "device":
        return torch.device("cpu")
    if name == "T":
        return v.permute(obj, tuple(reversed(range(obj.dim()))))
    if name == "mT":
        return v.swap(obj, -1, -2)
    if name == "requires_grad":
        return True
    raise Refused("unsupported_op", f"attribute {name!r} of a value that depends on the variables")


@row("size", kind="structural", methods=("size",))
def _size(x: Any, dim: Any = None) -> Any:
    return x.shape if dim is None else x.shape[int(dim)]


@row("dim", kind="structural", methods=("dim", "ndimension"))
def _dim(x: Any) -> int:
    return x.dim()


@row("numel", kind="structural", functions=(torch.numel,), methods=("numel", "nelement"))
def _numel(x: Any) -> int:
    return int(math.prod(x.shape))


@row("len", kind="structural", functions=(builtins.len,))
def _len(x: Any) -> int:
    return int(x.shape[0])


@row("is_floating_point", kind="structural", methods=("is_floating_point",))
def _is_floating_point(x: Any) -> bool:
    return True


@row(
    "model_output",
    kind="structural",
    functions=(model_output,),
    note="marks the model's output in the graph",
)
def _model_output(x: Any) -> Any:
    return x


# ---- identities ----------------------------------------------------------------------------
@row(
    "identity",
    kind="structural",
    functions=(torch.clone,),
    methods=("contiguous", "clone", "float", "double", "to", "type_as", "detach", "requires_grad_"),
    note="dtype and device conversions keep the value (the expression is judged in reals)",
)
def _identity(x: Any, *args: Any, **kwargs: Any) -> Any:
    for a in (*args, *kwargs.values()):
        if isinstance(a, torch.dtype) and not a.is_floating_point:
            raise Refused("unsupported_op", f"a conversion to {a} rounds the value")
    return x


@row(
    "dropout",
    kind="structural",
    functions=(
        F.dropout,
        F.alpha_dropout,
        F.dropout1d,
        F.dropout2d,
        F.dropout3d,
        F.feature_alpha_dropout,
    ),
)
def _dropout(x: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    if training and p > 0:
        raise Refused(
            "stochastic",
            "dropout in train mode makes the loss random; call model.eval() or use p=0",
        )
    return x


# ---- arithmetic ----------------------------------------------------------------------------
@row(
    "add",
    kind="arithmetic",
    functions=(operator.add, operator.iadd, torch.add),
    methods=("add", "__add__", "__radd__", "add_"),
)
def _add(a: Any, b: Any, *, alpha: Any = 1, out: Any = None) -> Any:
    return v.add(a, v.mul(b, alpha) if alpha != 1 else b)


@row(
    "sub",
    kind="arithmetic",
    functions=(operator.sub, operator.isub, torch.sub, torch.subtract),
    methods=("sub", "__sub__", "sub_", "subtract"),
)
def _sub(a: Any, b: Any, *, alpha: Any = 1, out: Any = None) -> Any:
    return v.sub(a, v.mul(b, alpha) if alpha != 1 else b)


@row("rsub", kind="arithmetic", functions=(torch.rsub,), methods=("__rsub__",))
def _rsub(a: Any, b: Any, *, alpha: Any = 1) -> Any:
    return v.sub(b, v.mul(a, alpha) if alpha != 1 else a)


@row(
    "mul",
    kind="arithmetic",
    functions=(operator.mul, operator.imul, torch.mul, torch.multiply),
    methods=("mul", "__mul__", "__rmul__", "mul_", "multiply"),
)
def _mul(a: Any, b: Any, *, out: Any = None) -> Any:
    return v.mul(a, b)


@row(
    "div",
    kind="arithmetic",
    functions=(operator.truediv, operator.itruediv, torch.div, torch.true_divide),
    methods=("div", "__truediv__", "div_", "true_divide"),
)
def _div(a: Any, b: Any, *, rounding_mode: Any = None, out: Any = None) -> Any:
    if rounding_mode is not None:
        raise Refused("unsupported_op", f"division with rounding_mode={rounding_mode!r}")
    return v.div(a, b)


@row("rdiv", kind="arithmetic", methods=("__rtruediv__",))
def _rdiv(a: Any, b: Any) -> Any:
    return v.div(b, a)


@row(
    "neg",
    kind="arithmetic",
    functions=(operator.neg, torch.neg, torch.negative),
    methods=("neg", "__neg__", "negative"),
)
def _neg(a: Any) -> Any:
    return v.neg(a)


@row("pos", kind="arithmetic", functions=(operator.pos,), methods=("__pos__",))
def _pos(a: Any) -> Any:
    return a


@row(
    "pow",
    kind="arithmetic",
    functions=(operator.pow, torch.pow),
    methods=("pow", "__pow__", "pow_"),
)
def _pow(a: Any, p: Any) -> Any:
    if is_sym(p):
        if is_sym(a):
            raise Refused("unsupported_op", "a power whose base and exponent both vary")
        base = _number(a, "the base of a power")
        if not base > 0:
            raise Refused("unsupported_op", f"{base} ** (a variable) with a base that is not > 0")
        return v.unary("exp", v.mul(math.log(base), p))
    e = _exponent(p)
    if e == 1:
        return a
    return v.unary("power", a, (e,))


@row("rpow", kind="arithmetic", methods=("__rpow__",))
def _rpow(a: Any, base: Any) -> Any:
    return _pow(base, a)


@row("square", kind="arithmetic", functions=(torch.square,), methods=("square",))
def _square(a: Any) -> Any:
    return v.unary("power", a, (Fraction(2),))


@row(
    "sqrt",
    kind="arithmetic",
    functions=(torch.sqrt,),
    methods=("sqrt",),
    note="NaN below 0 in torch: proofs hold where the loss is defined",
)
def _sqrt(a: Any) -> Any:
    return v.unary("power", a, (Fraction(1, 2),))


@row("rsqrt", kind="arithmetic", functions=(torch.rsqrt,), methods=("rsqrt",))
def _rsqrt(a: Any) -> Any:
    return v.unary("power", a, (Fraction(-1, 2),))


@row("reciprocal", kind="arithmetic", functions=(torch.reciprocal,), methods=("reciprocal",))
def _reciprocal(a: Any) -> Any:
    return v.unary("power", a, (Fraction(-1),))


@row(
    "abs",
    kind="arithmetic",
    functions=(torch.abs, torch.absolute, builtins.abs, operator.abs),
    methods=("abs", "__abs__", "absolute"),
)
def _abs(a: Any) -> Any:
    return v.unary("abs", a)


@row("exp", kind="activation", functions=(torch.exp,), methods=("exp",))
def _exp(a: Any) -> Any:
    return v.unary("exp", a)


@row(
    "log",
    kind="activation",
    functions=(torch.log,),
    methods=("log",),
    note="NaN below 0 in torch: proofs hold where the loss is defined",
)
def _log(a: Any) -> Any:
    return v.unary("log", a)


@row("log1p", kind="activation", functions=(torch.log1p,), methods=("log1p",))
def _log1p(a: Any) -> Any:
    return v.unary("log", v.add(a, 1.0))


# ---- piecewise-linear and smooth activations -------------------------------------------------
@row("relu", kind="activation", functions=(torch.relu, F.relu, F.relu_), methods=("relu", "relu_"))
def _relu(x: Any, inplace: bool = False) -> Any:
    return v.maximum(x, 0.0)


@row("leaky_relu", kind="activation", functions=(F.leaky_relu,))
def _leaky_relu(x: Any, negative_slope: float = 0.01, inplace: bool = False) -> Any:
    s = _number(negative_slope, "the slope of leaky_relu")
    # x for x > 0 and s x below: the larger of the two when s <= 1, the smaller when s > 1
    return v.maximum(x, v.mul(s, x)) if s <= 1 else v.minimum(x, v.mul(s, x))


@row(
    "softplus",
    kind="activation",
    functions=(F.softplus,),
    note="torch returns x exactly once beta*x > threshold; the gap to log(1+exp) is below "
    "float rounding (about 2e-9 at the default threshold 20)",
)
def _softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    b = _number(beta, "softplus beta")
    if not b > 0:
        raise Refused("unsupported_op", f"softplus with beta={b}")
    out = v.unary("logistic", v.mul(b, x) if b != 1 else x)
    return v.div(out, b) if b != 1 else out


@row("logsigmoid", kind="activation", functions=(F.logsigmoid,))
def _logsigmoid(x: Any) -> Any:
    return v.neg(v.unary("logistic", v.neg(x)))


@row(
    "clamp",
    kind="activation",
    functions=(torch.clamp, torch.clip),
    methods=("clamp", "clip", "clamp_"),
)
def _clamp(x: Any, min: Any = None, max: Any = None) -> Any:
    out = x
    if min is not None:
        out = v.maximum(out, min)
    if max is not None:
        out = v.minimum(out, max)
    return out


@row("clamp_min", kind="activation", functions=(torch.clamp_min,), methods=("clamp_min",))
def _clamp_min(x: Any, min: Any) -> Any:
    return v.maximum(x, min)


@row("clamp_max", kind="activation", functions=(torch.clamp_max,), methods=("clamp_max",))
def _clamp_max(x: Any, max: Any) -> Any:
    return v.minimum(x, max)


@row("maximum", kind="activation", functions=(torch.maximum, torch.fmax), methods=("maximum",))
def _maximum(a: Any, b: Any) -> Any:
    return v.maximum(a, b)


@row("minimum", kind="activation", functions=(torch.minimum, torch.fmin), methods=("minimum",))
def _minimum(a: Any, b: Any) -> Any:
    return v.minimum(a, b)


@row(
    "where",
    kind="structural",
    functions=(torch.where,),
    methods=("where",),
    note="the condition must be data (not computed from the variables)",
)
def _where(cond: Any, a: Any = None, b: Any = None) -> Any:
    if a is None or b is None:
        raise Refused("unsupported_op", "torch.where with one argument (indices)")
    if is_sym(cond) or isinstance(cond, Opaque):
        raise Refused(
            "data_dependent",
            "torch.where with a condition computed from the variables: a piecewise function "
            "whose pieces switch with the variables (write max/min or clamp instead)",
        )
    return v.select(torch.as_tensor(cond, dtype=torch.bool), a, b)


_REFUSED_ACTIVATIONS = {
    "tanh": (torch.tanh, F.tanh, "tanh"),
    "sigmoid": (torch.sigmoid, F.sigmoid, "sigmoid"),
    "gelu": (F.gelu, None, None),
    "silu": (F.silu, None, None),
    "mish": (F.mish, None, None),
    "elu": (F.elu, None, None),
    "selu": (F.selu, torch.selu, None),
    "celu": (F.celu, None, None),
    "hardtanh": (F.hardtanh, None, None),
    "relu6": (F.relu6, None, None),
    "hardsigmoid": (F.hardsigmoid, None, None),
    "hardswish": (F.hardswish, None, None),
    "softsign": (F.softsign, None, None),
    "tanhshrink": (F.tanhshrink, None, None),
    "sin": (torch.sin, None, "sin"),
    "cos": (torch.cos, None, "cos"),
    "softmax": (F.softmax, torch.softmax, "softmax"),
    "softmin": (F.softmin, None, None),
}


def _refuse_activation(name: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise Refused(
            "nonconvex_activation",
            f"{name} of a value that depends on the variables: {name} is not in the atom "
            "table (neither convex nor concave on the whole real line)",
        )

    return refuse


for _name, (_f1, _f2, _m) in _REFUSED_ACTIVATIONS.items():
    row(
        _name,
        kind="refused",
        functions=tuple(f for f in (_f1, _f2) if f is not None),
        methods=(_m,) if _m else (),
    )(_refuse_activation(_name))
