"""Typed reasons: *why* a model check answered as it did, as records instead of loose dicts.

A :class:`Reason` is what ``ModelCheckResult.reasons`` lists (as ``to_dict()``) and what the
JSON of ``convexcheck model`` prints: a machine-readable ``kind`` (a :class:`ReasonKind`), a
one-line ``detail`` and the numbers behind it. The numeric side builds them
(:mod:`convexcheck.numeric.check`, :mod:`convexcheck.numeric.mechanisms`); ``explain/`` only
renders them. This module is a result type (layer 1): it imports no torch and nothing of the
provers, so anything may read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class ReasonKind(str, Enum):
    """Every reason kind in use. The values are the JSON strings (``shared/CONTRACT.md``)."""

    # the arguments the numeric side builds on the model (numeric/mechanisms.py) or finds in a
    # verified witness (numeric/check.py)
    PERMUTATION_SYMMETRY = "permutation_symmetry"
    MULTIPLICATIVE_WEIGHTS = "multiplicative_weights"
    RESCALING_SYMMETRY = "rescaling_symmetry"
    SIGN_SYMMETRY = "sign_symmetry"
    NEGATIVE_CURVATURE = "negative_curvature"
    STRUCTURAL_OBSTACLE = "structural_obstacle"
    CONVEX_PENALTY = "convex_penalty"
    # a structural proof's reasons (torchgraph/prove.py)
    AFFINE_IN_PARAMETERS = "affine_in_parameters"
    AFFINE_IN_INPUTS = "affine_in_inputs"
    CONVEX_OUTPUT = "convex_output"
    CONVEX_IN_INPUTS = "convex_in_inputs"
    CONVEX_LOSS = "convex_loss"
    FROZEN_FEATURES = "frozen_features"
    # why the structural prover stopped (torchgraph issues)
    NONCONVEX_ACTIVATION = "nonconvex_activation"
    NONCONVEX_LOSS = "nonconvex_loss"
    NONCONVEX_POWER = "nonconvex_power"
    NORMALIZATION = "normalization"
    BATCH_STATISTICS = "batch_statistics"
    DATA_DEPENDENT = "data_dependent"
    STOCHASTIC = "stochastic"
    IN_PLACE = "in_place"
    UNSUPPORTED_OP = "unsupported_op"
    UNTRACEABLE = "untraceable"
    PARAMETRIZED_WEIGHT = "parametrized_weight"
    FORWARD_HOOK = "forward_hook"
    DOMAIN = "domain"
    DCP_RULE = "dcp_rule"
    NOT_PROVED = "not_proved"
    TRACING_DEPENDENT = "tracing_dependent"
    CHECKER_REJECTED = "checker_rejected"

    @classmethod
    def parse(cls, kind: ReasonKind | str) -> ReasonKind | str:
        """The member for ``kind``; a string no member has is kept as it is (the torch front
        end names why it stopped, and a new name there must not break a check here)."""
        if isinstance(kind, cls):
            return kind
        try:
            return cls(kind)
        except ValueError:
            return str(kind)


def kind_value(kind: ReasonKind | str) -> str:
    """The JSON string of ``kind`` (a member's value, or the unknown string itself)."""
    return kind.value if isinstance(kind, ReasonKind) else str(kind)


_RESERVED = ("kind", "detail", "source")


@dataclass(frozen=True)
class Reason:
    """One reason: its ``kind``, a one-line ``detail``, the numbers behind it (``facts``, in
    the order they are printed) and where it came from (``source``: ``"reasons"`` for the
    constructions on the model, ``"witness"``, ``"structure"``, ``"check"``; ``None`` when
    unstated).

    ``to_dict()`` is the JSON object: ``kind``, ``detail``, the facts, then ``source``; a
    ``detail`` or ``source`` of ``None`` is left out.
    """

    kind: ReasonKind | str
    detail: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None

    def __post_init__(self) -> None:
        clash = [k for k in self.facts if k in _RESERVED]
        if clash:
            raise ValueError(f"facts may not be named {', '.join(clash)}")
        object.__setattr__(self, "kind", ReasonKind.parse(self.kind))
        object.__setattr__(self, "facts", dict(self.facts))

    @property
    def witnessed(self) -> bool | None:
        """For a construction: whether its float64 verification accepted the violation."""
        value = self.facts.get("witnessed")
        return None if value is None else bool(value)

    def with_facts(self, **more: Any) -> Reason:
        """A copy with the facts in ``more`` added where this reason does not state them."""
        facts = dict(self.facts)
        for key, value in more.items():
            facts.setdefault(key, value)
        return Reason(self.kind, self.detail, facts, self.source)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": kind_value(self.kind)}
        if self.detail is not None:
            out["detail"] = self.detail
        out.update(self.facts)
        if self.source is not None:
            out["source"] = self.source
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        """A reason from its JSON object (``kind`` required); ``to_dict()`` gives the same
        object back, in the order ``kind``, ``detail``, facts, ``source``."""
        facts = {k: v for k, v in data.items() if k not in _RESERVED}
        return cls(data["kind"], data.get("detail"), facts, data.get("source"))
