"""Convexity checks inside your own pytest suite: a custom loss, a probe model, the fixture.

Run: ``python -m pytest examples/test_custom_loss.py -q``.

The pattern: write down the loss you rely on being convex (so that its optimiser finds the
global minimum) and make your CI fail the day someone edits it into a non-convex one.

* ``cc.assert_convex`` / ``cc.assert_concave`` pass only with a *proof* (a DCP derivation, a
  Hessian or SOS certificate); ``cc.assert_nonconvex`` only with a verified witness. A failure
  raises ``cc.ConvexityAssertionError`` (an ``AssertionError``) whose message is the whole
  explanation: the verdicts, the DCP premise that failed, the witness.
* ``cc.assert_model_convex(model, loss_fn, data)`` does the same for a PyTorch model, in its
  trainable parameters; here a linear head on frozen random features (a linear probe).
* The ``convexcheck`` fixture (from the package's pytest plugin) does all of the above with
  the seed, time budget and device set by ``@pytest.mark.convexcheck(...)`` or by the
  ``--convexcheck-seed/--convexcheck-budget/--convexcheck-device`` options.

This file is an example: the repository's own test run (``tests/test_examples.py``) runs it.
"""

from __future__ import annotations

import pytest
import sympy
import torch
from torch import nn

import convexcheck as cc

# -- the loss under test: a smoothed hinge with weight decay, written with SymPy ---------------
# A user's custom loss, on a small fixed data set: log(1 + exp(margin - y (w x + b))) per point
# (a smooth hinge) plus weight decay. Only w and b are variables; the data are numbers.
DATA = [("1/2", 1), ("-6/5", -1), ("2", 1), ("3/10", -1)]
MARGIN = 1
DECAY = sympy.Rational(1, 10)


def smooth_hinge_loss(w: sympy.Symbol, b: sympy.Symbol) -> sympy.Expr:
    terms = [sympy.log(1 + sympy.exp(MARGIN - y * (w * sympy.Rational(x) + b))) for x, y in DATA]
    return sympy.Add(*terms) / len(DATA) + DECAY * w**2


def test_smooth_hinge_loss_is_convex():
    w, b = sympy.symbols("w b", real=True)
    result = cc.assert_convex(smooth_hinge_loss(w, b))
    assert result.convex.method == "dcp"  # proved by the composition rules, step by step
    assert result.concave.answer == "no"  # and refuted concave with an exact witness


def test_huber_loss_is_convex():
    cc.assert_convex("Piecewise((r**2/2, Abs(r) <= 1), (Abs(r) - 1/2, True))")


def test_log_cosh_loss_is_convex():
    # no DCP rule covers log(cosh(r)); the exact Hessian proof does
    result = cc.assert_convex("log(cosh(r))")
    assert result.convex.method == "hessian"


def test_log_likelihood_is_concave():
    # Poisson log-likelihood in the rate, for a count of 3: maximised by a convex solver
    cc.assert_concave("3*log(lam) - lam", {"lam": "positive"})


def test_cauchy_loss_is_not_convex():
    # the robust Cauchy loss log(1 + r^2) is not convex: a checked witness documents it
    result = cc.assert_nonconvex("log(1 + r**2)")
    witness = result.convex.witness
    assert set(witness) >= {"a", "b", "t"}


def test_a_wrong_claim_fails_with_the_reason():
    # what your CI prints the day someone replaces the loss by a non-convex one
    with pytest.raises(cc.ConvexityAssertionError) as failure:
        cc.assert_convex("log(1 + r**2)")
    assert isinstance(failure.value, AssertionError)
    message = str(failure.value)
    assert "log(1 + r**2)" in message and "witness" in message  # the explanation is the message
    assert failure.value.result.convex.answer == "no"


# -- a model: a trainable linear head on frozen random features (a linear probe) ---------------
def probe_model() -> tuple[nn.Module, nn.Module, tuple[torch.Tensor, torch.Tensor]]:
    torch.manual_seed(0)
    features = nn.Sequential(nn.Linear(4, 16), nn.Tanh())
    for p in features.parameters():
        p.requires_grad_(False)
    model = nn.Sequential(features, nn.Linear(16, 3))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 4, generator=g)
    y = torch.randint(0, 3, (32,), generator=g)
    return model, nn.CrossEntropyLoss(), (x, y)


def test_linear_probe_on_frozen_features_is_convex():
    model, loss_fn, data = probe_model()
    result = cc.assert_model_convex(model, loss_fn, data)
    assert result.convex.method == "structural"
    assert result.trainable_parameters["names"] == ["1.weight", "1.bias"]


def test_unfreezing_the_features_breaks_convexity():
    model, loss_fn, data = probe_model()
    for p in model.parameters():
        p.requires_grad_(True)
    with pytest.raises(cc.ConvexityAssertionError):
        cc.assert_model_convex(model, loss_fn, data)


# -- the fixture: seed, budget and device from the marker or the command line ------------------
@pytest.mark.convexcheck(seed=3, budget=2.0, device="cpu")
def test_with_the_fixture(convexcheck):
    assert (convexcheck.seed, convexcheck.budget, convexcheck.device) == (3, 2.0, "cpu")
    convexcheck.assert_convex("log(exp(x) + exp(y))")
    convexcheck.assert_concave("log(x)", {"x": "positive"})
    convexcheck.assert_affine("Abs(x - 3) + x", {"x": "[3, 10]"})
    convexcheck.assert_nonconvex("x*y")
    convexcheck.assert_nonconcave("x**2")

    model, loss_fn, data = probe_model()
    result = convexcheck.assert_model_convex(model, loss_fn, data)
    assert result.seed == 3
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    refuted = convexcheck.assert_model_nonconvex(mlp, loss_fn, data)
    assert refuted.convex.witness["gap"] > refuted.convex.witness["margin"]
