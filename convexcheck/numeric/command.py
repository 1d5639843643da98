"""``convexcheck model FILE``: load a model file, check it, print text or JSON, save artefacts.

Exit status follows the contract: 0 done (and ``--expect`` established), 1 ``--expect`` not
established, 2 bad input (raised as :class:`ConvexcheckInputError`, printed by ``cli.py`` as one
``convexcheck: error: ...`` line). With ``--json`` stdout carries exactly one JSON object and
no progress bar is drawn; anything the model file prints is sent to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from convexcheck.errors import ConvexcheckInputError

EXIT_OK, EXIT_EXPECT_FAILED = 0, 1


def run_model(args: argparse.Namespace) -> int:
    """Run the ``model`` sub-command for parsed ``args`` (see ``cli.add_model_arguments``)."""
    report_path = getattr(args, "report", None)
    if report_path:
        _check_report_path(report_path)
    from convexcheck.numeric.check import check_model
    from convexcheck.numeric.loading import load_model_file

    wrt = getattr(args, "wrt", "parameters")
    spec = load_model_file(args.file, loss_optional=wrt == "inputs")
    show_progress = not args.json and sys.stderr.isatty()
    with contextlib.redirect_stdout(sys.stderr):
        result = check_model(
            spec.model,
            spec.loss_fn,
            spec.data,
            wrt=wrt,
            device=args.device,
            seed=args.seed,
            progress=show_progress,
            penalties=spec.penalties,
        )
    saved = None
    if getattr(args, "witness_out", None):
        if result.convex.answer == "no":
            saved = str(result.save_witness(args.witness_out))
        else:
            print(
                f"convexcheck: note: no witness to save (the verdict is "
                f"{result.convex.answer!r}); {args.witness_out} was not written",
                file=sys.stderr,
            )
    if report_path:
        write_report(result, report_path, source=str(args.file))
    expect = getattr(args, "expect", None)
    established = result.establishes(expect) if expect else None
    if args.json:
        payload: dict[str, Any] = {"file": str(args.file), **result.to_dict()}
        if saved:
            payload["witness_file"] = saved
        if expect:
            payload["expect"] = {"value": expect, "established": established}
        print(json.dumps(payload, indent=2, default=_json_default))
    else:
        print_text(result, source=str(args.file), expect=expect, witness_file=saved)
    if expect and not established:
        return EXIT_EXPECT_FAILED
    return EXIT_OK


def _json_default(value: Any) -> Any:
    """Last resort for odd values in evidence (numpy scalars, paths): never crash the JSON."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


# -- text output -------------------------------------------------------------------------------
def print_text(
    result: Any, *, source: str, expect: str | None = None, witness_file: str | None = None
) -> None:
    """Coloured terminal output through rich (plain when stdout is not a terminal)."""
    from convexcheck.explain.terminal import print_model_result

    print_model_result(result, source=source, expect=expect, witness_file=witness_file)


# -- reports -----------------------------------------------------------------------------------
def _reporter() -> Any:
    """The HTML/Markdown reporter module if this installation has one."""
    if importlib.util.find_spec("convexcheck.explain.report") is None:
        return None
    module = importlib.import_module("convexcheck.explain.report")
    return module if hasattr(module, "write_model_report") else None


def _check_report_path(path: str) -> None:
    suffix = Path(path).suffix.lower()
    if suffix not in (".md", ".html", ".htm"):
        raise ConvexcheckInputError(f"--report expects a .md or .html path, got {path!r}")
    if suffix in (".html", ".htm") and _reporter() is None:
        raise ConvexcheckInputError("HTML reports are not available yet; use a .md path")


def write_report(result: Any, path: str, *, source: str) -> None:
    """Write ``result`` as a report; Markdown is built in, HTML needs the reporter module."""
    reporter = _reporter()
    if reporter is not None:
        reporter.write_model_report(result, path, source=source)
        return
    try:
        Path(path).write_text(markdown_report(result, source=source), encoding="utf-8")
    except OSError as exc:
        raise ConvexcheckInputError(f"cannot write the report to {path!r}: {exc}") from exc


def markdown_report(result: Any, *, source: str) -> str:
    """A Markdown report: the sections of ``result.explain()`` (see explain.report)."""
    from convexcheck.explain.report import model_markdown

    return model_markdown(result, source=source)
