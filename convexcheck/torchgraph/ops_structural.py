"""Op rows for shapes, indexing and products: reshape/view, permute, getitem, gather, cat,
matmul, einsum and their Tensor-method spellings.

All are affine in each argument (products in each factor with the other held constant); the
engine's atoms for them are ``reshape``, ``permute``, ``index``, ``concatenate`` and ``matmul``.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np
import torch

from convexcheck.torchgraph import values as v
from convexcheck.torchgraph.ops import row
from convexcheck.torchgraph.values import Refused


# ---- shape and indexing --------------------------------------------------------------------
def _shape_args(args: tuple) -> tuple[int, ...]:
    if len(args) == 1 and isinstance(args[0], (tuple, list, torch.Size)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


@row("view", kind="structural", methods=("view", "reshape"))
def _view(x: Any, *shape: Any) -> Any:
    if len(shape) == 1 and isinstance(shape[0], torch.dtype):
        raise Refused("unsupported_op", "a view as another dtype")
    return v.reshape(x, _shape_args(shape))


@row("reshape", kind="structural", functions=(torch.reshape,))
def _reshape(x: Any, shape: Any) -> Any:
    return v.reshape(x, _shape_args((shape,)))


@row("flatten", kind="structural", functions=(torch.flatten,), methods=("flatten",))
def _flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
    shape = list(v.shape_of(x))
    if not shape:
        return v.reshape(x, (1,))
    s, e = start_dim % len(shape), end_dim % len(shape)
    return v.reshape(x, tuple(shape[:s]) + (math.prod(shape[s : e + 1]),) + tuple(shape[e + 1 :]))


@row("unflatten", kind="structural", functions=(torch.unflatten,), methods=("unflatten",))
def _unflatten(x: Any, dim: int, sizes: Any) -> Any:
    shape = list(v.shape_of(x))
    d = dim % len(shape)
    sizes = [int(s) for s in sizes]
    if -1 in sizes:
        known = math.prod(s for s in sizes if s != -1)
        sizes = [shape[d] // known if s == -1 else s for s in sizes]
    return v.reshape(x, tuple(shape[:d] + sizes + shape[d + 1 :]))


@row("squeeze", kind="structural", functions=(torch.squeeze,), methods=("squeeze",))
def _squeeze(x: Any, dim: Any = None) -> Any:
    shape = list(v.shape_of(x))
    if dim is None:
        new = [s for s in shape if s != 1]
    else:
        dims = (
            {d % len(shape) for d in ((dim,) if isinstance(dim, int) else dim)} if shape else set()
        )
        new = [s for i, s in enumerate(shape) if not (i in dims and s == 1)]
    return v.reshape(x, tuple(new))


@row("unsqueeze", kind="structural", functions=(torch.unsqueeze,), methods=("unsqueeze",))
def _unsqueeze(x: Any, dim: int) -> Any:
    shape = list(v.shape_of(x))
    d = dim % (len(shape) + 1)
    return v.reshape(x, tuple(shape[:d] + [1] + shape[d:]))


@row("expand", kind="structural", methods=("expand",))
def _expand(x: Any, *sizes: Any) -> Any:
    sizes = _shape_args(sizes)
    shape = v.shape_of(x)
    full = tuple(
        shape[i - (len(sizes) - len(shape))] if s == -1 else s for i, s in enumerate(sizes)
    )
    return v.broadcast_to(x, full)


@row("expand_as", kind="structural", methods=("expand_as",))
def _expand_as(x: Any, other: Any) -> Any:
    return v.broadcast_to(x, v.shape_of(other))


@row("broadcast_to", kind="structural", functions=(torch.broadcast_to,), methods=("broadcast_to",))
def _broadcast_to(x: Any, shape: Any) -> Any:
    return v.broadcast_to(x, _shape_args((shape,)))


@row("permute", kind="structural", functions=(torch.permute,), methods=("permute",))
def _permute(x: Any, *dims: Any) -> Any:
    return v.permute(x, _shape_args(dims))


@row(
    "transpose",
    kind="structural",
    functions=(torch.transpose, torch.swapaxes, torch.swapdims),
    methods=("transpose", "swapaxes", "swapdims"),
)
def _transpose(x: Any, dim0: int, dim1: int) -> Any:
    return v.swap(x, dim0, dim1)


@row("t", kind="structural", functions=(torch.t,), methods=("t",))
def _t(x: Any) -> Any:
    return v.swap(x, 0, 1) if len(v.shape_of(x)) == 2 else x


@row("getitem", kind="structural", functions=(operator.getitem,))
def _getitem(x: Any, key: Any) -> Any:
    if isinstance(x, (tuple, list)):
        return x[key]
    return v.index(x, key)


@row("select", kind="structural", functions=(torch.select,), methods=("select",))
def _select(x: Any, dim: int, i: int) -> Any:
    key = (slice(None),) * (dim % x.dim()) + (int(i),)
    return v.index(x, key)


@row("narrow", kind="structural", functions=(torch.narrow,), methods=("narrow",))
def _narrow(x: Any, dim: int, start: int, length: int) -> Any:
    key = (slice(None),) * (dim % x.dim()) + (slice(int(start), int(start) + int(length)),)
    return v.index(x, key)


@row("index_select", kind="structural", functions=(torch.index_select,), methods=("index_select",))
def _index_select(x: Any, dim: int, index: Any) -> Any:
    key = (slice(None),) * (dim % x.dim()) + (v.numpy_key(index),)
    return v.index(x, key)


@row("gather", kind="structural", functions=(torch.gather,), methods=("gather",))
def _gather(x: Any, dim: int, index: Any, *, sparse_grad: bool = False) -> Any:
    idx = v.numpy_key(index)
    grids = list(np.indices(idx.shape, sparse=True))
    grids[dim % x.dim()] = idx
    return v.index(x, tuple(grids))


@row("cat", kind="structural", functions=(torch.cat, torch.concat, torch.concatenate))
def _cat(tensors: Any, dim: int = 0, *, out: Any = None) -> Any:
    return v.concatenate(list(tensors), int(dim))


@row("stack", kind="structural", functions=(torch.stack,))
def _stack(tensors: Any, dim: int = 0, *, out: Any = None) -> Any:
    parts = [_unsqueeze(t, dim) for t in tensors]
    return v.concatenate(parts, int(dim) % (len(v.shape_of(parts[0]))))


@row("split", kind="structural", functions=(torch.split,), methods=("split",))
def _split(x: Any, split_size_or_sections: Any, dim: int = 0) -> Any:
    n = v.shape_of(x)[dim]
    if isinstance(split_size_or_sections, int):
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        if n % split_size_or_sections:
            sizes.append(n % split_size_or_sections)
    else:
        sizes = [int(s) for s in split_size_or_sections]
    out, start = [], 0
    for s in sizes:
        out.append(_narrow(x, dim, start, s))
        start += s
    return tuple(out)


@row("chunk", kind="structural", functions=(torch.chunk,), methods=("chunk",))
def _chunk(x: Any, chunks: int, dim: int = 0) -> Any:
    n = v.shape_of(x)[dim]
    size = -(-n // int(chunks))
    return _split(x, size, dim)


@row("diagonal", kind="structural", functions=(torch.diagonal,), methods=("diagonal",))
def _diagonal(x: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
    if x.dim() != 2 or offset != 0:
        raise Refused("unsupported_op", "diagonal of other than a matrix's main diagonal")
    n = min(v.shape_of(x))
    return v.index(x, (np.arange(n), np.arange(n)))


@row("trace", kind="linear", functions=(torch.trace,), methods=("trace",))
def _trace(x: Any) -> Any:
    return v.total(_diagonal(x))


# ---- products ------------------------------------------------------------------------------
@row(
    "matmul",
    kind="linear",
    functions=(operator.matmul, torch.matmul, torch.mm, torch.bmm, torch.mv),
    methods=("matmul", "mm", "bmm", "mv", "__matmul__"),
)
def _matmul(a: Any, b: Any, *, out: Any = None) -> Any:
    return v.matmul(a, b)


@row("rmatmul", kind="linear", methods=("__rmatmul__",))
def _rmatmul(a: Any, b: Any) -> Any:
    return v.matmul(b, a)


@row("dot", kind="linear", functions=(torch.dot, torch.vdot), methods=("dot",))
def _dot(a: Any, b: Any) -> Any:
    return v.matmul(a, b)


@row("addmm", kind="linear", functions=(torch.addmm,), methods=("addmm",))
def _addmm(bias: Any, a: Any, b: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
    return v.add(v.mul(bias, beta), v.mul(v.matmul(a, b), alpha))


@row("einsum", kind="linear", functions=(torch.einsum,))
def _einsum(equation: str, *operands: Any) -> Any:
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    spec = equation.replace(" ", "")
    common = {"ij,jk->ik", "ij,kj->ik", "bi,ij->bj", "bi,ji->bj", "i,i->", "ij,j->i"}
    if spec not in common or len(operands) != 2:
        raise Refused("unsupported_op", f"einsum {equation!r}")
    a, b = operands
    if spec in ("ij,kj->ik", "bi,ji->bj"):
        b = v.swap(b, 0, 1)
    return v.matmul(a, b)


@row("triu", kind="structural", functions=(torch.triu,), methods=("triu",))
def _triu(x: Any, diagonal: int = 0) -> Any:
    shape = v.shape_of(x)
    mask = torch.ones(shape[-2:], dtype=torch.float64).triu(int(diagonal))
    return v.mul(mask, x)


@row("tril", kind="structural", functions=(torch.tril,), methods=("tril",))
def _tril(x: Any, diagonal: int = 0) -> Any:
    shape = v.shape_of(x)
    mask = torch.ones(shape[-2:], dtype=torch.float64).tril(int(diagonal))
    return v.mul(mask, x)


def _refuse_comparison(name: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise Refused(
            "data_dependent",
            f"a comparison ({name}) of a value that depends on the variables: what follows "
            "switches with the variables (write max/min or clamp instead)",
        )

    return refuse


for _name, _fns, _methods in (
    ("gt", (operator.gt, torch.gt, torch.greater), ("gt", "__gt__", "greater")),
    ("ge", (operator.ge, torch.ge, torch.greater_equal), ("ge", "__ge__", "greater_equal")),
    ("lt", (operator.lt, torch.lt, torch.less), ("lt", "__lt__", "less")),
    ("le", (operator.le, torch.le, torch.less_equal), ("le", "__le__", "less_equal")),
    ("eq", (operator.eq, torch.eq), ("eq", "__eq__")),
    ("ne", (operator.ne, torch.ne), ("ne", "__ne__")),
    ("sign", (torch.sign, torch.signbit), ("sign",)),
    ("argmax", (torch.argmax, torch.argmin, torch.argsort, torch.sort, torch.topk),
     ("argmax", "argmin", "argsort", "sort", "topk")),
    ("round", (torch.round, torch.floor, torch.ceil, torch.trunc),
     ("round", "floor", "ceil", "trunc")),
):  # fmt: skip
    row(_name, kind="refused", functions=_fns, methods=_methods)(_refuse_comparison(_name))
