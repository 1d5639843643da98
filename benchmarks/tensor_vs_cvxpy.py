"""Tensor expressions: convexcheck against the physical floor and against CVXPY, in one run.

For lasso ``sum_squares(A @ x - b) + 0.1*norm1(x)`` and logistic regression
``sum(logistic(A @ x)) - y @ (A @ x)`` with ``A`` of shape (n/5, n), it prints per n:

* ``eval``: the floor, one NumPy evaluation of the same function at a point (median of 7);
* ``cvxpy``: CVXPY's ``is_dcp()`` on the same expression object (a fresh copy of it, since CVXPY
  caches the answer);
* ``dcp``: ``cc.check(expr, stages=["dcp"])``, the DCP proof alone;
* ``whole``: ``cc.check(expr)``, the proof of one question and a verified witness for the other;

each convexcheck time also as a multiple of ``eval`` (the targets: the DCP proof in at most 20
evaluations' time, the whole check in at most 200 at n = 10^4). Run:

    python benchmarks/tensor_vs_cvxpy.py --n 1000 10000 30000
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(n: int, repeat: int) -> list[dict]:
    import cvxpy as cp

    import convexcheck as cc

    rng = np.random.default_rng(0)
    m = max(1, n // 5)
    a = rng.standard_normal((m, n))
    b = rng.standard_normal(m)
    y = np.sign(rng.standard_normal(m))
    xv = rng.standard_normal(n)
    problems = {
        "lasso": (
            lambda x: cp.sum_squares(a @ x - b) + 0.1 * cp.norm1(x),
            lambda: np.sum((a @ xv - b) ** 2) + 0.1 * np.sum(np.abs(xv)),
        ),
        "logistic": (
            lambda x: cp.sum(cp.logistic(a @ x)) - y @ (a @ x),
            lambda: np.sum(np.logaddexp(0.0, a @ xv)) - y @ (a @ xv),
        ),
    }
    rows = []
    for name, (build, numpy_eval) in problems.items():
        floor = _median_time(numpy_eval, 7)
        exprs = [build(cp.Variable(n)) for _ in range(repeat + 2)]
        cvx = statistics.median(_median_time(e.is_dcp, 1) for e in exprs[:repeat])
        cc.check(exprs[-1], stages=["dcp"])  # imports and first-call work outside the timing
        first, second = exprs[0], exprs[1]
        dcp = _median_time(lambda e=first: cc.check(e, stages=["dcp"]), repeat)
        results = []
        total = _median_time(lambda e=second, out=results: out.append(cc.check(e)), repeat)
        result = results[-1]
        rows.append(
            {
                "problem": name,
                "n": n,
                "eval_ms": floor * 1e3,
                "cvxpy_ms": cvx * 1e3,
                "dcp_ms": dcp * 1e3,
                "dcp_evals": dcp / floor,
                "whole_ms": total * 1e3,
                "whole_evals": total / floor,
                "dcp_vs_cvxpy": dcp / cvx,
                "curvature": result.curvature if result else "?",
                "concave": result.concave.answer if result else "?",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        "| problem | n | eval (ms) | CVXPY is_dcp (ms) | dcp (ms) | dcp / eval | whole (ms) | "
        "whole / eval | dcp / CVXPY | answer |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for n in args.n:
        for r in run(n, args.repeat):
            print(
                f"| {r['problem']} | {r['n']:,} | {r['eval_ms']:.2f} | {r['cvxpy_ms']:.2f} | "
                f"{r['dcp_ms']:.1f} | {r['dcp_evals']:.1f} | {r['whole_ms']:.0f} | "
                f"{r['whole_evals']:.0f} | {r['dcp_vs_cvxpy']:.0f}x | {r['curvature']} "
                f"(concave: {r['concave']}) |",
                flush=True,
            )


if __name__ == "__main__":
    main()
