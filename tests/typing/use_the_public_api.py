"""A user's script over the public API, written as a user with a strict type checker writes it.

``mypy --strict`` checks it (``tests/test_typing.py``): every ``assert_type`` must hold as the
package declares its types, so an annotation that drifts to ``Any`` or to the wrong type fails
the check; a public name that loses its annotations fails ``--strict`` on the package side.
The test also runs it, so the types describe values that are really returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_type

import convexcheck as cc
from convexcheck.progress import ProgressEvent
from convexcheck.schemas import FORMATS, validate


def closed_forms() -> list[ProgressEvent]:
    events: list[ProgressEvent] = []
    result = cc.check("log(1 + exp(x))", {"x": "real"}, seed=1, progress=events.append)
    assert_type(result, cc.CheckResult)
    assert_type(result.convex, cc.Verdict)
    assert_type(result.curvature, str)
    assert_type(result.to_dict(), dict[str, Any])
    assert_type(result.explain(), str)
    assert_type(result.establishes("convex"), bool)
    assert result.convex.answer == "yes" and result.curvature == "convex"
    assert result.to_dict()["format"] == FORMATS["expr"]
    validate(result.to_dict(), "expr")
    refuted = cc.check("x**4 - x**2")
    witness = refuted.convex.witness
    assert_type(witness, Mapping[str, Any] | None)
    assert witness is not None and set(witness) >= {"a", "b", "t"}
    cc.assert_convex("x**2 + exp(y)")
    cc.assert_nonconvex("x*y")
    try:
        cc.assert_concave("x**2")
    except cc.ConvexityAssertionError as error:
        assert_type(error, cc.ConvexityAssertionError)
    else:  # pragma: no cover - the assertion must fail
        raise AssertionError("x**2 was accepted as concave")
    try:
        cc.check("x +* y")
    except cc.ConvexcheckInputError as error:
        assert "position" in str(error) or str(error)
    return events


def model() -> cc.ModelCheckResult:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Linear(3, 1)
    data = (torch.randn(16, 3), torch.randn(16, 1))
    result = cc.check_model(net, torch.nn.functional.mse_loss, data, device="cpu", seed=0)
    assert_type(result, cc.ModelCheckResult)
    assert_type(result.convex, cc.Verdict)
    assert_type(result.to_dict(), dict[str, Any])
    assert result.convex.answer == "yes"
    return result


if __name__ == "__main__":
    seen = closed_forms()
    assert seen and all(isinstance(e, ProgressEvent) for e in seen)
    print("closed forms ok:", len(seen), "progress events")
    print("model ok:", model().convex.answer)
