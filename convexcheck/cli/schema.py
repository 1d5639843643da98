"""``convexcheck schema NAME``: print the JSON Schema of a document convexcheck writes.

A tool that reads ``convexcheck expr --json`` (or a model result, a certificate document, the
``proofs verify`` report, an ``explain`` answer) can validate what it reads against the schema of
the exact version installed, and tell revisions apart by each document's ``format`` field. The
schemas themselves live in :mod:`convexcheck.schemas`; this module only prints them.
"""

from __future__ import annotations

import argparse
import sys

from convexcheck.cli.common import EXIT_OK
from convexcheck.schemas import FORMATS, SCHEMA_NAMES, schema_text


def add_arguments(schema: argparse.ArgumentParser) -> None:
    """The options of ``convexcheck schema``."""
    schema.add_argument(
        "name",
        metavar="NAME",
        nargs="?",
        choices=SCHEMA_NAMES,
        help=f"one of {', '.join(SCHEMA_NAMES)}; without NAME, list them with their formats",
    )


def run(args: argparse.Namespace) -> int:
    """Print the schema ``args.name`` (or, without a name, each name and its format)."""
    if args.name is None:
        width = max(len(name) for name in SCHEMA_NAMES)
        for name in SCHEMA_NAMES:
            print(f"{name:<{width}}  {FORMATS[name]}")
        print("\nconvexcheck schema NAME prints that document's JSON Schema (draft 2020-12).")
        return EXIT_OK
    sys.stdout.write(schema_text(args.name))
    return EXIT_OK
