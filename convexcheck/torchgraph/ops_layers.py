"""Op rows for layers: linear, convolution, pooling, embeddings, bilinear and normalisation.

Each is affine in every argument when the others are constant, and the translation keeps that
visible: a convolution becomes one matrix product of the unfolded input with the flattened
kernel (torch's own ``F.unfold`` fixes which input entries each output reads, so stride,
padding and dilation are exactly torch's), an embedding bag becomes a constant counting matrix
times the table. When two arguments both depend on the variables the product is kept as such
and the DCP engine says it is not affine (the multiplicative-weights obstacle).

Normalisation layers divide by statistics of their input: applied to a value that depends on
the variables they are refused (``batch_statistics`` / ``normalization``); applied to constants
they are constants, and their own trainable scale and shift stay affine.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from convexcheck.torchgraph import values as v
from convexcheck.torchgraph.ops import row
from convexcheck.torchgraph.values import Refused, is_sym

MAX_COUNT_MATRIX_ENTRIES = 50_000_000


def _channel_shape(ndim: int, c: int) -> tuple[int, ...]:
    return (1, c) + (1,) * max(ndim - 2, 0) if ndim >= 2 else (c,)


@row("linear", kind="linear", functions=(F.linear,))
def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    out = v.matmul(x, v.swap(weight, 0, 1) if len(v.shape_of(weight)) == 2 else weight)
    return out if bias is None else v.add(out, bias)


@row("bilinear", kind="linear", functions=(F.bilinear,))
def bilinear(x1: Any, x2: Any, weight: Any, bias: Any = None) -> Any:
    """``out[n, k] = x1[n]^T W[k] x2[n] + b[k]``."""
    s1, s2, sw = v.shape_of(x1), v.shape_of(x2), v.shape_of(weight)
    lead = s1[:-1]
    a = v.reshape(x1, (-1, s1[-1]))
    c = v.reshape(x2, (-1, s2[-1]))
    n, (k, i, j) = v.shape_of(a)[0], sw
    if not is_sym(x1) and not is_sym(x2):
        # one product with the constant outer products: linear in the weight, plainly
        z = (a.unsqueeze(2) * c.unsqueeze(1)).reshape(n, i * j)
        out = v.matmul(z, v.swap(v.reshape(weight, (k, i * j)), 0, 1))
    else:
        w = v.reshape(v.permute(weight, (1, 0, 2)), (i, k * j))
        t = v.reshape(v.matmul(a, w), (n, k, j))
        out = v.total(v.mul(t, v.reshape(c, (n, 1, j))), 2)
    if bias is not None:
        out = v.add(out, bias)
    return v.reshape(out, lead + (k,))


def _pair(x: Any, n: int) -> tuple[int, ...]:
    if isinstance(x, int):
        return (x,) * n
    return tuple(int(a) for a in x)


def unfold(x: Any, kernel: tuple, dilation: tuple, padding: tuple, stride: tuple) -> Any:
    """``F.unfold`` of a constant, or the same gather of a variable's entries (padding reads a
    zero appended to the flattened input): shape ``(N, C*kh*kw, L)``."""
    if not is_sym(x):
        return F.unfold(x, kernel, dilation, padding, stride)
    shape = v.shape_of(x)
    size = math.prod(shape)
    positions = torch.arange(1, size + 1, dtype=torch.float64).reshape(shape)
    cols = F.unfold(positions, kernel, dilation, padding, stride).round().long() - 1
    cols[cols < 0] = size
    flat = v.concatenate([v.reshape(x, (size,)), torch.zeros(1, dtype=torch.float64)], 0)
    return v.index(flat, (cols.numpy(),))


def _conv_padding(padding: Any, kernel: tuple, dilation: tuple, n: int) -> tuple[int, ...]:
    if padding == "valid":
        return (0,) * n
    if padding == "same":
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        if any(t % 2 for t in total):
            raise Refused("unsupported_op", "padding='same' with an even kernel (asymmetric)")
        return tuple(t // 2 for t in total)
    return _pair(padding, n)


def conv(
    x: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: int, dims: int
) -> Any:
    if is_sym(x) and is_sym(weight):
        raise Refused(
            "multiplicative_weights",
            "a convolution whose input and kernel both depend on the variables: a product of "
            "two variable factors, not affine, so its curvature is unknown",
        )
    if groups != 1:
        raise Refused("unsupported_op", f"a grouped convolution (groups={groups})")
    sw = v.shape_of(weight)
    unbatched = len(v.shape_of(x)) == dims + 1
    if unbatched:
        x = v.reshape(x, (1,) + v.shape_of(x))
    if dims == 1:  # a 1-D convolution is a 2-D one of height 1
        x = v.reshape(x, v.shape_of(x)[:2] + (1,) + v.shape_of(x)[2:])
        kernel = (1, sw[2])
        stride, dilation = (1,) + _pair(stride, 1), (1,) + _pair(dilation, 1)
        padding = (0,) + _conv_padding(padding, kernel[1:], dilation[1:], 1)
    else:
        kernel = tuple(sw[2:])
        stride, dilation = _pair(stride, 2), _pair(dilation, 2)
        padding = _conv_padding(padding, kernel, dilation, 2)
    xs = v.shape_of(x)
    n, out_c = xs[0], sw[0]
    oh = (xs[2] + 2 * padding[0] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    ow = (xs[3] + 2 * padding[1] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    cols = unfold(x, kernel, dilation, padding, stride)  # (N, C*kh*kw, L)
    ckk = v.shape_of(cols)[1]
    rows = v.reshape(v.permute(cols, (0, 2, 1)), (-1, ckk))
    prod = v.matmul(rows, v.swap(v.reshape(weight, (out_c, ckk)), 0, 1))  # (N*L, O)
    out = v.permute(v.reshape(prod, (n, oh * ow, out_c)), (0, 2, 1))
    shape = (n, out_c, ow) if dims == 1 else (n, out_c, oh, ow)
    out = v.reshape(out, shape)
    if bias is not None:
        out = v.add(out, v.reshape(bias, (1, out_c) + (1,) * dims))
    return v.reshape(out, shape[1:]) if unbatched else out


@row("conv2d", kind="linear", functions=(F.conv2d, torch.conv2d))
def _conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    return conv(x, weight, bias, stride, padding, dilation, groups, 2)


@row("conv1d", kind="linear", functions=(F.conv1d, torch.conv1d))
def _conv1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    return conv(x, weight, bias, stride, padding, dilation, groups, 1)


def _windows(x: Any, kernel: tuple, stride: tuple) -> tuple[Any, tuple[int, ...]]:
    """The pooling windows of ``x`` (N, C, H, W) as columns ``(N*C, kh*kw, L)``, and the
    pooled output's shape (no padding, dilation 1)."""
    n, c, h, w = v.shape_of(x)
    cols = unfold(v.reshape(x, (n * c, 1, h, w)), kernel, (1, 1), (0, 0), stride)
    oh, ow = (h - kernel[0]) // stride[0] + 1, (w - kernel[1]) // stride[1] + 1
    return cols, (n, c, oh, ow)


@row("avg_pool2d", kind="linear", functions=(F.avg_pool2d,))
def _avg_pool2d(
    x: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: Any = None,
) -> Any:
    kernel = _pair(kernel_size, 2)
    stride = kernel if stride in (None, []) else _pair(stride, 2)
    if ceil_mode or _pair(padding, 2) != (0, 0) or divisor_override is not None:
        raise Refused("unsupported_op", "avg_pool2d with padding, ceil_mode or a divisor")
    cols, shape = _windows(x, kernel, stride)
    return v.reshape(v.div(v.total(cols, 1), float(kernel[0] * kernel[1])), shape)


@row("max_pool2d", kind="activation", functions=(F.max_pool2d, torch.max_pool2d))
def _max_pool2d(
    x: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    kernel = _pair(kernel_size, 2)
    stride = kernel if stride in (None, []) else _pair(stride, 2)
    if ceil_mode or return_indices or _pair(padding, 2) != (0, 0) or _pair(dilation, 2) != (1, 1):
        raise Refused("unsupported_op", "max_pool2d with padding, dilation or ceil_mode")
    cols, shape = _windows(x, kernel, stride)
    return v.reshape(v.op("max", cols, params=(1, False)), shape)


@row("adaptive_avg_pool", kind="linear", functions=(F.adaptive_avg_pool2d, F.adaptive_avg_pool1d))
def _adaptive_avg_pool(x: Any, output_size: Any) -> Any:
    if output_size not in (1, (1, 1), [1, 1], (1,)):
        raise Refused("unsupported_op", f"adaptive average pooling to {output_size}")
    nd = len(v.shape_of(x))
    spatial = tuple(range(2, nd)) if nd >= 3 else (nd - 1,)
    return v.mean(x, spatial, keepdim=True)


@row("embedding", kind="linear", functions=(F.embedding,))
def _embedding(
    input: Any,
    weight: Any,
    padding_idx: Any = None,
    max_norm: Any = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Any:
    if is_sym(input):
        raise Refused("unsupported_op", "embedding indices that depend on the variables")
    if max_norm is not None:
        raise Refused("unsupported_op", "embedding with max_norm renormalises the table in place")
    return v.index(weight, (v.numpy_key(input),))


def _bag_matrix(
    input: Tensor,
    offsets: Tensor | None,
    vocab: int,
    mode: str,
    weights: Tensor | None,
    include_last: bool,
    padding_idx: Any,
) -> Tensor:
    """``M`` with ``embedding_bag(...) == M @ table``: per bag, the (weighted) counts of its
    indices, divided by the bag's size for ``mean``."""
    if input.dim() == 2:
        bags = [(b, input[b], None if weights is None else weights[b]) for b in range(len(input))]
    else:
        ends = offsets.tolist()[1:] + ([] if include_last else [len(input)])  # type: ignore[union-attr]
        starts = offsets.tolist()[: len(ends)]  # type: ignore[union-attr]
        bags = [
            (b, input[s:e], None if weights is None else weights[s:e])
            for b, (s, e) in enumerate(zip(starts, ends))
        ]
    if len(bags) * vocab > MAX_COUNT_MATRIX_ENTRIES:
        raise Refused("unsupported_op", "an embedding bag too large to write as a matrix")
    m = torch.zeros(len(bags), vocab, dtype=torch.float64)
    for b, idx, w in bags:
        keep = (
            idx != padding_idx
            if padding_idx is not None
            else torch.ones_like(idx, dtype=torch.bool)
        )
        idx = idx[keep]
        wt = torch.ones(len(idx), dtype=torch.float64) if w is None else w[keep].double()
        m[b].index_add_(0, idx, wt)
        if mode == "mean" and len(idx):
            m[b] /= len(idx)
    return m


@row("embedding_bag", kind="linear", functions=(F.embedding_bag,))
def _embedding_bag(
    input: Any,
    weight: Any,
    offsets: Any = None,
    max_norm: Any = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Any = None,
    include_last_offset: bool = False,
    padding_idx: Any = None,
) -> Any:
    if is_sym(input) or is_sym(per_sample_weights) or is_sym(offsets):
        raise Refused("unsupported_op", "embedding_bag indices or weights that vary")
    if max_norm is not None:
        raise Refused("unsupported_op", "embedding_bag with max_norm renormalises in place")
    if mode not in ("sum", "mean"):
        raise Refused("unsupported_op", f"embedding_bag mode={mode!r} (sum and mean are read)")
    vocab = v.shape_of(weight)[0]
    m = _bag_matrix(
        input, offsets, vocab, mode, per_sample_weights, include_last_offset, padding_idx
    )
    return v.matmul(m, weight)


# ---- normalisation -------------------------------------------------------------------------
def affine_after(x_hat: Any, weight: Any, bias: Any, shape: tuple[int, ...]) -> Any:
    out = x_hat
    if weight is not None:
        out = v.mul(out, v.reshape(weight, shape) if len(shape) else weight)
    if bias is not None:
        out = v.add(out, v.reshape(bias, shape) if len(shape) else bias)
    return out


@row(
    "batch_norm",
    kind="linear",
    functions=(F.batch_norm,),
    note="eval mode (running statistics) is affine; train mode on a variable is refused",
)
def batch_norm(
    x: Any,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Any:
    ndim = len(v.shape_of(x))
    c = v.shape_of(x)[1] if ndim >= 2 else v.shape_of(x)[0]
    shape = _channel_shape(ndim, c)
    if training or running_mean is None:
        if is_sym(x):
            raise Refused(
                "batch_statistics",
                "batch norm in train mode divides by the batch's own statistics of a value "
                "that depends on the variables (call model.eval() to use running statistics)",
            )
        with torch.no_grad():
            x_hat = F.batch_norm(x, None, None, None, None, True, 0.0, eps)
        return affine_after(x_hat, weight, bias, shape)
    scale = torch.rsqrt(running_var.detach() + eps)
    x_hat = v.mul(v.sub(x, running_mean.reshape(shape)), scale.reshape(shape))
    return affine_after(x_hat, weight, bias, shape)


def batch_norm_module(m: nn.Module, x: Any) -> Any:
    """An opaque ``nn.BatchNorm*`` call: its ``forward``'s own choice of statistics."""
    bn_training = m.training or (m.running_mean is None and m.running_var is None)
    if is_sym(x) and bn_training:
        batch_norm(x, None, None, training=True)  # raises the refusal
    return batch_norm(
        x,
        m.running_mean if not bn_training else None,
        m.running_var if not bn_training else None,
        m.weight,
        m.bias,
        bn_training,
        0.0,
        m.eps,
    )


def _normalised(kind: str, fn: Any, x: Any, weight: Any, bias: Any, shape: tuple) -> Any:
    if is_sym(x):
        raise Refused(
            "normalization",
            f"{kind} divides by statistics of a value that depends on the variables",
        )
    with torch.no_grad():
        x_hat = fn(x)
    return affine_after(x_hat, weight, bias, shape)


@row("layer_norm", kind="linear", functions=(F.layer_norm,))
def _layer_norm(
    x: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Any:
    return _normalised(
        "layer_norm",
        lambda t: F.layer_norm(t, normalized_shape, None, None, eps),
        x,
        weight,
        bias,
        (),
    )


@row("group_norm", kind="linear", functions=(F.group_norm,))
def _group_norm(
    x: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Any:
    shape = _channel_shape(len(v.shape_of(x)), v.shape_of(x)[1])
    return _normalised(
        "group_norm",
        lambda t: F.group_norm(t, num_groups, None, None, eps),
        x,
        weight,
        bias,
        shape,
    )


@row("rms_norm", kind="refused", functions=(F.rms_norm,) if hasattr(F, "rms_norm") else ())
def _rms_norm(x: Any, *args: Any, **kwargs: Any) -> Any:
    raise Refused("normalization", "rms_norm divides by the norm of its input")


@row("normalize", kind="refused", functions=(F.normalize,))
def _normalize(x: Any, *args: Any, **kwargs: Any) -> Any:
    raise Refused("normalization", "F.normalize divides by the norm of its input")


@row("pad", kind="structural", functions=(F.pad,))
def _pad(x: Any, pad: Any, mode: str = "constant", value: Any = None) -> Any:
    if mode != "constant":
        raise Refused("unsupported_op", f"F.pad with mode={mode!r}")
    fill = 0.0 if value is None else float(value)
    out = x
    pads = list(pad)
    for i in range(len(pads) // 2):
        dim = len(v.shape_of(out)) - 1 - i
        left, right = int(pads[2 * i]), int(pads[2 * i + 1])
        if left < 0 or right < 0:
            raise Refused("unsupported_op", "F.pad with negative padding")
        parts = []
        shape = list(v.shape_of(out))
        for width in (left,):
            if width:
                shape[dim] = width
                parts.append(torch.full(shape, fill, dtype=torch.float64))
        parts.append(out)
        if right:
            shape = list(v.shape_of(out))
            shape[dim] = right
            parts.append(torch.full(shape, fill, dtype=torch.float64))
        out = v.concatenate(parts, dim) if len(parts) > 1 else out
    return out
