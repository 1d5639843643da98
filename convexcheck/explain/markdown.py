"""The Markdown backend: a result's sections as a document a reader opens without convexcheck.

A section's ``title`` is its heading; a statement (level 0) is a paragraph, a detail or an item
a list entry, code a fenced block, and an answer ``**label: answer** (method) summary``.
"""

from __future__ import annotations

from collections.abc import Iterable

from convexcheck.explain.sections import Line, Section, Style, document_heading

__all__ = ["render_markdown", "section_markdown"]


def render_markdown(title: str, sections: Iterable[Section]) -> str:
    out = [f"# {title}"]
    for s in sections:
        out += ["", *section_markdown(s)]
    return "\n".join(out).rstrip("\n") + "\n"


def section_markdown(s: Section) -> list[str]:
    out: list[str] = []
    title, lines = document_heading(s)
    if title:
        out += ["#" * s.heading_level + " " + title, ""]
    previous: Style | None = None
    in_list = False
    for line in lines:
        if line.style is Style.CODE:
            if previous is not Style.CODE:
                out += [*([""] if in_list else []), "```"]
            out.append(line.text)
            in_list = False
        else:
            if previous is Style.CODE:
                out += ["```", ""]
            text = _entry(line)
            listed = line.level > 0 or line.style in (Style.ITEM, Style.VERDICT)
            if listed:
                out.append(f"- {text}")
            else:
                out += [*([""] if in_list else []), text, ""]
            in_list = listed
        previous = line.style
    if previous is Style.CODE:
        out.append("```")
    while out and out[-1] == "":
        out.pop()
    return out


def _entry(line: Line) -> str:
    row = line.verdict
    if row is not None:
        return f"**{row.label}: {row.answer}** ({row.method}) {row.summary}"
    return line.text
