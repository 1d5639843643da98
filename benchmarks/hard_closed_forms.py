"""Benchmark: how many of the issue-16 corpora the full ladder decides, and with how many wrong.

The corpora (``tests/corpus/issue16_one_variable.json``: one-variable transcendental functions
and Hessian-budget cases; ``tests/corpus/issue16_pieces_ranges.json``: Piecewise of an affine
map of several variables and functions of PSD quadratic forms; ``closed_forms.json``: the
earlier corpus) carry labels verified numerically by the tests. An entry is *decided* when both
questions (convex, concave) are settled, a proof or a checked witness each; it is *wrong* when a
settled answer contradicts the label. Every settled answer's certificate is also re-checked by
the independent checker here.

Usage::

    python benchmarks/hard_closed_forms.py [--corpus NAME ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ("issue16_one_variable", "issue16_pieces_ranges", "closed_forms")
EXPECTED = {  # label -> (convex answer, concave answer)
    "convex": ("yes", "no"),
    "concave": ("no", "yes"),
    "affine": ("yes", "yes"),
    "neither": ("no", "no"),
}


def score(name: str) -> dict:
    import convexcheck as cc
    from convexcheck.certificates import document, verify_document

    entries = json.loads((ROOT / "tests" / "corpus" / f"{name}.json").read_text())
    decided = wrong = rejected = 0
    unknown: list[str] = []
    start = time.perf_counter()
    for e in entries:
        r = cc.check(e["expr"], variables=e.get("vars") or None)
        answers = (r.convex.answer, r.concave.answer)
        want = EXPECTED.get(e["label"])
        for got, expected in zip(answers, want or answers):
            if got != "unknown" and want is not None and got != expected:
                wrong += 1
        for q, got in zip(("convex", "concave"), answers):
            if got != "unknown" and not verify_document(document(r, q)).ok:
                rejected += 1
        if "unknown" in answers:
            unknown.append(e["id"])
        else:
            decided += 1
    return {
        "corpus": name,
        "entries": len(entries),
        "decided": decided,
        "wrong": wrong,
        "checker_rejected": rejected,
        "unknown": unknown,
        "seconds": round(time.perf_counter() - start, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", nargs="*", default=list(CORPORA), choices=CORPORA)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = [score(name) for name in args.corpus]
    for row in rows:
        print(f"{row['corpus']:<24} {row['decided']:>3}/{row['entries']:<3} decided, "
              f"{row['wrong']} wrong, {row['checker_rejected']} rejected by the checker, "
              f"{row['seconds']} s; unknown: {', '.join(row['unknown']) or '-'}")  # fmt: skip
    if args.json:
        print(json.dumps(rows, indent=2))
    return 1 if any(r["wrong"] or r["checker_rejected"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
