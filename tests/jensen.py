"""Numeric Jensen sampling used by the soundness tests (a search, never a proof)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from convexcheck.symbolic.evaluate import evaluate
from convexcheck.symbolic.interval import INF, Interval


def sample_domain(domain: Interval, n: int, rng: np.random.Generator) -> np.ndarray:
    lo = -INF if domain.lo == -INF else float(Fraction(domain.lo))
    hi = INF if domain.hi == INF else float(Fraction(domain.hi))
    if lo == -INF and hi == INF:
        x = np.where(rng.random(n) < 0.5, rng.uniform(-2, 2, n), rng.uniform(-12, 12, n))
    elif hi == INF:
        x = lo + np.exp(rng.uniform(-7, 4.5, n))
    elif lo == -INF:
        x = hi - np.exp(rng.uniform(-7, 4.5, n))
    else:
        x = rng.uniform(lo, hi, n)
    # keep clear of open ends, by at most a quarter of the width ((0, 1e-300] is a domain too)
    quarter = (hi - lo) / 4 if lo != -INF and hi != INF else np.inf
    if domain.lo_open and lo != -INF:
        x = np.maximum(x, lo + min(1e-9 * (1 + abs(lo)), quarter))
    if domain.hi_open and hi != INF:
        x = np.minimum(x, hi - min(1e-9 * (1 + abs(hi)), quarter))
    return x


def worst_jensen_gap(
    root, domains: dict[str, Interval], question: str, n: int = 4000, seed: int = 0
):
    """Largest relative violation of Jensen's inequality found by sampling (<= 0: none)."""
    rng = np.random.default_rng(seed)
    a = {v: sample_domain(d, n, rng) for v, d in domains.items()}
    b = {v: sample_domain(d, n, rng) for v, d in domains.items()}
    # half the pairs are short segments, where local non-convexity shows best
    for v, d in domains.items():
        short = rng.random(n) < 0.5
        b[v] = np.where(short, np.clip(a[v] + rng.normal(0, 0.3, n), *_clip(d)), b[v])
    t = rng.uniform(0.05, 0.95, n)
    m = {v: t * a[v] + (1 - t) * b[v] for v in domains}
    fa, fb, fm = (evaluate(root, env) for env in (a, b, m))
    if not domains:
        return -np.inf, None
    ok = np.isfinite(fa) & np.isfinite(fb) & np.isfinite(fm)
    chord = t * fa + (1 - t) * fb
    gap = fm - chord if question == "convex" else chord - fm
    scale = 1e-9 * (1 + np.abs(fa) + np.abs(fb) + np.abs(fm))
    rel = np.where(ok, gap - scale, -np.inf)
    i = int(np.argmax(rel))
    witness = {v: (a[v][i], b[v][i]) for v in domains} | {"t": t[i]}
    return float(rel[i]), witness


def _clip(d: Interval):
    """Bounds for clipping short segments into the domain, kept clear of open ends (a point
    clipped onto the open end 0 of ``negative`` is outside the domain, where ``9/x`` is inf)."""
    lo = -np.inf if d.lo == -INF else float(Fraction(d.lo))
    hi = np.inf if d.hi == INF else float(Fraction(d.hi))
    # the offset stays inside the interval: on (0, 1e-300] a fixed 1e-9 would clip every
    # short segment to 1e-9, outside the domain (a false "WRONG PROOF" in the random hunt)
    quarter = (hi - lo) / 4 if np.isfinite(hi - lo) else np.inf
    if d.lo_open and np.isfinite(lo):
        lo += min(1e-9 * (1 + abs(lo)), quarter)
    if d.hi_open and np.isfinite(hi):
        hi -= min(1e-9 * (1 + abs(hi)), quarter)
    return lo, hi
