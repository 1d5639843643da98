"""DCP analysis of an N-term convex sum: convexcheck (from a string, parsing included) vs CVXPY.

The sum is the one a user pastes for a separable objective,
``sum_i exp(x_i) + (x_i - c_i)**2``; CVXPY gets the same function built from its own atoms
(``cp.exp(x) + cp.square(x - c)``) and is timed for building plus ``is_convex()``. Both run in
this process, one after the other, and the script prints the ratio.

    python benchmarks/dcp_vs_cvxpy.py            # N = 1e3, 1e4, 1e5
    python benchmarks/dcp_vs_cvxpy.py --n 10000  # one size
    python benchmarks/dcp_vs_cvxpy.py --cold     # also the CLI cold start
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def expression(n: int) -> str:
    return " + ".join(f"exp(x{i}) + (x{i} - {i % 7})**2" for i in range(n))


def time_convexcheck(n: int, repeat: int) -> tuple[float, str]:
    import convexcheck as cc
    from convexcheck.symbolic import ir

    text = expression(n)
    times, curvature = [], ""
    for _ in range(repeat):
        ir.clear_intern_table()  # no warm cache from the previous round
        start = time.perf_counter()
        result = cc.check(text, max_length=None, stages=("dcp",))
        times.append(time.perf_counter() - start)
        curvature = result.curvature
    return statistics.median(times), curvature


def time_cvxpy(n: int, repeat: int) -> tuple[float, bool]:
    import cvxpy as cp

    times, convex = [], False
    for _ in range(repeat):
        start = time.perf_counter()
        xs = [cp.Variable(name=f"x{i}") for i in range(n)]
        objective = cp.sum(
            cp.hstack([cp.exp(x) + cp.square(x - (i % 7)) for i, x in enumerate(xs)])
        )
        convex = objective.is_convex()
        times.append(time.perf_counter() - start)
    return statistics.median(times), convex


def cold_start() -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "convexcheck", "expr", "log(1 + exp(x))"],
            check=True,
            capture_output=True,
        )
        runs.append(time.perf_counter() - start)
    base = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base.append(time.perf_counter() - start)
    print(
        f"cold start `convexcheck expr`: {statistics.median(runs):.3f} s "
        f"(bare python: {statistics.median(base):.3f} s)"
    )
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="sizes (default 1e3, 1e4, 1e5)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="also time the CLI cold start")
    args = parser.parse_args()
    sizes = args.n or [1_000, 10_000, 100_000]
    print(f"{'N':>8} {'convexcheck s':>14} {'cvxpy s':>10} {'ratio':>7}")
    for n in sizes:
        repeat = 1 if n >= 100_000 else args.repeat
        ours, curvature = time_convexcheck(n, repeat)
        theirs, convex = time_cvxpy(n, repeat)
        assert curvature == "convex" and convex
        print(f"{n:>8} {ours:>14.3f} {theirs:>10.3f} {theirs / ours:>6.1f}x")
    if args.cold:
        cold_start()


if __name__ == "__main__":
    main()
