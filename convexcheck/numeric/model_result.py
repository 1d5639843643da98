"""The outcome of :func:`convexcheck.check_model`: a verdict that carries its own evidence.

``convex`` is a :class:`~convexcheck.result.Verdict` (``yes`` only with a structural certificate,
``no`` only with a float64-verified witness, otherwise ``unknown`` with evidence); the other
fields say what was judged (trainable parameters, mode) and what the numeric probes saw (Jensen
search, Hessian extremes), and ``reasons`` say *why* in machine-readable ``kind`` entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convexcheck.errors import ConvexcheckInputError
from convexcheck.evidence import plain
from convexcheck.result import Verdict
from convexcheck.schemas import FORMATS

if TYPE_CHECKING:  # pragma: no cover (annotations only: this module stays free of torch)
    from convexcheck.numeric.functional import FunctionalLoss
    from convexcheck.numeric.jensen import JensenWitness


@dataclass
class ModelCheckResult:
    """Verdict plus evidence for one model; ``to_dict()`` is the ``--json`` object.

    ``trainable_parameters`` and ``hessian`` may be the producers' dicts or the records
    :class:`~convexcheck.evidence.TrainableParameters` and :class:`~convexcheck.evidence.
    HessianExtremes` (which read like those dicts); ``to_dict()`` writes either the same way.
    """

    convex: Verdict
    trainable_parameters: Mapping[str, Any]
    jensen: dict[str, Any]
    hessian: Mapping[str, Any] | None
    reasons: list[dict[str, Any]]
    seed: int
    device: str
    mode: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    witness_points: JensenWitness | None = None  # the flat vectors (not serialised)
    functional: FunctionalLoss | None = None  # to turn flat vectors into state dicts
    wrt: str | list[str] = "parameters"  # "parameters", "inputs" or a list of parameter names
    objective: dict[str, Any] | None = None  # what was judged, in words
    # (a, b, t) -> the --witness-out payload (Objective.witness_payload)
    payload: Callable[[Any, Any, float], dict[str, Any]] | None = None
    # data-parallel runs: world size, backend, how the ranks' losses were weighted
    distributed: dict[str, Any] | None = None

    def establishes(self, expect: str) -> bool:
        """Whether the result *establishes* ``expect`` ("convex" or "nonconvex")."""
        if expect == "convex":
            return self.convex.answer == "yes"
        if expect == "nonconvex":
            return self.convex.answer == "no"
        raise ValueError(f"expect must be 'convex' or 'nonconvex' for a model, got {expect!r}")

    @property
    def witness(self) -> Mapping[str, Any] | None:
        return self.convex.witness

    def to_dict(self) -> dict[str, Any]:
        out = self._fields()
        if self.distributed is not None:
            out["distributed"] = plain(self.distributed)
        return out

    def _fields(self) -> dict[str, Any]:
        return {
            "format": FORMATS["model"],
            "convex": self.convex.to_dict(),
            "wrt": list(self.wrt) if isinstance(self.wrt, (list, tuple)) else self.wrt,
            "objective": self.objective,
            "trainable_parameters": plain(self.trainable_parameters),
            "jensen": plain(self.jensen),
            "hessian": plain(self.hessian),
            "reasons": self.reasons,
            "seed": self.seed,
            "device": self.device,
            "mode": self.mode,
            "warnings": self.warnings,
        }

    def witness_state_dicts(self) -> dict[str, Any]:
        """``{"a": state_dict_a, "b": state_dict_b, "t": t}`` of the FULL model (frozen
        parameters and buffers as in the model), the ``--witness-out`` payload; for
        ``wrt="inputs"`` it is ``{"wrt": "inputs", "a": inputs_a, "b": inputs_b, "t": t}``."""
        if self.witness_points is None or self.functional is None:
            raise ConvexcheckInputError(
                f"there is no witness to save: the verdict is {self.convex.answer!r}"
            )
        w = self.witness_points
        if self.payload is not None:
            return self.payload(w.a, w.b, w.t)
        return {
            "a": self.functional.state_dict_at(w.a),
            "b": self.functional.state_dict_at(w.b),
            "t": float(w.t),
        }

    def save_witness(self, path: str | Path) -> Path:
        """Save the witness with ``torch.save``; reload it with ``weights_only=True``."""
        import torch

        payload = self.witness_state_dicts()
        target = Path(path)
        try:
            torch.save(payload, target)
        except OSError as exc:
            raise ConvexcheckInputError(
                f"cannot write the witness to {str(path)!r}: {exc}"
            ) from exc
        return target

    def explain(self) -> str:
        """Plain-text explanation: verdict, witness or evidence, Hessian, reasons.

        A convenience method: the renderer (layer 3) is imported here, the documented upward
        edge; it reads this class only for annotations, so there is no cycle."""
        from convexcheck.explain.text import explain_model_result

        return explain_model_result(self)

    def _repr_html_(self) -> str:
        """What a Jupyter notebook shows: the verdict, the witness or certificate, the Hessian
        extremes and the reasons, each reason's numbers collapsed (the documented upward edge)."""
        from convexcheck.explain.notebook import model_html

        return model_html(self)

    def _repr_markdown_(self) -> str:
        """The notebook view for front ends that render Markdown but not HTML."""
        from convexcheck.explain.notebook import model_markdown

        return model_markdown(self)

    def __repr__(self) -> str:
        return (
            f"ModelCheckResult(convex={self.convex.answer!r}, method={self.convex.method!r}, "
            f"parameters={self.trainable_parameters.get('count')})"
        )
