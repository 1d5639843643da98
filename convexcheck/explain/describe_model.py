"""The sections of a model result: verdict, what was judged, witness or certificate, evidence,
Hessian extremes, reasons (with their witnesses) and warnings.

:func:`describe_model` is the only place that decides what a :class:`~convexcheck.numeric.
model_result.ModelCheckResult` says; ``result.explain()``, ``convexcheck model``, the reports and
the assertion messages render its sections (see :mod:`convexcheck.explain.sections`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from convexcheck.evidence import (
    Faithfulness,
    HessianExtremes,
    ModelEvidence,
    ModelWitness,
    TrainableParameters,
)
from convexcheck.explain.sections import Kind, Line, Section, Style, VerdictRow, num, section

if TYPE_CHECKING:  # pragma: no cover
    from convexcheck.numeric.model_result import ModelCheckResult

__all__ = ["argument_sections", "describe_model", "shown_steps", "step_text"]


def describe_model(result: ModelCheckResult, *, arguments: bool = False) -> list[Section]:
    """Everything ``result`` says, in reading order; ``arguments`` adds each float64-checked
    reason's numbers in full (the reports show them)."""
    from convexcheck.numeric.objective import wrt_label

    v = result.convex
    row = VerdictRow("convex", f"Convex in {wrt_label(result.wrt)}", v.answer, v.method, v.summary)
    out = [
        section(
            Kind.VERDICTS,
            [Line(f"convex: {v.answer}  ({v.method}) {v.summary}", 0, Style.VERDICT, row)],
        ),
        _subject(result),
    ]
    if v.witness:
        out.append(_witness(ModelWitness.from_dict(v.witness)))
    if v.certificate:
        out.append(_certificate(v.certificate))
    if v.evidence:
        out.append(_evidence(ModelEvidence.from_dict(v.evidence)))
    hessian = _hessian(result)
    if hessian is not None:
        out.append(hessian)
    if result.reasons:
        out.append(_reasons(result.reasons))
    if arguments:
        out.extend(argument_sections(result.reasons))
    if result.warnings:
        lines = [Line(f"warning: {w}") for w in result.warnings]
        out.append(section(Kind.WARNINGS, lines, title="Warnings"))
    return out


def _subject(result: ModelCheckResult) -> Section:
    tp = TrainableParameters.from_dict(result.trainable_parameters)
    names = tp.names or []
    if result.wrt == "inputs":
        judged = f"judged in the inputs: {tp.count} values, shape {(tp.shapes or ['?'])[0]}"
    elif result.wrt == "parameters":
        judged = f"trainable parameters: {tp.count} in {len(names)} tensors"
    else:
        judged = f"judged in the parameters {', '.join(names)}: {tp.count}"
    lines = [
        Line(f"{judged}; mode: {result.mode.get('mode')}; device: {result.device}; "
             f"seed: {result.seed}"),
    ]  # fmt: skip
    if names and result.wrt == "parameters":
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        lines.append(Line(f"tensors: {shown}", 1))
    if tp.frozen:
        lines.append(Line(f"frozen (held fixed): {', '.join(tp.frozen)}", 1))
    if result.objective and result.objective.get("rule"):
        lines.append(Line(f"note: {result.objective['rule']}"))
    lines.extend(Line(f"note: {n}") for n in result.mode.get("notes", []))
    if result.distributed:
        lines.append(_data_parallel(result.distributed))
    return section(Kind.SUBJECT, lines, title="What was judged")


def _data_parallel(facts: Mapping[str, Any]) -> Line:
    """One line on a data-parallel run: how many ranks and how their losses were weighted."""
    examples = facts.get("examples") or []
    weights = facts.get("weights") or []
    shards = " + ".join("?" if n is None else str(n) for n in examples)
    how = (
        "each rank's loss weighted by its share of the examples"
        if facts.get("weighting") == "examples"
        else "each rank's loss weighted equally"
    )
    shown = ", ".join(f"{w:.4g}" for w in weights[:8]) + (", ..." if len(weights) > 8 else "")
    return Line(
        f"data-parallel over {facts.get('world_size')} ranks ({facts.get('backend')}): shards of "
        f"{shards} examples, {how} ({shown})"
    )


def _witness(w: ModelWitness) -> Section:
    lines = [
        Line(
            f"witness ({w.source}): t = {num(w.t)}, f(a) = {num(w.loss_a)}, "
            f"f(b) = {num(w.loss_b)}, f(t a + (1-t) b) = {num(w.loss_at_t)}"
        ),
        Line(
            f"Jensen gap {num(w.gap)} > rounding margin {num(w.margin)} "
            "(recomputed in float64 on the cpu)",
            1,
        ),
    ]
    return section(Kind.WITNESS, lines, title="Witness: a Jensen violation, verified in float64")


def _certificate(certificate: Mapping[str, Any]) -> Section:
    faithful = Faithfulness.from_dict(certificate.get("faithfulness") or {})
    lines = []
    if faithful.points:
        lines.append(
            Line(
                f"the derivation's expression equals your program at {faithful.points} "
                "probe points (largest relative difference "
                f"{num(float(faithful.max_relative_difference or 0.0))})",
                1,
            )
        )
    rechecked = faithful.independent_check
    if rechecked and rechecked.passed:
        lines.append(
            Line("the derivation was re-derived by the independent certificate checker", 1)
        )
    elif rechecked and rechecked.skipped:
        lines.append(Line(f"not re-derived by the certificate checker: {rechecked.skipped}", 1))
    lines += [Line(step_text(s), 1, Style.ITEM) for s in shown_steps(certificate)]
    if not lines:
        lines.append(Line(f"certificate: {certificate.get('kind', 'structural')}", 1))
    return section(Kind.CERTIFICATE, lines, title="Certificate")


def _evidence(e: ModelEvidence) -> Section:
    lines = [
        Line(
            f"evidence: {e.pairs_tried or 0} pairs tried, largest relative gap "
            f"{num(e.largest_relative_gap)}, {e.float64_checks or 0} float64 checks"
        )
    ]
    if e.families:
        lines.append(Line(f"families: {', '.join(e.families)}", 1))
    if e.min_eigenvalue is not None:
        lines.append(
            Line(
                f"Hessian lambda_min ~ {num(e.min_eigenvalue)} (error bound {num(e.min_error)})", 1
            )
        )
    return section(Kind.EVIDENCE, lines, title="Evidence")


def _hessian(result: ModelCheckResult) -> Section | None:
    if not result.hessian:
        return None
    h = HessianExtremes.from_dict(result.hessian)
    at = "the given inputs" if result.wrt == "inputs" else "the current parameters"
    title = f"Hessian at {at} (Lanczos)"
    if h.min_eigenvalue is not None:
        text = (
            f"hessian: lambda_min ~ {num(h.min_eigenvalue)} +- {num(h.min_error)}, "
            f"lambda_max ~ {num(h.max_eigenvalue)} +- {num(h.max_error)}"
        )
        return section(Kind.HESSIAN, [Line(text)], title=title)
    if h.status:
        return section(Kind.HESSIAN, [Line(f"hessian: {h.status}")], title=title)
    return None


def _reasons(reasons: list[dict[str, Any]]) -> Section:
    lines = []
    for reason in reasons:
        detail = reason.get("detail") or reason.get("summary") or ""
        tag = ""
        if "witnessed" in reason:
            tag = " (witnessed in float64)" if reason["witnessed"] else " (not witnessed here)"
        lines.append(Line(f"reason: {reason['kind']}{tag}" + (f": {detail}" if detail else "")))
    return section(Kind.REASONS, lines, title="Why")


def argument_sections(reasons: list[dict[str, Any]]) -> list[Section]:
    """Each reason that was checked on the model itself (``source == "reasons"``), with its
    numbers: the "arguments" of a report."""
    detailed = [r for r in reasons if r.get("source") == "reasons"]
    if not detailed:
        return []
    out = [section(Kind.ARGUMENT, [], title="The arguments, on this model (float64)")]
    for r in detailed:
        lines = [Line(f"{r['kind']} (witnessed: {r.get('witnessed')}):")]
        if r.get("detail"):
            lines.append(Line(str(r["detail"]), 1))
        lines += [
            Line(f"{k}: {num(v)}", 1, Style.ITEM)
            for k, v in r.items()
            if k not in ("kind", "detail", "source") and not isinstance(v, dict)
        ]
        title = f"`{r['kind']}` (witnessed: {r.get('witnessed')})"
        out.append(section(Kind.ARGUMENT, lines, title=title, heading_level=3))
    return out


# -- certificate steps ---------------------------------------------------------------------------
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


def shown_steps(certificate: Mapping[str, Any], limit: int = 12) -> list[Any]:
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
