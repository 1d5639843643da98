"""``convexcheck proofs verify [DIR]``: re-check certificate documents with the checker.

The checker (:mod:`convexcheck.certificates`) trusts nothing the provers computed; this command
only finds the documents, runs it on each and reports one line per document (or JSON).
"""

from __future__ import annotations

import argparse

from convexcheck.cli.common import (
    EXIT_EXPECT_FAILED,
    EXIT_OK,
    Parser,
    emit_json,
    positive_seconds,
)
from convexcheck.errors import ConvexcheckInputError
from convexcheck.schemas import FORMATS


def add_arguments(proofs: argparse.ArgumentParser) -> None:
    """The ``verify`` sub-command of ``convexcheck proofs`` and its options."""
    proofs_sub = proofs.add_subparsers(dest="proofs_command", parser_class=Parser, required=True)
    verify = proofs_sub.add_parser(
        "verify",
        help="re-check every *.json certificate under DIR (default: proofs)",
        description="Re-check every certificate document under DIR; exit 1 naming any failure.",
    )
    verify.add_argument("directory", metavar="DIR", nargs="?", default="proofs")
    verify.add_argument("--json", action="store_true", help="print one JSON object")
    verify.add_argument(
        "--budget",
        type=positive_seconds,
        metavar="SECONDS",
        help="wall-clock cap of each document's check; a document that needs more fails "
        "(default 60)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``convexcheck proofs verify`` for parsed ``args``; exit 1 if any document fails."""
    from pathlib import Path

    from convexcheck.certificates import verify_directory
    from convexcheck.certificates.checker import CHECK_BUDGET_S

    if not Path(args.directory).is_dir():
        raise ConvexcheckInputError(f"{args.directory} is not a directory")
    budget = args.budget if args.budget is not None else CHECK_BUDGET_S
    reports = verify_directory(args.directory, budget_s=budget)
    if not reports:
        raise ConvexcheckInputError(f"no certificate documents (*.json) under {args.directory}")
    failed = [r for r in reports if not r.ok]
    if args.json:
        payload = {
            "format": FORMATS["proofs"],
            "checked": len(reports),
            "failed": len(failed),
            "documents": [
                {"name": r.name, "ok": r.ok, "problems": r.problems, "trusted": r.trusted}
                for r in reports
            ],
        }
        emit_json(payload, "proofs")
    else:
        for report in reports:
            print(report.line())
        print(f"{len(reports) - len(failed)} certificates verified, {len(failed)} failed")
    return EXIT_EXPECT_FAILED if failed else EXIT_OK
