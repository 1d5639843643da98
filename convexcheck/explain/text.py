"""The plain-text backend: sections as stable, uncoloured lines.

This is what ``CheckResult.explain()`` and ``ModelCheckResult.explain()`` return and what an
assertion failure says; the terminal backend (:mod:`convexcheck.explain.terminal`) prints the
same lines with colour. Titles are for documents and are not printed: each section's first
statement says what it is about.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from convexcheck.explain.describe import describe_check
from convexcheck.explain.describe_model import describe_model
from convexcheck.explain.sections import Section, plain

if TYPE_CHECKING:  # pragma: no cover
    from convexcheck.numeric.model_result import ModelCheckResult
    from convexcheck.result import CheckResult

__all__ = [
    "explain_check_result",
    "explain_model_result",
    "render_text",
    "text_lines",
]


def text_lines(sections: Iterable[Section]) -> list[str]:
    return [plain(line) for s in sections for line in s.lines]


def render_text(sections: Iterable[Section]) -> str:
    return "\n".join(text_lines(sections))


def explain_check_result(result: CheckResult, tree: bool = True) -> str:
    """``result.explain()``: verdicts, certificate/witness/evidence per question, derivation."""
    return render_text(describe_check(result, tree=tree))


def explain_model_result(result: ModelCheckResult) -> str:
    """``result.explain()`` of a model: verdict, what was judged, witness or certificate,
    evidence, Hessian extremes, reasons, warnings."""
    return render_text(describe_model(result))
