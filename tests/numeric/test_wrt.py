"""check_model(wrt=...): convexity in the inputs and in a named subset of the parameters.

Every "no" is re-verified here with plain torch code (a copy of the model in float64 evaluated
at the saved points), and every check must leave the user's model exactly as it was: parameter
values, buffers and requires_grad flags. Effort is bounded by counts (max_pairs), never by time.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import convexcheck as cc
from convexcheck.cli import main as cli_main
from convexcheck.errors import ConvexcheckInputError
from tests.numeric.reverify import losses_from_state_dicts

ROOT = Path(__file__).resolve().parents[2]
FAST = {"device": "cpu", "max_pairs": 256}


# -- models ------------------------------------------------------------------------------------
def tanh_mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))


class ICNN(nn.Module):
    """softplus(W2 softplus(W1 x + b1) + b2) with W2 >= 0: convex in x."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.hidden = nn.Linear(2, 8)
        self.out = nn.Linear(8, 1)
        with torch.no_grad():
            self.out.weight.abs_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.softplus(self.out(nn.functional.softplus(self.hidden(x))))


class Quadratic(nn.Module):
    """|A x|^2 + c.x per example: convex in x for any A, c."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(2)
        self.A = nn.Parameter(torch.randn(3, 2))
        self.c = nn.Parameter(torch.randn(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x @ self.A.T).pow(2).sum(-1) + x @ self.c


def regression_data(n: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    x = torch.randn(n, 2, generator=g)
    return x, torch.sin(x[:, :1]) + 0.1 * torch.randn(n, 1, generator=g)


def snapshot(model: nn.Module) -> dict[str, Any]:
    return {
        "params": {
            n: (p.requires_grad, p.detach().clone(), p.grad is None)
            for n, p in model.named_parameters()
        },
        "buffers": {n: b.detach().clone() for n, b in model.named_buffers()},
    }


def assert_untouched(model: nn.Module, before: dict[str, Any]) -> None:
    after = snapshot(model)
    assert after["params"].keys() == before["params"].keys()
    for name, (flag, value, no_grad) in before["params"].items():
        assert after["params"][name][0] == flag, f"requires_grad of {name} changed"
        assert torch.equal(after["params"][name][1], value), f"{name} changed"
        assert after["params"][name][2] == no_grad, f".grad of {name} changed"
    for name, value in before["buffers"].items():
        assert torch.equal(after["buffers"][name], value), f"buffer {name} changed"


def reverify_inputs(model: nn.Module, loss_fn: Any, targets: Any, payload: dict) -> float:
    """The Jensen gap at the saved inputs, on a float64 copy of the model (plain torch)."""
    t = float(payload["t"])
    a, b = payload["a"].double(), payload["b"].double()
    net = copy.deepcopy(model).double()
    values = []
    with torch.no_grad():
        for x in (a, b, t * a + (1 - t) * b):
            out = net(x)
            values.append(float(out.sum() if loss_fn is None else loss_fn(out, targets.double())))
    fa, fb, fm = values
    return fm - t * fa - (1 - t) * fb


# -- wrt="inputs" ------------------------------------------------------------------------------
@pytest.mark.parametrize("with_loss", [False, True])
def test_tanh_mlp_is_refuted_in_its_inputs_and_the_witness_reverifies(tmp_path, with_loss):
    model = tanh_mlp()
    x, y = regression_data()
    x_before = x.clone()
    before = snapshot(model)
    loss_fn = nn.MSELoss() if with_loss else None
    data = (x, y) if with_loss else x
    r = cc.check_model(model, loss_fn, data, wrt="inputs", hessian=False, **FAST)
    assert_untouched(model, before)
    assert torch.equal(x, x_before) and not x.requires_grad
    assert r.convex.answer == "no", r.explain()
    d = r.to_dict()
    json.dumps(d)
    assert d["wrt"] == "inputs"
    assert d["trainable_parameters"]["names"] == ["inputs"]
    assert d["trainable_parameters"]["shapes"] == [[16, 2]]
    assert d["trainable_parameters"]["count"] == 32
    assert set(d["trainable_parameters"]["frozen"]) == {n for n, _ in model.named_parameters()}
    if not with_loss:
        assert "sum" in d["objective"]["rule"]
    path = r.save_witness(tmp_path / "w.pt")
    payload = torch.load(path, weights_only=True)
    assert set(payload) == {"wrt", "a", "b", "t"} and payload["wrt"] == "inputs"
    assert payload["a"].shape == x.shape and payload["a"].dtype == x.dtype
    w = r.convex.witness
    assert payload["t"] == w["t"]
    gap = reverify_inputs(model, loss_fn, y, payload)
    assert gap > w["margin"], (gap, w)
    assert gap == pytest.approx(w["gap"], rel=1e-6)
    assert_untouched(model, before)


def test_positive_weight_softplus_icnn_is_proved_in_its_inputs():
    model = ICNN()
    x, _ = regression_data()
    before = snapshot(model)
    r = cc.check_model(model, None, x, wrt="inputs", hessian=True, hessian_max_iter=20, **FAST)
    assert_untouched(model, before)
    assert r.convex.answer == "yes", r.explain()  # proved: the structural rung reads wrt
    assert r.witness_points is None
    assert r.convex.certificate["wrt"] == "inputs"
    assert r.convex.certificate["faithfulness"]["points"] > 0
    assert "sum" in r.to_dict()["objective"]["rule"]
    assert r.hessian["at"] == "the given inputs"
    assert not any(k["kind"].endswith("symmetry") for k in r.reasons)


@pytest.mark.parametrize("with_loss", [False, True])
def test_a_quadratic_in_the_inputs_is_proved(with_loss):
    x, y = regression_data()
    if with_loss:  # MSE of a linear model against targets: a convex quadratic in x
        model, loss_fn = nn.Linear(2, 1), nn.MSELoss()
    else:  # |A x|^2 + c.x per example, summed over the examples
        model, loss_fn = Quadratic(), None
    before = snapshot(model)
    r = cc.check_model(model, loss_fn, (x, y), wrt="inputs", hessian=False, **FAST)
    assert_untouched(model, before)
    assert r.convex.answer == "yes", r.explain()
    assert r.convex.certificate["output_curvature"] == ("affine" if with_loss else "convex")
    with pytest.raises(ConvexcheckInputError):
        r.save_witness("never-written.pt")


# -- wrt=[names] -------------------------------------------------------------------------------
def test_last_layer_only_is_not_refuted_first_layer_only_is(tmp_path):
    model = tanh_mlp()
    data = regression_data()
    model[2].bias.requires_grad_(False)  # flags the check must ignore and leave alone
    before = snapshot(model)
    last = cc.check_model(model, nn.MSELoss(), data, wrt=["2.weight", "2.bias"], **FAST)
    assert_untouched(model, before)
    assert last.convex.answer == "yes", last.explain()
    d = last.to_dict()
    assert d["wrt"] == ["2.weight", "2.bias"]
    assert d["trainable_parameters"]["names"] == ["2.weight", "2.bias"]
    assert d["trainable_parameters"]["count"] == 9
    assert d["trainable_parameters"]["frozen"] == ["0.weight", "0.bias"]

    first = cc.check_model(model, nn.MSELoss(), data, wrt=("0.weight",), hessian=False, **FAST)
    assert_untouched(model, before)
    assert first.convex.answer == "no", first.explain()
    assert first.to_dict()["wrt"] == ["0.weight"]
    payload = torch.load(first.save_witness(tmp_path / "w.pt"), weights_only=True)
    assert set(payload) == {"a", "b", "t"}
    assert set(payload["a"]) == set(model.state_dict())
    for key, value in model.state_dict().items():
        if key != "0.weight":  # everything outside wrt is held at the model's values
            assert torch.equal(payload["a"][key], value) and torch.equal(payload["b"][key], value)
    fa, fb, fm = losses_from_state_dicts(model, nn.MSELoss(), data, payload)
    w = first.convex.witness
    assert fm - w["t"] * fa - (1 - w["t"]) * fb > w["margin"]
    # a subset leaving out a hidden layer's bias: the symmetry arguments are skipped, said so
    partial = cc.check_model(
        nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)), nn.MSELoss(), data,
        wrt=["0.weight", "2.weight"], hessian=False, **FAST,
    )  # fmt: skip
    assert any("symmetry arguments were skipped" in m for m in partial.warnings)


def test_parameters_default_is_unchanged_and_reports_wrt():
    model = tanh_mlp()
    data = regression_data()
    default = cc.check_model(model, nn.MSELoss(), data, hessian=False, **FAST)
    explicit = cc.check_model(model, nn.MSELoss(), data, wrt="parameters", hessian=False, **FAST)
    assert default.to_dict()["wrt"] == "parameters"
    assert default.convex.answer == explicit.convex.answer == "no"
    assert default.convex.witness == explicit.convex.witness


def test_loss_fn_none_with_a_scalar_output_judges_that_scalar():
    class Total(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(2, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.tanh(self.lin(x)).pow(2).mean()

    model = Total()
    x, _ = regression_data()
    before = snapshot(model)
    r = cc.check_model(model, data=x, hessian=False, **FAST)
    assert_untouched(model, before)
    assert r.to_dict()["objective"]["expression"] == "model(inputs)"
    assert r.convex.answer in {"no", "unknown"}


# -- bad input ---------------------------------------------------------------------------------
def _one_line_error(call: Any) -> str:
    with pytest.raises(ConvexcheckInputError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and message
    return message


def test_bad_wrt_and_data_are_one_line_input_errors():
    model = tanh_mlp()
    x, y = regression_data()
    before = snapshot(model)
    msg = _one_line_error(lambda: cc.check_model(model, nn.MSELoss(), (x, y), wrt=["0.wieght"]))
    assert "0.wieght" in msg and "0.weight" in msg
    _one_line_error(lambda: cc.check_model(model, nn.MSELoss(), (x, y), wrt="weights"))
    _one_line_error(lambda: cc.check_model(model, nn.MSELoss(), (x, y), wrt=[]))
    msg = _one_line_error(lambda: cc.check_model(model, nn.MSELoss()))
    assert "data" in msg
    # integer inputs (token ids) are not a continuous variable
    emb = nn.Sequential(nn.Embedding(10, 3), nn.Linear(3, 1))
    ids = torch.randint(0, 10, (8,))
    msg = _one_line_error(lambda: cc.check_model(emb, None, ids, wrt="inputs"))
    assert "floating point" in msg
    # more than one scalar per example without a loss
    wide = nn.Linear(2, 3)
    msg = _one_line_error(lambda: cc.check_model(wide, None, x, wrt="inputs"))
    assert "one scalar per example" in msg
    # parameters with loss_fn=None need a scalar output
    msg = _one_line_error(lambda: cc.check_model(model, None, (x, y)))
    assert "scalar" in msg
    # an integer parameter cannot be a variable
    odd = nn.Linear(2, 1)
    odd.register_parameter("count", nn.Parameter(torch.zeros(2, dtype=torch.long), False))
    msg = _one_line_error(lambda: cc.check_model(odd, nn.MSELoss(), (x, y), wrt=["count"]))
    assert "floating-point" in msg
    assert_untouched(model, before)


# -- command line ------------------------------------------------------------------------------
TANH_FILE = """
import torch
from torch import nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    return {"model": model, "data": torch.randn(16, 2)}
"""


def test_cli_wrt_inputs_json_and_witness_out(tmp_path):
    model_file = tmp_path / "tanh_inputs.py"
    model_file.write_text(TANH_FILE)
    out = tmp_path / "w.pt"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "convexcheck", "model", str(model_file), "--wrt", "inputs",
         "--json", "--device", "cpu", "--witness-out", str(out), "--expect", "nonconvex"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["wrt"] == "inputs" and payload["convex"]["answer"] == "no"
    assert payload["trainable_parameters"]["names"] == ["inputs"]
    assert payload["witness_file"] == str(out)
    saved = torch.load(out, weights_only=True)
    assert saved["wrt"] == "inputs" and saved["t"] == payload["convex"]["witness"]["t"]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    gap = reverify_inputs(model, None, None, saved)
    assert gap > payload["convex"]["witness"]["margin"]


def test_cli_wrt_names_and_bad_names(tmp_path, capsys):
    mlp = str(ROOT / "tests" / "numeric" / "models" / "mlp.py")
    out = tmp_path / "w.pt"
    rc = cli_main(
        ["model", mlp, "--wrt", "0.weight,0.bias", "--json", "--device", "cpu",
         "--witness-out", str(out)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    payload = json.loads(captured.out)
    assert payload["wrt"] == ["0.weight", "0.bias"]
    assert payload["trainable_parameters"]["names"] == ["0.weight", "0.bias"]
    assert payload["trainable_parameters"]["frozen"] == ["2.weight", "2.bias"]
    assert payload["convex"]["answer"] == "no"
    saved = torch.load(out, weights_only=True)
    assert set(saved) == {"a", "b", "t"}
    assert set(saved["a"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert torch.equal(saved["a"]["2.weight"], saved["b"]["2.weight"])
    for argv in (["--wrt", "0.weight,nope"], ["--wrt", ","], ["--wrt", "0.weight,"]):
        with pytest.raises(SystemExit) as info:
            cli_main(["model", mlp, "--device", "cpu", *argv])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("convexcheck: error:") and "\n" not in err
    # a file without loss_fn is only accepted with --wrt inputs
    no_loss = tmp_path / "no_loss.py"
    no_loss.write_text(TANH_FILE)
    with pytest.raises(SystemExit) as info:
        cli_main(["model", str(no_loss), "--device", "cpu"])
    assert info.value.code == 2
    assert "--wrt inputs" in capsys.readouterr().err
