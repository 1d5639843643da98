"""What every ``convexcheck`` command shares: exit codes, the one-line error, argument types.

The contract (``shared/CONTRACT.md``) fixes the exit status: 0 done (and ``--expect``
established), 1 ``--expect`` not established, 2 bad input or usage with exactly one
``convexcheck: error: ...`` line on stderr. Keeping that line and the argument parsers here means
every command reports a bad ``--seed`` or a bad path the same way. Only the standard library is
imported, so ``convexcheck expr`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NoReturn

EXIT_OK, EXIT_EXPECT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors are the contract's single line with exit status 2."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see '{self.prog} --help')")


def fail(message: str) -> NoReturn:
    """Print ``convexcheck: error: MESSAGE`` (whitespace folded to one line) and exit 2."""
    one_line = " ".join(str(message).split())
    print(f"convexcheck: error: {one_line}", file=sys.stderr)
    raise SystemExit(EXIT_BAD_INPUT)


def nonnegative_int(text: str) -> int:
    """``--seed``: NumPy's generators take only nonnegative seeds (``-5`` used to crash)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a nonnegative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a nonnegative integer, got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """``--budget``: a positive number of seconds (``0`` or ``nan`` would mean no work at all)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def emit_json(payload: Any, schema: str) -> None:
    """Print ``payload`` as the one JSON document of a ``--json`` run.

    With ``CONVEXCHECK_VALIDATE_JSON=1`` (the test suite sets it) the text is first validated
    against the shipped schema ``schema`` (:mod:`convexcheck.schemas`), so a document that drifts
    from its published shape fails loudly instead of reaching a consumer."""
    text = json.dumps(payload, indent=2, default=json_default)
    check_against_schema(text, schema)
    print(text)


def check_against_schema(text: str, schema: str) -> None:
    """Validate the JSON ``text`` against ``schema`` when ``CONVEXCHECK_VALIDATE_JSON`` asks."""
    from convexcheck.schemas import validate, validation_requested

    if validation_requested():
        validate(json.loads(text), schema)


def json_default(value: Any) -> Any:
    """Last resort for odd values in evidence (numpy scalars, paths): never crash the JSON."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
