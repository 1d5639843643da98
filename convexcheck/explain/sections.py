"""One description of a result: typed sections that every backend renders the same way.

A result used to be rendered four times (plain text, the rich terminal, Markdown/HTML reports,
assertion messages), each with its own copy of the small formatting helpers, so a fact added to
one was missing from the others. Now :mod:`convexcheck.explain.describe` (closed forms) and
:mod:`convexcheck.explain.describe_model` (models) turn a result into a list of
:class:`Section`; :mod:`~convexcheck.explain.text`, :mod:`~convexcheck.explain.terminal`,
:mod:`~convexcheck.explain.markdown` and :mod:`~convexcheck.explain.html` only lay the sections
out. Every :class:`Line` is one fact, and every backend shows every line.

A line has a *level*: ``0`` is a statement (column 0 in text, a paragraph in Markdown/HTML),
``1`` a detail of the statement before it (indented in text, a list item elsewhere). A section's
``title`` is the heading of the Markdown/HTML documents; the text layouts (``explain()``, the
terminal, assertion messages) are line-oriented and do not print it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import Any

__all__ = [
    "Kind",
    "Line",
    "Section",
    "Style",
    "VerdictRow",
    "document_heading",
    "exact_text",
    "num",
    "plain",
    "section",
]


class Kind(str, Enum):
    """What a section is about (backends may lay some kinds out specially)."""

    SUBJECT = "subject"  # what was checked: the expression and its domains, a model's variables
    VERDICTS = "verdicts"  # the answers, one row per question
    CERTIFICATE = "certificate"  # what backs a "yes"
    WITNESS = "witness"  # what backs a "no"
    WHY_NOT_PROVED = "why_not_proved"  # the evidence of an "unknown"
    EVIDENCE = "evidence"  # a model's search and probe numbers
    HESSIAN = "hessian"  # a model's Hessian extremes
    REASONS = "reasons"  # a model's reasons, with their witnesses
    ARGUMENT = "argument"  # one reason's numbers in full (reports)
    WARNINGS = "warnings"
    DERIVATION = "derivation"  # the DCP derivation tree
    EXPECT = "expect"  # whether ``--expect`` was established
    MESSAGE = "message"  # a caller's own statement (an assertion's first line, a saved file)


class Style(str, Enum):
    PLAIN = "plain"
    ITEM = "item"  # a list item in every backend (text: ``- ``)
    CODE = "code"  # preformatted (consecutive code lines form one block)
    VERDICT = "verdict"  # one answer: the line carries its :class:`VerdictRow`


@dataclass(frozen=True)
class VerdictRow:
    """One answer, for the backends that emphasise it (colour, bold, a CSS class)."""

    question: str  # "convex" or "concave"
    label: str  # how a document names it ("convex", "Convex in the trainable parameters")
    answer: str  # "yes", "no" or "unknown"
    method: str
    summary: str


@dataclass(frozen=True)
class Line:
    """One fact. ``text`` is what the text backends print (after the indentation of ``level``)."""

    text: str
    level: int = 0
    style: Style = Style.PLAIN
    verdict: VerdictRow | None = None


@dataclass(frozen=True)
class Section:
    """A titled group of lines; ``question`` names the question it is about ("" for both)."""

    kind: Kind
    lines: tuple[Line, ...]
    title: str = ""
    question: str = ""
    heading_level: int = 2  # Markdown ``##``/HTML ``<h2>``; 3 for a subsection


def section(
    kind: Kind, lines: list[Line], title: str = "", question: str = "", **kw: Any
) -> Section:
    return Section(kind, tuple(lines), title=title, question=question, **kw)


# -- shared number formats -----------------------------------------------------------------------
def num(x: Any) -> str:
    """A float with 6 significant digits (lists element-wise); anything else as ``str``."""
    if isinstance(x, float):
        return f"{x:.6g}"
    if isinstance(x, list):
        return "[" + ", ".join(num(v) for v in x) + "]"
    return str(x)


def exact_text(value: str) -> str:
    """A closed-form witness value as a person reads it: ``{p/q}`` is exact, ``[lo, hi]`` (or
    with open ends) a rigorous enclosure; long exact numbers are shown rounded, marked ``~``."""
    text = value.strip()
    if text.startswith("{") and text.endswith("}"):
        exact = text[1:-1]
        approx = _approx(exact)
        if approx is None:
            return exact
        if len(exact) > 40:
            return f"~{approx}"
        if "/" not in exact:  # an integer or a terminating decimal says it all
            return exact
        return f"{exact} (~{approx})"
    if text[:1] in "[(" and text[-1:] in "])":
        parts = [p.strip() for p in text[1:-1].split(",")]
        if len(parts) == 2:
            lo, hi = (_approx(p) for p in parts)
            if lo is not None and lo == hi:
                shown = f"~{lo}"
            else:
                shown = f"in {text[0]}{lo or parts[0]}, {hi or parts[1]}{text[-1]}"
            if len(text) <= 60 and shown.startswith("~"):
                return f"{shown} (rigorously enclosed in {text})"
            return f"{shown} (rigorous enclosure)"
    return text


def _approx(exact: str) -> str | None:
    text = exact.strip()
    if text in ("oo", "-oo"):
        return None
    try:
        return f"{float(Fraction(text)):.10g}"
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


def plain(line: Line) -> str:
    """A line as the text layouts print it: two spaces a level, ``- `` before an item."""
    return "  " * line.level + ("- " if line.style is Style.ITEM else "") + line.text


def document_heading(s: Section) -> tuple[str, tuple[Line, ...]]:
    """A section's heading in a document and the lines left under it.

    The text layouts open a section with a statement ("Witness that it is not convex: ...");
    a document would repeat it under a heading of the same words, so when the opening line
    restates the title (backticks aside) it becomes the heading instead.
    """
    lines = s.lines
    if not s.title or not lines or lines[0].level or lines[0].style is not Style.PLAIN:
        return s.title, lines
    first = lines[0].text.rstrip(":")
    bare = s.title.replace("`", "")
    if not first.startswith(bare):
        return s.title, lines
    return (s.title if first == bare else first), lines[1:]
