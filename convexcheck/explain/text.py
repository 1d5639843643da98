"""Human-readable explanations of a closed-form check: verdicts, derivation tree, failed premises.

The same line model feeds the plain-text :func:`explain_check_result` (stable, no colour, used by
``CheckResult.explain()`` and assertion messages) and the coloured terminal output of the CLI
(:func:`print_check_result`, through ``rich``).
"""

from __future__ import annotations

from typing import Any

from convexcheck.result import CheckResult, Verdict

_MAX_TREE_LINES = 60
_MAX_CHILDREN_SHOWN = 6


def _domain_text(variables: dict[str, Any]) -> str:
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


def _witness_text(witness: dict[str, Any]) -> str:
    """A witness in one line; a tensor witness shows its first coordinates and the gap."""
    if not any(isinstance(v, list) for v in (witness.get("a") or {}).values()):
        return str(witness)

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

    entry = f" at entry {witness['entry']}" if witness.get("entry") is not None else ""
    return (
        f"t = {witness.get('t')}{entry}, a: {head(witness['a'])}; b: {head(witness['b'])}; "
        f"f(a) in {witness.get('f_a')}, f(b) in {witness.get('f_b')}, "
        f"f(midpoint) in {witness.get('f_t')}; gap >= {witness.get('gap_lower_bound')} "
        "(full points in to_dict())"
    )


def _verdict_line(v: Verdict) -> str:
    return f"{v.question + ':':9s}{v.answer:8s}{v.summary}"


def derivation_lines(analysis: Any, max_lines: int = _MAX_TREE_LINES) -> list[str]:
    """The DCP derivation as an indented tree, one node a line, large sums abbreviated.

    Total: a stack entry with no node is the "... N more terms" line of an abbreviated sum
    (it used to reach ``analysis.step(None)``, a ``KeyError``, whenever the last child shown
    was a subtree printed before), and a node without a derivation step is printed as such.
    """
    from convexcheck.symbolic.printer import to_str

    lines: list[str] = []
    if hasattr(analysis, "derivation_lines"):  # a tensor derivation renders itself
        return analysis.derivation_lines(max_lines)
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


def explain_lines(result: CheckResult, tree: bool = True) -> list[str]:
    lines = [
        f"{result.expression}",
        f"  on {_domain_text(result.variables)}",
        f"curvature: {result.curvature}",
        "  " + _verdict_line(result.convex),
        "  " + _verdict_line(result.concave),
    ]
    for v in (result.convex, result.concave):
        if v.answer == "unknown" and v.evidence:
            premises = (v.evidence.get("dcp") or {}).get("failed_premises") or []
            if premises:
                lines.append(f"Why {v.question} is not proved (DCP, outermost first):")
                lines.extend(f"  {i}. {p}" for i, p in enumerate(premises, 1))
            tried = v.evidence.get("stages_tried")
            if tried:
                lines.append(f"  stages tried: {', '.join(tried)}")
        if v.answer == "no" and v.witness:
            lines.append(f"Witness that it is not {v.question}: {_witness_text(v.witness)}")
    if tree and result.derivation is not None:
        lines.append("Derivation (DCP):")
        lines.extend("  " + line for line in derivation_lines(result.derivation))
    return lines


def explain_check_result(result: CheckResult, tree: bool = True) -> str:
    return "\n".join(explain_lines(result, tree=tree))


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


def print_check_result(result: CheckResult, tree: bool = False, expect: str | None = None) -> None:
    """Coloured terminal output for ``convexcheck expr``."""
    from rich.markup import escape

    console = stdout_console()
    colour = {"yes": "green", "no": "red", "unknown": "yellow"}
    console.print(f"[bold]{escape(result.expression)}[/bold]")
    console.print(f"  on {escape(_domain_text(result.variables))}")
    console.print(f"curvature: [bold]{result.curvature}[/bold]")
    for v in (result.convex, result.concave):
        console.print(
            f"  {v.question + ':':9s}[{colour[v.answer]}]{v.answer:8s}[/{colour[v.answer]}]"
            f"{escape(v.summary)}"
        )
    for v in (result.convex, result.concave):
        if v.answer == "unknown" and v.evidence:
            premises = (v.evidence.get("dcp") or {}).get("failed_premises") or []
            if premises:
                console.print(f"[bold]Why {v.question} is not proved[/bold] (outermost first):")
                for i, p in enumerate(premises, 1):
                    console.print(f"  {i}. {escape(p)}")
    if result.derivation is not None and (tree or result.derivation.proved):
        console.print("[bold]Derivation (DCP):[/bold]")
        for line in derivation_lines(result.derivation, max_lines=200 if tree else 25):
            console.print("  " + escape(line))
    if expect:
        ok = result.establishes(expect)
        mark = "[green]established[/green]" if ok else "[red]NOT established[/red]"
        console.print(f"expect {expect}: {mark}")
