"""Reason records: the JSON they give, and an enum that names every kind the package uses."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest

from convexcheck.numeric.reason_types import Reason, ReasonKind, kind_value

PACKAGE = Path(__file__).resolve().parents[2] / "convexcheck"


def test_to_dict_orders_kind_detail_facts_source() -> None:
    reason = Reason(
        ReasonKind.PERMUTATION_SYMMETRY, "swap", {"units": [0, 1], "witnessed": True}, "reasons"
    )
    assert list(reason.to_dict()) == ["kind", "detail", "units", "witnessed", "source"]
    assert json.dumps(reason.to_dict()).startswith('{"kind": "permutation_symmetry", ')
    assert reason.witnessed is True
    assert Reason(ReasonKind.CONVEX_LOSS, "c").to_dict() == {"kind": "convex_loss", "detail": "c"}


def test_records_are_frozen_and_round_trip() -> None:
    data = {"kind": "affine_in_parameters", "detail": "affine"}
    reason = Reason.from_dict(data)
    assert reason.kind is ReasonKind.AFFINE_IN_PARAMETERS
    assert reason.to_dict() == data
    with pytest.raises(dataclasses.FrozenInstanceError):
        reason.detail = "x"  # type: ignore[misc]
    named = reason.with_facts(frozen=["0.weight"]).with_facts(frozen=["ignored"])
    assert named.to_dict() == {**data, "frozen": ["0.weight"]}
    assert reason.to_dict() == data  # the original is unchanged
    with pytest.raises(ValueError, match="facts may not be named"):
        Reason(ReasonKind.CONVEX_LOSS, "c", {"kind": "x"})


def test_an_unknown_kind_is_kept_as_text() -> None:
    """The torch front end may name a new obstacle: the check must not fail on it."""
    assert ReasonKind.parse("something_new") == "something_new"
    assert kind_value(Reason("something_new").kind) == "something_new"


def _kind_literals() -> set[str]:
    """String values given to a ``"kind"`` key, or to ``kind = ...``, in the model side."""
    found: set[str] = set()
    for folder in ("numeric", "torchgraph"):
        for path in (PACKAGE / folder).glob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                values: list[ast.AST] = []
                if isinstance(node, ast.Dict):
                    values += [
                        v
                        for k, v in zip(node.keys, node.values, strict=True)
                        if isinstance(k, ast.Constant) and k.value == "kind"
                    ]
                elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "kind" for t in node.targets
                ):
                    values.append(node.value)
                elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Refused":
                    values += node.args[:1]
                for value in values:
                    found |= _strings(value)
    return found


def _strings(node: ast.AST) -> set[str]:
    """The strings an expression can evaluate to (``"a" if c else "b"``, ``x or "a"``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    if isinstance(node, ast.BoolOp):
        return set().union(*(_strings(v) for v in node.values))
    return set()


def test_the_enum_names_every_reason_kind_in_use() -> None:
    # "structural" is a certificate's kind, the others are reason kinds
    missing = _kind_literals() - {k.value for k in ReasonKind} - {"structural"}
    assert not missing, f"add these to ReasonKind: {sorted(missing)}"
