"""Jensen search and float64 verification: every 'no' is re-verified independently."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from convexcheck.numeric.candidates import find_unit_groups, transform_units
from convexcheck.numeric.functional import FunctionalLoss
from convexcheck.numeric.jensen import JensenSearch, search_jensen
from convexcheck.numeric.verify import Verifier
from tests.numeric import zoo


@pytest.mark.parametrize("name", sorted(zoo.NONCONVEX))
def test_nonconvex_models_get_a_verified_witness(name: str) -> None:
    model, loss_fn, data, penalties = zoo.NONCONVEX[name]()
    f = FunctionalLoss(model, loss_fn, data, penalties=penalties)
    report = search_jensen(f, seed=0, budget_s=20.0)
    assert report.witness is not None, report.to_dict()
    w = report.witness
    info = w.info
    assert 0 < info["t"] < 1
    assert info["gap"] > info["margin"] > 0
    # independent float64 recomputation straight from the flat vectors
    f64 = f.to(dtype=torch.float64)
    a, b = w.a.double(), w.b.double()
    with torch.no_grad():
        fa, fb = float(f64.loss(a)), float(f64.loss(b))
        fm = float(f64.loss(w.t * a + (1 - w.t) * b))
    assert fm - w.t * fa - (1 - w.t) * fb > info["margin"]
    assert fa == pytest.approx(info["loss_a"], rel=1e-12, abs=1e-300)


def test_same_seed_same_witness_other_seed_other_candidates() -> None:
    model, loss_fn, data, _ = zoo.tanh_mlp()
    f = FunctionalLoss(model, loss_fn, data)
    one = search_jensen(f, seed=3, budget_s=20.0).witness
    two = search_jensen(f, seed=3, budget_s=20.0).witness
    assert one is not None and two is not None
    assert torch.equal(one.a, two.a) and torch.equal(one.b, two.b) and one.t == two.t
    assert one.info["loss_at_t"] == two.info["loss_at_t"]
    # random candidates depend on the seed
    s1 = JensenSearch(f, seed=1)
    s2 = JensenSearch(f, seed=2)
    p1 = s1._stages()[5][1]()
    p2 = s2._stages()[5][1]()
    assert not torch.equal(p1.b, p2.b)


def test_convex_model_gives_evidence_not_a_witness() -> None:
    model, loss_fn, data, _ = zoo.softmax_regression()
    f = FunctionalLoss(model, loss_fn, data)
    report = search_jensen(f, seed=0, budget_s=20.0, max_pairs=300)
    assert report.witness is None
    ev = report.to_dict()
    assert ev["pairs_tried"] >= 300 and ev["stopped"] == "max_pairs"
    assert ev["largest_relative_gap"] < 1e-5  # float32 noise, never a real violation
    assert "adversarial" in ev["families"] and ev["seed"] == 0


def test_verifier_accepts_a_clear_violation_and_rejects_a_convex_pair() -> None:
    model, loss_fn, data, _ = zoo.relu_mlp()
    f = FunctionalLoss(model, loss_fn, data)
    groups = find_unit_groups(f.model, f)
    assert [g.units for g in groups] == [10]
    ones = torch.ones(10)
    b = transform_units(f, f.theta0, groups[0], scale=9 * ones)
    v = Verifier(f)
    # rescaling a ReLU layer leaves the loss unchanged ...
    with torch.no_grad():
        assert float(f.loss(b)) == pytest.approx(f.loss0, rel=1e-5)
    good = v.check(f.theta0, b, 0.5)
    assert good.accepted and good.midpoint_exact and good.reordered_gap is not None
    assert good.gap > good.margin
    # ... and along a line in the last layer's bias the loss is a convex quadratic
    c = f.theta0.clone()
    c[-1] += 1.0
    bad = v.check(f.theta0, c, 0.5)
    assert not bad.accepted and bad.gap < 0


def test_margin_grows_with_float32_float64_disagreement() -> None:
    model, loss_fn, data, _ = zoo.relu_mlp()
    f = FunctionalLoss(model, loss_fn, data)
    v = Verifier(f)
    g = torch.Generator().manual_seed(0)
    b = f.theta0 + torch.randn(f.numel, generator=g)
    quiet = v.check(f.theta0, b, 0.5)
    loud = v.check(
        f.theta0, b, 0.5, low_precision=(quiet.loss_a + 1.0, quiet.loss_b, quiet.loss_at_t)
    )
    assert loud.margin > quiet.margin + 1e-9


def test_verifier_refuses_t_outside_the_open_interval() -> None:
    model, loss_fn, data, _ = zoo.relu_mlp()
    f = FunctionalLoss(model, loss_fn, data)
    with pytest.raises(ValueError):
        Verifier(f).check(f.theta0, f.theta0, 1.0)


class _RawParams(nn.Module):
    """No Linear modules, no scalar parameters: no unit-symmetry construction applies."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.inner = nn.Parameter(torch.randn(3, 4, generator=g))
        self.outer = nn.Parameter(torch.randn(4, 1, generator=g))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x @ self.inner) @ self.outer


def test_random_and_adversarial_stages_refute_without_symmetries() -> None:
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(16, 3, generator=g), torch.randn(16, 1, generator=g)
    f = FunctionalLoss(_RawParams(), nn.MSELoss(), (x, y))
    search = JensenSearch(f, seed=0, budget_s=20.0)
    report = search.run()
    assert report.witness is not None
    assert not search.groups
    src = report.witness.info["source"]
    assert src.startswith(("random", "segment", "init_scale", "adversarial", "global_sign_flip"))


def test_cnn_channel_groups_are_found() -> None:
    model, loss_fn, data, _ = zoo.small_cnn()
    f = FunctionalLoss(model, loss_fn, data)
    groups = find_unit_groups(f.model, f)
    assert [(g.first, g.second, g.units) for g in groups] == [("0", "2", 3), ("2", "5", 4)]
    assert groups[1].outgoing == [("5.weight", 1, 4)]
    # a channel permutation is a symmetry: same loss
    perm = torch.tensor([2, 0, 3, 1])
    b = transform_units(f, f.theta0, groups[1], perm=perm)
    with torch.no_grad():
        assert float(f.loss(b)) == pytest.approx(f.loss0, rel=1e-5)
    assert not torch.equal(b, f.theta0)


def test_hessian_direction_candidates_are_verified_like_any_other() -> None:
    model, loss_fn, data, _ = zoo.relu_mlp()
    f = FunctionalLoss(model, loss_fn, data)
    theta = f.theta0.detach().double().requires_grad_(True)
    f64 = f.to(dtype=torch.float64)
    hess = torch.autograd.functional.hessian(f64.loss, theta.detach())
    values, vectors = torch.linalg.eigh(hess)
    assert values[0] < 0
    search = JensenSearch(f, seed=0)
    report = search.try_directions([(vectors[:, 0], "hessian_direction")])
    assert report.witness is not None
    info = report.witness.info
    assert info["source"] == "hessian_direction" and info["gap"] > info["margin"]
    assert report.pairs_tried <= 5 and search.report.families == ["hessian_direction"]


@pytest.mark.parametrize("name", ["relu_mlp", "tanh_mlp", "small_cnn"])
def test_adversarial_ascent_turns_a_convex_looking_pair_into_a_witness(name: str) -> None:
    model, loss_fn, data, _ = zoo.NONCONVEX[name]()
    f = FunctionalLoss(model, loss_fn, data)
    g = torch.Generator().manual_seed(0)
    a, b = f.theta0.clone(), f.theta0 + 0.1 * torch.randn(f.numel, generator=g)
    with torch.no_grad():
        fa, fb, fm = (float(f.loss(x)) for x in (a, b, 0.5 * a + 0.5 * b))
    assert fm - 0.5 * fa - 0.5 * fb < 0  # the start pair shows no violation
    report = JensenSearch(f, seed=0, budget_s=20.0).refine([(a, b, 0.5, "start")])
    assert report.witness is not None
    assert report.witness.info["source"] == "adversarial(from=start)"
    assert report.witness.info["gap"] > report.witness.info["margin"]
