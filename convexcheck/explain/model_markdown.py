"""The Markdown report of a model check: verdict, witness or evidence, Hessian, reasons.

Rendering lives in ``explain/``; the numeric core returns a :class:`ModelCheckResult` and never
formats it. :func:`convexcheck.explain.report.write_model_report` writes this text (plus the
detailed arguments) for a ``.md`` path.
"""

from __future__ import annotations

import json
from typing import Any


def markdown_report(result: Any, *, source: str) -> str:
    """A short Markdown report: verdict, witness numbers or evidence, Hessian, reasons."""
    from convexcheck.numeric.objective import wrt_label

    v = result.convex
    out = [
        f"# convexcheck: `{source}`",
        "",
        f"**Convex in {wrt_label(result.wrt)}: {v.answer}** ({v.method})",
        "",
        v.summary,
        "",
        f"- trainable parameters: {result.trainable_parameters['count']} "
        f"({', '.join(result.trainable_parameters['names'][:12])})",
        f"- mode: {result.mode.get('mode')}; device: {result.device}; seed: {result.seed}",
    ]
    out += [f"- note: {n}" for n in result.mode.get("notes", [])]
    if v.witness:
        w = v.witness
        out += [
            "",
            "## Witness (Jensen violation, verified in float64)",
            "",
            "| quantity | value |",
            "|---|---|",
        ]
        for key in ("source", "t", "loss_a", "loss_b", "loss_at_t", "gap", "margin", "seed"):
            out.append(f"| {key} | {w.get(key)!r} |")
        out += [
            "",
            "`loss_at_t` is the loss at `t a + (1-t) b`; convexity would require it to be at "
            "most `t loss_a + (1-t) loss_b`. The gap exceeds the stated rounding margin.",
        ]
    if v.certificate:
        out += ["", "## Certificate", ""]
        from convexcheck.numeric.model_result import step_text

        out += [f"- {step_text(s)}" for s in v.certificate.get("steps", [])] or [
            f"```\n{json.dumps(v.certificate, indent=2, default=str)}\n```"
        ]
    if v.evidence:
        e = v.evidence
        out += [
            "",
            "## Evidence",
            "",
            f"- pairs tried: {e.get('pairs_tried')}",
            f"- largest relative Jensen gap: {e.get('largest_relative_gap')}",
            f"- families: {', '.join(e.get('families', []))}",
        ]
        if e.get("min_eigenvalue") is not None:
            out.append(
                f"- Hessian lambda_min ~ {e['min_eigenvalue']} (error bound {e.get('min_error')})"
            )
    h = result.hessian or {}
    if h.get("min_eigenvalue") is not None:
        out += [
            "",
            "## Hessian at the current parameters",
            "",
            f"- lambda_min ~ {h['min_eigenvalue']} (error bound {h.get('min_error')})",
            f"- lambda_max ~ {h['max_eigenvalue']} (error bound {h.get('max_error')})",
        ]
    if result.reasons:
        out += ["", "## Reasons", ""]
        out += [f"- `{r['kind']}`: {r.get('detail', '')}" for r in result.reasons]
    return "\n".join(out) + "\n"
