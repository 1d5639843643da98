"""``convexcheck model FILE``: load a model file, check it, print text or JSON, save artefacts.

Exit status follows the contract: 0 done (and ``--expect`` established), 1 ``--expect`` not
established, 2 bad input (raised as :class:`ConvexcheckInputError`, printed by
:mod:`convexcheck.cli` as one ``convexcheck: error: ...`` line). With ``--json`` stdout carries
exactly one JSON object and no progress bar is drawn; anything the model file prints is sent to
stderr. torch is imported only when the command runs. Started by ``torchrun``, each rank
checks its own shard of the data and only rank 0 prints and writes (:mod:`.launch`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from convexcheck.cli.common import EXIT_EXPECT_FAILED, EXIT_OK, emit_json, nonnegative_int
from convexcheck.errors import ConvexcheckInputError


def wrt_option(text: str) -> str | list[str]:
    """``--wrt``: ``parameters``, ``inputs`` or comma-separated parameter names."""
    if text in ("parameters", "inputs"):
        return text
    names = [name.strip() for name in text.split(",")]
    if not text.strip() or not all(names):
        raise argparse.ArgumentTypeError(
            f"expected inputs, parameters or NAME,NAME (parameter names), got {text!r}"
        )
    return names


def add_arguments(model: argparse.ArgumentParser) -> None:
    """The options of ``convexcheck model`` (also reached as ``convexcheck FILE.py``)."""
    model.add_argument("file", metavar="FILE", help="Python file defining the model (executed)")
    model.add_argument("--json", action="store_true", help="print one JSON object")
    model.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    model.add_argument(
        "--seed", type=nonnegative_int, default=0, help="seed of the random searches"
    )
    model.add_argument("--expect", choices=("convex", "nonconvex"))
    model.add_argument(
        "--wrt",
        type=wrt_option,
        default="parameters",
        metavar="inputs|parameters|NAME,NAME",
        help="the variables: the trainable parameters (default), the inputs (parameters held "
        "fixed; loss_fn may be left out for one scalar output per example), or the named "
        "parameters (all others held fixed)",
    )
    model.add_argument("--witness-out", metavar="PATH", help="save a witness with torch.save")
    model.add_argument("--report", metavar="PATH", help="write a .html or .md report")


def run(args: argparse.Namespace) -> int:
    """Run ``convexcheck model`` for parsed ``args`` (see :func:`add_arguments`)."""
    report_path = getattr(args, "report", None)
    if report_path:
        _check_report_path(report_path)
    from convexcheck.cli.launch import start_data_parallel
    from convexcheck.cli.progress import DelayedProgress

    rank = start_data_parallel(args.device)  # under torchrun: before the model file runs
    from convexcheck.numeric.check import check_model
    from convexcheck.numeric.loading import load_model_file

    wrt = getattr(args, "wrt", "parameters")
    spec = load_model_file(args.file, loss_optional=wrt == "inputs")
    show_progress = rank == 0 and not args.json and sys.stderr.isatty()
    with (
        DelayedProgress("Jensen search", enabled=show_progress) as bar,
        contextlib.redirect_stdout(sys.stderr),
    ):
        result = check_model(
            spec.model,
            spec.loss_fn,
            spec.data,
            wrt=wrt,
            device=args.device,
            seed=args.seed,
            progress=bar if show_progress else False,
            penalties=spec.penalties,
        )
    saved = None
    if rank != 0:  # every rank holds the same result; rank 0 alone prints and writes files
        if report_path and Path(report_path).suffix.lower() != ".md":
            from convexcheck.explain.report import model_html

            # the plots evaluate the loss over every shard: each rank takes part in their
            # collectives, in the same order as rank 0, and throws the page away
            model_html(result, source=str(args.file))
        expect = getattr(args, "expect", None)
        return EXIT_EXPECT_FAILED if expect and not result.establishes(expect) else EXIT_OK
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
        from convexcheck.explain.report import write_model_report

        write_model_report(result, report_path, source=str(args.file))
    expect = getattr(args, "expect", None)
    established = result.establishes(expect) if expect else None
    if args.json:
        payload: dict[str, Any] = {"file": str(args.file), **result.to_dict()}
        if saved:
            payload["witness_file"] = saved
        if expect:
            payload["expect"] = {"value": expect, "established": established}
        emit_json(payload, "model")
    else:
        print_text(result, source=str(args.file), expect=expect, witness_file=saved)
    if expect and not established:
        return EXIT_EXPECT_FAILED
    return EXIT_OK


def _check_report_path(path: str) -> None:
    """Refuse a report path the reporter cannot write before any work is done."""
    if Path(path).suffix.lower() not in (".md", ".html", ".htm"):
        raise ConvexcheckInputError(f"--report expects a .md or .html path, got {path!r}")


# -- text output -------------------------------------------------------------------------------
def print_text(
    result: Any, *, source: str, expect: str | None = None, witness_file: str | None = None
) -> None:
    """Coloured terminal output through rich (plain when stdout is not a terminal)."""
    from convexcheck.explain.terminal import print_model_result

    print_model_result(result, source=source, expect=expect, witness_file=witness_file)
