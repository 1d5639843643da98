"""The two kinds of value a translated graph node has, and the helpers every op row uses.

A node that does not depend on the judged variables is a plain torch value, computed by torch
exactly as the user's program computes it (a frozen backbone costs one forward pass and nothing
else). A node that does is a :class:`Sym`: a tensor expression of the shared engine
(:mod:`convexcheck.tensor.expr`) with the torch dtype it would have. Rows build expressions with
the helpers here, which accept either kind, so a row reads like the torch formula it mirrors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

# (importing the table imports every row module of the tensor engine)
from convexcheck.tensor.atoms import make
from convexcheck.tensor.expr import TExpr, constant


class Refused(Exception):
    """The translation cannot represent this node: ``kind`` (a reason kind such as
    ``nonconvex_activation``, ``unsupported_op``, ``batch_statistics``) and a sentence."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, eq=False)
class Sym:
    """A value that depends on the judged variables: its expression and its torch dtype."""

    expr: TExpr
    dtype: torch.dtype = torch.float32

    @property
    def shape(self) -> torch.Size:
        return torch.Size(self.expr.shape)

    def dim(self) -> int:
        return len(self.expr.shape)


@dataclass(frozen=True, eq=False)
class Opaque:
    """A value that depends on the variables and has no expression (the indices of a max):
    harmless unless something uses it."""

    what: str


def is_sym(v: Any) -> bool:
    return isinstance(v, Sym)


def expr_of(v: Any) -> TExpr:
    """The expression of a value: a Sym's own, or a constant node for torch/Python numbers."""
    if isinstance(v, Sym):
        return v.expr
    if isinstance(v, Opaque):
        raise Refused("unsupported_op", f"{v.what} depends on the variables")
    if isinstance(v, Tensor):
        if v.is_complex():
            raise Refused("unsupported_op", "complex tensors are not supported")
        return constant(v.detach().to("cpu", torch.float64).numpy(), owned=True)
    if isinstance(v, (bool, int, float, np.number)):
        return constant(np.float64(v), owned=True)
    raise Refused("unsupported_op", f"a value of type {type(v).__name__} in an expression")


def dtype_of(*vs: Any) -> torch.dtype:
    for v in vs:
        if isinstance(v, Sym):
            return v.dtype
    for v in vs:
        if isinstance(v, Tensor) and v.is_floating_point():
            return v.dtype
    return torch.float32


def shape_of(v: Any) -> tuple[int, ...]:
    if isinstance(v, Sym):
        return v.expr.shape
    if isinstance(v, Tensor):
        return tuple(v.shape)
    return ()


def sym(expr: TExpr, *like: Any) -> Sym:
    return Sym(expr, dtype_of(*like))


def op(name: str, *args: Any, params: tuple = ()) -> Sym:
    """``make(name, ...)`` on values; the result keeps the dtype of its first Sym argument."""
    return sym(make(name, [expr_of(a) for a in args], params), *args)


# ---- arithmetic with torch's broadcasting ----------------------------------------------------
def add(a: Any, b: Any) -> Any:
    if not (is_sym(a) or is_sym(b)):
        return a + b
    if _is_zero(a):
        return _broadcast_to(b, np.broadcast_shapes(shape_of(a), shape_of(b)))
    if _is_zero(b):
        return _broadcast_to(a, np.broadcast_shapes(shape_of(a), shape_of(b)))
    return op("add", a, b)


def neg(a: Any) -> Any:
    return op("neg", a) if is_sym(a) else -a


def sub(a: Any, b: Any) -> Any:
    return add(a, neg(b))


def mul(a: Any, b: Any) -> Any:
    if not (is_sym(a) or is_sym(b)):
        return a * b
    if _is_one(a):
        return _broadcast_to(b, np.broadcast_shapes(shape_of(a), shape_of(b)))
    if _is_one(b):
        return _broadcast_to(a, np.broadcast_shapes(shape_of(a), shape_of(b)))
    return op("multiply", a, b)


def div(a: Any, b: Any) -> Any:
    if not (is_sym(a) or is_sym(b)):
        return a / b
    if _is_one(b):
        return _broadcast_to(a, np.broadcast_shapes(shape_of(a), shape_of(b)))
    if not is_sym(b):
        return op("divide", a, b)
    # a / u with u variable: a * u**-1, the power row knows where it is convex
    return mul(a, op("power", b, params=(-1,)))


def _is_const_value(v: Any, value: float) -> bool:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v == value
    return False


def _is_zero(v: Any) -> bool:
    return _is_const_value(v, 0.0)


def _is_one(v: Any) -> bool:
    return _is_const_value(v, 1.0)


def _broadcast_to(v: Any, shape: tuple[int, ...]) -> Any:
    shape = tuple(int(s) for s in shape)
    if shape_of(v) == shape:
        return v
    if is_sym(v):
        return op("promote", v, params=(shape,))
    return torch.as_tensor(v).expand(shape)


def broadcast_to(v: Any, shape: tuple[int, ...]) -> Any:
    return _broadcast_to(v, shape)


# ---- structure ---------------------------------------------------------------------------
def reshape(v: Any, shape: tuple[int, ...]) -> Any:
    shape = tuple(int(s) for s in shape)
    if not is_sym(v):
        return torch.as_tensor(v).reshape(shape)
    if shape.count(-1) == 1:
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        shape = tuple(v.expr.size // max(known, 1) if s == -1 else s for s in shape)
    if shape == v.expr.shape:
        return v
    return op("reshape", v, params=(shape, "C"))


def permute(v: Any, axes: tuple[int, ...]) -> Any:
    ndim = len(shape_of(v))
    axes = tuple(int(a) % max(ndim, 1) for a in axes)
    if not is_sym(v):
        return torch.as_tensor(v).permute(axes)
    if axes == tuple(range(ndim)):
        return v
    return op("permute", v, params=(axes,))


def swap(v: Any, d0: int, d1: int) -> Any:
    ndim = len(shape_of(v))
    if ndim < 2:
        return v
    axes = list(range(ndim))
    d0, d1 = d0 % ndim, d1 % ndim
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return permute(v, tuple(axes))


def index(v: Any, key: Any) -> Any:
    if not is_sym(v):
        return v[key]
    return op("index", v, params=(numpy_key(key),))


def numpy_key(key: Any) -> Any:
    """A torch indexing key as NumPy reads it (tensors become integer/boolean arrays)."""
    if isinstance(key, tuple):
        return tuple(numpy_key(k) for k in key)
    if isinstance(key, (Sym, Opaque)):
        raise Refused("data_dependent", "an index that depends on the variables")
    if isinstance(key, Tensor):
        arr = key.detach().cpu().numpy()
        if arr.dtype.kind == "f":
            raise Refused("unsupported_op", "a floating-point index")
        return arr
    if isinstance(key, list):
        return np.asarray(key)
    return key


def concatenate(values: list[Any], axis: int) -> Any:
    if not any(is_sym(v) for v in values):
        return torch.cat([torch.as_tensor(v) for v in values], dim=axis)
    ndim = len(shape_of(values[0]))
    return sym(make("concatenate", [expr_of(v) for v in values], (axis % max(ndim, 1),)), *values)


def total(v: Any, dims: Any = None, keepdim: bool = False) -> Any:
    """``torch.sum(v, dims, keepdim)``: one engine ``sum`` per axis, last axis first."""
    if not is_sym(v):
        return (
            torch.sum(torch.as_tensor(v), dim=dims, keepdim=keepdim)
            if dims is not None
            else v.sum()
        )
    ndim = v.dim()
    if dims is None or (isinstance(dims, (tuple, list)) and len(dims) == 0):
        out = op("sum", v, params=(None, False))
        return reshape(out, (1,) * ndim) if keepdim else out
    axes = sorted({int(d) % max(ndim, 1) for d in ((dims,) if isinstance(dims, int) else dims)})
    out = v
    for axis in reversed(axes):
        out = op("sum", out, params=(axis, keepdim))
    return out


def count(v: Any, dims: Any = None) -> int:
    shape = shape_of(v)
    if dims is None or (isinstance(dims, (tuple, list)) and len(dims) == 0):
        return int(np.prod(shape, dtype=np.int64))
    dims = (dims,) if isinstance(dims, int) else dims
    return int(np.prod([shape[int(d)] for d in dims], dtype=np.int64))


def mean(v: Any, dims: Any = None, keepdim: bool = False) -> Any:
    return div(total(v, dims, keepdim), float(count(v, dims)))


def matmul(a: Any, b: Any) -> Any:
    """``a @ b`` with torch's rules for the ranks the engine reads: 1-D and 2-D operands, and a
    stack of rows (``(..., k) @ (k, n)``) folded into one matrix product."""
    if not (is_sym(a) or is_sym(b)):
        return a @ b
    sa, sb = shape_of(a), shape_of(b)
    if is_sym(a) and is_sym(b) and len(sa) >= 2 and len(sb) >= 2:
        # a product of two variable matrices is bilinear, never affine, and no DCP rule makes
        # it convex: refused here, before the engine bounds a large product entry by entry
        raise Refused(
            "multiplicative_weights",
            f"a product of two factors that both depend on the variables ({list(sa)} @ "
            f"{list(sb)}): not affine, so its curvature is unknown",
        )
    if len(sa) <= 2 and len(sb) <= 2:
        return op("matmul", a, b)
    if len(sb) <= 2 and len(sa) > 2:
        rows = reshape(a, (-1, sa[-1]))
        out = op("matmul", rows, b)
        return reshape(out, sa[:-1] + (sb[-1],) if len(sb) == 2 else sa[:-1])
    if len(sa) == 2 and len(sb) > 2:  # (m, k) @ (..., k, n): transpose both sides
        bt = swap(b, -1, -2)
        out = matmul(bt, swap_const(a))
        return swap(out, -1, -2)
    if sa[:-2] != sb[:-2] or int(np.prod(sa[:-2])) > 256:
        raise Refused(
            "unsupported_op", f"a batched matrix product of shapes {list(sa)} and {list(sb)}"
        )
    batch = sa[:-2]
    flat_a = reshape(a, (-1,) + sa[-2:])
    flat_b = reshape(b, (-1,) + sb[-2:])
    parts = []
    for i in range(int(np.prod(batch))):
        pa, pb = index(flat_a, (i,)), index(flat_b, (i,))
        parts.append(reshape(op("matmul", pa, pb), (1, sa[-2], sb[-1])))
    return reshape(concatenate(parts, 0), batch + (sa[-2], sb[-1]))


def swap_const(a: Any) -> Any:
    return swap(a, -1, -2)


def unary(name: str, v: Any, params: tuple = ()) -> Any:
    return op(name, v, params=params)


def maximum(a: Any, b: Any) -> Any:
    shape = tuple(np.broadcast_shapes(shape_of(a), shape_of(b)))
    return op("maximum", broadcast_to(a, shape), broadcast_to(b, shape))


def minimum(a: Any, b: Any) -> Any:
    shape = tuple(np.broadcast_shapes(shape_of(a), shape_of(b)))
    return op("minimum", broadcast_to(a, shape), broadcast_to(b, shape))


def select(mask: Tensor, a: Any, b: Any) -> Any:
    """``torch.where(mask, a, b)`` for a condition that is data: ``m*a + (1-m)*b`` is exactly
    ``a`` or ``b`` in every entry (a product with 0 or 1 and a sum with 0 are exact)."""
    shape = tuple(np.broadcast_shapes(tuple(mask.shape), shape_of(a), shape_of(b)))
    m = mask.to(torch.float64).expand(shape)
    parts = []
    if not _is_zero(a):
        parts.append(mul(m, broadcast_to(a, shape)) if bool(m.any()) else None)
    if not _is_zero(b):
        parts.append(mul(1.0 - m, broadcast_to(b, shape)) if bool((m == 0).any()) else None)
    parts = [p for p in parts if p is not None]
    if not parts:
        return torch.zeros(shape, dtype=torch.float64)
    out = parts[0]
    for p in parts[1:]:
        out = add(out, p)
    return out
