"""The op table as documentation: ``docs/models.md`` carries this Markdown, and a test checks
that the document and the table agree (a new row is documented or the test fails)."""

from __future__ import annotations

from convexcheck.torchgraph import translate  # noqa: F401  (registers every row)
from convexcheck.torchgraph.ops import ROWS, OpRow

KIND_TITLES = {
    "arithmetic": "arithmetic",
    "activation": "activations (elementwise)",
    "linear": "layers and products",
    "reduction": "reductions",
    "structural": "shapes, indexing, metadata",
    "loss": "losses",
    "refused": "refused when applied to a value that depends on the variables",
}


_OPERATORS = {
    "add": "+", "iadd": "+=", "sub": "-", "isub": "-=", "mul": "*", "imul": "*=",
    "truediv": "/", "itruediv": "/=", "neg": "unary -", "pos": "unary +", "pow": "**",
    "matmul": "@", "getitem": "x[...]", "abs": "abs()", "gt": ">", "ge": ">=", "lt": "<",
    "le": "<=", "eq": "==", "ne": "!=",
}  # fmt: skip


def _spellings(row: OpRow) -> str:
    names: list[str] = []
    for f in row.functions:
        if getattr(f, "__module__", "") in ("_operator", "operator"):
            names.append(f"`{_OPERATORS.get(f.__name__, f.__name__)}`")
            continue
        mod = getattr(f, "__module__", "") or ""
        name = getattr(f, "__name__", str(f))
        prefix = (
            "F."
            if "functional" in mod
            else ""
            if mod in ("_operator", "builtins", "operator")
            else "torch."
            if mod.startswith("torch")
            else ""
        )
        names.append(f"`{prefix}{name}`")
    names += [f"`Tensor.{m}`" for m in row.methods if not m.startswith("__")]
    return ", ".join(dict.fromkeys(names)) or f"`{row.name}`"


def op_table_markdown() -> str:
    """One table per kind: the row, what it covers, its note."""
    out: list[str] = []
    for kind, title in KIND_TITLES.items():
        rows = sorted((r for r in ROWS.values() if r.kind == kind), key=lambda r: r.name)
        if not rows:
            continue
        out.append(f"**{title}**\n")
        out.append("| row | torch spellings | note |")
        out.append("| --- | --- | --- |")
        for r in rows:
            out.append(f"| `{r.name}` | {_spellings(r)} | {r.note} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
