"""Acceptance test of the torch.fx -> DCP engine on zoo 12: the verdict must match the label.

Every case's label was re-established independently by float64 numerics
(``test_zoo12_labels.py``), so here the engine is simply held to it: ``"yes"`` for a convex
case (a proof), ``"no"`` for a nonconvex one (a verified witness). Anything else (``"unknown"``,
a wrong answer, an exception) is a failure of the engine on that case.

The check must also leave the user's model as it found it: the same parameter objects, values,
dtypes and ``requires_grad`` flags, the same buffers, the same train/eval modes (``wrt`` holds
variables fixed by substitution, never by flipping the user's flags).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import convexcheck
from tests.numeric.zoo12 import CONVEX, MODELS


def _snapshot(model: nn.Module) -> dict:
    return {
        "params": [
            (n, id(p), p.dtype, p.requires_grad, p.detach().clone())
            for n, p in model.named_parameters()
        ],
        "buffers": [(n, b.detach().clone()) for n, b in model.named_buffers()],
        "training": [m.training for m in model.modules()],
    }


def _assert_unchanged(before: dict, after: dict) -> None:
    assert [p[:4] for p in before["params"]] == [p[:4] for p in after["params"]]
    for (name, *_, old), (*_, new) in zip(before["params"], after["params"]):
        assert torch.equal(old, new), f"parameter {name} changed"
    assert [b[0] for b in before["buffers"]] == [b[0] for b in after["buffers"]]
    for (name, old), (_, new) in zip(before["buffers"], after["buffers"]):
        assert torch.equal(old, new), f"buffer {name} changed"
    assert before["training"] == after["training"]


@pytest.mark.parametrize("name", list(MODELS))
def test_zoo12_verdict_matches_label(name: str) -> None:
    case = MODELS[name]()
    before = _snapshot(case.model)
    r = convexcheck.check_model(case.model, case.loss_fn, case.data, wrt=case.wrt, seed=0)
    _assert_unchanged(before, _snapshot(case.model))
    expected = "yes" if case.label == CONVEX else "no"
    assert r.convex.answer == expected, f"{name} ({case.category}): {case.why}"
