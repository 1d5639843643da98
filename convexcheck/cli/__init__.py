"""The ``convexcheck`` command line (see ``shared/CONTRACT.md`` for the interface).

One module per command (:mod:`.expr`, :mod:`.model`, :mod:`.explain`, :mod:`.proofs`,
:mod:`.schema`), each
with ``add_arguments(parser)`` and ``run(args) -> exit status``; :mod:`.common` holds the exit
codes, the one-line ``convexcheck: error: ...`` and the argument types, :mod:`.progress` the
terminal progress bar. This is the only layer that prints: the cores return results.

Exit status: 0 done (and ``--expect`` established), 1 ``--expect`` not established, 2 bad input
or usage with one ``convexcheck: error: ...`` line on stderr. Heavy libraries (SymPy, CVXPY,
torch) are imported only inside the command that needs them, so ``convexcheck expr`` starts
fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from convexcheck.cli import explain as explain_command
from convexcheck.cli import expr as expr_command
from convexcheck.cli import model as model_command
from convexcheck.cli import proofs as proofs_command
from convexcheck.cli import schema as schema_command
from convexcheck.cli.common import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Parser,
    fail,
)
from convexcheck.errors import ConvexcheckInputError, missing_dependency

__all__ = ["main"]

_RUNNERS = {
    "expr": expr_command.run,
    "model": model_command.run,
    "proofs": proofs_command.run,
    "explain": explain_command.run,
    "schema": schema_command.run,
}


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (each command module adds its own options)."""
    parser = Parser(
        prog="convexcheck",
        description="Prove a function convex/concave, or refute it with a checked witness.",
    )
    from convexcheck import __version__

    parser.add_argument("--version", action="version", version=f"convexcheck {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    expr_command.add_arguments(
        sub.add_parser(
            "expr",
            help="check a closed-form expression",
            description="Check a closed-form expression written in SymPy's printed syntax.",
        )
    )
    proofs_command.add_arguments(
        sub.add_parser(
            "proofs",
            help="re-check certificate documents",
            description="Re-check certificate documents with the independent checker.",
        )
    )
    explain_command.add_arguments(
        sub.add_parser(
            "explain",
            help="interview topics on convexity, with live numbers",
            description="Explain a topic in words and numbers computed now; without TOPIC, "
            "list the topics.",
        )
    )
    schema_command.add_arguments(
        sub.add_parser(
            "schema",
            help="print the JSON Schema of a --json output or a certificate document",
            description="Print the JSON Schema (draft 2020-12) of convexcheck's JSON documents; "
            "each document's 'format' field names its schema and revision.",
        )
    )
    model_command.add_arguments(
        sub.add_parser(
            "model",
            help="check a torch model's training loss in its trainable parameters",
            description="Check a model file (Python, executed by design) defining build() or "
            "module-level model, loss_fn and data.",
        )
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # `convexcheck FILE.py` is the same as `convexcheck model FILE.py`.
    if argv and argv[0].endswith(".py") and not argv[0].startswith("-"):
        argv = ["model", *argv]
    first = next((k for k, a in enumerate(argv) if not a.startswith("-")), None)
    if first is not None and argv[first] == "expr":
        argv = expr_command.expr_argv(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        fail(
            "a command is required: expr, model, explain, proofs or schema "
            "(see 'convexcheck --help')"
        )
    try:
        return _RUNNERS[args.command](args)
    except ConvexcheckInputError as exc:
        fail(str(exc))
    except (RecursionError, MemoryError) as exc:
        fail(f"input too large or too deeply nested ({type(exc).__name__})")
    except KeyboardInterrupt:
        print("convexcheck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`convexcheck ... | head`): not an error. Point stdout at devnull
        # so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug, not a user error: say so, keep it to one line
        missing = missing_dependency(exc, f"convexcheck {args.command}")
        if missing is not None:  # torch or matplotlib not installed: a choice, not a bug
            fail(str(missing))
        if os.environ.get("CONVEXCHECK_DEBUG"):
            raise
        print(
            f"convexcheck: internal error: {type(exc).__name__}: {exc} "
            "(set CONVEXCHECK_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
