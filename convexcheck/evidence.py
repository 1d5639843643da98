"""Typed evidence: the records behind a verdict's ``witness``, ``evidence`` and a model's facts.

The JSON of ``shared/CONTRACT.md`` is made of plain dicts, and every producer builds one; the
renderers used to read them with ``d.get("key")`` chains, so a renamed key silently turned into a
missing line. These records name the fields once. Each is a frozen dataclass that

* is built from a producer's dict at the boundary (:meth:`Record.from_dict`), keeping any key it
  does not name in ``extra`` and the dict's key order, so ``from_dict(d).to_dict() == d`` with the
  same keys in the same order (the JSON stays byte-identical);
* reads like the dict it replaces (it is a :class:`~collections.abc.Mapping`), so a producer can
  switch from building the dict to building the record without breaking ``verdict.witness["t"]``;
* serialises with :meth:`Record.to_dict` (``Verdict.to_dict`` calls it).

Optional fields are ``None`` when the producer did not write the key (a key written with the
value ``None`` is remembered and written back).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

__all__ = [
    "ClosedFormEvidence",
    "DcpAttempt",
    "ExactWitness",
    "Faithfulness",
    "HessianExtremes",
    "IndependentCheck",
    "ModelEvidence",
    "ModelWitness",
    "Record",
    "SearchAttempt",
    "StageAttempt",
    "TrainableParameters",
    "as_record",
    "plain",
]

R = TypeVar("R", bound="Record")

_BOOKKEEPING = ("extra", "order", "none_keys")


@dataclass(frozen=True, eq=False)
class Record(Mapping[str, Any]):
    """Base of the evidence records: named fields plus the producer's other keys, in order."""

    # nested records: field name -> record class (built from a nested dict by from_dict)
    NESTED: ClassVar[dict[str, type[Record]]] = {}

    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, kw_only=True)
    order: tuple[str, ...] = field(default=(), repr=False, compare=False, kw_only=True)
    none_keys: frozenset[str] = field(default=frozenset(), repr=False, compare=False, kw_only=True)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name not in _BOOKKEEPING)

    @classmethod
    def from_dict(cls: type[R], data: Mapping[str, Any]) -> R:
        """The record of a producer's dict (a record is returned as it is)."""
        if isinstance(data, cls):
            return data
        known = set(cls.field_names())
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            if key in known:
                nested = cls.NESTED.get(key)
                values[key] = (
                    nested.from_dict(value) if nested and isinstance(value, Mapping) else value
                )
            else:
                extra[key] = value
        nones = frozenset(k for k, v in data.items() if v is None and k in known)
        return cls(**values, extra=extra, order=tuple(data), none_keys=nones)

    def to_dict(self) -> dict[str, Any]:
        """The producer's dict: same keys, same order, same values."""
        out: dict[str, Any] = {}
        for name in self.field_names():
            value = getattr(self, name)
            if value is None and name not in self.none_keys:
                continue
            out[name] = value.to_dict() if isinstance(value, Record) else value
        out.update(self.extra)
        if self.order:
            ordered = {k: out[k] for k in self.order if k in out}
            ordered.update((k, v) for k, v in out.items() if k not in ordered)
            return ordered
        return out

    # -- read like the dict it replaces --
    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())


def plain(value: Any) -> Any:
    """A record as the dict it stands for; anything else (a producer's dict) as it is."""
    return value.to_dict() if isinstance(value, Record) else value


def as_record(cls: type[R], data: Mapping[str, Any] | None) -> R | None:
    """``cls.from_dict(data)``, or ``None`` for no data (the boundary where dicts come in)."""
    return None if data is None else cls.from_dict(data)


# -- closed forms --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ExactWitness(Record):
    """A closed-form Jensen violation: ``f(t a + (1-t) b)`` against the chord, verified exactly
    (values ``{p/q}``) or by rigorous enclosures (``[lo, hi]``). A tensor witness also names the
    ``entry`` it speaks about and writes ``f_t``/``gap_lower_bound``."""

    a: dict[str, Any] | None = None
    b: dict[str, Any] | None = None
    t: Any = None
    f_a: Any = None
    f_b: Any = None
    f_at_t: Any = None
    gap: Any = None
    gap_float: float | None = None
    inequality: str | None = None
    verified: str | None = None
    seed: int | None = None
    entry: Any = None
    f_t: Any = None
    gap_lower_bound: Any = None

    @property
    def is_tensor(self) -> bool:
        """Whether the points are arrays (nested lists) rather than scalars."""
        return any(isinstance(v, list) for v in (self.a or {}).values())


@dataclass(frozen=True, eq=False)
class DcpAttempt(Record):
    """What the DCP stage said about a question it could not prove."""

    result: str | None = None
    failed_premises: list[str] | None = None


@dataclass(frozen=True, eq=False)
class SearchAttempt(Record):
    """The witness search of a closed form that found no violation."""

    result: str | None = None
    samples: int | None = None
    evaluations: int | None = None
    seed: int | None = None
    largest_relative_gap: float | None = None


@dataclass(frozen=True, eq=False)
class StageAttempt(Record):
    """A second-order stage (Hessian, SOS) that did not prove the question, and why."""

    result: str | None = None
    reason: str | None = None


@dataclass(frozen=True, eq=False)
class ClosedFormEvidence(Record):
    """The evidence of an ``unknown`` closed-form answer: each stage tried and what it saw."""

    NESTED: ClassVar[dict[str, type[Record]]] = {
        "dcp": DcpAttempt,
        "witness_search": SearchAttempt,
        "hessian": StageAttempt,
        "sos": StageAttempt,
    }

    stages_tried: list[str] | None = None
    dcp: DcpAttempt | None = None
    witness_search: SearchAttempt | None = None
    hessian: StageAttempt | None = None
    sos: StageAttempt | None = None
    stopped_by: str | None = None
    budget: dict[str, Any] | None = None
    notes: list[str] | None = None

    @property
    def failed_premises(self) -> list[str]:
        return list((self.dcp.failed_premises if self.dcp else None) or [])


# -- models --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ModelWitness(Record):
    """A model's Jensen violation, recomputed in float64 with a rounding margin."""

    t: float | None = None
    loss_a: float | None = None
    loss_b: float | None = None
    loss_at_t: float | None = None
    gap: float | None = None
    margin: float | None = None
    source: str | None = None
    seed: int | None = None


@dataclass(frozen=True, eq=False)
class ModelEvidence(Record):
    """The evidence of an ``unknown`` model answer: the Jensen search and the Hessian probe."""

    pairs_tried: int | None = None
    largest_relative_gap: float | None = None
    float64_checks: int | None = None
    families: list[str] | None = None
    min_eigenvalue: float | None = None
    min_error: float | None = None


@dataclass(frozen=True, eq=False)
class HessianExtremes(Record):
    """The Lanczos estimates of the Hessian's extreme eigenvalues, with error bounds (or the
    ``status`` saying why there are none)."""

    min_eigenvalue: float | None = None
    max_eigenvalue: float | None = None
    min_error: float | None = None
    max_error: float | None = None
    status: str | None = None


@dataclass(frozen=True, eq=False)
class TrainableParameters(Record):
    """What a model check judged: the variables' count, names and shapes, and what was frozen."""

    count: int | None = None
    names: list[str] | None = None
    shapes: list[Any] | None = None
    frozen: list[str] | None = None


@dataclass(frozen=True, eq=False)
class IndependentCheck(Record):
    """The certificate checker's re-derivation of a structural proof."""

    passed: bool | None = None
    skipped: str | None = None
    trusted: list[str] | None = None


@dataclass(frozen=True, eq=False)
class Faithfulness(Record):
    """How the derivation's expression was compared with the user's program."""

    NESTED: ClassVar[dict[str, type[Record]]] = {"independent_check": IndependentCheck}

    points: int | None = None
    max_relative_difference: float | None = None
    independent_check: IndependentCheck | None = None
