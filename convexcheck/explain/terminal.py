"""The terminal backend: the text layout with colour, through ``rich``.

``convexcheck expr`` and ``convexcheck model`` print results with it. The lines are those of the
plain-text backend (one description, :mod:`convexcheck.explain.sections`); only the answers are
coloured and the statements that open a witness, a proof or a derivation are bold. rich strips
the markup when stdout is not a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from convexcheck.explain.describe import describe_check, expect_section
from convexcheck.explain.describe_model import describe_model
from convexcheck.explain.sections import Kind, Line, Section, Style, plain, section

if TYPE_CHECKING:  # pragma: no cover
    from convexcheck.numeric.model_result import ModelCheckResult
    from convexcheck.result import CheckResult

__all__ = [
    "markup_lines",
    "print_check_result",
    "print_model_result",
    "print_sections",
    "stdout_console",
]

COLOURS = {"yes": "green", "no": "red", "unknown": "yellow"}
_BOLD = {Kind.CERTIFICATE, Kind.WITNESS, Kind.WHY_NOT_PROVED, Kind.DERIVATION}


def stdout_console() -> Any:
    """A rich console on stdout whose closed pipe (``| head``) surfaces as ``BrokenPipeError``.

    rich's own handling exits with status 1, which the CLI reserves for "``--expect`` not
    established"; the CLI instead ends quietly with status 0, as for plain prints.
    """
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return _Console(highlight=False, soft_wrap=True)


def _markup(s: Section, index: int, line: Line) -> str:
    from rich.markup import escape

    text = plain(line)
    row = line.verdict
    if row is not None:  # colour the answer that follows the question
        at = text.find(row.answer, text.find(row.question) + len(row.question))
        if at >= 0:
            colour = COLOURS.get(row.answer, "white")
            end = at + len(row.answer)
            return f"{escape(text[:at])}[{colour}]{row.answer}[/{colour}]{escape(text[end:])}"
    if s.kind is Kind.EXPECT:
        established = text.endswith(": established")
        colour = "green" if established else "red"
        head, _, word = text.rpartition(": ")
        return f"{escape(head)}: [{colour}]{escape(word)}[/{colour}]"
    opening = index == 0 and line.level == 0 and line.style is Style.PLAIN
    if opening and (s.kind in _BOLD or s.kind is Kind.SUBJECT):
        return f"[bold]{escape(text)}[/bold]"
    return escape(text)


def markup_lines(sections: Iterable[Section]) -> list[str]:
    """The plain-text lines with rich markup (escaped: an expression may contain ``[``)."""
    return [_markup(s, i, line) for s in sections for i, line in enumerate(s.lines)]


def print_sections(sections: Iterable[Section], console: Any = None) -> None:
    console = console or stdout_console()
    for text in markup_lines(sections):
        console.print(text)


def print_check_result(result: CheckResult, tree: bool = False, expect: str | None = None) -> None:
    """Coloured terminal output for ``convexcheck expr``: the derivation is shown when it
    proves something or ``tree`` asks for it (then at full length)."""
    show = result.derivation is not None and (tree or bool(result.derivation.proved))
    print_sections(describe_check(result, tree=show, tree_lines=200 if tree else 25, expect=expect))


def print_model_result(
    result: ModelCheckResult,
    *,
    source: str,
    expect: str | None = None,
    witness_file: str | None = None,
) -> None:
    """Coloured terminal output for ``convexcheck model``: the file, then ``result.explain()``'s
    sections, where the witness was saved and whether ``expect`` is established."""
    sections = [section(Kind.SUBJECT, [Line(source)]), *describe_model(result)]
    if witness_file:
        saved = f"witness saved to {witness_file} (torch.load(..., weights_only=True))"
        sections.append(section(Kind.MESSAGE, [Line(saved)]))
    if expect:
        sections.append(expect_section(expect, result.establishes(expect)))
    print_sections(sections)
