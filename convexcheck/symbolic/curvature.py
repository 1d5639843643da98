"""Certified curvature constants: proved ``mu <= λ_min(∇²f(x))`` and ``λ_max(∇²f(x)) <= L``.

Why: an optimisation user wants the strong-convexity modulus ``mu`` and the smoothness constant
``L`` of a loss (the safe step ``1/L``, the rate ``mu/L``), and sampled Hessians only ever give
guesses. Here both are *proved* on the whole box of the variables' domains and the proof is a
certificate that :mod:`convexcheck.certificates.curvature_check` re-derives on its own.

How:

1. the symbolic Hessian is built and simplified exactly as the Hessian convexity stage builds it
   (:func:`convexcheck.symbolic.hessian.symbolic_hessian`, which also refuses what is not twice
   differentiable on the whole closed box);
2. on a box every entry is enclosed by the rule-table interval arithmetic
   (:func:`convexcheck.symbolic.ranges.enclose`, outward rounded), and the eigenvalues of every
   matrix inside the interval matrix are bounded by one of

   ``gershgorin``
       ``λ_min >= min_i (lo_ii - Σ_{j≠i} max|h_ij|)`` (for one variable: the lower end of f'');
   ``shift``
       with the midpoint matrix ``M`` and radius matrix ``R`` of the enclosure (all finite),
       ``λ_min(H) >= t - max_i Σ_j R_ij`` for a rational ``t`` with ``M - t I`` PSD, shown by an
       exact LDLᵀ (so a constant Hessian, a quadratic form, gets ``t`` at the exact eigenvalue
       up to a rational a hair below it);
3. a branch-and-bound bisection tightens: the leaf holding the weakest bound is split (midpoint
   of a bounded side, geometric steps out along an unbounded one) until the bound meets the
   smallest eigenvalue sampled at leaf centres within :data:`RELATIVE_GAP`, or the count budget
   ``max_boxes`` is spent. Counts decide, never seconds; ``budget_s`` is only an outer cap and
   when it stops the search the evidence says so (the bound is then looser, still sound).

``L`` is the same bound for ``-H``. A bound that cannot be proved is ``None``; ``-oo``/``oo`` are
honest answers (an enclosure unbounded below/above).
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from convexcheck.symbolic import interval as iv
from convexcheck.symbolic.interval import INF, Interval, exact_text
from convexcheck.symbolic.ranges import enclose

#: Stop tightening when the proved bound is this close (relative) to a sampled eigenvalue.
RELATIVE_GAP = Fraction(1, 2000)
ABSOLUTE_GAP = Fraction(1, 10**9)
DEFAULT_MAX_BOXES = 256
#: Cuts of a piece whose bound is still ``-oo`` before the search gives that up.
MAX_UNBOUNDED_DEPTH = 12
#: A rational with a longer denominator is rounded outward to a float (keeps documents short).
MAX_DENOMINATOR_BITS = 64

Bound = Fraction | float  # float only for ±inf


# ---------------------------------------------------------------------------------------------
# boxes
# ---------------------------------------------------------------------------------------------


def split_point(d: Interval) -> Fraction:
    """Where the prover (and the checker's reading of a certificate) may split ``d``: the
    midpoint of a bounded interval; out along an unbounded side in doubling steps (``0``, then
    ``a + max(1, |a|)``), so an unbounded box is covered by a finite tree of pieces."""
    lo, hi = d.lo, d.hi
    if lo != -INF and hi != INF:
        return (Fraction(lo) + Fraction(hi)) / 2
    if lo == -INF and hi == INF:
        return Fraction(0)
    if hi == INF:
        a = Fraction(lo)
        return a + max(Fraction(1), abs(a))
    b = Fraction(hi)
    return b - max(Fraction(1), abs(b))


def halves(d: Interval, at: Fraction) -> tuple[Interval, Interval]:
    """``d`` cut at ``at`` (closed on both sides of the cut; the outer ends keep their kind)."""
    return iv.make(d.lo, at, d.lo_open, False), iv.make(at, d.hi, False, d.hi_open)


def centre(box: Mapping[str, Interval]) -> dict[str, Fraction]:
    """A point inside the box (its centre; one step in from a finite end of an unbounded side)."""
    out = {}
    for name, d in box.items():
        if d.bounded:
            out[name] = (Fraction(d.lo) + Fraction(d.hi)) / 2
        elif d.lo != -INF:
            out[name] = Fraction(d.lo) + 1
        elif d.hi != INF:
            out[name] = Fraction(d.hi) - 1
        else:
            out[name] = Fraction(0)
    return out


# ---------------------------------------------------------------------------------------------
# eigenvalue bounds of an interval matrix
# ---------------------------------------------------------------------------------------------


def _magnitude(r: Interval) -> Bound:
    return max(abs(r.lo), abs(r.hi))


def gershgorin_lower(entries: list[list[Interval]]) -> Bound:
    """A lower bound of λ_min over every symmetric matrix with entries in ``entries``."""
    best: Bound = INF
    for i, row in enumerate(entries):
        lo = row[i].lo
        radius: Bound = Fraction(0)
        for j, r in enumerate(row):
            if j != i:
                radius = radius + _magnitude(r)
        value = -INF if lo == -INF or radius == INF else Fraction(lo) - Fraction(radius)
        best = min(best, value)
    return best


def midpoint_radius(entries: list[list[Interval]]) -> tuple[list[list[Fraction]], Fraction] | None:
    """``(M, ρ)``: the midpoint matrix and ``max_i Σ_j radius_ij`` (a bound on the spectral norm
    of any symmetric matrix within the radii), or ``None`` when an entry is unbounded."""
    n = len(entries)
    mid = [[Fraction(0)] * n for _ in range(n)]
    rho = Fraction(0)
    for i, row in enumerate(entries):
        total = Fraction(0)
        for j, r in enumerate(row):
            if r.lo == -INF or r.hi == INF:
                return None
            lo, hi = Fraction(r.lo), Fraction(r.hi)
            mid[i][j] = (lo + hi) / 2
            total += (hi - lo) / 2
        rho = max(rho, total)
    return mid, rho


def _shift_candidates(mid: list[list[Fraction]]) -> list[Fraction]:
    """Rationals just below λ_min(M), most ambitious first: short rationals near the float
    eigenvalue (an exact eigenvalue such as ``2`` or ``1/2`` is found exactly), then the float
    eigenvalue minus growing margins."""
    import numpy as np

    values = np.linalg.eigvalsh(np.array([[float(v) for v in row] for row in mid], dtype=float))
    lam = float(values[0])
    if not math.isfinite(lam):
        return []
    scale = max(1.0, float(np.max(np.abs(values))))
    exact = Fraction(lam)
    out = {exact.limit_denominator(10**k) for k in (1, 2, 3, 4, 6, 9)}
    out |= {Fraction(lam - scale * eps) for eps in (1e-15, 1e-13, 1e-11, 1e-9, 1e-7, 1e-5, 1e-3)}
    return sorted(out, reverse=True)


def shifted_psd(mid: list[list[Fraction]], t: Fraction) -> bool:
    """``M - t I`` is PSD (exact symmetric-pivoted LDLᵀ)."""
    from convexcheck.symbolic.quadratic import ldl_psd

    n = len(mid)
    shifted = [[mid[i][j] - (t if i == j else 0) for j in range(n)] for i in range(n)]
    return ldl_psd(shifted)[0]


def _certified_min(matrix: list[list[Fraction]]) -> Fraction | None:
    """The largest candidate ``t`` with ``matrix - t I`` PSD (exact LDLᵀ), or ``None``."""
    for t in _shift_candidates(matrix):
        if shifted_psd(matrix, t):
            return t
    return None


def segment_bound(
    structure: Structure, g: Interval, sign: int
) -> tuple[Fraction, dict[str, Any]] | None:
    """A lower bound of λ_min(sign·(C + g P)) for every ``g`` in the enclosure ``g``.

    λ_min is concave along the segment ``{C + g P}`` (a minimum of functions affine in ``g``),
    so its minimum over ``g in [lo, hi]`` is at an end: ``t`` with ``sign·(C + e P) - t I``
    PSD at both ends ``e`` bounds it everywhere between."""
    if g.lo == -INF or g.hi == INF:
        return None
    constant, pattern = structure.constant, structure.pattern
    n = len(constant)
    ts = []
    for e in (Fraction(g.lo), Fraction(g.hi)):
        m = [[sign * (constant[i][j] + e * pattern[i][j]) for j in range(n)] for i in range(n)]
        t = _certified_min(m)
        if t is None:
            return None
        ts.append(t)
    t = min(ts)
    return t, {"method": "segment", "t": exact_text(t)}


class Structure:
    """``H(x) = C + g(x) P`` with constant rational ``C`` and ``P`` and one scalar function
    ``g`` (``node`` its expression tree): the shape of a logistic or log-sum-exp term plus a
    quadratic, where enclosing the entries one by one loses that they move together."""

    def __init__(self, constant: list[list[Fraction]], pattern: list[list[Fraction]], node: Any):
        self.constant = constant
        self.pattern = pattern
        self.node = node


def leaf_bound(
    entries: list[list[Interval]],
    structure: Structure | None = None,
    g: Interval | None = None,
    sign: int = 1,
) -> tuple[Bound, dict[str, Any]]:
    """The best lower bound of λ_min over the interval matrix, with the record the certificate
    keeps for it (the method and, for ``shift`` and ``segment``, the rational ``t``)."""
    best = gershgorin_lower(entries)
    record: dict[str, Any] = {"method": "gershgorin"}
    if structure is not None and g is not None:
        found = segment_bound(structure, g, sign)
        if found is not None and found[0] > best:
            best, record = found
    if len(entries) > 1:
        split = midpoint_radius(entries)
        if split is not None:
            mid, rho = split
            for t in _shift_candidates(mid):
                if t - rho <= best:
                    break
                if shifted_psd(mid, t):
                    best = t - rho
                    record = {"method": "shift", "t": exact_text(t)}
                    break
    return best, record


# ---------------------------------------------------------------------------------------------
# branch and bound
# ---------------------------------------------------------------------------------------------


def _leaf(nodes, box, sign, structure):
    """``leaf_bound`` on ``box`` (``None`` when an entry has no enclosure there)."""
    rows = _enclosures(nodes, box, sign)
    if rows is None:
        return None
    g = enclose(structure.node, box) if structure is not None else None
    return leaf_bound(rows, structure, g, sign)


def _enclosures(nodes: list[list[Any]], box: Mapping[str, Interval], sign: int):
    n = len(nodes)
    out: list[list[Interval]] = [[None] * n for _ in range(n)]  # type: ignore[list-item]
    for i in range(n):
        for j in range(i, n):
            r = enclose(nodes[i][j], box)
            if r is None:
                return None
            out[i][j] = out[j][i] = r if sign > 0 else iv.neg(r)
    return out


def _sampled_min(nodes: list[list[Any]], box: Mapping[str, Interval], sign: int) -> float | None:
    """λ_min of ``sign·H`` at the box's centre (floats): a value the true infimum is at most,
    used only to decide when to stop splitting, never as a bound."""
    import numpy as np

    point = {name: iv.point(q) for name, q in centre(box).items()}
    rows = _enclosures(nodes, point, sign)
    if rows is None:
        return None
    try:
        matrix = np.array([[(float(r.lo) + float(r.hi)) / 2 for r in row] for row in rows])
        if not np.all(np.isfinite(matrix)):
            return None
        return float(np.linalg.eigvalsh(matrix)[0])
    except (OverflowError, ValueError, np.linalg.LinAlgError):
        return None


def _round_down(q: Bound) -> Bound:
    """``q`` or the largest float below it when its denominator is long (documents stay short;
    a smaller lower bound stays sound)."""
    if isinstance(q, float) or q.denominator.bit_length() <= MAX_DENOMINATOR_BITS:
        return q
    return iv.exact(iv.float_down(q))  # type: ignore[return-value]


def lower_bound_tree(
    nodes: list[list[Any]],
    names: list[str],
    domains: Mapping[str, Interval],
    sign: int,
    max_boxes: int = DEFAULT_MAX_BOXES,
    deadline: float | None = None,
    structure: Structure | None = None,
) -> tuple[Bound | None, dict[str, Any] | None, dict[str, Any]]:
    """``(bound, tree, evidence)``: a proved lower bound of λ_min(sign·H) over the box.

    The tree records the splits (``{"split": name, "at": q, "low": ..., "high": ...}``) and at
    each leaf the method and the bound proved there; ``None`` when an entry has no enclosure on
    some leaf (not defined, or not enclosed) — then nothing is claimed."""
    box = {name: domains[name] for name in names}
    first = _leaf(nodes, box, sign, structure)
    if first is None:
        return None, None, {"boxes": 0, "reason": "a Hessian entry has no enclosure on the box"}
    tree: dict[str, Any] = {}
    bound, record = first
    tree.update(record)
    heap: list[tuple[float, int, dict[str, Interval], dict[str, Any], Bound, int]] = []
    counter = 0
    heapq.heappush(heap, (iv.float_down(bound), counter, box, tree, bound, 0))
    sampled = _sampled_min(nodes, box, sign)
    leaves, stopped = 1, "gap"
    while True:
        _, _, current, leaf, value, depth = heap[0]
        if sampled is not None and value != -INF:
            gap = Fraction(sampled) - Fraction(value) if math.isfinite(sampled) else None
            if gap is not None and gap <= max(ABSOLUTE_GAP, RELATIVE_GAP * abs(Fraction(sampled))):
                break
        if leaves + 1 > max_boxes:
            stopped = "max_boxes"
            break
        if deadline is not None and time.perf_counter() > deadline:
            stopped = "budget_s"
            break
        if value == -INF and depth >= MAX_UNBOUNDED_DEPTH:
            # still unbounded after this many cuts (far out along an unbounded side, or next to
            # a pole at an open end): more splits of this piece will not help
            stopped = "unbounded"
            break
        splittable = [n for n in names if not current[n].is_point]
        if not splittable:
            stopped = "point"
            break
        name = splittable[depth % len(splittable)]
        at = split_point(current[name])
        parts = halves(current[name], at)
        children = []
        for part in parts:
            sub = {**current, name: part}
            found = _leaf(nodes, sub, sign, structure)
            if found is None:
                return None, None, {"boxes": leaves, "reason": "an entry has no enclosure"}
            b, rec = found
            children.append((sub, dict(rec), b))
            s = _sampled_min(nodes, sub, sign)
            if s is not None and (sampled is None or s < sampled):
                sampled = s
        heapq.heappop(heap)
        leaf.clear()
        leaf.update({"split": name, "at": exact_text(at)})
        for side, (sub, rec, b) in zip(("low", "high"), children, strict=True):
            leaf[side] = rec
            counter += 1
            heapq.heappush(heap, (iv.float_down(b), counter, sub, rec, b, depth + 1))
        leaves += 1
    result = min(item[4] for item in heap)
    for item in heap:
        item[3]["bound"] = _bound_text(_round_down(item[4]))
    evidence = {"boxes": leaves, "stopped_by": stopped}
    if sampled is not None:
        evidence["sampled_extreme"] = sampled
    return _round_down(result), tree, evidence


def _bound_text(q: Bound) -> str:
    return exact_text(q)


def read_bound(text: str) -> Bound:
    """A bound written by :func:`_bound_text`: an exact rational, ``oo`` or ``-oo``."""
    if text == "oo":
        return INF
    if text == "-oo":
        return -INF
    return Fraction(text)
