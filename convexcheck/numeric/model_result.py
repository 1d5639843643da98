"""The outcome of :func:`convexcheck.check_model`: a verdict that carries its own evidence.

``convex`` is a :class:`~convexcheck.result.Verdict` (``yes`` only with a structural certificate,
``no`` only with a float64-verified witness, otherwise ``unknown`` with evidence); the other
fields say what was judged (trainable parameters, mode) and what the numeric probes saw (Jensen
search, Hessian extremes), and ``reasons`` say *why* in machine-readable ``kind`` entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convexcheck.errors import ConvexcheckInputError
from convexcheck.result import Verdict


@dataclass
class ModelCheckResult:
    """Verdict plus evidence for one model; ``to_dict()`` is the ``--json`` object."""

    convex: Verdict
    trainable_parameters: dict[str, Any]
    jensen: dict[str, Any]
    hessian: dict[str, Any] | None
    reasons: list[dict[str, Any]]
    seed: int
    device: str
    mode: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    witness_points: Any = None  # JensenWitness with the flat vectors (not serialised)
    functional: Any = None  # FunctionalLoss, to turn flat vectors into state dicts
    wrt: Any = "parameters"  # "parameters", "inputs" or a list of parameter names
    objective: dict[str, Any] | None = None  # what was judged, in words
    payload: Any = None  # (a, b, t) -> the --witness-out payload (Objective.witness_payload)

    def establishes(self, expect: str) -> bool:
        """Whether the result *establishes* ``expect`` ("convex" or "nonconvex")."""
        if expect == "convex":
            return self.convex.answer == "yes"
        if expect == "nonconvex":
            return self.convex.answer == "no"
        raise ValueError(f"expect must be 'convex' or 'nonconvex' for a model, got {expect!r}")

    @property
    def witness(self) -> dict[str, Any] | None:
        return self.convex.witness

    def to_dict(self) -> dict[str, Any]:
        return {
            "convex": self.convex.to_dict(),
            "wrt": list(self.wrt) if isinstance(self.wrt, (list, tuple)) else self.wrt,
            "objective": self.objective,
            "trainable_parameters": self.trainable_parameters,
            "jensen": self.jensen,
            "hessian": self.hessian,
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
        """Plain-text explanation: verdict, witness or evidence, Hessian, reasons."""
        return "\n".join(explain_lines(self))

    def __repr__(self) -> str:
        return (
            f"ModelCheckResult(convex={self.convex.answer!r}, method={self.convex.method!r}, "
            f"parameters={self.trainable_parameters.get('count')})"
        )


def _num(x: Any) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)


def step_text(step: Any) -> str:
    """One certificate step as text: the graph node, its module and op, its shape, its
    curvature and the DCP rule that gave it."""
    if isinstance(step, dict):
        head = step.get("node") or step.get("op") or ""
        if step.get("node") and step.get("op"):
            head = f"{step['node']} = {step['op']}"
        if step.get("module"):
            head += f" in '{step['module']}'"
        if step.get("shape"):
            head += f" {step['shape']}"
        curv = step.get("curvature")
        why = step.get("why") or step.get("detail") or ""
        return f"{head}: {curv}" + (f" ({why})" if why else "") if curv else f"{head} {why}"
    return str(step)


def shown_steps(certificate: dict[str, Any], limit: int = 12) -> list[Any]:
    """The steps a reader needs: those that do something (not a reshape of a variable), the
    ones nearest the loss last, at most ``limit``."""
    steps = list(certificate.get("steps", []))
    plain = {"structural", "variable", "constant"}
    useful = [
        s
        for s in steps
        if not isinstance(s, dict)
        or s.get("rule") not in {"reshape", "permute", "promote"}
        or s.get("curvature") not in plain
    ]
    return useful[-limit:]


def explain_lines(result: ModelCheckResult) -> list[str]:
    v = result.convex
    tp = result.trainable_parameters
    if result.wrt == "inputs":
        judged = f"judged in the inputs: {tp.get('count')} values, shape {tp['shapes'][0]}"
    elif result.wrt == "parameters":
        judged = f"trainable parameters: {tp.get('count')} in {len(tp.get('names', []))} tensors"
    else:
        judged = f"judged in the parameters {', '.join(tp.get('names', []))}: {tp.get('count')}"
    lines = [
        f"convex: {v.answer}  ({v.method}) {v.summary}",
        f"{judged}; mode: {result.mode.get('mode')}; device: {result.device}; seed: {result.seed}",
    ]
    if result.objective and result.objective.get("rule"):
        lines.append(f"note: {result.objective['rule']}")
    lines.extend(f"note: {n}" for n in result.mode.get("notes", []))
    if v.witness:
        w = v.witness
        lines.append(
            f"witness ({w.get('source')}): t = {_num(w['t'])}, f(a) = {_num(w['loss_a'])}, "
            f"f(b) = {_num(w['loss_b'])}, f(t a + (1-t) b) = {_num(w['loss_at_t'])}"
        )
        lines.append(
            f"  Jensen gap {_num(w['gap'])} > rounding margin {_num(w['margin'])} "
            "(recomputed in float64 on the cpu)"
        )
    if v.certificate:
        faithful = v.certificate.get("faithfulness") or {}
        if faithful.get("points"):
            lines.append(
                f"  the derivation's expression equals your program at {faithful['points']} "
                "probe points (largest relative difference "
                f"{_num(float(faithful.get('max_relative_difference', 0.0)))})"
            )
        rechecked = faithful.get("independent_check") or {}
        if rechecked.get("passed"):
            lines.append("  the derivation was re-derived by the independent certificate checker")
        elif rechecked.get("skipped"):
            lines.append(f"  not re-derived by the certificate checker: {rechecked['skipped']}")
        for step in shown_steps(v.certificate):
            lines.append(f"  - {step_text(step)}")
    if v.evidence:
        e = v.evidence
        lines.append(
            f"evidence: {e.get('pairs_tried', 0)} pairs tried, largest relative gap "
            f"{_num(e.get('largest_relative_gap'))}, {e.get('float64_checks', 0)} float64 checks"
        )
        if e.get("min_eigenvalue") is not None:
            lines.append(
                f"  Hessian lambda_min ~ {_num(e['min_eigenvalue'])} "
                f"(error bound {_num(e.get('min_error'))})"
            )
    h = result.hessian
    if h and h.get("min_eigenvalue") is not None:
        lines.append(
            f"hessian: lambda_min ~ {_num(h['min_eigenvalue'])} +- {_num(h.get('min_error'))}, "
            f"lambda_max ~ {_num(h['max_eigenvalue'])} +- {_num(h.get('max_error'))}"
        )
    elif h and h.get("status"):
        lines.append(f"hessian: {h['status']}")
    for reason in result.reasons:
        detail = reason.get("detail") or reason.get("summary") or ""
        lines.append(f"reason: {reason['kind']}" + (f": {detail}" if detail else ""))
    lines.extend(f"warning: {w}" for w in result.warnings)
    return lines
