"""The mechanisms behind reasons carry their own float64-verified constructions (model zoo)."""

from __future__ import annotations

import json

import pytest

from convexcheck.numeric.check import check_model
from convexcheck.numeric.functional import FunctionalLoss
from convexcheck.numeric.mechanisms import model_reasons
from convexcheck.numeric.reason_types import Reason
from convexcheck.numeric.verify import Verifier
from tests.numeric import zoo


def _by_kind(reasons: list[dict] | list[Reason]) -> dict[str, dict]:
    as_dicts = [r.to_dict() if isinstance(r, Reason) else r for r in reasons]
    return {r["kind"]: r for r in as_dicts if r.get("source") == "reasons"}


def test_relu_mlp_gets_permutation_multiplicative_and_rescaling() -> None:
    model, loss_fn, data, _ = zoo.relu_mlp()
    result = check_model(model, loss_fn, data, device="cpu", budget_s=2.0, hessian=False)
    assert result.convex.answer == "no"
    kinds = _by_kind(result.reasons)
    assert {"permutation_symmetry", "multiplicative_weights", "rescaling_symmetry"} <= set(kinds)
    for reason in kinds.values():
        assert reason["witnessed"] is True
        assert reason["midpoint_gap"] > reason["margin"] > 0
    perm = kinds["permutation_symmetry"]
    assert perm["layers"] == ["0", "2"] and len(set(perm["units"])) == 2
    # a symmetry: both ends have the same loss up to rounding
    assert perm["loss_difference"] <= 1e-12 * max(1.0, abs(perm["loss_a"]))
    resc = kinds["rescaling_symmetry"]
    assert resc["loss_difference"] <= 1e-12 * max(1.0, abs(resc["loss_a"]))
    assert resc["midpoint_amplification"] > 1
    mult = kinds["multiplicative_weights"]
    lo, hi = mult["slice_eigenvalues"]
    assert lo < 0 < hi
    json.dumps(result.to_dict())  # every number is JSON-ready


def test_reason_numbers_reverify_independently() -> None:
    """Rebuild the permutation pair by hand and recheck the gap with a fresh verifier."""
    import torch

    model, loss_fn, data, _ = zoo.relu_mlp()
    floss = FunctionalLoss(model, loss_fn, data)
    perm = _by_kind(model_reasons(model, floss))["permutation_symmetry"]
    i, j = perm["units"]
    swapped = [p.detach().clone() for p in model.parameters()]
    w1, b1, w2, _ = swapped
    w1[[i, j]] = w1[[j, i]]
    b1[[i, j]] = b1[[j, i]]
    w2[:, [i, j]] = w2[:, [j, i]]
    b = torch.cat([p.reshape(-1) for p in swapped])
    check = Verifier(floss).check(floss.theta0, b, 0.5)
    assert check.accepted
    assert check.gap == pytest.approx(perm["midpoint_gap"], rel=1e-9)


def test_deep_linear_gets_multiplicative() -> None:
    model, loss_fn, data, _ = zoo.deep_linear()
    result = check_model(model, loss_fn, data, device="cpu", budget_s=2.0, hessian=False)
    mult = _by_kind(result.reasons)["multiplicative_weights"]
    assert mult["witnessed"] and mult["slice_eigenvalues"][0] < 0
    h = mult["slice_hessian"]
    assert h[0][0] * h[1][1] - h[0][1] * h[1][0] < 0  # indefinite 2x2


def test_tanh_has_no_rescaling_argument() -> None:
    """tanh is not positively homogeneous: no rescaling claim may be made for it."""
    model, loss_fn, data, _ = zoo.tanh_mlp()
    kinds = _by_kind(model_reasons(model, FunctionalLoss(model, loss_fn, data)))
    assert "rescaling_symmetry" not in kinds
    assert "permutation_symmetry" in kinds


def test_frozen_features_is_affine_and_yes() -> None:
    model, loss_fn, data, _ = zoo.frozen_features_head()
    result = check_model(model, loss_fn, data, device="cpu", hessian=False)
    assert result.convex.answer == "yes"
    affine = next(r for r in result.reasons if r["kind"] == "affine_in_parameters")
    assert affine["frozen"] == ["0.weight", "0.bias"]
    assert affine["trainable"] == ["2.weight", "2.bias"]
    assert not any(r.get("source") == "reasons" for r in result.reasons)
