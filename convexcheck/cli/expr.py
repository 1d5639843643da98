"""``convexcheck expr EXPR``: check a closed-form expression, print text or JSON.

Only the standard library is imported at module level and SymPy, CVXPY and torch never on this
path (``tests/test_cli.py`` checks it), so the command starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any

from convexcheck.cli.common import (
    EXIT_EXPECT_FAILED,
    EXIT_OK,
    emit_json,
    nonnegative_int,
    positive_seconds,
)
from convexcheck.errors import ConvexcheckInputError
from convexcheck.result import EXPECTATIONS

# Options of `expr` that take a value, and those that do not (for expr_argv).
_VALUE_OPTIONS = ("--var", "--expect", "--seed", "--budget", "--report", "--certificates")
_FLAG_OPTIONS = ("--json", "--tree", "--constants", "--help", "-h")


def expr_argv(argv: list[str]) -> list[str]:
    """Rewrite ``expr`` arguments so that an expression starting with ``-`` is the EXPR.

    argparse takes ``-log(x)`` for an option, wherever it stands (even after ``--`` once
    options follow). Here every known option (or unambiguous prefix, as argparse allows) keeps
    its value glued on (``--seed=-5``, so a value may start with ``-`` too), a lone ``--`` marks
    the next token as the expression, and any other token is positional: it is passed after a
    final ``--``. A token like ``--foo`` that looks like an option but is none is left to
    argparse, which reports it.
    """
    i = argv.index("expr")
    head, rest = argv[: i + 1], argv[i + 1 :]
    options: list[str] = []
    positional: list[str] = []
    k = 0
    while k < len(rest):
        token = rest[k]
        k += 1
        if token == "--":
            if k < len(rest):
                positional.append(rest[k])
                k += 1
            continue
        name, eq, _value = token.partition("=")
        value_option = _match_option(name, _VALUE_OPTIONS)
        if value_option is not None:
            if eq:
                options.append(value_option + "=" + _value)
            elif k < len(rest):
                options.append(value_option + "=" + rest[k])
                k += 1
            else:
                options.append(value_option)  # argparse: "expected one argument"
            continue
        if not eq and _match_option(token, _FLAG_OPTIONS) is not None:
            options.append(token)
            continue
        if re.fullmatch(r"--[A-Za-z][\w-]*(=.*)?", token, re.S):
            options.append(token)  # an unknown option: argparse names it
            continue
        positional.append(token)
    return head + options + (["--", *positional] if positional else [])


def _match_option(token: str, names: tuple[str, ...]) -> str | None:
    if token in names:
        return token
    if not token.startswith("--") or len(token) < 3:
        return None
    matches = [n for n in names if n.startswith(token)]
    return matches[0] if len(matches) == 1 else None


def add_arguments(expr: argparse.ArgumentParser) -> None:
    """The options of ``convexcheck expr``."""
    expr.add_argument(
        "expression",
        metavar="EXPR",
        help="for example 'log(1 + exp(x))' or '-log(x)' (anywhere on the line); "
        "'-' reads it from stdin",
    )
    expr.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=DOMAIN",
        help="variable domain: real, positive, nonnegative, negative, nonpositive or an "
        "interval such as '[0, 1]' or '(0, oo)'; repeat for several variables",
    )
    expr.add_argument("--json", action="store_true", help="print one JSON object")
    expr.add_argument("--expect", choices=EXPECTATIONS, help="exit 1 unless this is established")
    expr.add_argument(
        "--seed",
        type=nonnegative_int,
        default=0,
        help="seed (a nonnegative integer) of the witness search (default 0)",
    )
    expr.add_argument(
        "--budget",
        type=positive_seconds,
        metavar="SECONDS",
        help="wall-clock cap of the whole check, every stage included; past it the open "
        "questions are 'unknown' (default 30; then Hessian and SOS also stop after 3 and 5 s "
        "per question)",
    )
    expr.add_argument(
        "--tree", action="store_true", help="show the full derivation tree in the text output"
    )
    expr.add_argument(
        "--constants",
        action="store_true",
        help="also prove the curvature constants mu <= λ_min(∇²f) and λ_max(∇²f) <= L on the "
        "domain and print them with the safe step size 1/L (checked by the certificate checker)",
    )

    expr.add_argument(
        "--report",
        metavar="PATH",
        help="write a .html (self-contained, with plots) or .md report",
    )
    expr.add_argument(
        "--certificates",
        metavar="DIR",
        help="write each settled answer as a certificate document (JSON) into DIR",
    )


def parse_var_options(options: Sequence[str]) -> dict[str, str]:
    """``--var NAME=DOMAIN`` options as ``{name: domain}``; a name given twice is refused."""
    domains: dict[str, str] = {}
    for option in options:
        name, sep, domain = option.partition("=")
        name = name.strip()
        if not sep or not name or not domain.strip():
            raise ConvexcheckInputError(f"--var expects NAME=DOMAIN, got {option!r}")
        if name in domains:
            raise ConvexcheckInputError(f"variable {name!r} is given a domain twice")
        domains[name] = domain.strip()
    return domains


def run(args: argparse.Namespace) -> int:
    """Run ``convexcheck expr`` for parsed ``args``; returns the exit status."""
    from convexcheck.symbolic.check import check

    text = args.expression
    if text == "-":
        from convexcheck.symbolic.parser import DEFAULT_MAX_LENGTH

        text = sys.stdin.read(DEFAULT_MAX_LENGTH + 1)
    if args.report and not args.report.lower().endswith((".md", ".html", ".htm")):
        raise ConvexcheckInputError(f"--report expects a .md or .html path, got {args.report!r}")
    if args.certificates:
        from pathlib import Path

        from convexcheck.cli.certificates import refuse_special_files

        refuse_special_files(Path(args.certificates))
    from convexcheck.cli.progress import DelayedProgress

    # a bar on stderr for a check that runs past a second; never with --json or into a pipe
    show_progress = not args.json and sys.stderr.isatty()
    with DelayedProgress("Checking", enabled=show_progress) as bar:
        result = check(
            text,
            variables=parse_var_options(args.var),
            seed=args.seed,
            budget_s=args.budget,
            progress=bar if show_progress else False,
        )
    constants = None
    if args.constants:
        from convexcheck.symbolic.curvature_bounds import curvature_bounds

        constants = curvature_bounds(
            text, parse_var_options(args.var), seed=args.seed, budget_s=args.budget
        )
    if args.json:
        payload: dict[str, Any] = result.to_dict()
        if constants is not None:
            payload["constants"] = constants.to_dict()
        if args.expect:
            payload["expect"] = {
                "value": args.expect,
                "established": result.establishes(args.expect),
            }
        emit_json(payload, "expr")
    else:
        from convexcheck.explain.terminal import print_check_result

        print_check_result(result, tree=args.tree, expect=args.expect)
        if constants is not None:
            print(constants.explain())
    if args.certificates:
        from convexcheck.cli.certificates import write_certificates

        write_certificates(result, args.certificates)
    if args.report:
        from convexcheck.explain.report import write_expr_report

        write_expr_report(result, args.report)
    if args.expect and not result.establishes(args.expect):
        return EXIT_EXPECT_FAILED
    return EXIT_OK
