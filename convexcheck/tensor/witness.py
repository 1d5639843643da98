"""Jensen counterexamples for tensor expressions: vectorised search, rigorous check.

Search: pairs of points ``a``, ``b`` are drawn inside the variables' domains (bounded entries
uniformly, half-lines and the real line at several scales, symmetric and PSD matrices as such),
and ``f(a)``, ``f(b)``, ``f((a+b)/2)`` are evaluated for a whole batch in one pass of the
compiled :class:`~convexcheck.tensor.evaluate.Program`. The best pairs are refined by moving
``b`` towards ``a`` (curvature is often visible only at small scales). Effort is counted in
point evaluations, so a result does not depend on machine load.

Points are quantised so that ``(a + b)/2`` is computed exactly in float64 (every coordinate is a
multiple of a power of two small enough for the sum to be exact), hence ``t = 1/2`` and the
midpoint are exact rationals. A candidate becomes a witness only if the rigorous enclosures of
:func:`~convexcheck.tensor.evaluate.enclose_at` at the three points prove the strict inequality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from convexcheck.tensor import intervals as iv
from convexcheck.tensor.document import exact_float_text, parse_float_text
from convexcheck.tensor.evaluate import Program, enclose_at
from convexcheck.tensor.expr import TExpr, VariableInfo, variables_of

SCALES = (1.0, 0.1, 10.0, 1e-3, 1e3)


@dataclass
class SearchReport:
    witness: dict[str, Any] | None
    evaluations: int = 0
    evaluation_budget: int = 0
    candidates_checked: int = 0
    largest_gap: float | None = None
    stopped_by: str = "evaluations"
    rejected: list[str] = field(default_factory=list)


def _sample(info: VariableInfo, n: int, rng: np.random.Generator, scale: float) -> np.ndarray:
    shape = (n,) + info.shape
    if info.psd or info.nsd:
        k = info.shape[0]
        g = rng.standard_normal((n, k, k)) * scale
        s = (g + np.swapaxes(g, 1, 2)) / 2
        off = np.abs(s).sum(axis=2) - np.abs(np.diagonal(s, axis1=1, axis2=2))
        diag = off * 1.01 + scale * rng.uniform(0.05, 2.0, (n, k))
        idx = np.arange(k)
        s[:, idx, idx] = diag
        return -s if info.nsd else s
    lo = np.broadcast_to(info.lo, shape)
    hi = np.broadcast_to(info.hi, shape)
    z = rng.standard_normal(shape) * scale
    e = rng.exponential(scale, shape)
    u = rng.uniform(0.0, 1.0, shape)
    with np.errstate(all="ignore"):
        out = np.where(np.isfinite(lo) & np.isfinite(hi), lo + (hi - lo) * u, z)
        out = np.where(np.isfinite(lo) & ~np.isfinite(hi), lo + e, out)
        out = np.where(~np.isfinite(lo) & np.isfinite(hi), hi - e, out)
    if info.symmetric:
        out = (out + np.swapaxes(out, -1, -2)) / 2
    return out


def _quantise(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round both points to a common dyadic grid per entry so that ``a + b`` is exact."""
    mag = np.maximum(np.abs(a), np.abs(b))
    mag = np.where(mag > 0, mag, 1.0)
    exp = np.ceil(np.log2(mag)) - 40
    step = np.exp2(np.maximum(exp, -1000))
    return np.round(a / step) * step, np.round(b / step) * step


def _inside(info: VariableInfo, x: np.ndarray) -> np.ndarray:
    lo, hi = info.lo, info.hi
    ok = ((x > lo) | ((x == lo) & ~info.lo_open)) & ((x < hi) | ((x == hi) & ~info.hi_open))
    ok = np.all(ok.reshape((x.shape[0], -1)), axis=1)
    if info.symmetric:
        ok &= np.all((x == np.swapaxes(x, -1, -2)).reshape((x.shape[0], -1)), axis=1)
    if info.psd or info.nsd:
        s = -x if info.nsd else x
        k = info.shape[0]
        idx = np.arange(k)
        d = s[:, idx, idx]
        off = np.abs(s).sum(axis=2) - np.abs(d)
        ok &= np.all(d >= off * 1.001, axis=1)  # diagonally dominant with margin: exactly PSD
    return ok


def search_tensor_witness(
    root: TExpr,
    question: str,
    *,
    seed: int = 0,
    max_evaluations: int | None = None,
    program: Program | None = None,
    deadline: Any = None,
) -> SearchReport:
    """Look for a verified violation of ``question`` ("convex" or "concave")."""
    infos = variables_of(root)
    total_entries = max(1, sum(i.size for i in infos))
    program = program or Program(root)
    budget = max_evaluations or int(min(30_000, max(3_000, 2e7 / total_entries)))
    # batches grow from 8 points: most non-convex functions show it in the first few pairs,
    # and on large data one evaluation is the unit of cost
    largest = int(max(8, min(512, budget // 24)))
    # memory is batch x entries for every node's value: keep one batch of one array of the
    # largest node under about 4 million floats (32 MB)
    biggest = max([n.size for n in program.root_nodes()] + [1])
    largest = int(max(2, min(largest, 4_000_000 // max(biggest, 1))))
    batch = min(8, largest)
    sign = 1.0 if question == "convex" else -1.0
    rng = np.random.default_rng([seed, 0 if question == "convex" else 1])
    report = SearchReport(None, evaluation_budget=budget)
    best: list[tuple[float, dict[str, np.ndarray], dict[str, np.ndarray]]] = []
    spent = 0
    round_no = 0
    while spent + 3 * batch <= budget:
        if deadline is not None and deadline.spent():
            report.stopped_by = "budget"
            break
        scale = SCALES[round_no % len(SCALES)]
        round_no += 1
        if best and round_no % 3 == 0:
            a, b = _refine(best[0], batch, rng)
        else:
            a = {i.name: _sample(i, batch, rng, scale) for i in infos}
            b = {i.name: _sample(i, batch, rng, scale) for i in infos}
        gaps, a, b = _gaps(program, infos, a, b, sign)
        spent += 3 * batch
        if gaps is None:
            continue
        order = np.argsort(-gaps)
        top = [int(k) for k in order[:4] if gaps[k] > 0]
        if gaps.size and np.isfinite(gaps[order[0]]):
            g = float(gaps[order[0]])
            report.largest_gap = g if report.largest_gap is None else max(report.largest_gap, g)
        for k in top:
            pa = {n: v[k] for n, v in a.items()}
            pb = {n: v[k] for n, v in b.items()}
            best.append((float(gaps[k]), pa, pb))
            report.candidates_checked += 1
            witness, why = verify_pair(root, infos, pa, pb, question)
            if witness is not None:
                report.witness = witness
                report.evaluations = spent
                return report
            if why and len(report.rejected) < 5:
                report.rejected.append(why)
        best.sort(key=lambda item: -item[0])
        best = best[:8]
        batch = min(largest, batch * 2, max(1, (budget - spent) // 3))
    report.evaluations = spent
    return report


def _refine(best, batch: int, rng: np.random.Generator):
    """Pairs around the best candidate: b pulled towards a by random dyadic factors."""
    _, pa, pb = best
    shrink = np.exp2(-rng.integers(0, 30, batch)).astype(float)
    a = {n: np.broadcast_to(v, (batch,) + v.shape).copy() for n, v in pa.items()}
    b = {}
    for n, v in pb.items():
        s = shrink.reshape((batch,) + (1,) * v.ndim)
        b[n] = a[n] + (v - pa[n]) * s
    return a, b


def _gaps(program: Program, infos: list[VariableInfo], a, b, sign: float):
    keep = np.ones(next(iter(a.values())).shape[0], dtype=bool) if a else np.ones(1, bool)
    for info in infos:
        qa, qb = _quantise(a[info.name], b[info.name])
        a[info.name], b[info.name] = qa, qb
        keep &= _inside(info, qa) & _inside(info, qb)
    if not np.any(keep):
        return None, a, b
    a = {n: v[keep] for n, v in a.items()}
    b = {n: v[keep] for n, v in b.items()}
    m = {n: (a[n] + b[n]) / 2 for n in a}
    fa, fb, fm = program(a), program(b), program(m)
    with np.errstate(all="ignore"):
        gap = sign * (fm - (fa + fb) / 2)
        rel = gap / (1.0 + np.abs(fa) + np.abs(fb) + np.abs(fm))
    rel = np.where(np.isnan(rel), -np.inf, rel)
    if rel.ndim > 1:  # a vector-valued function: Jensen per entry, the worst entry counts
        undefined = np.any(
            np.isnan(fa) | np.isnan(fb) | np.isnan(fm), axis=tuple(range(1, rel.ndim))
        )
        rel = np.max(rel.reshape((rel.shape[0], -1)), axis=1)
        rel = np.where(undefined, -np.inf, rel)
    return rel, a, b


def verify_pair(
    root: TExpr,
    infos: list[VariableInfo],
    pa: dict[str, np.ndarray],
    pb: dict[str, np.ndarray],
    question: str,
) -> tuple[dict[str, Any] | None, str]:
    """A witness dict if the strict Jensen violation at t = 1/2 is proved, else the reason."""
    pm = {}
    for n in pa:
        m = (pa[n] + pb[n]) / 2
        if not np.array_equal(m * 2 - pa[n], pb[n]) or not np.all(np.isfinite(m)):
            return None, "the midpoint is not exact in float64"
        pm[n] = m
    ea, eb, em = enclose_at(root, pa), enclose_at(root, pb), enclose_at(root, pm)
    for e in (ea, eb, em):
        if e.value is None:
            return None, e.undefined or "undefined"
    mean = iv.scale(iv.add(ea.value, eb.value), 0.5)
    diff = iv.sub(em.value, mean)  # f(m) - (f(a)+f(b))/2, per entry
    margin = diff.lo if question == "convex" else -diff.hi
    flat = np.ravel(margin)
    k = int(np.argmax(flat)) if flat.size else 0
    if not flat.size or not flat[k] > 0:
        return None, "the gap is not proved by the rigorous evaluation"
    gap_bound = float(flat[k])
    entry = [int(i) for i in np.unravel_index(k, diff.shape)] if diff.shape else None

    def pick(r):
        return _entry(r, k)

    return {
        "t": "1/2",
        **({"entry": entry} if entry is not None else {}),
        "a": {n: encode_array(v) for n, v in pa.items()},
        "b": {n: encode_array(v) for n, v in pb.items()},
        "f_a": pick(ea.value),
        "f_b": pick(eb.value),
        "f_t": pick(em.value),
        "gap_lower_bound": repr(gap_bound),
        "verified": "rigorous interval evaluation at a, b and (a+b)/2",
    }, ""


def encode_array(v: np.ndarray) -> Any:
    """A float64 array as nested lists of exact strings: integers as such, other values as
    exact short decimals when the array is small, else as C99 hex floats (always exact)."""
    arr = np.asarray(v, dtype=np.float64)
    if arr.ndim == 0:
        return exact_float_text(float(arr))
    if arr.size > 256:
        flat = [
            str(int(x)) if x == int(x) and abs(x) < 2**53 else x.hex() for x in arr.ravel().tolist()
        ]
        return np.array(flat, dtype=object).reshape(arr.shape).tolist()
    return [encode_array(x) for x in arr]


def decode_array(v: Any) -> np.ndarray:
    """The inverse of :func:`encode_array` (strings read exactly, as the documents do)."""
    if isinstance(v, list):
        return np.array([decode_array(x) for x in v], dtype=np.float64)
    return np.float64(parse_float_text(str(v)))


def _entry(r, k: int) -> list[str]:
    """Entry ``k`` (flat index) of an enclosure as ``[lo, hi]`` strings."""
    return [repr(float(np.ravel(r.lo)[k])), repr(float(np.ravel(r.hi)[k]))]


__all__ = ["SearchReport", "decode_array", "encode_array", "search_tensor_witness", "verify_pair"]
