"""Structural proof: what it proves, what it refuses (with the reason), and that it is sound."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from convexcheck.torchgraph import structural_proof
from convexcheck.torchgraph.prove import ModelProof as StructuralAnalysis
from tests.helpers.torch_models import flat_loss

F64 = torch.float64


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors: see conftest


def _data(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(24, 5, generator=g, dtype=F64)
    return {
        "x": x,
        "y": torch.randn(24, 2, generator=g, dtype=F64),
        "labels": torch.randint(0, 3, (24,), generator=g),
        "binary": torch.rand(24, 1, generator=g, dtype=F64),
        "signs": torch.sign(torch.randn(24, 1, generator=g, dtype=F64)),
        "img": torch.randn(6, 1, 6, 6, generator=g, dtype=F64),
        "img_labels": torch.randint(0, 3, (6,), generator=g),
        "tokens": torch.randint(0, 10, (24, 4), generator=g),
    }


D = _data()


def _frozen(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        p.requires_grad_(False)
    return module


class _Scaled(nn.Module):
    """A trainable scalar times a trainable Linear: a product of parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.tensor(1.5, dtype=F64))
        self.lin = nn.Linear(5, 2).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a * self.lin(x)


class _Branchy(nn.Module):
    """Data-dependent control flow: fx cannot trace it."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(5, 2).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.lin(x)
        if out.sum() > 0:
            return out
        return -out


class _Bag(nn.Module):
    """Trainable embedding, averaged, through a frozen linear map: affine in the table."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 4).double()
        self.proj = _frozen(nn.Linear(4, 3).double())

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.proj(self.emb(tokens).mean(dim=1))


class _AliasedInPlace(nn.Module):
    """relu applied in place through a view: the returned tensor is not what it looks like."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(5, 2).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.lin(x)
        y.view(-1).relu_()
        return y


def _seeded(seed: int, build: Callable[[], nn.Module]) -> nn.Module:
    torch.manual_seed(seed)
    return build()


def _proved_cases() -> dict[str, tuple]:
    lin = _seeded(1, lambda: nn.Linear(5, 1).double())
    cases = {
        "linear-regression": (_seeded(1, lambda: nn.Linear(5, 2).double()), nn.MSELoss(), "y"),
        "logistic": (
            _seeded(2, lambda: nn.Linear(5, 1).double()),
            nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0], dtype=F64)),
            "binary",
        ),
        "softmax": (
            _seeded(3, lambda: nn.Linear(5, 3).double()),
            nn.CrossEntropyLoss(
                weight=torch.tensor([1.0, 2.0, 0.5], dtype=F64), label_smoothing=0.1
            ),
            "labels",
        ),
        "log-softmax-nll": (
            _seeded(4, lambda: nn.Sequential(nn.Linear(5, 3), nn.LogSoftmax(dim=1)).double()),
            nn.NLLLoss(),
            "labels",
        ),
        "frozen-features": (
            _seeded(
                5,
                lambda: nn.Sequential(
                    _frozen(
                        nn.Sequential(
                            nn.Linear(5, 16), nn.ReLU(inplace=True), nn.Linear(16, 8), nn.Tanh()
                        )
                    ),
                    nn.Linear(8, 3),
                ).double(),
            ),
            nn.CrossEntropyLoss(),
            "labels",
        ),
        "huber": (_seeded(6, lambda: nn.Linear(5, 2).double()), nn.HuberLoss(delta=0.5), "y"),
        "hinge-closure-penalty": (
            lin,
            lambda out, t: torch.clamp(1 - t * out, min=0).mean() + 1e-2 * (lin.weight**2).sum(),
            "signs",
        ),
        "custom-loss": (
            _seeded(7, lambda: nn.Linear(5, 2).double()),
            lambda out, t: (
                ((out - t) ** 2).mean()
                + 0.1 * F.softplus(out).sum()
                + torch.logsumexp(out, dim=1).mean()
                + (out - t).abs().mean()
            ),
            "y",
        ),
        "frozen-bn-eval-after-linear": (
            _seeded(
                8, lambda: nn.Sequential(nn.Linear(5, 4), _frozen(nn.BatchNorm1d(4))).double()
            ).eval(),
            nn.L1Loss(),
            "y4",
        ),
        "conv-on-data": (
            _seeded(
                9,
                lambda: nn.Sequential(
                    nn.Conv2d(1, 2, 3), nn.Flatten(), _frozen(nn.Linear(32, 3))
                ).double(),
            ),
            nn.CrossEntropyLoss(),
            "img",
        ),
        "embedding-bag": (_seeded(10, _Bag), nn.CrossEntropyLoss(), "tokens"),
        "dropout-eval": (
            _seeded(11, lambda: nn.Sequential(nn.Dropout(0.5), nn.Linear(5, 2)).double()).eval(),
            nn.MSELoss(reduction="sum"),
            "y",
        ),
    }
    return cases


def _data_for(key: str):
    if key == "y4":
        return D["x"], torch.randn(24, 4, generator=torch.Generator().manual_seed(3), dtype=F64)
    if key == "img":
        return D["img"], D["img_labels"]
    if key == "tokens":
        return D["tokens"], D["labels"]
    return D["x"], D[key]


PROVED = _proved_cases()


@pytest.mark.parametrize("name", sorted(PROVED))
def test_affine_models_with_convex_losses_are_proved(name: str) -> None:
    model, loss_fn, key = PROVED[name]
    res = structural_proof(model, loss_fn, _data_for(key))
    assert isinstance(res, StructuralAnalysis)
    assert res.proved, res.obstacles
    cert = res.certificate
    assert cert is not None and cert["kind"] == "structural"
    assert cert["trainable"] == [k for k, p in model.named_parameters() if p.requires_grad]
    assert cert["loss"]["name"] and cert["loss"]["why"]
    assert cert["steps"] and all({"node", "op", "why"} <= set(s) for s in cert["steps"])
    assert res.obstacles == []


def test_frozen_feature_extractor_is_named_in_certificate() -> None:
    model, loss_fn, key = PROVED["frozen-features"]
    res = structural_proof(model, loss_fn, _data_for(key))
    assert res.proved
    assert "0.0.weight" in res.frozen and "0.2.bias" in res.frozen
    assert res.certificate["frozen"] == res.frozen
    assert res.output_curvature == "affine"


def _penalised(model: nn.Module, l2: float, l1: float) -> Callable:
    def loss(out, t):
        params = list(model.parameters())
        return (
            F.mse_loss(out, t)
            + l2 * sum(p.pow(2).sum() for p in params)
            + l1 * sum(p.abs().sum() for p in params)
        )

    return loss


def test_l2_and_l1_penalties_in_the_loss_are_traced() -> None:
    model = _seeded(12, lambda: nn.Linear(5, 2).double())
    res = structural_proof(model, _penalised(model, 1e-3, 1e-4), (D["x"], D["y"]))
    assert res.proved, res.obstacles
    assert any("pow" in s["op"] for s in res.certificate["steps"])
    bad = structural_proof(model, _penalised(model, -1.0, 0.0), (D["x"], D["y"]))
    assert not bad.proved


def _refused(model, loss_fn, data) -> StructuralAnalysis:
    res = structural_proof(model, loss_fn, data)
    assert not res.proved
    assert res.certificate is None
    assert res.obstacles and all(isinstance(o, str) and o for o in res.obstacles)
    return res


def test_deep_linear_network_is_not_proved() -> None:
    model = _seeded(13, lambda: nn.Sequential(nn.Linear(5, 4), nn.Linear(4, 2)).double())
    res = _refused(model, nn.MSELoss(), (D["x"], D["y"]))
    assert any(i["kind"] == "multiplicative_weights" for i in res.issues)
    assert any("'1'" in o and "product of two factors" in o for o in res.obstacles)


@pytest.mark.parametrize("act", [nn.ReLU, nn.Tanh])
def test_mlps_are_not_proved(act) -> None:
    model = _seeded(14, lambda: nn.Sequential(nn.Linear(5, 6), act(), nn.Linear(6, 3)).double())
    res = _refused(model, nn.CrossEntropyLoss(), (D["x"], D["labels"]))
    joined = " ".join(res.obstacles)
    kinds = {i["kind"] for i in res.issues}
    if act is nn.Tanh:
        assert "tanh" in joined and "module '1'" in joined
        assert kinds == {"nonconvex_activation"}
    else:  # relu(affine) is convex; the trainable layer after it multiplies two variables
        assert "module '2'" in joined and kinds == {"multiplicative_weights"}


def test_batchnorm_in_training_mode_after_trainable_linear() -> None:
    model = _seeded(
        15, lambda: nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()
    ).train()
    before = model[1].running_mean.clone()
    res = _refused(model, nn.MSELoss(), (D["x"], D["y"]))
    assert any(i["kind"] == "batch_statistics" for i in res.issues)
    assert "batch's own statistics" in " ".join(res.obstacles)
    assert torch.equal(model[1].running_mean, before)  # the analysis leaves buffers alone


def test_batchnorm_in_training_mode_on_data_only_is_fine() -> None:
    model = _seeded(
        16, lambda: nn.Sequential(_frozen(nn.BatchNorm1d(5)), nn.Linear(5, 2)).double()
    ).train()
    before = model[0].running_mean.clone()
    res = structural_proof(model, nn.MSELoss(), (D["x"], D["y"]))
    assert res.proved, res.obstacles
    assert torch.equal(model[0].running_mean, before)


def test_scalar_times_linear_is_not_proved() -> None:
    res = _refused(_seeded(17, _Scaled), nn.MSELoss(), (D["x"], D["y"]))
    assert any(i["kind"] == "multiplicative_weights" for i in res.issues)
    assert "node 'mul'" in " ".join(res.obstacles)


def test_cnn_with_trainable_conv_and_relu_is_not_proved() -> None:
    model = _seeded(
        18,
        lambda: nn.Sequential(
            nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3)
        ).double(),
    )
    res = _refused(model, nn.CrossEntropyLoss(), (D["img"], D["img_labels"]))
    assert "module '3'" in " ".join(res.obstacles)
    assert {i["kind"] for i in res.issues} == {"multiplicative_weights"}


def test_untraceable_model_is_not_proved() -> None:
    res = _refused(_seeded(19, _Branchy), nn.MSELoss(), (D["x"], D["y"]))
    assert res.issues[0]["kind"] == "untraceable"
    assert "traced" in res.obstacles[0]


def test_untraceable_loss_is_not_proved() -> None:
    def loss(out, t):
        return ((out - t) ** 2).mean() if float(t.sum()) > -1e9 else out.sum()

    res = _refused(_seeded(20, lambda: nn.Linear(5, 2).double()), loss, (D["x"], D["y"]))
    assert res.issues[0]["kind"] == "untraceable"


@pytest.mark.parametrize(
    "loss_fn",
    [
        lambda out, t: -((out - t) ** 2).mean(),  # concave
        lambda out, t: ((torch.sigmoid(out) - t) ** 2).mean(),  # squashing inside a square
        lambda out, t: ((out - t) ** 3).mean(),  # odd power
        nn.MSELoss(reduction="none"),  # not a scalar
        lambda out, t: F.mse_loss(out, t, weight=-torch.ones_like(t)),  # negative weights
        lambda out, t: torch.clamp(out - t, min=0, max=1).mean(),  # clamp both sides
        lambda out, t: (out - t).pow(2).mean() - 0.5 * out.pow(2).sum(),  # convex - convex
    ],
)
def test_nonconvex_losses_are_refused(loss_fn) -> None:
    model = _seeded(21, lambda: nn.Linear(5, 2).double())
    _refused(model, loss_fn, (D["x"], D["y"]))


def test_nll_without_log_softmax_on_squashed_output_is_refused() -> None:
    model = _seeded(22, lambda: nn.Sequential(nn.Linear(5, 3), nn.Softmax(dim=1)).double())
    _refused(model, nn.NLLLoss(), (D["x"], D["labels"]))


def test_bce_pos_weight_condition() -> None:
    model = _seeded(23, lambda: nn.Linear(5, 1).double())
    targets = torch.full((24, 1), 3.0, dtype=F64)  # 0.1·3 + 1 - 3 < 0: concave part
    bad = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([0.1], dtype=F64))
    _refused(model, bad, (D["x"], targets))
    good = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0], dtype=F64))
    assert structural_proof(model, good, (D["x"], targets)).proved


def test_dropout_in_training_mode_is_refused() -> None:
    model = _seeded(24, lambda: nn.Sequential(nn.Linear(5, 2), nn.Dropout(0.3)).double()).train()
    res = _refused(model, nn.MSELoss(), (D["x"], D["y"]))
    assert any(i["kind"] == "stochastic" for i in res.issues)


def test_aliased_in_place_update_is_refused() -> None:
    res = _refused(_seeded(25, _AliasedInPlace), nn.MSELoss(), (D["x"], D["y"]))
    assert any(i["kind"] == "in_place" for i in res.issues)


def test_no_trainable_parameters_is_trivially_convex() -> None:
    model = _frozen(_seeded(26, lambda: nn.Sequential(nn.Linear(5, 3), nn.Tanh()).double()))
    res = structural_proof(model, nn.CrossEntropyLoss(), (D["x"], D["labels"]))
    assert res.proved and res.output_curvature == "constant"


def test_negative_frozen_weight_after_convex_layer_is_refused() -> None:
    # relu(trainable linear) is convex; a frozen layer with mixed-sign weights breaks it
    torch.manual_seed(27)
    model = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), _frozen(nn.Linear(3, 1))).double()
    _refused(model, lambda out, t: out.sum(), (D["x"], D["y"]))
    with torch.no_grad():
        model[2].weight.abs_()  # nonnegative weights: a nonnegative combination of convex
    assert structural_proof(model, lambda out, t: out.sum(), (D["x"], D["y"])).proved


# -- soundness ----------------------------------------------------------------------------


def _jensen_gap(loss, theta0: torch.Tensor, pairs: int, seed: int) -> float:
    """Largest relative violation of f(ta+(1-t)b) <= t f(a) + (1-t) f(b) over random pairs."""
    g = torch.Generator().manual_seed(seed)
    worst = -float("inf")
    n = theta0.numel()
    with torch.no_grad():
        for k in range(pairs):
            scale = [0.1, 1.0, 5.0][k % 3]
            a = theta0 + scale * torch.randn(n, generator=g, dtype=F64)
            b = theta0 + scale * torch.randn(n, generator=g, dtype=F64)
            t = float(torch.rand((), generator=g, dtype=F64))
            fa, fb = float(loss(a)), float(loss(b))
            fm = float(loss(t * a + (1 - t) * b))
            gap = (fm - (t * fa + (1 - t) * fb)) / (1.0 + abs(fa) + abs(fb))
            worst = max(worst, gap)
    return worst


SOUNDNESS = {**PROVED, "l2-penalised": None, "relu-nonneg-head": None}


@pytest.mark.parametrize("name", sorted(SOUNDNESS))
def test_soundness_accepted_models_pass_jensen(name: str) -> None:
    """Every model the structural proof accepts must show no Jensen violation beyond rounding."""
    if name == "l2-penalised":
        model = _seeded(28, lambda: nn.Linear(5, 2).double())
        loss_fn, key = _penalised(model, 1e-2, 0.0), "y"
    elif name == "relu-nonneg-head":
        torch.manual_seed(29)
        model = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), _frozen(nn.Linear(3, 1))).double()
        with torch.no_grad():
            model[2].weight.abs_()
        loss_fn, key = (lambda out, t: out.mean()), "y"
    else:
        model, loss_fn, key = SOUNDNESS[name]
    data = _data_for(key)
    res = structural_proof(model, loss_fn, data)
    assert res.proved, res.obstacles
    loss, theta0 = flat_loss(model, loss_fn, data)
    assert _jensen_gap(loss, theta0, pairs=300, seed=0) <= 1e-12


def test_soundness_probe_detects_nonconvexity() -> None:
    """The probe used above is not vacuous: it sees a violation on a ReLU network."""
    torch.manual_seed(30)
    model = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 2)).double()
    loss, theta0 = flat_loss(model, nn.MSELoss(), (D["x"], D["y"]))
    assert _jensen_gap(loss, theta0, pairs=300, seed=0) > 1e-6


def test_closure_over_another_copy_of_the_model_is_refused() -> None:
    """A penalty closure over the original model: a constant on a copy, refused on the model."""
    import copy

    lin = _seeded(31, lambda: nn.Linear(5, 1).double())

    def loss(out, t):
        return torch.clamp(1 - t * out, min=0).mean() - (lin.weight**2).sum()  # concave part

    # on a copy the penalty reads tensors that are not judged: a constant, and the hinge of an
    # affine function is convex in the copy's parameters (checked by Jensen below)
    twin = copy.deepcopy(lin)
    res = structural_proof(twin, loss, (D["x"], D["signs"]))
    assert res.proved, res.obstacles
    flat, theta0 = flat_loss(twin, loss, (D["x"], D["signs"]))
    assert _jensen_gap(flat, theta0, pairs=200, seed=1) <= 1e-12
    # on the model itself the closure's tensor is judged and traced: a concave term
    res = _refused(lin, loss, (D["x"], D["signs"]))
    assert any("pow" in step for step in res.steps)


def test_certificate_reasons_have_kinds() -> None:
    model, loss_fn, key = PROVED["frozen-features"]
    res = structural_proof(model, loss_fn, _data_for(key))
    kinds = [r["kind"] for r in res.certificate["reasons"]]
    assert kinds == ["affine_in_parameters", "convex_loss", "frozen_features"]
