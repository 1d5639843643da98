"""check_model: the verdict ladder, the result object, witnesses that reload and re-verify."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from torch import nn

import convexcheck as cc
from convexcheck.numeric.check import check_model
from tests.numeric import zoo
from tests.numeric.reverify import losses_from_state_dicts


@pytest.mark.parametrize("name", sorted(zoo.CONVEX))
def test_convex_models_are_proved(name: str) -> None:
    model, loss_fn, data, penalties = zoo.CONVEX[name]()
    result = check_model(model, loss_fn, data, penalties=penalties, device="cpu", budget_s=2.0)
    assert result.convex.answer == "yes", result.explain()
    assert result.convex.certificate
    kinds = {r["kind"] for r in result.reasons}
    assert "affine_in_parameters" in kinds or "convex_loss" in kinds
    assert result.establishes("convex") and not result.establishes("nonconvex")


@pytest.mark.parametrize("name", sorted(zoo.NONCONVEX))
def test_nonconvex_models_are_refuted_and_the_witness_reverifies(name: str, tmp_path) -> None:
    model, loss_fn, data, penalties = zoo.NONCONVEX[name]()
    original = copy.deepcopy(model.state_dict())
    result = check_model(
        model, loss_fn, data, penalties=penalties, device="cpu", budget_s=20.0, hessian=False
    )
    assert result.convex.answer == "no", result.explain()
    w = result.convex.witness
    for key in ("t", "loss_a", "loss_b", "loss_at_t", "gap", "margin", "seed", "source"):
        assert key in w
    assert all(isinstance(w[k], float) for k in ("t", "loss_a", "loss_b", "loss_at_t"))
    path = result.save_witness(tmp_path / "w.pt")
    payload = torch.load(path, weights_only=True)
    assert set(payload) == {"a", "b", "t"} and payload["t"] == w["t"]
    assert set(payload["a"]) == set(model.state_dict())
    fa, fb, fm = losses_from_state_dicts(model, loss_fn, data, payload)
    gap = fm - w["t"] * fa - (1 - w["t"]) * fb
    assert gap > w["margin"], (gap, w)
    assert fa == pytest.approx(w["loss_a"], rel=1e-9)
    # the user's model was not touched
    after = model.state_dict()
    assert all(torch.equal(original[k], after[k]) for k in original)
    assert result.establishes("nonconvex")
    json.dumps(result.to_dict())


def test_reason_kinds_follow_the_construction() -> None:
    model, loss_fn, data, _ = zoo.scalar_times_linear()
    r = check_model(model, loss_fn, data, device="cpu", hessian=False)
    assert r.convex.witness["source"] == "multiplicative"
    assert r.reasons[0]["kind"] == "multiplicative_weights"
    model, loss_fn, data, _ = zoo.relu_mlp()
    r = check_model(model, loss_fn, data, device="cpu", hessian=False)
    assert r.reasons[0]["kind"] in {"rescaling_symmetry", "permutation_symmetry"}
    assert r.hessian == {"min_eigenvalue": None, "max_eigenvalue": None, "status": "disabled"}


def test_unknown_carries_evidence() -> None:
    # a convex model with a penalty nobody can prove convex: the ladder must stop at unknown
    model, loss_fn, data, _ = zoo.linear_regression()
    penalty = lambda params: 0.1 * params["weight"].pow(2).sum()  # noqa: E731
    r = check_model(model, loss_fn, data, penalties=[penalty], device="cpu", max_pairs=200)
    assert r.convex.answer == "unknown"
    ev = r.convex.evidence
    assert ev["pairs_tried"] >= 200 and ev["seed"] == 0
    assert ev["largest_relative_gap"] is not None
    if r.hessian.get("min_eigenvalue") is not None:
        assert ev["min_eigenvalue"] > 0 and "min_error" in ev
    out = r.to_dict()
    json.dumps(out)
    for key in ("convex", "trainable_parameters", "jensen", "hessian", "reasons"):
        assert key in out
    assert out["trainable_parameters"]["count"] == 4
    assert not r.establishes("convex") and not r.establishes("nonconvex")
    with pytest.raises(cc.ConvexcheckInputError, match="no witness"):
        r.save_witness("/nonexistent/never-written.pt")


def test_hessian_extremes_are_reported_when_available() -> None:
    pytest.importorskip("convexcheck.numeric.lanczos")
    model, loss_fn, data, _ = zoo.relu_mlp()
    r = check_model(model, loss_fn, data, device="cpu")
    h = r.hessian
    assert h["min_eigenvalue"] < 0 < h["max_eigenvalue"]
    assert h["min_error"] >= 0


def test_public_api_and_explain() -> None:
    model, loss_fn, data, _ = zoo.deep_linear()
    r = cc.check_model(model, loss_fn, data, device="cpu", hessian=False)
    text = r.explain()
    assert text.startswith("convex: no") and "witness" in text
    assert "ModelCheckResult(convex='no'" in repr(r)


def test_cuda_request_without_cuda_is_an_input_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(cc.ConvexcheckInputError, match="CUDA"):
        check_model(
            nn.Linear(2, 1), nn.MSELoss(), (torch.randn(3, 2), torch.randn(3, 1)), device="cuda"
        )


@pytest.mark.parametrize("bad", [{"seed": -1}, {"seed": 1.5}, {"seed": True}, {"budget_s": 0}])
def test_bad_seed_or_budget_is_an_input_error(bad):
    from convexcheck.errors import ConvexcheckInputError

    model = nn.Linear(2, 1)
    data = (torch.randn(4, 2), torch.randn(4, 1))
    with pytest.raises(ConvexcheckInputError):
        check_model(model, nn.functional.mse_loss, data, **bad)
