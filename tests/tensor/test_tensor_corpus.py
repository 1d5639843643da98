"""Score the tensor engine on the labelled CVXPY corpus: no wrong answer, and at least CVXPY.

Every entry is checked once (``seed=0``) and the result cached, so the per-entry tests and the
summary table share the work. Soundness is the one rule: a proof of a false claim or a
refutation of a true one fails the entry outright. The second rule is strength: wherever
CVXPY's DCP analysis certifies a curvature, convexcheck must prove it too.
"""

from __future__ import annotations

import functools
from collections import Counter

import pytest

from convexcheck import check
from tests.corpus.tensor_corpus import TRUTHS, CorpusEntry, build_corpus

CORPUS = build_corpus()
BY_NAME = {e.name: e for e in CORPUS}
IDS = [e.name for e in CORPUS]
# the questions each truth answers "yes" (the others are answered "no")
HOLDS = {
    "affine": {"convex", "concave"},
    "convex": {"convex"},
    "concave": {"concave"},
    "neither": set(),
}
# what a DCP expression's CVXPY curvature certifies
CVXPY_PROVES = {
    "CONSTANT": {"convex", "concave"},
    "AFFINE": {"convex", "concave"},
    "CONVEX": {"convex"},
    "CONCAVE": {"concave"},
}


@functools.cache
def _result(name: str):
    return check(BY_NAME[name].expression, seed=0)


def _wrong_answers(entry: CorpusEntry, r) -> list[str]:
    wrong = []
    for q in ("convex", "concave"):
        answer = getattr(r, q).answer
        if q in HOLDS[entry.truth] and answer == "no":
            wrong.append(f"{entry.name}: {q} refuted but the truth is {entry.truth}")
        if q not in HOLDS[entry.truth] and answer == "yes":
            wrong.append(f"{entry.name}: {q} proved but the truth is {entry.truth}")
    return wrong


def _cvxpy_proves(entry: CorpusEntry) -> set[str]:
    if not entry.cvxpy_dcp:
        return set()
    return CVXPY_PROVES.get(entry.expression.curvature, set())


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
def test_no_wrong_answer(entry):
    r = _result(entry.name)
    assert not _wrong_answers(entry, r), r


@pytest.mark.parametrize("entry", [e for e in CORPUS if _cvxpy_proves(e)], ids=lambda e: e.name)
def test_proves_what_cvxpy_proves(entry):
    r = _result(entry.name)
    missed = [q for q in sorted(_cvxpy_proves(entry)) if getattr(r, q).answer != "yes"]
    assert not missed, f"CVXPY proves {missed} by DCP, convexcheck says {r}"


def test_score_table():
    rows = {t: Counter() for t in TRUTHS}
    wrong = []
    for entry in CORPUS:
        r = _result(entry.name)
        row = rows[entry.truth]
        row["entries"] += 1
        answers = {q: getattr(r, q).answer for q in ("convex", "concave")}
        for answer in answers.values():
            row[{"yes": "proved", "no": "refuted"}.get(answer, "unknown")] += 1
        # settled: every question answered, and answered rightly
        row["settled"] += all(
            answers[q] == ("yes" if q in HOLDS[entry.truth] else "no") for q in answers
        )
        wrong += _wrong_answers(entry, r)
    columns = ("entries", "settled", "proved", "refuted", "unknown")
    header = f"{'truth':8s} " + " ".join(f"{c:>7s}" for c in columns)
    lines = [header] + [
        f"{t:8s} " + " ".join(f"{row[c]:7d}" for c in columns) for t, row in rows.items()
    ]
    print("\n".join(lines))  # the table, with pytest -s
    assert not wrong, "\n".join(wrong)
    assert len(CORPUS) >= 48
    assert sum(e.truth in ("convex", "concave") and not e.cvxpy_dcp for e in CORPUS) >= 6
    assert sum(e.truth == "neither" for e in CORPUS) >= 6
    assert sum(e.matrix for e in CORPUS) >= 10
