"""``docs/models.md`` carries the op table as generated from the rows: they cannot drift."""

from __future__ import annotations

from pathlib import Path

from convexcheck.torchgraph.ops import ROWS
from convexcheck.torchgraph.table import op_table_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "models.md"


def test_models_doc_has_the_generated_op_table():
    text = DOC.read_text(encoding="utf-8")
    start, end = "<!-- op-table:start -->\n", "<!-- op-table:end -->"
    block = text[text.index(start) + len(start) : text.index(end)]
    assert block == op_table_markdown(), (
        "docs/models.md is out of date: regenerate the block between the op-table markers "
        "with convexcheck.torchgraph.table.op_table_markdown()"
    )


def test_every_row_is_in_the_table():
    table = op_table_markdown()
    assert all(f"| `{name}` |" in table for name in ROWS)
