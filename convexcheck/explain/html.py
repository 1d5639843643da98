"""The HTML backend: a result's sections as one self-contained page (styles inline, plots are
embedded by :mod:`convexcheck.explain.report`).

A section's ``title`` is its heading; a statement (level 0) is a paragraph, details and items a
list, code a ``<pre>`` block, and an answer ``label: <strong class="answer">answer</strong>``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from convexcheck.explain.sections import Section, Style, document_heading

__all__ = ["page", "render_html", "section_html"]

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; } h3 { font-size: 1em; }
.yes { color: #1a7f37; } .no { color: #cf222e; } .unknown { color: #9a6700; }
figure { margin: 1em 0; } figcaption { font-size: .9em; color: #555; }
img { max-width: 100%; } pre { background: #f6f8fa; padding: .8em; overflow-x: auto; }
"""

_e = html.escape


def section_html(s: Section) -> str:
    out: list[str] = []
    title, lines = document_heading(s)
    if title:
        level = s.heading_level
        out.append(f"<h{level}>{_e(title)}</h{level}>")
    open_tag = ""
    for line in lines:
        tag = (
            "pre"
            if line.style is Style.CODE
            else ("ul" if line.level > 0 or line.style is Style.ITEM else "")
        )
        if tag != open_tag:
            if open_tag:
                out.append(f"</{open_tag}>")
            if tag:
                out.append(f"<{tag}>")
            open_tag = tag
        row = line.verdict
        if row is not None:
            verdict = (
                f'{_e(row.label)}: <strong class="{_e(row.answer)}">{_e(row.answer)}</strong> '
                f"({_e(row.method)}). {_e(row.summary)}"
            )
            out.append(f"<li>{verdict}</li>" if tag else f'<p class="verdict">{verdict}</p>')
        elif tag == "pre":
            out.append(_e(line.text))
        elif tag == "ul":
            out.append(f"<li>{_e(line.text)}</li>")
        else:
            out.append(f"<p>{_e(line.text)}</p>")
    if open_tag:
        out.append(f"</{open_tag}>")
    text = "\n".join(out)
    return text.replace("<pre>\n", "<pre>").replace("\n</pre>", "</pre>")


def page(title: str, body: Iterable[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def render_html(title: str, heading_html: str, sections: Iterable[Section]) -> str:
    """A page: ``heading_html`` (already HTML) as its ``<h1>``, then the sections."""
    return page(title, [f"<h1>{heading_html}</h1>", *(section_html(s) for s in sections)])
