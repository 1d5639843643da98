"""Zoo 12: small PyTorch models with numerically checked convexity labels.

``MODELS[name]()`` builds a fresh :class:`ZooCase`: a module, a loss, fixed data, the variables
being judged (``wrt``) and the true ``label``. The zoo is the acceptance test of the torch.fx ->
DCP engine (``tests/numeric/test_zoo12_verdicts.py``); the labels themselves are re-established
by plain float64 torch numerics in ``tests/numeric/test_zoo12_labels.py`` (Hessian spectra and
Jensen triples for "convex", an explicit Jensen violation for "nonconvex"), so a wrong label is
caught when it is written, not when the engine disagrees with it.

Conventions, so that the label test and the engine judge the same function:

* the objective is ``loss_fn(model(inputs), targets)`` with ``(inputs, targets) = data``; with
  ``wrt="inputs"`` and ``loss_fn is None`` it is ``model(inputs).sum()``, the sum over examples
  of the model's one scalar output per example (convex iff each term is);
* ``wrt="parameters"`` judges every parameter with ``requires_grad=True``; a list of names
  judges exactly those (other parameters held fixed, whatever their ``requires_grad``);
* penalties inside ``loss_fn`` read ``model.parameters()`` when called (never a list captured at
  build time), so a ``functional_call`` substitution of the parameters is seen by the penalty;
* every builder seeds its own RNG (``_seeded`` forks the global one, so building a case does not
  disturb other tests), and models are in eval mode unless train mode is the point.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

CONVEX = "convex"
NONCONVEX = "nonconvex"


@dataclass(frozen=True)
class ZooCase:
    """One model, its loss, fixed data, the judged variables and the true convexity label."""

    model: nn.Module
    loss_fn: Callable[[Any, Any], Tensor] | None
    data: tuple[Any, Any]
    wrt: str | list[str]
    label: str
    why: str
    category: str


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Module initialisation under ``torch.manual_seed(seed)`` on a forked CPU RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _freeze(*modules: nn.Module) -> None:
    for module in modules:
        for p in module.parameters():
            p.requires_grad_(False)


def _regression(n: int = 32, d: int = 4, out: int = 1, seed: int = 0) -> tuple[Tensor, Tensor]:
    g = _gen(seed)
    x = torch.randn(n, d, generator=g)
    w = torch.randn(d, out, generator=g)
    y = x @ w + 0.3 * torch.randn(n, out, generator=g)
    return x, y


def _classes(n: int = 32, d: int = 4, k: int = 3, seed: int = 0) -> tuple[Tensor, Tensor]:
    g = _gen(seed)
    x = torch.randn(n, d, generator=g)
    return x, torch.randint(0, k, (n,), generator=g)


def _signs(n: int = 32, d: int = 4, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Inputs and +-1 labels (shape ``(n, 1)``) from a noisy linear rule."""
    g = _gen(seed)
    x = torch.randn(n, d, generator=g)
    w = torch.randn(d, 1, generator=g)
    y = torch.sign(x @ w + 0.5 * torch.randn(n, 1, generator=g))
    return x, torch.where(y == 0, torch.ones_like(y), y)


def _case(model: nn.Module, loss_fn: Any, data: Any, wrt: Any, label: str, why: str, cat: str):
    return ZooCase(model.eval(), loss_fn, data, wrt, label, why, cat)


# -- small modules -------------------------------------------------------------------------------


class LastHidden(nn.Module):
    """A recurrent backbone (``batch_first``) read at its last time step, then a linear head."""

    def __init__(self, rnn: nn.RNNBase, head: nn.Linear) -> None:
        super().__init__()
        self.rnn = rnn
        self.head = head

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class EncoderPool(nn.Module):
    """A transformer encoder layer, mean-pooled over tokens, then a linear head."""

    def __init__(self, d: int = 4, classes: int = 2) -> None:
        super().__init__()
        self.encoder = nn.TransformerEncoderLayer(
            d, nhead=2, dim_feedforward=8, dropout=0.0, batch_first=True
        )
        self.head = nn.Linear(d, classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x).mean(dim=1))


class AttentionPool(nn.Module):
    """Self-attention (``nn.MultiheadAttention``), mean-pooled over tokens, then a scalar head."""

    def __init__(self, d: int = 4) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(d, num_heads=2, batch_first=True)
        self.head = nn.Linear(d, 1)

    def forward(self, x: Tensor) -> Tensor:
        h, _ = self.attn(x, x, x, need_weights=False)
        return self.head(h.mean(dim=1))


class SmallCNN(nn.Module):
    """Conv2d(1->2, 3x3) + ReLU + 2x2 max pooling + flatten, then a linear head (6x6 images)."""

    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()
        )  # fmt: skip
        self.head = nn.Linear(2 * 2 * 2, classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


class LowRank(nn.Module):
    """The LoRA update ``x -> B (A x)`` (``A``: r x d_in, ``B``: d_out x r)."""

    def __init__(self, d_in: int, d_out: int, r: int, *, b_zero: bool) -> None:
        super().__init__()
        self.A = nn.Parameter(0.5 * torch.randn(r, d_in))
        self.B = nn.Parameter(torch.zeros(d_out, r) if b_zero else 0.5 * torch.randn(d_out, r))

    def forward(self, x: Tensor) -> Tensor:
        return (x @ self.A.T) @ self.B.T


class LoRALinear(nn.Module):
    """A frozen ``W0 x + b0`` plus the low-rank update ``B (A x)``."""

    def __init__(self, d_in: int = 4, d_out: int = 3, r: int = 2, *, b_zero: bool) -> None:
        super().__init__()
        self.base = nn.Linear(d_in, d_out)
        self.lora = LowRank(d_in, d_out, r, b_zero=b_zero)
        _freeze(self.base)

    def forward(self, x: Tensor) -> Tensor:
        return self.base(x) + self.lora(x)


class AdditiveAdapter(nn.Module):
    """A frozen tanh MLP plus a trainable additive linear adapter on the input: no products."""

    def __init__(self) -> None:
        super().__init__()
        self.base = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
        self.adapter = nn.Linear(4, 3)
        _freeze(self.base)

    def forward(self, x: Tensor) -> Tensor:
        return self.base(x) + self.adapter(x)


class ScaleAdapter(nn.Module):
    """IA3-style: frozen features ``h`` rescaled by a trainable vector ``s``, frozen head."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 6), nn.Tanh())
        self.scale = nn.Parameter(torch.ones(6))
        self.head = nn.Linear(6, 3)
        _freeze(self.features, self.head)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x) * self.scale)


class TiedLM(nn.Module):
    """Bigram LM whose output projection is the embedding table itself (shared ``Parameter``)."""

    def __init__(self, vocab: int = 8, d: int = 4) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.out = nn.Linear(d, vocab, bias=False)
        self.out.weight = self.emb.weight

    def forward(self, idx: Tensor) -> Tensor:
        return self.out(self.emb(idx))


class TiedMatmul(nn.Module):
    """``logits = E[idx] @ E.T``: the same table read twice in one expression."""

    def __init__(self, vocab: int = 8, d: int = 4) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)

    def forward(self, idx: Tensor) -> Tensor:
        return self.emb(idx) @ self.emb.weight.T


class EmbeddingHead(nn.Module):
    """An embedding (lookup table) followed by a linear head."""

    def __init__(self, vocab: int = 8, d: int = 4) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.head = nn.Linear(d, vocab)

    def forward(self, idx: Tensor) -> Tensor:
        return self.head(self.emb(idx))


class BagClassifier(nn.Module):
    """``nn.EmbeddingBag`` over fixed-length bags (2-D index input), optional linear head."""

    def __init__(self, mode: str, d: int, head: bool) -> None:
        super().__init__()
        self.bag = nn.EmbeddingBag(10, d, mode=mode)
        self.head = nn.Linear(d, 3) if head else None

    def forward(self, idx: Tensor) -> Tensor:
        h = self.bag(idx)
        return h if self.head is None else self.head(h)


class DataBilinear(nn.Module):
    """``x1^T W x2 + b`` with both factors read from the data row (x1 = x[:3], x2 = x[3:5])."""

    def __init__(self) -> None:
        super().__init__()
        self.bil = nn.Bilinear(3, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.bil(x[:, :3], x[:, 3:5])


class LearnedBilinear(nn.Module):
    """``u(x)^T W v(x) + b`` with the factor maps ``u``, ``v`` trainable, as is ``W``."""

    def __init__(self) -> None:
        super().__init__()
        self.u = nn.Linear(5, 3)
        self.v = nn.Linear(5, 2)
        self.bil = nn.Bilinear(3, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.bil(self.u(x), self.v(x))


class Exp(nn.Module):
    """Positivity parametrization ``W = exp(R)``."""

    def forward(self, raw: Tensor) -> Tensor:
        return torch.exp(raw)


class Symmetric(nn.Module):
    """Symmetric parametrization ``W = triu(R) + triu(R, 1)^T``: linear in ``R``."""

    def forward(self, raw: Tensor) -> Tensor:
        return raw.triu() + raw.triu(1).transpose(-1, -2)


class ICNN(nn.Module):
    """Input-convex network (Amos et al. 2017), scalar output per example.

    ``z1 = softplus(W0 x + b0)``, ``z2 = relu(Wz1 z1 + Wx1 x + b1)``, ``f = wz2 . z2 + wx2 . x``.
    Convex in ``x`` when ``Wz1 >= 0`` and ``wz2 >= 0``: a nonnegative combination of convex
    functions passed through convex nondecreasing activations, plus affine passthroughs ``Wx*``
    (unconstrained sign).
    """

    def __init__(self, d: int = 4, h: int = 5) -> None:
        super().__init__()
        self.x0 = nn.Linear(d, h)
        self.z1 = nn.Linear(h, h, bias=False)
        self.x1 = nn.Linear(d, h)
        self.z2 = nn.Linear(h, 1, bias=False)
        self.x2 = nn.Linear(d, 1)

    def forward(self, x: Tensor) -> Tensor:
        z1 = F.softplus(self.x0(x))
        z2 = F.relu(self.z1(z1) + self.x1(x))
        return self.z2(z2) + self.x2(x)


class SquaredNorm(nn.Module):
    """``x -> ||A x||^2`` per example."""

    def __init__(self) -> None:
        super().__init__()
        self.A = nn.Linear(4, 3, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.A(x).pow(2).sum(dim=-1)


class QuadraticDifference(nn.Module):
    """``x -> ||A x||^2 - ||B x||^2`` per example: an indefinite quadratic form."""

    def __init__(self) -> None:
        super().__init__()
        self.A = nn.Linear(4, 2, bias=False)
        self.B = nn.Linear(4, 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.A(x).pow(2).sum(dim=-1) - self.B(x).pow(2).sum(dim=-1)


class LogSumExp(nn.Module):
    """``x -> logsumexp(W x + b)`` per example."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 5)

    def forward(self, x: Tensor) -> Tensor:
        return torch.logsumexp(self.lin(x), dim=-1)


class TemperatureScaled(nn.Module):
    """Logits ``s * (W x + b)`` with a scalar inverse temperature ``s``."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3)
        self.inv_temp = nn.Parameter(torch.tensor(1.0))

    def forward(self, x: Tensor) -> Tensor:
        return self.inv_temp * self.lin(x)


# -- hand-written losses (module-level functions, so they are named in tracebacks) -------------


def kl_to_target(out: Tensor, target_probs: Tensor) -> Tensor:
    """``KL(q || softmax(out))`` with q the fixed target distribution."""
    return nn.KLDivLoss(reduction="batchmean")(F.log_softmax(out, dim=-1), target_probs)


def kl_from_model(out: Tensor, target_probs: Tensor) -> Tensor:
    """``KL(softmax(out) || q)``: the model's distribution in the first slot."""
    return F.kl_div(
        target_probs.log(), F.log_softmax(out, dim=-1), reduction="batchmean", log_target=True
    )


def relu_hinge(out: Tensor, y: Tensor) -> Tensor:
    """``mean(max(0, 1 - y f))`` with y = +-1."""
    return F.relu(1 - y * out).mean()


def margin_ranking(out: Tensor, y: Tensor) -> Tensor:
    """``MarginRankingLoss`` between the scores of the two items of each pair."""
    return nn.MarginRankingLoss(margin=0.5)(out[:, 0, 0], out[:, 1, 0], y)


QUANTILE = 0.3


def pinball_maximum(out: Tensor, y: Tensor) -> Tensor:
    """Pinball loss ``max(q (y - f), (q - 1)(y - f))``."""
    r = y - out
    return torch.maximum(QUANTILE * r, (QUANTILE - 1) * r).mean()


def where_on_targets(out: Tensor, y: Tensor) -> Tensor:
    """Squared error where the target is positive, absolute error elsewhere."""
    r = out - y
    return torch.where(y > 0, 2 * r.pow(2), r.abs()).mean()


def pinball_where_swapped(out: Tensor, y: Tensor) -> Tensor:
    """A pinball with its branches swapped: ``where(y - f >= 0, (q-1)(y-f), q (y-f))``."""
    r = y - out
    return torch.where(r >= 0, (QUANTILE - 1) * r, QUANTILE * r).mean()


# -- GLMs ----------------------------------------------------------------------------------------


def linreg_mse() -> ZooCase:
    with _seeded(101):
        model = nn.Linear(4, 1)
    return _case(
        model, nn.MSELoss(), _regression(seed=101), "parameters", CONVEX,
        "MSE of an affine function of (W, b) is a convex quadratic.", "glm",
    )  # fmt: skip


def logreg_bce() -> ZooCase:
    with _seeded(102):
        model = nn.Linear(4, 1)
    x, y = _signs(seed=102)
    return _case(
        model, nn.BCEWithLogitsLoss(), (x, (y > 0).float()), "parameters", CONVEX,
        "BCE with logits is softplus(-z) or softplus(z) of an affine logit z: convex.", "glm",
    )  # fmt: skip


def logreg_bce_pos_weight() -> ZooCase:
    with _seeded(103):
        model = nn.Linear(4, 1)
    x, y = _signs(seed=103)
    loss = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([3.0]))
    return _case(
        model, loss, (x, (y > 0).float()), "parameters", CONVEX,
        "pos_weight > 0 only reweights the two convex softplus terms nonnegatively.", "glm",
    )  # fmt: skip


def softmax_ce() -> ZooCase:
    with _seeded(104):
        model = nn.Linear(4, 3)
    return _case(
        model, nn.CrossEntropyLoss(), _classes(seed=104), "parameters", CONVEX,
        "Cross entropy is logsumexp(z) - z_y of affine logits: convex.", "glm",
    )  # fmt: skip


def softmax_ce_smoothing_weights() -> ZooCase:
    with _seeded(105):
        model = nn.Linear(4, 3)
    loss = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]), label_smoothing=0.1)
    return _case(
        model, loss, _classes(seed=105), "parameters", CONVEX,
        "Label smoothing and positive class weights give a nonnegative combination of "
        "-log_softmax terms (the weight normaliser is data-only): convex.", "glm",
    )  # fmt: skip


def softmax_ce_soft_targets() -> ZooCase:
    with _seeded(106):
        model = nn.Linear(4, 3)
    g = _gen(106)
    x = torch.randn(32, 4, generator=g)
    q = torch.softmax(torch.randn(32, 3, generator=g), dim=-1)
    return _case(
        model, nn.CrossEntropyLoss(), (x, q), "parameters", CONVEX,
        "Cross entropy with probability targets is -sum_c q_c log_softmax(z)_c, q >= 0: convex.",
        "glm",
    )  # fmt: skip


def poisson_nll() -> ZooCase:
    with _seeded(107):
        model = nn.Linear(3, 1)
    g = _gen(107)
    x = torch.randn(32, 3, generator=g)
    y = torch.poisson(torch.exp(0.5 * x[:, :1] - 0.2 * x[:, 1:2]), generator=g)
    return _case(
        model, nn.PoissonNLLLoss(log_input=True), (x, y), "parameters", CONVEX,
        "Poisson NLL with log input is exp(z) - y z of an affine z: convex.", "glm",
    )  # fmt: skip


def kl_div_batchmean() -> ZooCase:
    with _seeded(108):
        model = nn.Linear(4, 3)
    g = _gen(108)
    x = torch.randn(32, 4, generator=g)
    q = torch.softmax(torch.randn(32, 3, generator=g), dim=-1)
    return _case(
        model, kl_to_target, (x, q), "parameters", CONVEX,
        "KL(q || softmax(z)) = const - sum q log_softmax(z) with fixed q: convex.", "glm",
    )  # fmt: skip


def kl_div_reverse() -> ZooCase:
    with _seeded(109):
        model = nn.Linear(4, 3)
    g = _gen(109)
    x = torch.randn(32, 4, generator=g)
    q = torch.softmax(torch.randn(32, 3, generator=g), dim=-1)
    return _case(
        model, kl_from_model, (x, q), "parameters", NONCONVEX,
        "KL(softmax(z) || q) is bounded in z, tends to different constants along different "
        "rays and is not constant, so it cannot be convex.", "glm",
    )  # fmt: skip


def nll_log_softmax() -> ZooCase:
    with _seeded(110):
        model = nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax(dim=1))
    return _case(
        model, nn.NLLLoss(), _classes(seed=110), "parameters", CONVEX,
        "NLL of log_softmax of affine logits is cross entropy: convex.", "glm",
    )  # fmt: skip


def l1_regression() -> ZooCase:
    with _seeded(111):
        model = nn.Linear(4, 1)
    return _case(
        model, nn.L1Loss(), _regression(seed=111), "parameters", CONVEX,
        "Mean absolute error of an affine function is a sum of |affine|: convex.", "glm",
    )  # fmt: skip


def huber_regression() -> ZooCase:
    with _seeded(112):
        model = nn.Linear(4, 1)
    return _case(
        model, nn.HuberLoss(delta=0.5), _regression(seed=112), "parameters", CONVEX,
        "The Huber function is convex and the residual is affine.", "glm",
    )  # fmt: skip


def smooth_l1_regression() -> ZooCase:
    with _seeded(113):
        model = nn.Linear(4, 2)
    return _case(
        model, nn.SmoothL1Loss(beta=0.5), _regression(out=2, seed=113), "parameters", CONVEX,
        "Smooth L1 is Huber / beta, convex, of an affine residual.", "glm",
    )  # fmt: skip


def multi_margin() -> ZooCase:
    with _seeded(114):
        model = nn.Linear(4, 3)
    return _case(
        model, nn.MultiMarginLoss(), _classes(seed=114), "parameters", CONVEX,
        "Multiclass hinge: a mean of max(0, 1 - z_y + z_i) of affine logits: convex.", "glm",
    )  # fmt: skip


def soft_margin() -> ZooCase:
    with _seeded(115):
        model = nn.Linear(4, 1)
    return _case(
        model, nn.SoftMarginLoss(), _signs(seed=115), "parameters", CONVEX,
        "log(1 + exp(-y f)) is softplus of an affine function: convex.", "glm",
    )  # fmt: skip


def margin_ranking_pairs() -> ZooCase:
    with _seeded(116):
        model = nn.Linear(4, 1)
    g = _gen(116)
    x = torch.randn(24, 2, 4, generator=g)
    y = torch.where(x[:, 0, 0] > x[:, 1, 0], 1.0, -1.0)
    return _case(
        model, margin_ranking, (x, y), "parameters", CONVEX,
        "max(0, -y (f(x1) - f(x2)) + m) with one shared affine scorer: hinge of affine, convex.",
        "glm",
    )  # fmt: skip


def sigmoid_mse() -> ZooCase:
    with _seeded(117):
        model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
    x, y = _signs(seed=117)
    return _case(
        model, nn.MSELoss(), (x, (y > 0).float()), "parameters", NONCONVEX,
        "(sigmoid(z) - y)^2 is bounded and flattens out at large |z|: not convex.", "glm",
    )  # fmt: skip


def softmax_mse() -> ZooCase:
    with _seeded(118):
        model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=-1))
    x, c = _classes(seed=118)
    return _case(
        model, nn.MSELoss(), (x, F.one_hot(c, 3).float()), "parameters", NONCONVEX,
        "Squared error of softmax probabilities is bounded and nonconstant: not convex.", "glm",
    )  # fmt: skip


def temperature_scaling_only() -> ZooCase:
    with _seeded(119):
        model = TemperatureScaled()
    _freeze(model.lin)
    return _case(
        model, nn.CrossEntropyLoss(), _classes(seed=119), "parameters", CONVEX,
        "With W, b frozen the logits s z are linear in the inverse temperature s: CE convex.",
        "glm",
    )  # fmt: skip


def temperature_with_linear() -> ZooCase:
    with _seeded(120):
        model = TemperatureScaled()
    return _case(
        model, nn.CrossEntropyLoss(), _classes(seed=120), "parameters", NONCONVEX,
        "Logits s (W x + b) are bilinear in (s, W): the loss is even under (s, W) -> (-s, -W).",
        "glm",
    )  # fmt: skip


# -- hand-written row losses --------------------------------------------------------------------


def hinge_relu() -> ZooCase:
    with _seeded(121):
        model = nn.Linear(4, 1)
    return _case(
        model, relu_hinge, _signs(seed=121), "parameters", CONVEX,
        "relu(1 - y f) of an affine f is a hinge: convex piecewise linear.", "loss_row",
    )  # fmt: skip


def pinball_max() -> ZooCase:
    with _seeded(122):
        model = nn.Linear(4, 1)
    return _case(
        model, pinball_maximum, _regression(seed=122), "parameters", CONVEX,
        "The pinball loss is the max of two affine functions of the residual: convex.",
        "loss_row",
    )  # fmt: skip


def where_target_mask() -> ZooCase:
    with _seeded(123):
        model = nn.Linear(4, 1)
    return _case(
        model, where_on_targets, _regression(seed=123), "parameters", CONVEX,
        "torch.where on a targets-only condition picks, per row, a fixed convex branch.",
        "loss_row",
    )  # fmt: skip


def pinball_swapped() -> ZooCase:
    with _seeded(124):
        model = nn.Linear(4, 1)
    return _case(
        model, pinball_where_swapped, _regression(seed=124), "parameters", NONCONVEX,
        "With the branches swapped the where equals min(q r, (q-1) r): concave in the residual.",
        "loss_row",
    )  # fmt: skip


# -- frozen backbones + linear heads, and the same architectures fully trainable ----------------


def _mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))


def frozen_mlp_head() -> ZooCase:
    with _seeded(201):
        model = _mlp()
    _freeze(model[0], model[2])
    return _case(
        model, nn.CrossEntropyLoss(), _classes(seed=201), "parameters", CONVEX,
        "With the backbone frozen the features are fixed: CE of a linear head is convex.",
        "frozen_backbone",
    )  # fmt: skip


def mlp_full() -> ZooCase:
    with _seeded(202):
        model = _mlp()
    return _case(
        model, nn.CrossEntropyLoss(), _classes(seed=202), "parameters", NONCONVEX,
        "A trainable tanh/relu MLP has hidden-unit permutation symmetry: not convex.",
        "frozen_backbone",
    )  # fmt: skip


def frozen_mlp_hidden_bias() -> ZooCase:
    with _seeded(203):
        model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 1))
    _freeze(model)
    model[0].bias.requires_grad_(True)
    return _case(
        model, nn.MSELoss(), _regression(seed=203), "parameters", NONCONVEX,
        "Only a hidden bias is trainable, but it sits inside tanh: the loss is bounded in it "
        "and not constant, so not convex.", "frozen_backbone",
    )  # fmt: skip


def _images(seed: int) -> tuple[Tensor, Tensor]:
    g = _gen(seed)
    return torch.randn(24, 1, 6, 6, generator=g), torch.randint(0, 3, (24,), generator=g)


def frozen_cnn_head() -> ZooCase:
    with _seeded(204):
        model = SmallCNN()
    _freeze(model.features)
    return _case(
        model, nn.CrossEntropyLoss(), _images(204), "parameters", CONVEX,
        "Frozen conv/relu/pool features are fixed: CE of the linear head is convex.",
        "frozen_backbone",
    )  # fmt: skip


def cnn_full() -> ZooCase:
    with _seeded(205):
        model = SmallCNN()
    return _case(
        model, nn.CrossEntropyLoss(), _images(205), "parameters", NONCONVEX,
        "Trainable conv weights enter through relu/max-pool and multiply the head weights.",
        "frozen_backbone",
    )  # fmt: skip


def _tokens(seed: int, n: int = 16, length: int = 3, d: int = 4) -> Tensor:
    return torch.randn(n, length, d, generator=_gen(seed))


def frozen_transformer_head() -> ZooCase:
    with _seeded(206):
        model = EncoderPool()
    _freeze(model.encoder)
    x = _tokens(206)
    y = (x[:, 0, 0] > 0).long()
    return _case(
        model, nn.CrossEntropyLoss(), (x, y), "parameters", CONVEX,
        "A frozen TransformerEncoderLayer gives fixed pooled features: CE of the head is convex.",
        "frozen_backbone",
    )  # fmt: skip


def transformer_full() -> ZooCase:
    with _seeded(207):
        model = EncoderPool()
    x = _tokens(207)
    y = (x[:, 0, 0] > 0).long()
    return _case(
        model, nn.CrossEntropyLoss(), (x, y), "parameters", NONCONVEX,
        "Trainable attention (softmax of query-key products), layer norm and FFN: not convex.",
        "attention",
    )  # fmt: skip


def mha_full() -> ZooCase:
    with _seeded(208):
        model = AttentionPool()
    x = _tokens(208)
    y = x[:, :, :1].mean(dim=1) - x[:, -1, 1:2]
    return _case(
        model, nn.MSELoss(), (x, y), "parameters", NONCONVEX,
        "Self-attention output is a softmax(q.k)-weighted sum of values: products of "
        "trainable weights, not convex.", "attention",
    )  # fmt: skip


def _sequences(seed: int, n: int = 16, length: int = 4, d: int = 3) -> tuple[Tensor, Tensor]:
    g = _gen(seed)
    x = torch.randn(n, length, d, generator=g)
    return x, x[:, :, :1].sum(dim=1) * 0.5


def frozen_gru_head() -> ZooCase:
    with _seeded(209):
        model = LastHidden(nn.GRU(3, 4, batch_first=True), nn.Linear(4, 1))
    _freeze(model.rnn)
    return _case(
        model, nn.MSELoss(), _sequences(209), "parameters", CONVEX,
        "A frozen GRU's last hidden state is a fixed feature: MSE of a linear head is convex.",
        "frozen_backbone",
    )  # fmt: skip


def frozen_lstm_head() -> ZooCase:
    with _seeded(210):
        model = LastHidden(nn.LSTM(3, 4, batch_first=True), nn.Linear(4, 2))
    _freeze(model.rnn)
    x, s = _sequences(210)
    return _case(
        model, nn.CrossEntropyLoss(), (x, (s[:, 0] > 0).long()), "parameters", CONVEX,
        "A frozen LSTM's last hidden state is a fixed feature: CE of a linear head is convex.",
        "frozen_backbone",
    )  # fmt: skip


def rnn_full() -> ZooCase:
    with _seeded(211):
        model = LastHidden(nn.RNN(3, 4, batch_first=True), nn.Linear(4, 1))
    return _case(
        model, nn.MSELoss(), _sequences(211), "parameters", NONCONVEX,
        "A trainable tanh RNN composes tanh with its own recurrent weights over time steps.",
        "recurrent",
    )  # fmt: skip


def gru_full() -> ZooCase:
    with _seeded(212):
        model = LastHidden(nn.GRU(3, 4, batch_first=True), nn.Linear(4, 1))
    return _case(
        model, nn.MSELoss(), _sequences(212), "parameters", NONCONVEX,
        "Trainable GRU gates multiply sigmoids and tanhs of trainable affine maps.",
        "recurrent",
    )  # fmt: skip


# -- adapters ------------------------------------------------------------------------------------


def lora_ab() -> ZooCase:
    with _seeded(301):
        model = LoRALinear(b_zero=True)
    return _case(
        model, nn.MSELoss(), _regression(out=3, seed=301), "parameters", NONCONVEX,
        "B (A x) is bilinear in (A, B) (the loss is invariant under (A, B) -> (cA, B/c)).",
        "adapter",
    )  # fmt: skip


def lora_wrt_b() -> ZooCase:
    with _seeded(302):
        model = LoRALinear(b_zero=False)
    return _case(
        model, nn.MSELoss(), _regression(out=3, seed=302), ["lora.B"], CONVEX,
        "With A held fixed, W0 x + B (A x) is linear in B: MSE is a convex quadratic in B.",
        "adapter",
    )  # fmt: skip


def additive_adapter() -> ZooCase:
    with _seeded(303):
        model = AdditiveAdapter()
    return _case(
        model, nn.CrossEntropyLoss(), _classes(seed=303), "parameters", CONVEX,
        "A frozen base plus a trainable additive affine adapter: logits affine in the adapter.",
        "adapter",
    )  # fmt: skip


def scale_adapter_frozen_head() -> ZooCase:
    with _seeded(304):
        model = ScaleAdapter()
    return _case(
        model, nn.CrossEntropyLoss(), _classes(seed=304), "parameters", CONVEX,
        "With features and head frozen, head(h * s) is linear in the scale vector s.",
        "adapter",
    )  # fmt: skip


# -- embeddings ----------------------------------------------------------------------------------


def _bigrams(seed: int, n: int = 32, vocab: int = 8) -> tuple[Tensor, Tensor]:
    g = _gen(seed)
    idx = torch.randint(0, vocab, (n,), generator=g)
    return idx, (idx + torch.randint(1, 3, (n,), generator=g)) % vocab


def tied_embedding() -> ZooCase:
    with _seeded(401):
        model = TiedLM()
    return _case(
        model, nn.CrossEntropyLoss(), _bigrams(401), "parameters", NONCONVEX,
        "The shared table is both input and output projection: logits E[i] . E[j] are "
        "quadratic in E.", "tied_embedding",
    )  # fmt: skip


def tied_embedding_matmul() -> ZooCase:
    with _seeded(402):
        model = TiedMatmul()
    return _case(
        model, nn.CrossEntropyLoss(), _bigrams(402), "parameters", NONCONVEX,
        "E[idx] @ E.T is quadratic in E and the loss is invariant under E -> E Q (Q orthogonal).",
        "tied_embedding",
    )  # fmt: skip


def embedding_frozen_head() -> ZooCase:
    with _seeded(403):
        model = EmbeddingHead()
    _freeze(model.emb)
    return _case(
        model, nn.CrossEntropyLoss(), _bigrams(403), "parameters", CONVEX,
        "Frozen embedding rows are fixed features: CE of the trainable linear head is convex.",
        "tied_embedding",
    )  # fmt: skip


def _bags(seed: int, n: int = 24) -> tuple[Tensor, Tensor]:
    g = _gen(seed)
    idx = torch.randint(0, 10, (n, 3), generator=g)
    return idx, idx[:, 0] % 3


def embedding_bag_sum() -> ZooCase:
    with _seeded(404):
        model = BagClassifier("sum", 3, head=False)
    return _case(
        model, nn.CrossEntropyLoss(), _bags(404), "parameters", CONVEX,
        "A sum bag is a fixed 0/1 combination of table rows (linear in the table): CE convex.",
        "tied_embedding",
    )  # fmt: skip


def embedding_bag_mean() -> ZooCase:
    with _seeded(405):
        model = BagClassifier("mean", 3, head=False)
    return _case(
        model, nn.CrossEntropyLoss(), _bags(405), "parameters", CONVEX,
        "A mean bag is a fixed averaging of table rows (linear in the table): CE convex.",
        "tied_embedding",
    )  # fmt: skip


def embedding_bag_trainable_head() -> ZooCase:
    with _seeded(406):
        model = BagClassifier("mean", 4, head=True)
    return _case(
        model, nn.CrossEntropyLoss(), _bags(406), "parameters", NONCONVEX,
        "Trainable bag table times trainable head weights: logits bilinear, not convex.",
        "tied_embedding",
    )  # fmt: skip


# -- bilinear ------------------------------------------------------------------------------------


def bilinear_data_factors() -> ZooCase:
    with _seeded(501):
        model = DataBilinear()
    x, y = _regression(d=5, seed=501)
    return _case(
        model, nn.MSELoss(), (x, y), "parameters", CONVEX,
        "With both factors from the data, x1^T W x2 + b is linear in (W, b): MSE convex.",
        "bilinear",
    )  # fmt: skip


def bilinear_learned_factors() -> ZooCase:
    with _seeded(502):
        model = LearnedBilinear()
    x, y = _regression(d=5, seed=502)
    return _case(
        model, nn.MSELoss(), (x, y), "parameters", NONCONVEX,
        "u(x)^T W v(x) is a product of three trainable factors: not convex.", "bilinear",
    )  # fmt: skip


# -- parametrizations ----------------------------------------------------------------------------


def _positive_regression(seed: int) -> tuple[Tensor, Tensor]:
    """Positive inputs and large positive targets, so the positive weight sits below target."""
    g = _gen(seed)
    x = torch.rand(32, 3, generator=g) + 0.2
    return x, 6.0 + torch.rand(32, 1, generator=g)


def weight_norm_linear() -> ZooCase:
    with _seeded(601):
        model = weight_norm(nn.Linear(3, 2))
    return _case(
        model, nn.MSELoss(), _regression(d=3, out=2, seed=601), "parameters", NONCONVEX,
        "W = g v / ||v|| is invariant under v -> c v (c > 0) but depends on v's direction.",
        "parametrized",
    )  # fmt: skip


def softplus_positive_linear() -> ZooCase:
    with _seeded(602):
        model = nn.Linear(3, 1)
    parametrize.register_parametrization(model, "weight", nn.Softplus())
    return _case(
        model, nn.MSELoss(), _positive_regression(602), "parameters", NONCONVEX,
        "(softplus(r) x - y)^2 has second derivative 2 x^2 (s'^2 + (s - y/x) s''), negative "
        "while softplus(r) x is well below y.", "parametrized",
    )  # fmt: skip


def exp_positive_linear() -> ZooCase:
    with _seeded(603):
        model = nn.Linear(3, 1)
    parametrize.register_parametrization(model, "weight", Exp())
    return _case(
        model, nn.MSELoss(), _positive_regression(603), "parameters", NONCONVEX,
        "(e^r x - y)^2 has second derivative 2 e^r x (2 e^r x - y) < 0 while e^r x < y / 2.",
        "parametrized",
    )  # fmt: skip


def softplus_positive_nonneg_residual() -> ZooCase:
    with _seeded(605):
        model = nn.Linear(3, 1, bias=False)
    parametrize.register_parametrization(model, "weight", nn.Softplus())
    g = _gen(605)
    x = torch.rand(32, 3, generator=g) + 0.2
    y = -torch.rand(32, 1, generator=g)
    return _case(
        model, nn.MSELoss(), (x, y), "parameters", CONVEX,
        "With x >= 0, y <= 0 and no bias the residual softplus(r) . x - y is convex and "
        "nonnegative, and the square is nondecreasing there: convex in r (data-dependent).",
        "parametrized",
    )  # fmt: skip


def symmetric_linear() -> ZooCase:
    with _seeded(604):
        model = nn.Linear(3, 3)
    parametrize.register_parametrization(model, "weight", Symmetric())
    return _case(
        model, nn.MSELoss(), _regression(d=3, out=3, seed=604), "parameters", CONVEX,
        "The symmetric parametrization is linear in the raw matrix: MSE stays convex.",
        "parametrized",
    )  # fmt: skip


# -- penalties inside loss_fn -------------------------------------------------------------------


def _penalised(model: nn.Module, lam: float, kind: str) -> Callable[[Tensor, Tensor], Tensor]:
    """``MSE + lam * penalty(model.parameters())``, read at call time through the closure."""

    def loss_fn(out: Tensor, target: Tensor) -> Tensor:
        if kind == "l1":
            penalty = sum(p.abs().sum() for p in model.parameters())
        else:
            penalty = sum(p.pow(2).sum() for p in model.parameters())
        return F.mse_loss(out, target) + lam * penalty

    return loss_fn


def weight_decay_linear() -> ZooCase:
    with _seeded(701):
        model = nn.Linear(4, 1)
    return _case(
        model, _penalised(model, 0.1, "l2"), _regression(seed=701), "parameters", CONVEX,
        "MSE of a linear model plus 0.1 ||theta||^2 (ridge): a sum of convex functions.",
        "penalty",
    )  # fmt: skip


def lasso_linear() -> ZooCase:
    with _seeded(702):
        model = nn.Linear(4, 1)
    return _case(
        model, _penalised(model, 0.1, "l1"), _regression(seed=702), "parameters", CONVEX,
        "MSE of a linear model plus 0.1 ||theta||_1 (lasso): a sum of convex functions.",
        "penalty",
    )  # fmt: skip


def negative_penalty_linear() -> ZooCase:
    with _seeded(703):
        model = nn.Linear(4, 1)
    return _case(
        model, _penalised(model, -1.0, "l2"), _regression(seed=703), "parameters", NONCONVEX,
        "Subtracting ||theta||^2 adds -2 I to the Hessian 2 X^T X / n, below its smallest "
        "eigenvalue: indefinite.", "penalty",
    )  # fmt: skip


def weight_decay_deep_linear() -> ZooCase:
    with _seeded(704):
        model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    return _case(
        model, _penalised(model, 0.01, "l2"), _regression(d=3, seed=704), "parameters",
        NONCONVEX,
        "Weight decay does not repair a deep linear net: the product W2 W1 keeps a saddle.",
        "penalty",
    )  # fmt: skip


# -- input convexity (wrt="inputs") -------------------------------------------------------------


def _inputs(seed: int, n: int = 8, d: int = 4) -> Tensor:
    return torch.randn(n, d, generator=_gen(seed))


def icnn_values() -> ZooCase:
    with _seeded(801):
        model = ICNN()
        with torch.no_grad():
            model.z1.weight.abs_()
            model.z2.weight.abs_()
    return _case(
        model, None, (_inputs(801), None), "inputs", CONVEX,
        "An ICNN with nonnegative z-path weights (by value) and convex nondecreasing "
        "activations is convex in x.", "icnn",
    )  # fmt: skip


def icnn_parametrized() -> ZooCase:
    with _seeded(802):
        model = ICNN()
    parametrize.register_parametrization(model.z1, "weight", nn.Softplus())
    parametrize.register_parametrization(model.z2, "weight", Exp())
    return _case(
        model, None, (_inputs(802), None), "inputs", CONVEX,
        "z-path weights are softplus(R) and exp(R), hence positive: an ICNN, convex in x.",
        "icnn",
    )  # fmt: skip


def icnn_negative_zweight() -> ZooCase:
    with _seeded(803):
        model = ICNN()
        with torch.no_grad():
            model.z1.weight.abs_()
            model.z2.weight.copy_(-model.z2.weight.abs())
    return _case(
        model, None, (_inputs(803), None), "inputs", NONCONVEX,
        "A negative output z-weight makes f a concave function of x (minus convex, plus affine).",
        "icnn",
    )  # fmt: skip


def relu_negative_inputs() -> ZooCase:
    with _seeded(804):
        model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
        with torch.no_grad():
            model[2].weight.copy_(-model[2].weight.abs() - 0.5)
    return _case(
        model, None, (_inputs(804), None), "inputs", NONCONVEX,
        "relu followed by negative output weights: concave piecewise linear in x.", "icnn",
    )  # fmt: skip


def mlp_tanh_inputs() -> ZooCase:
    with _seeded(805):
        model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 1))
    return _case(
        model, None, (_inputs(805), None), "inputs", NONCONVEX,
        "A tanh MLP with mixed-sign weights is bounded-slope and curved both ways in x.", "icnn",
    )  # fmt: skip


def quadratic_norm_inputs() -> ZooCase:
    with _seeded(806):
        model = SquaredNorm()
    return _case(
        model, None, (_inputs(806), None), "inputs", CONVEX,
        "x -> ||A x||^2 has Hessian 2 A^T A, positive semidefinite.", "icnn",
    )  # fmt: skip


def quadratic_difference_inputs() -> ZooCase:
    with _seeded(807):
        model = QuadraticDifference()
    return _case(
        model, None, (_inputs(807), None), "inputs", NONCONVEX,
        "x -> ||A x||^2 - ||B x||^2 has Hessian 2 (A^T A - B^T B), indefinite here.", "icnn",
    )  # fmt: skip


def logsumexp_inputs() -> ZooCase:
    with _seeded(808):
        model = LogSumExp()
    return _case(
        model, None, (_inputs(808), None), "inputs", CONVEX,
        "logsumexp is convex and W x + b is affine in x.", "icnn",
    )  # fmt: skip


def linear_ce_inputs() -> ZooCase:
    with _seeded(809):
        model = nn.Linear(4, 3)
    x, y = _classes(n=8, seed=809)
    return _case(
        model, nn.CrossEntropyLoss(), (x, y), "inputs", CONVEX,
        "For fixed (W, b), CE of W x + b is convex in the input x (adversarial-example loss).",
        "icnn",
    )  # fmt: skip


def mlp_ce_inputs() -> ZooCase:
    with _seeded(810):
        model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
    x, y = _classes(n=8, seed=810)
    return _case(
        model, nn.CrossEntropyLoss(), (x, y), "inputs", NONCONVEX,
        "Through a tanh layer the logits are bounded nonlinear functions of x: CE not convex.",
        "icnn",
    )  # fmt: skip


# -- wrt as a list of names, deep linear, normalization -----------------------------------------


def _mlp2() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))


def mlp_wrt_last_layer() -> ZooCase:
    with _seeded(901):
        model = _mlp2()
    return _case(
        model, nn.MSELoss(), _regression(out=2, seed=901), ["2.weight", "2.bias"], CONVEX,
        "With the first layer held fixed the features are fixed: MSE is convex in the last "
        "layer.", "wrt_subset",
    )  # fmt: skip


def mlp_wrt_first_layer() -> ZooCase:
    with _seeded(902):
        model = _mlp2()
    return _case(
        model, nn.MSELoss(), _regression(out=2, seed=902), ["0.weight", "0.bias"], NONCONVEX,
        "The first layer's weights enter through tanh: bounded features, not convex.",
        "wrt_subset",
    )  # fmt: skip


def deep_linear() -> ZooCase:
    with _seeded(903):
        model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    return _case(
        model, nn.MSELoss(), _regression(d=3, seed=903), "parameters", NONCONVEX,
        "The map is W2 W1 x: bilinear in (W1, W2), with a saddle at the origin.", "deep_linear",
    )  # fmt: skip


def _bn_model(seed: int, affine: bool) -> nn.Sequential:
    with _seeded(seed):
        model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2, affine=affine))
        with torch.no_grad():
            model[1].running_mean.copy_(torch.tensor([0.3, -0.2]))
            model[1].running_var.copy_(torch.tensor([2.0, 0.5]))
            if affine:
                model[1].weight.copy_(torch.tensor([1.5, -0.7]))
    return model


def batchnorm_eval_linear() -> ZooCase:
    model = _bn_model(904, affine=False)
    return _case(
        model, nn.MSELoss(), _regression(d=3, out=2, seed=904), "parameters", CONVEX,
        "In eval mode BatchNorm (affine=False) is a fixed affine map of its input: MSE convex.",
        "normalization",
    )  # fmt: skip


def batchnorm_eval_affine() -> ZooCase:
    model = _bn_model(905, affine=True)
    return _case(
        model, nn.MSELoss(), _regression(d=3, out=2, seed=905), "parameters", NONCONVEX,
        "A trainable BatchNorm scale gamma multiplies the trainable linear output: bilinear.",
        "normalization",
    )  # fmt: skip


def batchnorm_train_linear() -> ZooCase:
    with _seeded(906):
        model = nn.Sequential(nn.Linear(3, 1), nn.BatchNorm1d(1, affine=False))
    case = _case(
        model, nn.MSELoss(), _regression(d=3, seed=906), "parameters", NONCONVEX,
        "In train mode BatchNorm divides by the batch std of W x: scale-invariant in W.",
        "normalization",
    )  # fmt: skip
    model.train()  # the point of this case: batch statistics, not running statistics
    return case


MODELS: dict[str, Callable[[], ZooCase]] = {
    f.__name__: f
    for f in (
        # GLMs and losses
        linreg_mse,
        logreg_bce,
        logreg_bce_pos_weight,
        softmax_ce,
        softmax_ce_smoothing_weights,
        softmax_ce_soft_targets,
        poisson_nll,
        kl_div_batchmean,
        kl_div_reverse,
        nll_log_softmax,
        l1_regression,
        huber_regression,
        smooth_l1_regression,
        multi_margin,
        soft_margin,
        margin_ranking_pairs,
        sigmoid_mse,
        softmax_mse,
        temperature_scaling_only,
        temperature_with_linear,
        hinge_relu,
        pinball_max,
        where_target_mask,
        pinball_swapped,
        # backbones
        frozen_mlp_head,
        mlp_full,
        frozen_mlp_hidden_bias,
        frozen_cnn_head,
        cnn_full,
        frozen_transformer_head,
        transformer_full,
        mha_full,
        frozen_gru_head,
        frozen_lstm_head,
        rnn_full,
        gru_full,
        # adapters, embeddings, bilinear, parametrizations, penalties
        lora_ab,
        lora_wrt_b,
        additive_adapter,
        scale_adapter_frozen_head,
        tied_embedding,
        tied_embedding_matmul,
        embedding_frozen_head,
        embedding_bag_sum,
        embedding_bag_mean,
        embedding_bag_trainable_head,
        bilinear_data_factors,
        bilinear_learned_factors,
        weight_norm_linear,
        softplus_positive_linear,
        exp_positive_linear,
        softplus_positive_nonneg_residual,
        symmetric_linear,
        weight_decay_linear,
        lasso_linear,
        negative_penalty_linear,
        weight_decay_deep_linear,
        # inputs
        icnn_values,
        icnn_parametrized,
        icnn_negative_zweight,
        relu_negative_inputs,
        mlp_tanh_inputs,
        quadratic_norm_inputs,
        quadratic_difference_inputs,
        logsumexp_inputs,
        linear_ce_inputs,
        mlp_ce_inputs,
        # wrt names, deep linear, normalization
        mlp_wrt_last_layer,
        mlp_wrt_first_layer,
        deep_linear,
        batchnorm_eval_linear,
        batchnorm_eval_affine,
        batchnorm_train_linear,
    )
}
