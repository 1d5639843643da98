"""The ``convexcheck`` command line (see ``shared/CONTRACT.md`` for the interface).

Exit status: 0 done (and ``--expect`` established), 1 ``--expect`` not established, 2 bad input
or usage with one ``convexcheck: error: ...`` line on stderr. Heavy libraries (SymPy, CVXPY,
torch) are imported only inside the sub-command that needs them, so ``convexcheck expr`` starts
fast.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from convexcheck.errors import ConvexcheckInputError
from convexcheck.result import EXPECTATIONS

EXIT_OK, EXIT_EXPECT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are the contract's single line with exit status 2."""

    def error(self, message: str) -> NoReturn:
        _fail(f"{message} (see '{self.prog} --help')")


def _fail(message: str) -> NoReturn:
    one_line = " ".join(str(message).split())
    print(f"convexcheck: error: {one_line}", file=sys.stderr)
    raise SystemExit(EXIT_BAD_INPUT)


def _nonnegative_int(text: str) -> int:
    """``--seed``: NumPy's generators take only nonnegative seeds (``-5`` used to crash)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a nonnegative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a nonnegative integer, got {text!r}")
    return value


def _wrt(text: str) -> str | list[str]:
    """``--wrt``: ``parameters``, ``inputs`` or comma-separated parameter names."""
    if text in ("parameters", "inputs"):
        return text
    names = [name.strip() for name in text.split(",")]
    if not text.strip() or not all(names):
        raise argparse.ArgumentTypeError(
            f"expected inputs, parameters or NAME,NAME (parameter names), got {text!r}"
        )
    return names


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


# Options of `expr` that take a value, and those that do not (for _expr_argv).
_EXPR_VALUE_OPTIONS = ("--var", "--expect", "--seed", "--budget", "--report", "--certificates")
_EXPR_FLAG_OPTIONS = ("--json", "--tree", "--help", "-h")


def _expr_argv(argv: list[str]) -> list[str]:
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
        value_option = _match_option(name, _EXPR_VALUE_OPTIONS)
        if value_option is not None:
            if eq:
                options.append(value_option + "=" + _value)
            elif k < len(rest):
                options.append(value_option + "=" + rest[k])
                k += 1
            else:
                options.append(value_option)  # argparse: "expected one argument"
            continue
        if not eq and _match_option(token, _EXPR_FLAG_OPTIONS) is not None:
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


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="convexcheck",
        description="Prove a function convex/concave, or refute it with a checked witness.",
    )
    from convexcheck import __version__

    parser.add_argument("--version", action="version", version=f"convexcheck {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    expr = sub.add_parser(
        "expr",
        help="check a closed-form expression",
        description="Check a closed-form expression written in SymPy's printed syntax.",
    )
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
        type=_nonnegative_int,
        default=0,
        help="seed (a nonnegative integer) of the witness search (default 0)",
    )
    expr.add_argument(
        "--budget",
        type=_positive_seconds,
        metavar="SECONDS",
        help="wall-clock cap of the whole check, every stage included; past it the open "
        "questions are 'unknown' (default 30; then Hessian and SOS also stop after 3 and 5 s "
        "per question)",
    )
    expr.add_argument(
        "--tree", action="store_true", help="show the full derivation tree in the text output"
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

    proofs = sub.add_parser(
        "proofs",
        help="re-check certificate documents",
        description="Re-check certificate documents with the independent checker.",
    )
    proofs_sub = proofs.add_subparsers(dest="proofs_command", parser_class=_Parser, required=True)
    verify = proofs_sub.add_parser(
        "verify",
        help="re-check every *.json certificate under DIR (default: proofs)",
        description="Re-check every certificate document under DIR; exit 1 naming any failure.",
    )
    verify.add_argument("directory", metavar="DIR", nargs="?", default="proofs")
    verify.add_argument("--json", action="store_true", help="print one JSON object")
    verify.add_argument(
        "--budget",
        type=_positive_seconds,
        metavar="SECONDS",
        help="wall-clock cap of each document's check; a document that needs more fails "
        "(default 60)",
    )

    explain = sub.add_parser(
        "explain",
        help="interview topics on convexity, with live numbers",
        description="Explain a topic in words and numbers computed now; without TOPIC, list "
        "the topics.",
    )
    explain.add_argument("topic", metavar="TOPIC", nargs="?")
    explain.add_argument("--json", action="store_true", help="print one JSON object")

    model = sub.add_parser(
        "model",
        help="check a torch model's training loss in its trainable parameters",
        description="Check a model file (Python, executed by design) defining build() or "
        "module-level model, loss_fn and data.",
    )
    add_model_arguments(model)
    return parser


def add_model_arguments(model: argparse.ArgumentParser) -> None:
    model.add_argument("file", metavar="FILE", help="Python file defining the model (executed)")
    model.add_argument("--json", action="store_true", help="print one JSON object")
    model.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    model.add_argument(
        "--seed", type=_nonnegative_int, default=0, help="seed of the random searches"
    )
    model.add_argument("--expect", choices=("convex", "nonconvex"))
    model.add_argument(
        "--wrt",
        type=_wrt,
        default="parameters",
        metavar="inputs|parameters|NAME,NAME",
        help="the variables: the trainable parameters (default), the inputs (parameters held "
        "fixed; loss_fn may be left out for one scalar output per example), or the named "
        "parameters (all others held fixed)",
    )
    model.add_argument("--witness-out", metavar="PATH", help="save a witness with torch.save")
    model.add_argument("--report", metavar="PATH", help="write a .html or .md report")


def _parse_var_options(options: Sequence[str]) -> dict[str, str]:
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


def _run_expr(args: argparse.Namespace) -> int:
    from convexcheck.symbolic.check import check

    text = args.expression
    if text == "-":
        from convexcheck.symbolic.parser import DEFAULT_MAX_LENGTH

        text = sys.stdin.read(DEFAULT_MAX_LENGTH + 1)
    if args.report and not args.report.lower().endswith((".md", ".html", ".htm")):
        raise ConvexcheckInputError(f"--report expects a .md or .html path, got {args.report!r}")
    if args.certificates:
        from pathlib import Path

        _refuse_special_files(Path(args.certificates))
    result = check(
        text, variables=_parse_var_options(args.var), seed=args.seed, budget_s=args.budget
    )
    if args.json:
        payload: dict[str, Any] = result.to_dict()
        if args.expect:
            payload["expect"] = {
                "value": args.expect,
                "established": result.establishes(args.expect),
            }
        print(json.dumps(payload, indent=2))
    else:
        from convexcheck.explain.text import print_check_result

        print_check_result(result, tree=args.tree, expect=args.expect)
    if args.certificates:
        _write_certificates(result, args.certificates)
    if args.report:
        from convexcheck.explain.report import write_expr_report

        write_expr_report(result, args.report)
    if args.expect and not result.establishes(args.expect):
        return EXIT_EXPECT_FAILED
    return EXIT_OK


def _refuse_special_files(target: Any) -> list[Any]:
    """The regular files among ``target/{convex,concave}.json`` (links are skipped: they are
    replaced, not followed); raises if one is a FIFO, device or directory. Run before the check
    too, so that a bad destination is reported before any work is done."""
    import stat

    regular = []
    for question in ("convex", "concave"):
        existing = target / f"{question}.json"
        try:
            mode = os.lstat(existing).st_mode
        except OSError:
            continue
        if stat.S_ISLNK(mode):
            continue
        if not stat.S_ISREG(mode):
            raise ConvexcheckInputError(
                f"{existing} exists and is not a regular file; refusing to replace it"
            )
        regular.append(existing)
    return regular


def _write_certificates(result: Any, directory: str) -> None:
    """Write one document per settled question into ``directory``.

    Each file is written to a fresh temporary file in the same directory (created with
    ``O_EXCL``, so never through a link) and renamed over ``QUESTION.json``: a symbolic link
    there is replaced, never followed, and its target is left alone; a FIFO or device there is
    refused (reading it could block, replacing it is not ours to do). A leftover regular
    document about another function is refused too: one directory holds one function.
    """
    import tempfile
    from pathlib import Path

    from convexcheck.certificates import documents_of
    from convexcheck.certificates.checker import UnreadableDocument, read_document

    target = Path(directory)
    for existing in _refuse_special_files(target):
        try:
            previous = read_document(existing).get("expression")
        except (UnreadableDocument, AttributeError):
            continue
        if previous != result.expression:
            raise ConvexcheckInputError(
                f"{existing} holds a certificate for a different function ({previous!r}); "
                "write each function's certificates to its own directory"
            )
    try:
        target.mkdir(parents=True, exist_ok=True)
        for doc in documents_of(result):
            path = target / f"{doc['question']}.json"
            fd, temporary = tempfile.mkstemp(
                prefix=f".{doc['question']}.", suffix=".tmp", dir=target
            )
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(json.dumps(doc, indent=2) + "\n")
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(temporary, 0o666 & ~umask)  # as a plain open() would have made it
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
            print(f"wrote {path}", file=sys.stderr)
    except OSError as exc:
        raise ConvexcheckInputError(f"cannot write certificates to {directory}: {exc}") from exc


def _run_proofs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from convexcheck.certificates import verify_directory

    if not Path(args.directory).is_dir():
        raise ConvexcheckInputError(f"{args.directory} is not a directory")
    from convexcheck.certificates.checker import CHECK_BUDGET_S

    budget = args.budget if args.budget is not None else CHECK_BUDGET_S
    reports = verify_directory(args.directory, budget_s=budget)
    if not reports:
        raise ConvexcheckInputError(f"no certificate documents (*.json) under {args.directory}")
    failed = [r for r in reports if not r.ok]
    if args.json:
        payload = {
            "checked": len(reports),
            "failed": len(failed),
            "documents": [
                {"name": r.name, "ok": r.ok, "problems": r.problems, "trusted": r.trusted}
                for r in reports
            ],
        }
        print(json.dumps(payload, indent=2))
    else:
        for report in reports:
            print(report.line())
        print(f"{len(reports) - len(failed)} certificates verified, {len(failed)} failed")
    return EXIT_EXPECT_FAILED if failed else EXIT_OK


def _run_explain(args: argparse.Namespace) -> int:
    from convexcheck.explain.topics import explain_topic, format_numbers, list_topics

    if args.topic is None:
        topics = list_topics()
        if args.json:
            print(json.dumps({"topics": topics}, indent=2))
        else:
            width = max(len(t["name"]) for t in topics)
            for t in topics:
                print(f"{t['name']:<{width}}  {t['title']}")
            print("\nconvexcheck explain TOPIC computes the topic's numbers live.")
        return EXIT_OK
    answer = explain_topic(args.topic)
    if args.json:
        print(json.dumps(answer, indent=2))
        return EXIT_OK
    import textwrap

    print(answer["title"])
    print("=" * len(answer["title"]))
    print(textwrap.fill(answer["text"], width=96))
    print()
    print(f"Numbers (computed now, {answer['seconds']:.2f} s):")
    for line in format_numbers(answer["numbers"], indent=1):
        print(line)
    return EXIT_OK


def _run_model(args: argparse.Namespace) -> int:
    from convexcheck.numeric.command import run_model

    return run_model(args)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `convexcheck FILE.py` is the same as `convexcheck model FILE.py`.
    if argv and argv[0].endswith(".py") and not argv[0].startswith("-"):
        argv = ["model", *argv]
    first = next((k for k, a in enumerate(argv) if not a.startswith("-")), None)
    if first is not None and argv[first] == "expr":
        argv = _expr_argv(argv)
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        _fail("a command is required: expr, model, explain or proofs (see 'convexcheck --help')")
    runners = {
        "expr": _run_expr,
        "model": _run_model,
        "proofs": _run_proofs,
        "explain": _run_explain,
    }
    try:
        return runners[args.command](args)
    except ConvexcheckInputError as exc:
        _fail(str(exc))
    except (RecursionError, MemoryError) as exc:
        _fail(f"input too large or too deeply nested ({type(exc).__name__})")
    except KeyboardInterrupt:
        print("convexcheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`convexcheck ... | head`): not an error. Point stdout at devnull
        # so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug, not a user error: say so, keep it to one line
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
