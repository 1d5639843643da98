"""Schema checks and numeric verification of the labelled closed-form corpus."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.corpus.numeric_labels import (
    LABELS,
    expression_names,
    load_corpus,
    parse_domain,
    verify_entry,
)

ENTRIES = load_corpus()
REQUIRED_KEYS = {"id", "expr", "vars", "label", "source"}
OPTIONAL_KEYS = {"note"}
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def test_corpus_size_and_mix():
    assert len(ENTRIES) >= 130
    counts = Counter(e["label"] for e in ENTRIES)
    assert set(counts) <= set(LABELS)
    for label in LABELS:
        assert counts[label] >= 10, counts


def test_ids_unique():
    ids = [e["id"] for e in ENTRIES]
    duplicates = [i for i, c in Counter(ids).items() if c > 1]
    assert not duplicates


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_schema(entry):
    keys = set(entry)
    assert keys >= REQUIRED_KEYS, REQUIRED_KEYS - keys
    assert keys <= REQUIRED_KEYS | OPTIONAL_KEYS, keys - REQUIRED_KEYS - OPTIONAL_KEYS
    assert ID_PATTERN.match(entry["id"])
    assert entry["label"] in LABELS
    assert isinstance(entry["expr"], str) and entry["expr"].strip()
    assert isinstance(entry["source"], str) and entry["source"]
    assert isinstance(entry["vars"], dict)
    assert set(entry["vars"]) == expression_names(entry["expr"])
    for name, domain in entry["vars"].items():
        assert not name.startswith("_")
        parse_domain(domain)  # raises on an unknown or empty domain


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_label_verifies_numerically(entry):
    ok, message = verify_entry(entry)
    assert ok, f"{entry['id']}: {entry['expr']} [{entry['label']}]: {message}"
