"""Independent numeric check of the labels in :mod:`tests.corpus.tensor_corpus`.

Shares no code with :mod:`convexcheck`: the expressions are evaluated by CVXPY itself
(``variable.value = ...``, then ``expression.value``). Points are drawn from each variable's
domain as its attributes give it (``pos``, ``nonneg``, ``symmetric``, ``PSD``; any other
attribute is refused), at several scales, as independent pairs and as nearby pairs. The
midpoint form of Jensen's inequality is tested entry by entry with the relative gap

    gap = (f(m) - (f(a) + f(b)) / 2) / (1 + max(|f(a)|, |f(b)|, |f(m)|)),   m = (a + b) / 2,

so a convex claim (``convex`` / ``affine``) fails on a gap above ``TOL`` and a concave claim
(``concave`` / ``affine``) on a gap below ``-TOL``; every point of a vector or matrix value
counts. A ``neither`` label must be shown both ways: one pair with a gap above ``TOL`` and
one with a gap below ``-TOL`` (the entry's ``witness_hint`` pairs first, then a random search).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from tests.corpus.tensor_corpus import CorpusEntry, Point

TOL = 1e-6
N_HOLD_PAIRS = 200  # pairs tried against a convex / concave / affine label
N_SEARCH_PAIRS = 2000  # pairs searched for each side of a "neither" label
SUPPORTED_ATTRIBUTES = frozenset({"pos", "nonneg", "symmetric", "PSD"})


def variables_of(entry: CorpusEntry) -> list[Any]:
    return list(entry.expression.variables())


def domain_attributes(variable: Any) -> set[str]:
    return {name for name, on in variable.attributes.items() if on is True}


def _draw(variable: Any, rng: np.random.Generator, scale: float) -> np.ndarray:
    attrs = domain_attributes(variable)
    unsupported = attrs - SUPPORTED_ATTRIBUTES
    if unsupported:
        raise ValueError(f"{variable.name()}: no sampler for attributes {sorted(unsupported)}")
    shape = variable.shape
    if "PSD" in attrs:
        n = shape[0]
        g = rng.normal(size=(n, n)) * scale
        m = g @ g.T / n + 1e-2 * scale**2 * np.eye(n)
        return (m + m.T) / 2
    if "symmetric" in attrs:
        g = rng.normal(size=shape) * scale
        return (g + g.T) / 2
    if "pos" in attrs:
        return scale * np.exp(rng.uniform(-3.0, 1.0, size=shape))
    if "nonneg" in attrs:
        return np.abs(rng.normal(size=shape)) * scale
    return rng.normal(size=shape) * scale


def _nearby(variable: Any, a: np.ndarray, rng: np.random.Generator, step: float) -> np.ndarray:
    """A second point close to ``a`` inside the domain (a convex set, so a blend stays in)."""
    far = _draw(variable, rng, float(np.sqrt(np.mean(np.square(a)))) + 1e-3)
    return (1 - step) * a + step * far


def random_pairs(entry: CorpusEntry, rng: np.random.Generator) -> Iterator[tuple[Point, Point]]:
    variables = variables_of(entry)
    while True:
        scale = 10.0 ** rng.uniform(-1.0, 0.5)
        a = {v.name(): _draw(v, rng, scale) for v in variables}
        if rng.random() < 0.5:
            b = {v.name(): _draw(v, rng, scale) for v in variables}
        else:
            step = 10.0 ** rng.uniform(-3.0, -0.5)
            b = {v.name(): _nearby(v, a[v.name()], rng, step) for v in variables}
        yield a, b


def evaluate(entry: CorpusEntry, point: Point) -> np.ndarray:
    for v in variables_of(entry):
        v.value = point[v.name()]
    return np.asarray(entry.expression.value, dtype=np.float64)


def clear_values(entry: CorpusEntry) -> None:
    for v in variables_of(entry):
        v.value = None


def jensen_gap(entry: CorpusEntry, a: Point, b: Point) -> np.ndarray | None:
    """The relative midpoint gaps, one per entry of the value; None where a value is not finite."""
    mid = {
        k: (np.asarray(a[k], dtype=np.float64) + np.asarray(b[k], dtype=np.float64)) / 2 for k in a
    }
    fa, fb, fm = evaluate(entry, a), evaluate(entry, b), evaluate(entry, mid)
    if not (np.all(np.isfinite(fa)) and np.all(np.isfinite(fb)) and np.all(np.isfinite(fm))):
        return None
    scale = 1 + np.maximum(np.maximum(np.abs(fa), np.abs(fb)), np.abs(fm))
    return np.atleast_1d((fm - (fa + fb) / 2) / scale)


def seed_of(entry: CorpusEntry) -> int:
    return zlib.crc32(entry.name.encode())


def verify_entry(entry: CorpusEntry) -> tuple[bool, str]:
    """Check the entry's label numerically; ``(ok, message)``."""
    rng = np.random.default_rng(seed_of(entry))
    try:
        if entry.truth == "neither":
            return _verify_neither(entry, rng)
        return _verify_holds(entry, rng)
    finally:
        clear_values(entry)


def _verify_holds(entry: CorpusEntry, rng: np.random.Generator) -> tuple[bool, str]:
    want_convex = entry.truth in ("convex", "affine")
    want_concave = entry.truth in ("concave", "affine")
    finite = 0
    pairs = random_pairs(entry, rng)
    for _ in range(N_HOLD_PAIRS):
        a, b = next(pairs)
        gap = jensen_gap(entry, a, b)
        if gap is None:
            continue
        finite += 1
        if want_convex and gap.max() > TOL:
            return False, f"convexity broken: relative gap {gap.max():.3g} at a={a}, b={b}"
        if want_concave and gap.min() < -TOL:
            return False, f"concavity broken: relative gap {gap.min():.3g} at a={a}, b={b}"
    if finite < N_HOLD_PAIRS // 2:
        return False, f"only {finite} of {N_HOLD_PAIRS} pairs had finite values"
    return True, f"{finite} pairs, no violation"


def _verify_neither(entry: CorpusEntry, rng: np.random.Generator) -> tuple[bool, str]:
    not_convex = not_concave = False
    candidates = list(entry.witness_hint)
    pairs = random_pairs(entry, rng)
    for i in range(len(candidates) + N_SEARCH_PAIRS):
        a, b = candidates[i] if i < len(candidates) else next(pairs)
        gap = jensen_gap(entry, a, b)
        if gap is None:
            continue
        not_convex = not_convex or bool(gap.max() > TOL)
        not_concave = not_concave or bool(gap.min() < -TOL)
        if not_convex and not_concave:
            return True, f"both violations found within {i + 1} pairs"
    return False, f"not convex shown: {not_convex}, not concave shown: {not_concave}"
