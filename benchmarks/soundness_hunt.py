"""Hunt for the input that exhausts memory (or time) in a random soundness run.

The ``SOUNDNESS_RANDOM=1`` run of ``tests/symbolic/test_soundness.py`` was killed by the
out-of-memory killer at 24 GB, and the killer takes the evidence with it. This harness draws the
same strategy's examples (``tests.symbolic.test_soundness.problems``) in a parent process and checks
each one in a child process that has an address-space cap (``RLIMIT_AS``) and a wall-clock limit.
Before a child starts, its input is appended to the log (JSON lines) and flushed to disk, so
whatever kills the child (or the whole machine), the last input line names the culprit:

    nice python benchmarks/soundness_hunt.py --minutes 15 --memory-gb 4 --log hunt.jsonl

The log alternates an input line ``{"i", "expr", "variables"}`` with a result line
``{"i", "status", "seconds", "message"?}``; ``status`` is ``ok``, ``failed`` (an assertion of
the soundness test: a wrong answer or a rejected certificate, with its message), ``error`` (an
exception), ``memory`` (MemoryError, or SIGKILL past the cap), ``timeout`` or ``killed``.
Inputs that are not ``ok`` are also printed. Rerun one input line with
``python benchmarks/soundness_hunt.py --replay hunt.jsonl --line N``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _child(expr_text: str, variables: dict, memory_bytes: int, queue) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        from convexcheck.symbolic.parser import parse
        from tests.symbolic.test_soundness import test_every_proof_survives_jensen_sampling as test

        expr = parse(expr_text, max_length=None)
        test.hypothesis.inner_test((expr, variables))
        queue.put(("ok", ""))
    except MemoryError:
        queue.put(("memory", "MemoryError"))
    except AssertionError as exc:
        queue.put(("failed", str(exc)[:2000]))
    except BaseException as exc:
        queue.put(("error", "".join(traceback.format_exception_only(exc)).strip()[:2000]))


def run_one(expr_text: str, variables: dict, memory_gb: float, timeout_s: float):
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(expr_text, variables, int(memory_gb * 2**30), queue))
    start = time.monotonic()
    proc.start()
    proc.join(timeout_s)
    if proc.is_alive():
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        return "timeout", "", time.monotonic() - start
    seconds = time.monotonic() - start
    if not queue.empty():
        status, message = queue.get()
        return status, message, seconds
    if proc.exitcode in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
        return "memory" if proc.exitcode == -signal.SIGKILL else "killed", "", seconds
    return "killed", f"exit code {proc.exitcode}", seconds


def each_input(visit, examples: int) -> None:
    """Call ``visit(text, variables)`` on fresh random examples of the soundness strategy
    (generation only: nothing is shrunk, and ``_Stop`` from ``visit`` ends the run)."""
    from hypothesis import HealthCheck, Phase, given, settings

    from convexcheck.symbolic import ir
    from convexcheck.symbolic.printer import to_str
    from tests.symbolic.test_soundness import problems

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(problems())
    def collect(problem):
        expr, domains = problem
        if expr.is_bool:
            return
        names = ir.free_variables(expr)
        visit(to_str(expr), {n: domains[n] for n in names})

    with contextlib.suppress(_Stop):
        collect()


class _Stop(BaseException):  # not an Exception: hypothesis lets it through untouched
    pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--examples", type=int, default=10**9)
    parser.add_argument("--memory-gb", type=float, default=4.0)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per input")
    parser.add_argument("--log", default="soundness_hunt.jsonl")
    parser.add_argument("--replay", help="a log to rerun one line of")
    parser.add_argument("--line", type=int, default=None, help="with --replay: 1-based line")
    args = parser.parse_args(argv)

    if args.replay:
        lines = Path(args.replay).read_text().splitlines()
        inputs = [json.loads(line) for line in lines if '"expr"' in line]
        if args.line is None:
            entry = inputs[-1]
        else:
            entry = json.loads(lines[args.line - 1])
        status, message, seconds = run_one(
            entry["expr"], entry["variables"], args.memory_gb, args.timeout
        )
        print(json.dumps({**entry, "status": status, "message": message, "seconds": seconds}))
        return 0 if status == "ok" else 1

    deadline = time.monotonic() + 60 * args.minutes
    counts: dict[str, int] = {}
    log = Path(args.log)
    with log.open("a") as out:
        seen = [0]

        def visit(text: str, variables: dict) -> None:
            if seen[0] >= args.examples or time.monotonic() > deadline:
                raise _Stop
            i = seen[0]
            seen[0] += 1
            # the input goes to the log *before* it is checked: a killed child leaves it behind
            out.write(json.dumps({"i": i, "expr": text, "variables": variables}) + "\n")
            out.flush()
            os.fsync(out.fileno())
            status, message, seconds = run_one(text, variables, args.memory_gb, args.timeout)
            counts[status] = counts.get(status, 0) + 1
            record = {"i": i, "status": status, "seconds": round(seconds, 3)}
            if message:
                record["message"] = message
            out.write(json.dumps(record) + "\n")
            out.flush()
            if status != "ok":
                print(json.dumps({"expr": text, "variables": variables, **record}), flush=True)

        each_input(visit, args.examples if args.examples < 10**8 else 10**8)
    print(json.dumps({"counts": counts, "log": str(log)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
