"""Guards on the tensor corpus labels that need no convexcheck: CVXPY's word and Jensen sampling."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.corpus.tensor_corpus import TRUTHS, build_corpus
from tests.corpus.tensor_numeric_labels import (
    SUPPORTED_ATTRIBUTES,
    domain_attributes,
    variables_of,
    verify_entry,
)

CORPUS = build_corpus()
IDS = [e.name for e in CORPUS]
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
# CVXPY's curvature of a DCP expression -> the truths it allows
CVXPY_ALLOWS = {
    "CONSTANT": {"affine"},
    "AFFINE": {"affine"},
    "CONVEX": {"convex", "affine"},
    "CONCAVE": {"concave", "affine"},
}


def corpus_mix(corpus) -> dict[str, int]:
    return {
        "entries": len(corpus),
        "non_dcp_convex_or_concave": sum(
            e.truth in ("convex", "concave") and not e.cvxpy_dcp for e in corpus
        ),
        "neither": sum(e.truth == "neither" for e in corpus),
        "matrix": sum(e.matrix for e in corpus),
    }


def test_corpus_size_and_mix():
    mix = corpus_mix(CORPUS)
    assert mix["entries"] >= 48, mix
    assert mix["non_dcp_convex_or_concave"] >= 6, mix
    assert mix["neither"] >= 6, mix
    assert mix["matrix"] >= 10, mix
    assert set(Counter(e.truth for e in CORPUS)) <= set(TRUTHS)


def test_names_unique_and_plain():
    duplicates = [n for n, c in Counter(IDS).items() if c > 1]
    assert not duplicates
    assert all(NAME_PATTERN.match(n) for n in IDS)


def test_build_corpus_is_reproducible():
    again = build_corpus()
    assert [e.name for e in again] == IDS
    assert [str(e.expression) for e in again] == [str(e.expression) for e in CORPUS]


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
def test_schema(entry):
    assert entry.truth in TRUTHS
    assert isinstance(entry.cvxpy_dcp, bool)
    assert entry.source.strip() and "\n" not in entry.source
    variables = variables_of(entry)
    assert variables, "an entry without variables is a constant"
    names = [v.name() for v in variables]
    assert len(set(names)) == len(names), names
    for v in variables:
        assert domain_attributes(v) <= SUPPORTED_ATTRIBUTES, v.attributes
    if any(len(v.shape) == 2 for v in variables):
        assert entry.matrix, "a matrix variable: set matrix=True"
    for a, b in entry.witness_hint:
        assert set(a) == set(b) == set(names)
    assert not entry.witness_hint or entry.truth == "neither"


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
def test_recorded_dcp_matches_cvxpy(entry):
    assert entry.expression.is_dcp() == entry.cvxpy_dcp


@pytest.mark.parametrize("entry", [e for e in CORPUS if e.cvxpy_dcp], ids=lambda e: e.name)
def test_cvxpy_curvature_agrees_with_truth(entry):
    curvature = entry.expression.curvature
    assert entry.truth in CVXPY_ALLOWS[curvature], (curvature, entry.truth)


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
def test_label_verifies_numerically(entry):
    ok, message = verify_entry(entry)
    assert ok, f"{entry.name} [{entry.truth}]: {message}"
