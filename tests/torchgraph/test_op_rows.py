"""Every row of the torch op table against the eager op, numerically.

A sample is a torch call whose variable arguments are marked ``V(tensor)``. The test builds the
row's translation with those arguments as tensor-engine variables, evaluates the expression at
the tensors' values with the engine's own evaluator, and compares with the eager op in float64.
A refusing row must refuse its sample. ``test_every_row_has_a_sample`` keeps the table and the
samples in step: a new row without a sample fails here.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convexcheck.tensor.evaluate import Program
from convexcheck.tensor.expr import variable
from convexcheck.torchgraph import translate  # noqa: F401  (registers every row)
from convexcheck.torchgraph.ops import ROWS
from convexcheck.torchgraph.trace import model_output
from convexcheck.torchgraph.values import Opaque, Refused, Sym


@dataclass
class V:
    """A variable argument: its value at the test point."""

    value: torch.Tensor


G = torch.Generator().manual_seed(0)


def r(*shape: int, positive: bool = False) -> torch.Tensor:
    t = torch.randn(*shape, generator=G, dtype=torch.float64)
    return t.abs() + 0.1 if positive else t


def labels(n: int, c: int) -> torch.Tensor:
    return torch.randint(0, c, (n,), generator=G)


def probs(*shape: int) -> torch.Tensor:
    return torch.rand(*shape, generator=G, dtype=torch.float64)


S = Callable[[], tuple[Callable[..., Any], tuple, dict]]


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> S:
    return lambda: (fn, args, kwargs)


def method(name: str, *args: Any, **kwargs: Any) -> S:
    return lambda: (lambda x, *a, **k: getattr(x, name)(*a, **k), args, kwargs)


SAMPLES: dict[str, list[S]] = {
    "getattr": [call(getattr, V(r(2, 3)), "shape"), call(getattr, V(r(2, 3)), "mT")],
    "size": [method("size", V(r(2, 3))), method("size", V(r(2, 3)), 1)],
    "dim": [method("dim", V(r(2, 3)))],
    "numel": [method("numel", V(r(2, 3)))],
    "len": [call(len, V(r(4, 3)))],
    "is_floating_point": [method("is_floating_point", V(r(2)))],
    "model_output": [call(model_output, V(r(3)))],
    "identity": [method("contiguous", V(r(2, 3))), method("double", V(r(3)))],
    "dropout": [call(F.dropout, V(r(3, 2)), 0.5, False)],
    "add": [call(operator.add, V(r(2, 3)), r(3)), call(torch.add, V(r(3)), V(r(3)), alpha=2.0)],
    "sub": [call(operator.sub, r(2, 3), V(r(2, 1)))],
    "rsub": [call(torch.rsub, V(r(3)), 2.0)],
    "mul": [call(operator.mul, V(r(2, 3)), r(3)), call(operator.mul, 3.0, V(r(2)))],
    "div": [call(operator.truediv, V(r(2, 3)), r(3, positive=True)),
            call(operator.truediv, 2.0, V(r(3, positive=True)))],
    "rdiv": [method("__rtruediv__", V(r(3, positive=True)), 2.0)],
    "neg": [call(operator.neg, V(r(3)))],
    "pos": [call(operator.pos, V(r(3)))],
    "pow": [call(operator.pow, V(r(3)), 2), call(torch.pow, V(r(3, positive=True)), 0.5),
            call(operator.pow, 2.0, V(r(3)))],
    "rpow": [method("__rpow__", V(r(3)), 3.0)],
    "square": [call(torch.square, V(r(2, 2)))],
    "sqrt": [call(torch.sqrt, V(r(3, positive=True)))],
    "rsqrt": [call(torch.rsqrt, V(r(3, positive=True)))],
    "reciprocal": [call(torch.reciprocal, V(r(3, positive=True)))],
    "abs": [call(torch.abs, V(r(4)))],
    "exp": [call(torch.exp, V(r(4)))],
    "log": [call(torch.log, V(r(4, positive=True)))],
    "log1p": [call(torch.log1p, V(r(4, positive=True)))],
    "relu": [call(F.relu, V(r(5)))],
    "leaky_relu": [call(F.leaky_relu, V(r(5)), 0.1), call(F.leaky_relu, V(r(5)), 3.0)],
    "softplus": [call(F.softplus, V(r(5))), call(F.softplus, V(r(5)), beta=2.0)],
    "logsigmoid": [call(F.logsigmoid, V(r(5)))],
    "clamp": [call(torch.clamp, V(r(5)), min=-0.5, max=0.5), call(torch.clamp, V(r(5)), min=0.0)],
    "clamp_min": [call(torch.clamp_min, V(r(5)), 0.25)],
    "clamp_max": [call(torch.clamp_max, V(r(5)), 0.25)],
    "maximum": [call(torch.maximum, V(r(2, 3)), r(3))],
    "minimum": [call(torch.minimum, V(r(3)), V(r(3)))],
    "where": [call(torch.where, r(2, 3) > 0, V(r(2, 3)), V(r(3))),
              call(torch.where, r(3) > 0, V(r(3)), 0.0)],
    "sum": [call(torch.sum, V(r(2, 3, 4)), (0, 2)), method("sum", V(r(2, 3)), 1, keepdim=True),
            call(torch.sum, V(r(2, 3)))],
    "mean": [call(torch.mean, V(r(2, 3)), 0), method("mean", V(r(2, 3)))],
    "logsumexp": [call(torch.logsumexp, V(r(2, 3)), 1), call(torch.logsumexp, V(r(2, 3)), 0, True)],
    "log_softmax": [call(F.log_softmax, V(r(2, 4)), dim=1)],
    "amax": [call(torch.amax, V(r(2, 3)), 1), call(torch.amax, V(r(2, 3)))],
    "amin": [call(torch.amin, V(r(2, 3)), 0, True)],
    "max": [call(torch.max, V(r(2, 3))), call(torch.max, V(r(3)), r(3))],
    "min": [call(torch.min, V(r(2, 3)))],
    "norm": [call(torch.norm, V(r(2, 3))), call(torch.norm, V(r(2, 3)), 1, 1)],
    "vector_norm": [call(torch.linalg.vector_norm, V(r(4)), 3)],
    "linalg_norm": [call(torch.linalg.norm, V(r(4)))],
    "view": [method("view", V(r(2, 3)), 3, 2), method("reshape", V(r(2, 3)), -1)],
    "reshape": [call(torch.reshape, V(r(2, 3)), (6, 1))],
    "flatten": [call(torch.flatten, V(r(2, 3, 2)), 1)],
    "unflatten": [method("unflatten", V(r(2, 6)), 1, (2, 3))],
    "squeeze": [method("squeeze", V(r(2, 1, 3))), method("squeeze", V(r(2, 1)), -1)],
    "unsqueeze": [call(torch.unsqueeze, V(r(2, 3)), 1)],
    "expand": [method("expand", V(r(1, 3)), 4, -1)],
    "expand_as": [method("expand_as", V(r(1, 3)), r(2, 3))],
    "broadcast_to": [call(torch.broadcast_to, V(r(3)), (2, 3))],
    "permute": [method("permute", V(r(2, 3, 4)), 2, 0, 1)],
    "transpose": [call(torch.transpose, V(r(2, 3, 4)), 0, 2)],
    "t": [call(torch.t, V(r(2, 3)))],
    "getitem": [call(operator.getitem, V(r(4, 3)), (slice(1, 3), 0)),
                call(operator.getitem, V(r(4, 3)), (torch.tensor([0, 2, 2]),)),
                call(operator.getitem, V(r(4, 3)), (None, Ellipsis, 1))],
    "select": [call(torch.select, V(r(4, 3)), 1, 2)],
    "narrow": [call(torch.narrow, V(r(4, 3)), 0, 1, 2)],
    "index_select": [call(torch.index_select, V(r(4, 3)), 0, torch.tensor([3, 0]))],
    "gather": [call(torch.gather, V(r(4, 3)), 1, torch.tensor([[0], [2], [1], [1]]))],
    "cat": [call(torch.cat, [V(r(2, 3)), r(1, 3)], 0)],
    "stack": [call(torch.stack, [V(r(3)), V(r(3))], 1)],
    "split": [call(torch.split, V(r(5, 2)), 2), call(torch.split, V(r(5, 2)), [1, 4])],
    "chunk": [call(torch.chunk, V(r(2, 5)), 2, 1)],
    "diagonal": [call(torch.diagonal, V(r(3, 3)))],
    "trace": [call(torch.trace, V(r(3, 3)))],
    "triu": [call(torch.triu, V(r(3, 3))), method("triu", V(r(2, 3, 3)), 1)],
    "tril": [call(torch.tril, V(r(3, 4)), -1)],
    "matmul": [call(operator.matmul, r(4, 3), V(r(3, 2))), call(torch.matmul, V(r(2, 4, 3)), r(3)),
               call(torch.matmul, V(r(2, 4, 3)), r(2, 3, 2)), call(torch.mv, V(r(2, 3)), r(3))],
    "rmatmul": [method("__rmatmul__", V(r(3, 2)), r(4, 3))],
    "dot": [call(torch.dot, V(r(3)), r(3))],
    "addmm": [call(torch.addmm, r(2), r(4, 3), V(r(3, 2)))],
    "einsum": [call(torch.einsum, "ij,kj->ik", r(4, 3), V(r(2, 3)))],
    "linear": [call(F.linear, r(5, 3), V(r(2, 3)), V(r(2))),
               call(F.linear, V(r(2, 5, 3)), r(2, 3))],
    "bilinear": [call(F.bilinear, r(4, 3), r(4, 2), V(r(5, 3, 2)), V(r(5))),
                 call(F.bilinear, V(r(4, 3)), r(4, 2), r(5, 3, 2))],
    "conv2d": [call(F.conv2d, r(2, 3, 6, 5), V(r(4, 3, 3, 2)), V(r(4)), stride=2, padding=1),
               call(F.conv2d, V(r(1, 2, 5, 5)), r(3, 2, 3, 3), dilation=2)],
    "conv1d": [call(F.conv1d, r(2, 3, 7), V(r(4, 3, 3)), padding="same"),
               call(F.conv1d, V(r(3, 7)), r(2, 3, 2), stride=2)],
    "avg_pool2d": [call(F.avg_pool2d, V(r(2, 3, 4, 4)), 2)],
    "max_pool2d": [call(F.max_pool2d, V(r(1, 2, 4, 6)), 2)],
    "adaptive_avg_pool": [call(F.adaptive_avg_pool2d, V(r(2, 3, 4, 4)), 1)],
    "embedding": [call(F.embedding, torch.tensor([[0, 3], [2, 2]]), V(r(5, 3)))],
    "embedding_bag": [call(F.embedding_bag, torch.tensor([1, 2, 4, 4, 3]), V(r(6, 3)),
                           torch.tensor([0, 2]), mode="mean"),
                      call(F.embedding_bag, torch.tensor([[1, 2], [0, 0]]), V(r(6, 3)),
                           mode="sum", per_sample_weights=r(2, 2))],
    "batch_norm": [call(F.batch_norm, V(r(4, 3)), r(3), r(3, positive=True), V(r(3)), r(3),
                        False),
                   call(F.batch_norm, r(4, 3, 2), None, None, V(r(3)), V(r(3)), True)],
    "layer_norm": [call(F.layer_norm, r(4, 3), (3,), V(r(3)), V(r(3)))],
    "group_norm": [call(F.group_norm, r(4, 4, 2), 2, V(r(4)), None)],
    "pad": [call(F.pad, V(r(2, 3)), (1, 2))],
    "mse_loss": [call(F.mse_loss, V(r(4, 2)), r(4, 2)), call(F.mse_loss, V(r(4)), r(4),
                                                           reduction="sum")],
    "l1_loss": [call(F.l1_loss, V(r(4, 2)), r(4, 2), reduction="none")],
    "huber_loss": [call(F.huber_loss, V(r(6) * 2), r(6), delta=0.7)],
    "smooth_l1_loss": [call(F.smooth_l1_loss, V(r(6) * 2), r(6), beta=0.5),
                       call(F.smooth_l1_loss, V(r(6)), r(6), beta=0.0)],
    "binary_cross_entropy_with_logits": [
        call(F.binary_cross_entropy_with_logits, V(r(5, 2)), probs(5, 2)),
        call(F.binary_cross_entropy_with_logits, V(r(5, 2)), probs(5, 2), weight=probs(2),
             pos_weight=r(2, positive=True)),
    ],
    "soft_margin_loss": [call(F.soft_margin_loss, V(r(5)), torch.sign(r(5)))],
    "multilabel_soft_margin_loss": [call(F.multilabel_soft_margin_loss, V(r(4, 3)),
                                         (probs(4, 3) > 0.5).double(), weight=probs(3))],
    "nll_loss": [call(F.nll_loss, V(r(5, 3)), labels(5, 3)),
                 call(F.nll_loss, V(r(5, 3)), torch.tensor([0, -100, 2, 1, 1]), weight=probs(3))],
    "cross_entropy": [
        call(F.cross_entropy, V(r(6, 4)), labels(6, 4)),
        call(F.cross_entropy, V(r(6, 4)), labels(6, 4), weight=probs(4) + 0.1,
             label_smoothing=0.2),
        call(F.cross_entropy, V(r(6, 4)), torch.tensor([0, -100, 3, 1, 2, 2]),
             label_smoothing=0.1, reduction="sum"),
        call(F.cross_entropy, V(r(6, 4)), torch.softmax(r(6, 4), 1), label_smoothing=0.1),
        call(F.cross_entropy, V(r(4)), torch.tensor(2)),
    ],
    "poisson_nll_loss": [call(F.poisson_nll_loss, V(r(5)), torch.poisson(probs(5) * 3)),
                         call(F.poisson_nll_loss, V(r(5, positive=True)), probs(5) * 4,
                              log_input=False, full=True)],
    "kl_div": [call(F.kl_div, V(r(4, 3)), torch.softmax(r(4, 3), 1), reduction="batchmean"),
               call(F.kl_div, V(r(4, 3)), r(4, 3), reduction="sum", log_target=True)],
    "multi_margin_loss": [call(F.multi_margin_loss, V(r(5, 3)), labels(5, 3)),
                          call(F.multi_margin_loss, V(r(5, 3)), labels(5, 3), p=2, margin=0.5,
                               weight=probs(3))],
    "margin_ranking_loss": [call(F.margin_ranking_loss, V(r(5)), r(5), torch.sign(r(5)), 0.2)],
    "hinge_embedding_loss": [call(F.hinge_embedding_loss, V(r(6)),
                                  torch.tensor([1.0, -1, -1, 1, -1, 1]))],
    "gaussian_nll_loss": [call(F.gaussian_nll_loss, V(r(5)), r(5), r(5, positive=True))],
}  # fmt: skip

REFUSED_SAMPLES: dict[str, S] = {
    "gt": call(operator.gt, V(r(3)), 0.0),
    "ge": call(torch.ge, V(r(3)), r(3)),
    "lt": call(operator.lt, V(r(3)), 0.0),
    "le": call(operator.le, V(r(3)), 0.0),
    "eq": call(operator.eq, V(r(3)), 0.0),
    "ne": call(torch.ne, V(r(3)), 0.0),
    "sign": call(torch.sign, V(r(3))),
    "argmax": call(torch.argmax, V(r(3))),
    "round": call(torch.round, V(r(3))),
    "tanh": call(torch.tanh, V(r(3))),
    "sigmoid": call(torch.sigmoid, V(r(3))),
    "gelu": call(F.gelu, V(r(3))),
    "silu": call(F.silu, V(r(3))),
    "mish": call(F.mish, V(r(3))),
    "elu": call(F.elu, V(r(3))),
    "selu": call(F.selu, V(r(3))),
    "celu": call(F.celu, V(r(3))),
    "hardtanh": call(F.hardtanh, V(r(3))),
    "relu6": call(F.relu6, V(r(3))),
    "hardsigmoid": call(F.hardsigmoid, V(r(3))),
    "hardswish": call(F.hardswish, V(r(3))),
    "softsign": call(F.softsign, V(r(3))),
    "tanhshrink": call(F.tanhshrink, V(r(3))),
    "sin": call(torch.sin, V(r(3))),
    "cos": call(torch.cos, V(r(3))),
    "softmax": call(F.softmax, V(r(3)), 0),
    "softmin": call(F.softmin, V(r(3)), 0),
    "rms_norm": call(F.rms_norm, V(r(2, 3)), (3,)),
    "normalize": call(F.normalize, V(r(2, 3))),
    "binary_cross_entropy": call(F.binary_cross_entropy, V(probs(3)), probs(3)),
    "cosine_embedding_loss": call(F.cosine_embedding_loss, V(r(2, 3)), r(2, 3), torch.ones(2)),
    "triplet_margin_loss": call(F.triplet_margin_loss, V(r(2, 3)), r(2, 3), r(2, 3)),
    "triplet_margin_with_distance_loss": call(
        F.triplet_margin_with_distance_loss, V(r(2, 3)), r(2, 3), r(2, 3)
    ),
    "ctc_loss": call(lambda x: F.ctc_loss(x, torch.ones(1, 2, dtype=torch.long),
                                          torch.tensor([3]), torch.tensor([2])), V(r(3, 1, 4))),
    "multilabel_margin_loss": call(F.multilabel_margin_loss, V(r(2, 3)),
                                   torch.tensor([[0, -1, 1], [2, -1, 0]])),
}  # fmt: skip


def _sample_ids() -> list[tuple[str, int]]:
    return [(name, i) for name, samples in SAMPLES.items() for i in range(len(samples))]


def test_every_row_has_a_sample():
    missing = sorted(set(ROWS) - set(SAMPLES) - set(REFUSED_SAMPLES))
    assert not missing, f"rows without a sample: {missing}"
    assert not (set(SAMPLES) | set(REFUSED_SAMPLES)) - set(ROWS)
    for name in REFUSED_SAMPLES:
        assert ROWS[name].kind == "refused", name


def _prepare(args: Any, names: list[str], values: dict[str, np.ndarray]) -> tuple[Any, Any]:
    """(arguments for the row, arguments for the eager op)."""
    if isinstance(args, V):
        name = f"v{len(names)}"
        names.append(name)
        values[name] = args.value.numpy()
        return Sym(variable(name, tuple(args.value.shape)), args.value.dtype), args.value
    if isinstance(args, (list, tuple)):
        pairs = [_prepare(a, names, values) for a in args]
        return type(args)(p[0] for p in pairs), type(args)(p[1] for p in pairs)
    if isinstance(args, dict):
        pairs = {k: _prepare(a, names, values) for k, a in args.items()}
        return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
    return args, args


def _evaluate(value: Any, values: dict[str, np.ndarray]) -> Any:
    if isinstance(value, Sym):
        program = Program(value.expr)
        batch = {n: v[None] for n, v in values.items() if n in program.variables}
        return np.asarray(program(batch))[0] if batch else None
    return value


@pytest.mark.parametrize(("name", "i"), _sample_ids())
def test_row_matches_eager_op(name, i):
    fn, args, kwargs = SAMPLES[name][i]()
    names: list[str] = []
    values: dict[str, np.ndarray] = {}
    row_args, eager_args = _prepare(args, names, values)
    row_kwargs, eager_kwargs = _prepare(kwargs, names, values)
    want = fn(*eager_args, **eager_kwargs)
    got_value = ROWS[name].translate(*row_args, **row_kwargs)
    if isinstance(got_value, tuple) and isinstance(got_value[-1], Opaque):
        got_value, want = got_value[0], want.values
    if isinstance(got_value, tuple):
        assert len(got_value) == len(want), name
        for g, w in zip(got_value, want):
            _compare(name, g, w, values)
    else:
        _compare(name, got_value, want, values)


def _compare(name: str, got_value: Any, want: Any, values: dict[str, np.ndarray]) -> None:
    if isinstance(got_value, Sym):
        got = _evaluate(got_value, values)
        want_arr = np.asarray(torch.as_tensor(want, dtype=torch.float64))
        assert got.shape == want_arr.shape, (name, got.shape, want_arr.shape)
        np.testing.assert_allclose(got, want_arr, rtol=1e-9, atol=1e-12, err_msg=name)
    elif isinstance(got_value, torch.Tensor):
        torch.testing.assert_close(got_value.double(), torch.as_tensor(want).double())
    else:
        assert got_value == want, name


@pytest.mark.parametrize("name", sorted(REFUSED_SAMPLES))
def test_refusing_rows_refuse(name):
    _fn, args, kwargs = REFUSED_SAMPLES[name]()
    names: list[str] = []
    values: dict[str, np.ndarray] = {}
    row_args, _ = _prepare(args, names, values)
    row_kwargs, _ = _prepare(kwargs, names, values)
    with pytest.raises(Refused):
        ROWS[name].translate(*row_args, **row_kwargs)
