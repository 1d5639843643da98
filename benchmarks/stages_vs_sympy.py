"""Corpus figures and per-stage timings of the ladder, and a comparison with SymPy's is_convex.

    python benchmarks/stages_vs_sympy.py [--sympy-timeout 10]

Prints, over tests/corpus/closed_forms.json (every label verified numerically):
  * proved / refuted / unknown / wrong for each label, with the full ladder;
  * time per entry (median, max) and the total time spent in each stage;
  * on the entries SymPy's ``is_convex`` accepts (one variable), both tools' answers to
    "is it convex?" and their times, in the same run.
SymPy runs in a subprocess per entry with a timeout, because it can run for minutes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

from convexcheck import check

CORPUS = json.loads(
    (Path(__file__).resolve().parents[1] / "tests" / "corpus" / "closed_forms.json").read_text()
)


def _sympy_worker(expr: str, domain: str, queue) -> None:
    import sympy
    from sympy.calculus.util import is_convex

    from convexcheck.symbolic.domains import parse_domain
    from convexcheck.symbolic.parser import parse_to_sympy

    f = parse_to_sympy(expr)
    if len(f.free_symbols) != 1:
        queue.put(("error: not univariate after parsing", 0.0))
        return
    (x,) = f.free_symbols
    d = parse_domain(domain)
    lo = -sympy.oo if d.lo == float("-inf") else sympy.Rational(str(d.lo))
    hi = sympy.oo if d.hi == float("inf") else sympy.Rational(str(d.hi))
    interval = sympy.Interval(lo, hi, d.lo_open, d.hi_open)
    start = time.perf_counter()
    try:
        answer = is_convex(f, x, domain=interval)
        queue.put((repr(answer), time.perf_counter() - start))
    except Exception as exc:  # SymPy raises on Abs, Max, Piecewise...
        queue.put((f"error: {type(exc).__name__}", time.perf_counter() - start))


def sympy_is_convex(expr: str, domain: str, timeout: float) -> tuple[str, float]:
    queue: mp.Queue = mp.Queue()
    proc = mp.Process(target=_sympy_worker, args=(expr, domain, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return "timeout", timeout
    return queue.get() if not queue.empty() else ("crashed", float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sympy-timeout", type=float, default=10.0)
    parser.add_argument("--no-sympy", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    figures: dict[str, Counter] = defaultdict(Counter)
    stage_seconds: Counter = Counter()
    times, rows = [], []
    for entry in CORPUS:
        start = time.perf_counter()
        result = check(entry["expr"], entry["vars"])
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        for stage in result.stages:
            stage_seconds[stage["stage"]] += stage["seconds"]
        label = entry["label"]
        truth = {"convex": label in ("convex", "affine"), "concave": label in ("concave", "affine")}
        wrong = any(
            (getattr(result, q).answer == "yes" and not truth[q])
            or (getattr(result, q).answer == "no" and truth[q])
            for q in truth
        )
        if wrong:
            outcome = "wrong"
        elif label == "neither":
            refuted = result.convex.answer == "no" and result.concave.answer == "no"
            outcome = "refuted" if refuted else "unknown"
        else:
            outcome = "proved" if result.establishes(label) else "unknown"
        figures[label][outcome] += 1
        rows.append((entry, result, elapsed))

    print(f"corpus: {len(CORPUS)} entries (tests/corpus/closed_forms.json)")
    for label in ("convex", "concave", "affine", "neither"):
        c = figures[label]
        total = sum(c.values())
        settled = c["proved"] + c["refuted"]
        print(
            f"  {label:8s} {total:4d}: proved {c['proved']:3d}  refuted {c['refuted']:3d}  "
            f"unknown {c['unknown']:3d}  wrong {c['wrong']}  ({100 * settled / total:.1f}% settled)"
        )
    print(
        f"time per entry: median {1000 * statistics.median(times):.1f} ms, "
        f"max {1000 * max(times):.0f} ms, total {sum(times):.2f} s"
    )
    print(
        "time in each stage (all entries): "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in stage_seconds.items())
    )

    if args.no_sympy:
        return
    print("\nSymPy is_convex on the one-variable entries (answer to 'is it convex?'):")
    tally: Counter = Counter()
    ours_t, theirs_t = 0.0, 0.0
    for entry, result, elapsed in rows:
        if len(entry["vars"]) != 1:
            continue
        (domain,) = entry["vars"].values()
        answer, seconds = sympy_is_convex(entry["expr"], domain, args.sympy_timeout)
        truth = entry["label"] in ("convex", "affine")
        ours = result.convex.answer
        if answer.startswith(("error", "timeout", "crashed")):
            tally[f"sympy {answer.split(':')[0]}"] += 1
            continue
        ours_t += elapsed
        theirs_t += seconds
        tally["accepted"] += 1
        tally["sympy correct"] += answer == repr(truth)
        tally["sympy None"] += answer == "None"
        tally["sympy WRONG"] += answer == repr(not truth)
        tally["convexcheck correct"] += ours == ("yes" if truth else "no")
        tally["convexcheck unknown"] += ours == "unknown"
        if answer == repr(not truth):
            print(f"  SymPy wrong: {entry['expr']} on {domain}: {answer} (label {entry['label']})")
    for key in sorted(tally):
        print(f"  {key}: {tally[key]}")
    if theirs_t:
        print(
            f"  time on the accepted entries: convexcheck {ours_t:.2f} s, SymPy {theirs_t:.2f} s "
            f"(SymPy / convexcheck = {theirs_t / ours_t:.1f}x)"
        )


if __name__ == "__main__":
    main()
