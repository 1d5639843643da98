"""Benchmark: certified curvature constants (``cc.curvature_bounds``) on the corpus.

What it shows: for every function of ``tests/corpus/curvature_constants.json`` (known
``mu = inf λ_min(∇²f)`` and ``L = sup λ_max(∇²f)`` on the domain), the proved bounds, whether
they are sound (``mu <= true mu``, ``L >= true L``, compared exactly by SymPy), how far they are
from the truth, whether the independent checker re-derived them, and the time. Tight means
within 10% (relative; a true value of 0 needs ``|bound| <= 0.01``; an infinite true value needs
the same infinity).

Usage::

    python benchmarks/curvature_bounds.py [--max-boxes 256] [--json]

The box count decides the result (deterministic); the seconds are wall-clock on this machine
and include the checker's re-derivation.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import sympy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import convexcheck as cc  # noqa: E402

CORPUS = ROOT / "tests" / "corpus" / "curvature_constants.json"


def _sym(q):
    if q is None:
        return None
    if q == math.inf:
        return sympy.oo
    if q == -math.inf:
        return -sympy.oo
    return sympy.Rational(q)


def _gap(bound, true) -> str:
    if bound is None:
        return "none"
    if true in (sympy.oo, -sympy.oo) or bound in (math.inf, -math.inf):
        return "exact" if _sym(bound) == true else "inf"
    t = float(true)
    if t == 0:
        return f"{abs(float(bound)):.2g} abs"
    return f"{abs(float(bound) - t) / abs(t):.2%}"


def _tight(bound, true) -> bool:
    if bound is None:
        return False
    if true in (sympy.oo, -sympy.oo) or bound in (math.inf, -math.inf):
        return _sym(bound) == true
    t = float(true)
    return abs(float(bound)) <= 0.01 if t == 0 else abs(float(bound) - t) <= 0.10 * abs(t)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-boxes", type=int, default=256)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    entries = json.loads(CORPUS.read_text())["entries"]
    rows = []
    for e in entries:
        start = time.perf_counter()
        r = cc.curvature_bounds(e["expr"], e["variables"], max_boxes=args.max_boxes)
        seconds = time.perf_counter() - start
        tmu, tL = sympy.sympify(e["true_mu"]), sympy.sympify(e["true_L"])
        sound = (r.mu is None or bool(_sym(r.mu) <= tmu)) and (r.L is None or bool(_sym(r.L) >= tL))
        rows.append(
            {
                "expr": e["expr"],
                "variables": e["variables"],
                "mu": r.mu_float,
                "true_mu": float(tmu),
                "mu_gap": _gap(r.mu, tmu),
                "L": r.L_float,
                "true_L": float(tL),
                "L_gap": _gap(r.L, tL),
                "sound": sound,
                "tight": _tight(r.mu, tmu) and _tight(r.L, tL),
                "checked": r.checked,
                "boxes": [r.evidence.get(k, {}).get("boxes") for k in ("mu", "L")],
                "seconds": round(seconds, 2),
            }
        )
    n = len(rows)
    summary = {
        "functions": n,
        "sound": sum(r["sound"] for r in rows),
        "tight": sum(r["tight"] for r in rows),
        "checked": sum(r["checked"] for r in rows),
        "seconds": round(sum(r["seconds"] for r in rows), 1),
        "max_boxes": args.max_boxes,
    }
    if args.json:
        print(json.dumps({"summary": summary, "rows": rows}, indent=1))
        return 0
    print("| function | domain | mu (true) | gap | L (true) | gap | checked | boxes | s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        dom = ", ".join(f"{k} in {v}" for k, v in r["variables"].items()) or "real"
        print(
            f"| `{r['expr']}` | {dom} | {r['mu']:.6g} ({r['true_mu']:.6g}) | {r['mu_gap']} | "
            f"{r['L']:.6g} ({r['true_L']:.6g}) | {r['L_gap']} | {r['checked']} | "
            f"{r['boxes'][0]}/{r['boxes'][1]} | {r['seconds']} |"
        )
    print()
    print(
        f"sound {summary['sound']}/{n}, tight (both within 10%) {summary['tight']}/{n} "
        f"({summary['tight'] / n:.0%}), checked {summary['checked']}/{n}, "
        f"{summary['seconds']} s in all (max_boxes {args.max_boxes})"
    )
    return 0 if summary["sound"] == n else 1


if __name__ == "__main__":
    raise SystemExit(main())
