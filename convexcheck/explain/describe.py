"""The sections of a closed-form result: verdicts, certificate, witness, evidence, derivation.

:func:`describe_check` is the only place that decides what a :class:`~convexcheck.result.
CheckResult` says; ``result.explain()``, ``convexcheck expr``, the reports and the assertion
messages all render its sections (see :mod:`convexcheck.explain.sections`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from convexcheck.evidence import ClosedFormEvidence, ExactWitness
from convexcheck.explain.sections import (
    Kind,
    Line,
    Section,
    Style,
    VerdictRow,
    exact_text,
    section,
)

if TYPE_CHECKING:  # pragma: no cover
    from convexcheck.result import CheckResult, Verdict

__all__ = [
    "derivation_lines",
    "describe_check",
    "domain_text",
    "expect_section",
    "verdict_sections",
    "witness_facts",
]

QUESTIONS = ("convex", "concave")
_MAX_TREE_LINES = 60
_MAX_CHILDREN_SHOWN = 6


def describe_check(
    result: CheckResult,
    *,
    tree: bool = True,
    tree_lines: int = _MAX_TREE_LINES,
    expect: str | None = None,
) -> list[Section]:
    """Everything ``result`` says, in reading order: what was checked, the two verdicts, per
    question what backs the answer, the DCP derivation (``tree``: whether to show it, at most
    ``tree_lines`` lines) and, given ``expect``, whether that claim is established."""
    sections = [
        section(
            Kind.SUBJECT,
            [Line(result.expression), Line(f"on {domain_text(result.variables)}", 1)],
        ),
        verdicts_section(result),
    ]
    for verdict in (result.convex, result.concave):
        sections.extend(verdict_sections(verdict))
    if tree and result.derivation is not None:
        lines = [Line("Derivation (DCP):")]
        lines += [Line(x, 1, Style.CODE) for x in derivation_lines(result.derivation, tree_lines)]
        sections.append(section(Kind.DERIVATION, lines, title="Derivation tree"))
    if expect:
        sections.append(expect_section(expect, result.establishes(expect)))
    return sections


def verdicts_section(result: CheckResult, questions: tuple[str, ...] = QUESTIONS) -> Section:
    """The curvature word and one row per question (``questions`` to show only some)."""
    lines = [Line(f"curvature: {result.curvature}")]
    for v in (result.convex, result.concave):
        if v.question in questions:
            row = VerdictRow(v.question, v.question, v.answer, v.method, v.summary)
            lines.append(
                Line(f"{v.question + ':':9s}{v.answer:8s}{v.summary}", 1, Style.VERDICT, row)
            )
    return section(Kind.VERDICTS, lines, title="Verdicts")


def verdict_sections(v: Verdict) -> list[Section]:
    """What backs one answer: the certificate of a "yes", the witness of a "no", the evidence
    of an "unknown"."""
    if v.answer == "yes":
        where = f'to_dict()["{v.question}"]["certificate"]'
        return [
            section(
                Kind.CERTIFICATE,
                [Line(f"{v.question}: proved ({v.method}); the certificate is {where}")],
                title=f"Certificate that it is {v.question}",
                question=v.question,
            )
        ]
    if v.answer == "no" and v.witness:
        return [witness_section(v.question, v.witness)]
    if v.answer == "unknown" and v.evidence:
        lines = evidence_lines(ClosedFormEvidence.from_dict(v.evidence))
        if lines:
            head = Line(f"Why {v.question} is not proved (outermost first):")
            return [
                section(
                    Kind.WHY_NOT_PROVED,
                    [head, *lines],
                    title=f"Why {v.question} is not proved",
                    question=v.question,
                )
            ]
    return []


#: Longest exact-values line shown; past it the line points at the JSON, which always has them.
MAX_EXACT_LINE = 240


def witness_section(question: str, witness: Mapping[str, Any]) -> Section:
    w = ExactWitness.from_dict(witness)
    title = f"Witness that it is not {question}"
    if w.is_tensor or w.a is None or w.b is None:
        lines = [Line(f"{title}: {_tensor_witness_text(w)}")]
    else:
        lines = [Line(f"{title}: Jensen's inequality fails ({w.verified or 'verified'}):")]
        lines += [Line(fact, 1) for fact in witness_facts(w)]
        shortened = [
            f"{name} = {value}"
            for name, value in (("f(a)", w.f_a), ("f(b)", w.f_b), ("f(t*a + (1-t)*b)", w.f_at_t),
                                ("gap", w.gap))
            if value is not None and str(value).strip("{}") not in exact_text(str(value))
        ]  # fmt: skip
        if shortened:  # the values shown rounded above, as verified
            exact = f"as verified: {'; '.join(shortened)}"
            if len(exact) > MAX_EXACT_LINE:  # pages of digits help nobody reading a terminal
                exact = (
                    "as verified: the exact values are in "
                    f'to_dict()["{question}"]["witness"] (and in --json)'
                )
            lines.append(Line(exact, 1))
        if w.seed is not None:
            lines.append(Line(f"found by the witness search with seed {w.seed}", 1))
    return section(Kind.WITNESS, lines, title=title, question=question)


def witness_facts(witness: Mapping[str, Any]) -> list[str]:
    """The points, ``t``, the three values and the gap of a scalar witness, one fact each."""
    w = ExactWitness.from_dict(witness)
    relation = ">" if ">" in (w.inequality or "") else "<"

    def value(x: Any) -> str:
        return exact_text(str("?" if x is None else x))

    return [
        f"a = {_point_text(w.a or {})}",
        f"b = {_point_text(w.b or {})}",
        f"t = {w.t}",
        f"f(a) = {value(w.f_a)}",
        f"f(b) = {value(w.f_b)}",
        f"f(t*a + (1-t)*b) = {value(w.f_at_t)}",
        f"f(t*a + (1-t)*b) {relation} t*f(a) + (1-t)*f(b) by {value(w.gap)}",
    ]


def _point_text(point: Mapping[str, Any]) -> str:
    return "(" + ", ".join(f"{name}={value}" for name, value in point.items()) + ")"


def _tensor_witness_text(w: ExactWitness) -> str:
    """A tensor witness in one line: its first coordinates and the gap."""
    if not w.is_tensor:
        return str(w.to_dict())

    def head(point: dict[str, Any]) -> str:
        out = []
        for name, value in point.items():
            flat: list[Any] = []
            stack = [value]
            while stack and len(flat) < 4:
                item = stack.pop(0)
                if isinstance(item, list):
                    stack = list(item) + stack
                else:
                    flat.append(item)
            more = ", ..." if isinstance(value, list) and len(str(value)) > 80 else ""
            out.append(f"{name}=[{', '.join(str(f) for f in flat)}{more}]")
        return " ".join(out)

    entry = f" at entry {w.entry}" if w.entry is not None else ""
    return (
        f"t = {w.t}{entry}, a: {head(w.a or {})}; b: {head(w.b or {})}; "
        f"f(a) in {w.f_a}, f(b) in {w.f_b}, f(midpoint) in {w.f_t}; "
        f"gap >= {w.gap_lower_bound} (full points in to_dict())"
    )


def evidence_lines(e: ClosedFormEvidence) -> list[Line]:
    """What each stage tried, as details of the "why not proved" statement."""
    lines = [Line(f"DCP premise that failed: {p}", 1) for p in e.failed_premises]
    search = e.witness_search
    if search:
        lines.append(
            Line(
                f"witness search: {search.result or 'no violation found'} in "
                f"{search.samples or 0:,} sampled triples (seed {search.seed})",
                1,
            )
        )
    for stage, attempt in (("hessian", e.hessian), ("sos", e.sos)):
        if attempt:
            lines.append(Line(f"{stage}: {attempt.result}: {attempt.reason}", 1))
    if e.stopped_by == "budget" and isinstance(e.budget, dict):
        lines.append(
            Line(
                f"stopped by the time budget of {e.budget.get('budget_s')} s in the "
                f"{e.budget.get('stage')} stage",
                1,
            )
        )
    lines.extend(Line(f"note: {n}", 1) for n in e.notes or [])
    if e.stages_tried:
        lines.append(Line(f"stages tried: {', '.join(e.stages_tried)}", 1))
    return lines


def expect_section(expect: str, established: bool) -> Section:
    word = "established" if established else "NOT established"
    return section(Kind.EXPECT, [Line(f"expect {expect}: {word}")], title="Expectation")


def domain_text(variables: Mapping[str, Any]) -> str:
    if not variables:
        return "no variables"
    parts = []
    for name, dom in variables.items():
        if isinstance(dom, dict):  # a tensor variable: {"shape": [...], "domain": ...}
            shape = "x".join(str(s) for s in dom.get("shape", []))
            parts.append(f"{name} [{shape}] in {dom.get('domain')}")
        else:
            parts.append(f"{name} in {dom}")
    return ", ".join(parts)


# -- the derivation tree -------------------------------------------------------------------------
def derivation_lines(analysis: Any, max_lines: int = _MAX_TREE_LINES) -> list[str]:
    """The DCP derivation as an indented tree, one node a line, large sums abbreviated.

    Total: a stack entry with no node is the "... N more terms" line of an abbreviated sum
    (it used to reach ``analysis.step(None)``, a ``KeyError``, whenever the last child shown
    was a subtree printed before), and a node without a derivation step is printed as such.
    """
    from convexcheck.symbolic.dcp import Analysis
    from convexcheck.symbolic.printer import to_str

    if not isinstance(analysis, Analysis):  # a tensor derivation renders itself
        from convexcheck.tensor.dcp import TensorAnalysis

        if not isinstance(analysis, TensorAnalysis):
            raise TypeError(f"not a DCP derivation: {type(analysis).__name__}")
        return analysis.derivation_lines(max_lines)
    lines: list[str] = []
    stack: list[tuple[Any, str, str]] = [(analysis.root, "", "")]
    seen: set[int] = set()
    while stack and len(lines) < max_lines:
        node, prefix, branch = stack.pop()
        if node is None:  # the placeholder for hidden children
            lines.append(prefix + branch)
            continue
        step = _step_or_none(analysis, node)
        if step is None:
            lines.append(prefix + branch + f"{to_str(node, limit=70)}  (no derivation step)")
            continue
        label = f"{to_str(node, limit=70)}  [{step.curvature}"
        if step.range is not None and not node.is_const:
            label += f", range {step.range}"
        label += f"]  {_rule_text(step)}"
        lines.append(prefix + branch + label)
        if id(node) in seen:
            continue
        seen.add(id(node))
        children = list(step.children)
        hidden = 0
        if len(children) > _MAX_CHILDREN_SHOWN:
            hidden = len(children) - _MAX_CHILDREN_SHOWN
            children = children[:_MAX_CHILDREN_SHOWN]
        child_prefix = prefix + ("   " if branch in ("", "`- ") else "|  ")
        if hidden:
            stack.append((None, child_prefix, f"`- ... {hidden} more terms"))
        for i, child in enumerate(reversed(children)):
            last = i == 0 and not hidden
            stack.append((child, child_prefix, "`- " if last else "|- "))
    if stack:
        lines.append("   ... (derivation truncated)")
    return lines


def _step_or_none(analysis: Any, node: Any) -> Any:
    try:
        return analysis.step(node)
    except KeyError:
        return None


def _rule_text(step: Any) -> str:
    rule = step.rule
    if (step.atom and rule in ("composition", "scale")) or rule.startswith("pattern:"):
        monos = ", ".join(m for m in step.monotonicity if m != "constant")
        curv = step.atom_curvature or "neither convex nor concave"
        return f"{rule}: {step.atom} is {curv}" + (f", {monos}" if monos else "")
    if rule.startswith("rewrite:") and step.detail:
        return f"{rule}: {step.detail.get('identity', '')}"
    if rule == "quadratic-form" and step.detail:
        semidef = (step.detail.get("certificate") or {}).get("semidefinite", "")
        return f"quadratic form, matrix {semidef} semidefinite by exact LDL^T"
    if rule == "piecewise" and step.detail:
        n = len(step.detail.get("segments", []))
        return f"piecewise: {n} segments, continuous, slopes checked at breakpoints"
    return rule
