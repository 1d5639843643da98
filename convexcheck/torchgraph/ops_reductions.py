"""Op rows for reductions: sums and means, log-sum-exp and log-softmax, max/min, the norms.

Each maps onto the tensor engine's reduction atoms with torch's ``dim``/``keepdim`` semantics;
several dimensions become one engine reduction per axis (sums) or are refused where the engine
has no single atom (a max over two axes).
"""

from __future__ import annotations

import builtins
import math
from fractions import Fraction
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from convexcheck.torchgraph import values as v
from convexcheck.torchgraph.ops import _dims, row
from convexcheck.torchgraph.values import Opaque, Refused, is_sym


# ---- reductions ----------------------------------------------------------------------------
@row("sum", kind="reduction", functions=(torch.sum, builtins.sum), methods=("sum",))
def _sum(x: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    if isinstance(x, (list, tuple)):  # builtins.sum over a list of values
        out: Any = dim if dim is not None else 0
        for item in x:
            out = v.add(out, item)
        return out
    return v.total(x, _dims(dim), keepdim)


@row("mean", kind="reduction", functions=(torch.mean,), methods=("mean",))
def _mean(x: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    return v.mean(x, _dims(dim), keepdim)


@row("logsumexp", kind="reduction", functions=(torch.logsumexp,), methods=("logsumexp",))
def _logsumexp(x: Any, dim: Any, keepdim: bool = False) -> Any:
    return lse(x, dim, keepdim)


def lse(x: Any, dim: Any, keepdim: bool = False) -> Any:
    dims = _dims(dim)
    if isinstance(dims, tuple):
        if len(dims) != 1:
            raise Refused("unsupported_op", "logsumexp over several dimensions")
        dims = dims[0]
    return v.op("log_sum_exp", x, params=(int(dims) % max(len(v.shape_of(x)), 1), keepdim))


@row(
    "log_softmax",
    kind="activation",
    functions=(F.log_softmax, torch.log_softmax),
    methods=("log_softmax",),
)
def _log_softmax(x: Any, dim: Any = None, _stacklevel: int = 3, dtype: Any = None) -> Any:
    if dim is None:
        raise Refused("unsupported_op", "log_softmax without dim")
    return log_softmax(x, int(dim))


def log_softmax(x: Any, dim: int) -> Any:
    return v.sub(x, lse(x, dim, keepdim=True))


@row("amax", kind="reduction", functions=(torch.amax,), methods=("amax",))
def _amax(x: Any, dim: Any = (), keepdim: bool = False) -> Any:
    return _extreme("max", x, _dims(dim), keepdim)


@row("amin", kind="reduction", functions=(torch.amin,), methods=("amin",))
def _amin(x: Any, dim: Any = (), keepdim: bool = False) -> Any:
    return _extreme("min", x, _dims(dim), keepdim)


def _extreme(name: str, x: Any, dim: Any, keepdim: bool) -> Any:
    if dim is None or dim == ():
        out = v.op(name, x, params=(None, False))
        return v.reshape(out, (1,) * len(v.shape_of(x))) if keepdim else out
    dims = (dim,) if isinstance(dim, int) else dim
    if len(dims) != 1:
        raise Refused("unsupported_op", f"{name} over several dimensions")
    return v.op(name, x, params=(int(dims[0]) % max(len(v.shape_of(x)), 1), keepdim))


@row("max", kind="reduction", functions=(torch.max,), methods=("max",))
def _max(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    return _max_or_min("max", x, dim, keepdim)


@row("min", kind="reduction", functions=(torch.min,), methods=("min",))
def _min(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    return _max_or_min("min", x, dim, keepdim)


def _max_or_min(name: str, x: Any, dim: Any, keepdim: bool) -> Any:
    if dim is None:
        return _extreme(name, x, None, False)
    if is_sym(dim) or isinstance(dim, Tensor):  # torch.max(a, b): elementwise
        return v.maximum(x, dim) if name == "max" else v.minimum(x, dim)
    values = _extreme(name, x, int(dim), keepdim)
    return (values, Opaque(f"the indices of torch.{name}"))


def _norm_p(p: Any) -> Fraction | float:
    if p in (None, "fro", 2, 2.0):
        return Fraction(2)
    if p in (math.inf, float("inf"), "inf"):
        return math.inf
    if isinstance(p, str):
        raise Refused("unsupported_op", f"a matrix norm ord={p!r}")
    q = Fraction(float(p))
    if q < 1:
        raise Refused("unsupported_op", f"a {float(q)}-norm (not a norm below 1)")
    return q


def norm(x: Any, p: Any, dim: Any, keepdim: bool) -> Any:
    q = _norm_p(p)
    dims = _dims(dim)
    if isinstance(dims, tuple):
        if len(dims) != 1:
            if tuple(sorted(d % x.dim() for d in dims)) != tuple(range(x.dim())):
                raise Refused("unsupported_op", "a norm over some but not all dimensions")
            dims = None
        else:
            dims = dims[0]
    if dims is None:
        out = v.op("pnorm", v.reshape(x, (-1,)), params=(None, False, q))
        return v.reshape(out, (1,) * x.dim()) if keepdim else out
    return v.op("pnorm", x, params=(int(dims) % x.dim(), keepdim, q))


@row("norm", kind="reduction", functions=(torch.norm,), methods=("norm",))
def _norm(
    x: Any,
    p: Any = "fro",
    dim: Any = None,
    keepdim: bool = False,
    dtype: Any = None,
    out: Any = None,
) -> Any:
    return norm(x, p, dim, keepdim)


@row("vector_norm", kind="reduction", functions=(torch.linalg.vector_norm,))
def _vector_norm(
    x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Any:
    return norm(x, ord, dim, keepdim)


@row("linalg_norm", kind="reduction", functions=(torch.linalg.norm,))
def _linalg_norm(
    x: Any, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Any:
    if ord is not None and x.dim() == 2 and dim is None and ord != "fro":
        raise Refused("unsupported_op", f"the matrix norm ord={ord!r}")
    return norm(x, ord, dim, keepdim)
