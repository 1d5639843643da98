"""The whole check of an N-term scalar sum given as a string: convexcheck vs CVXPY from scalars.

The function is ``sum_i exp(x_i) + (x_i - c_i)**2`` over N real scalars. convexcheck gets it as
one string and runs its whole default check (``cc.check(text, max_length=None)``: parsing, the
DCP proof of convexity, the witness search that refutes concavity with an exactly verified
Jensen witness, the result object). CVXPY gets the same function built from N scalar
``cp.Variable()`` objects and its scalar atoms (``cp.exp(x) + cp.square(x - c)``, summed with
Python's ``sum``) and is timed for building plus ``is_dcp()`` and ``curvature``. Both run in
this process, interleaved round by round so that a loaded machine slows both alike; the table
gives medians and where convexcheck's time went (its own per-stage timings; "parse etc." is
the rest: parsing, domains and the result object).

    python benchmarks/string_sum_vs_cvxpy.py                 # N = 1e3, 1e4
    python benchmarks/string_sum_vs_cvxpy.py --n 2000 --repeat 5
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time


def expression(n: int) -> str:
    return " + ".join(f"exp(x{i}) + (x{i} - {i % 7})**2" for i in range(n))


def time_convexcheck(text: str) -> tuple[float, dict[str, float], str]:
    import convexcheck as cc
    from convexcheck.symbolic import ir

    ir.clear_intern_table()  # no warm cache from the previous round
    gc.collect()
    start = time.perf_counter()
    result = cc.check(text, max_length=None)
    total = time.perf_counter() - start
    stages = {s["stage"]: s["seconds"] for s in result.stages}
    answers = f"{result.convex.answer}/{result.concave.answer}"
    return total, stages, answers


def time_cvxpy(n: int) -> tuple[float, str]:
    import cvxpy as cp

    gc.collect()
    start = time.perf_counter()
    xs = [cp.Variable(name=f"x{i}") for i in range(n)]
    objective = sum(cp.exp(x) + cp.square(x - (i % 7)) for i, x in enumerate(xs))
    dcp = objective.is_dcp()
    curvature = objective.curvature
    return time.perf_counter() - start, f"{dcp}/{curvature}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="sizes (default 1e3, 1e4)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = args.n or [1_000, 10_000]
    time_cvxpy(10)  # imports and first-call caches outside the timings
    time_convexcheck(expression(10))
    header = (
        f"{'N':>7} {'convexcheck s':>14} {'parse etc.':>11} {'dcp':>7} {'witness':>8} "
        f"{'cvxpy s':>9} {'cvxpy/cc':>9}  answers"
    )
    print(header)
    for n in sizes:
        text = expression(n)
        ours, theirs, dcp, witness = [], [], [], []
        answers = ""
        for _ in range(args.repeat):
            total, stages, answers = time_convexcheck(text)
            ours.append(total)
            dcp.append(stages.get("dcp", 0.0))
            witness.append(stages.get("witness", 0.0))
            seconds, cvx = time_cvxpy(n)
            theirs.append(seconds)
        assert answers == "yes/no", answers
        assert cvx == "True/CONVEX", cvx
        o, t = statistics.median(ours), statistics.median(theirs)
        d, w = statistics.median(dcp), statistics.median(witness)
        print(
            f"{n:>7} {o:>14.3f} {o - d - w:>11.3f} {d:>7.3f} {w:>8.3f} "
            f"{t:>9.3f} {t / o:>8.1f}x  convexcheck {answers}, cvxpy {cvx}"
        )


if __name__ == "__main__":
    main()
