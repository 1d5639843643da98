"""What a notebook shows for a result: ``_repr_html_`` and ``_repr_markdown_``.

Jupyter displays an object through its richest ``_repr_*_`` method, and before this a result
showed up as its ``repr``, one long line. The notebook view uses the same sections as every
other backend (:mod:`convexcheck.explain.describe`), so it holds the same facts as ``explain()``.
It differs from a report page in three ways:
- it is a fragment, a ``<div>`` with its styles scoped to it, not a page;
- the derivation tree and the per-reason arguments are collapsible ``<details>``, so a long
  tree does not push the verdict off screen;
- a closed-form witness gets its plot (the function along the witness segment, with the chord)
  when matplotlib is installed, and a table of the numbers otherwise.

Model results show no plots: a plot there needs the loss re-evaluated, which is a report's job
(``convexcheck model --report``), not a display's.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from convexcheck.explain.describe import describe_check
from convexcheck.explain.describe_model import describe_model
from convexcheck.explain.html import section_html
from convexcheck.explain.markdown import render_markdown
from convexcheck.explain.sections import Kind, Section

if TYPE_CHECKING:  # pragma: no cover
    from convexcheck.numeric.model_result import ModelCheckResult
    from convexcheck.result import CheckResult

__all__ = ["check_html", "check_markdown", "model_html", "model_markdown"]

# scoped to the fragment, so a notebook's own styles are left alone
_STYLE = (
    ".convexcheck {font-family: system-ui, sans-serif; line-height: 1.4; max-width: 60em}"
    " .convexcheck .yes {color: #1a7f37} .convexcheck .no {color: #cf222e}"
    " .convexcheck .unknown {color: #9a6700}"
    " .convexcheck pre {background: #f6f8fa; padding: .6em; overflow-x: auto}"
    " .convexcheck img {max-width: 32em} .convexcheck summary {cursor: pointer}"
    " .convexcheck table {border-collapse: collapse}"
    " .convexcheck td, .convexcheck th {border: 1px solid #ddd; padding: .2em .5em}"
)
_COLLAPSED = (Kind.DERIVATION, Kind.ARGUMENT)


def check_html(result: CheckResult) -> str:
    """The notebook HTML of a closed-form result."""
    parts = []
    for s in describe_check(result):
        parts.append(_section(s))
        if s.kind is Kind.WITNESS and s.question in ("convex", "concave"):
            parts.append(_witness_picture(result, s.question))
    return _fragment(f"<code>{html.escape(result.expression)}</code>", parts)


def model_html(result: ModelCheckResult) -> str:
    """The notebook HTML of a model result."""
    parts = [_section(s) for s in describe_model(result, arguments=True)]
    return _fragment("model", parts)


def check_markdown(result: CheckResult) -> str:
    """The notebook Markdown of a closed-form result (front ends without HTML)."""
    return render_markdown(f"`{result.expression}`", describe_check(result))


def model_markdown(result: ModelCheckResult) -> str:
    """The notebook Markdown of a model result."""
    return render_markdown("model", describe_model(result, arguments=True))


def _fragment(heading_html: str, parts: list[str]) -> str:
    body = "\n".join(p for p in parts if p)
    return (
        f'<div class="convexcheck"><style>{_STYLE}</style>'
        f"<h3>convexcheck: {heading_html}</h3>\n{body}\n</div>"
    )


def _section(s: Section) -> str:
    inner = section_html(s)
    if s.kind not in _COLLAPSED:
        return inner
    summary = html.escape(s.title or s.kind.value.replace("_", " "))
    return f"<details><summary>{summary}</summary>\n{inner}\n</details>"


def _witness_picture(result: CheckResult, question: str) -> str:
    """The witness segment's plot when matplotlib is there, else its numbers as a table."""
    verdict = result.convex if question == "convex" else result.concave
    try:
        from convexcheck.explain.report import expr_segment_figure

        figure = expr_segment_figure(result, verdict)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "matplotlib":
            raise
        figure = None
    return figure if figure else _witness_table(verdict.witness)


def _witness_table(witness: dict | None) -> str:
    if not witness:
        return ""
    rows = [
        (label, witness.get(key))
        for label, key in (
            ("t", "t"),
            ("f(a)", "f_a"),
            ("f(b)", "f_b"),
            ("f(t*a + (1-t)*b)", "f_at_t"),
            ("gap", "gap"),
        )
        if witness.get(key) is not None
    ]
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    return f"<table>{cells}</table>" if cells else ""
