"""Witnesses of non-convexity: a Jensen violation found numerically, then proved exactly.

A witness is a triple ``a``, ``b``, ``t`` inside the domain with
``f(t*a + (1-t)*b) > t*f(a) + (1-t)*f(b)`` (not convex), or ``<`` (not concave).

1. **Search** (float64, NumPy, seeded): random pairs across the domain box and short segments
   around random points, then a few rounds of local refinement of the best candidates
   (shrinking the segment around its midpoint often increases the relative gap).
2. **Rationalise**: the coordinates and ``t`` become short exact rationals inside the domain.
3. **Verify exactly**: ``f`` is evaluated at the three rational points with the rigorous
   interval code (exact rational arithmetic, outward-rounded transcendental functions,
   ``Piecewise`` conditions decided exactly), and the gap's enclosure must be strictly positive.
   A second, independent evaluation with mpmath at 60 digits must agree on the sign.

Only a verified witness is ever reported; the search itself proves nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.symbolic import interval as iv
from convexcheck.symbolic.interval import INF, Interval
from convexcheck.symbolic.ir import Node, postorder
from convexcheck.symbolic.printer import format_number
from convexcheck.symbolic.ranges import node_range

MP_MAX_MAG = 2000  # see _mp_too_large


@dataclass
class SearchReport:
    """What one search did. Effort is counted in evaluations of the function (each sampled
    triple costs three), fixed in advance by ``samples`` and ``rounds``, so the same seed finds
    the same witness on a laptop and on a loaded CI runner; ``stopped_by`` says whether the
    search used its evaluations (``"evaluations"``) or was cut short by the check's wall-clock
    cap (``"budget"``)."""

    question: str
    seed: int
    samples: int
    largest_gap: float
    witness: dict[str, Any] | None
    evaluations: int = 0
    evaluation_budget: int = 0
    stopped_by: str = "evaluations"


# ---------------------------------------------------------------------------------------------
# exact/interval evaluation at a rational point (Piecewise resolved by its conditions)
# ---------------------------------------------------------------------------------------------


def _decide(node: Node, vals: dict[int, Any]) -> bool | None:
    op = node.op
    if op == "True":
        return True
    if op == "False":
        return False
    if op in ("<", "<="):
        left, right = vals[id(node.args[0])], vals[id(node.args[1])]
        if left is None or right is None:
            return None
        strict = op == "<"
        if left.hi < right.lo or (
            not strict and left.hi == right.lo and left.is_point and right.is_point
        ):
            return True
        if left.lo > right.hi or (
            strict and left.lo == right.hi and left.is_point and right.is_point
        ):
            return False
        if left.is_point and right.is_point:
            return (left.lo < right.lo) if strict else (left.lo <= right.lo)
        return None
    if op in ("And", "Or", "Not"):
        parts = [vals[id(a)] for a in node.args]
        if op == "Not":
            return None if parts[0] is None else not parts[0]
        if op == "And":
            if any(p is False for p in parts):
                return False
            return True if all(p is True for p in parts) else None
        if any(p is True for p in parts):
            return True
        return False if all(p is False for p in parts) else None
    raise ValueError(op)


def point_enclosure(root: Node, point: Mapping[str, Fraction | int]) -> Interval | None:
    """Rigorous enclosure of ``root`` at a rational point (``None`` if undefined/undecidable)."""
    domains = {name: iv.point(q) for name, q in point.items()}
    vals: dict[int, Any] = {}
    for node in postorder(root):
        if node.is_bool:
            vals[id(node)] = _decide(node, vals) if node.op not in ("<", "<=") else None
            if node.op in ("<", "<="):
                # relations need their operands' enclosures, which are numeric children
                vals[id(node)] = _decide(node, vals)
            continue
        if node.op == "Piecewise":
            chosen = None
            for value, cond in zip(node.args[0::2], node.args[1::2]):
                decision = vals[id(cond)]
                if decision is None:
                    chosen = None
                    break
                if decision:
                    chosen = vals[id(value)]
                    break
            vals[id(node)] = chosen
            continue
        children = [vals[id(a)] for a in node.args]
        vals[id(node)] = node_range(node, children, domains)
    out = vals[id(root)]
    return out if isinstance(out, Interval) else None


def _mp_value(root: Node, point: Mapping[str, Fraction | int], dps: int = 60) -> Any:
    """An independent 60-digit evaluation with mpmath (None where undefined)."""
    import mpmath

    funcs = {
        "exp": mpmath.exp,
        "log": mpmath.log,
        "Abs": abs,
        "sin": mpmath.sin,
        "cos": mpmath.cos,
        "tan": mpmath.tan,
        "tanh": mpmath.tanh,
        "sinh": mpmath.sinh,
        "cosh": mpmath.cosh,
        "atan": mpmath.atan,
    }
    with mpmath.workdps(dps):
        vals: dict[int, Any] = {}
        for node in postorder(root):
            op, args = node.op, [vals[id(a)] for a in node.args]
            try:
                if op == "num":
                    q = Fraction(node.value)  # type: ignore[arg-type]
                    v: Any = mpmath.mpf(q.numerator) / q.denominator
                elif op == "var":
                    q = Fraction(point[node.value])  # type: ignore[index]
                    v = mpmath.mpf(q.numerator) / q.denominator
                elif op == "const":
                    v = mpmath.pi if node.value == "pi" else mpmath.e
                elif any(a is None for a in args) and op != "Piecewise":
                    v = None
                elif op == "add":
                    v = mpmath.fsum(args)
                elif op == "mul":
                    v = mpmath.fprod(args)
                elif op == "pow":
                    base, e = args
                    if node.args[1].op == "num" and isinstance(node.args[1].value, int):
                        v = None if (base == 0 and e < 0) else base ** int(e)
                    elif base < 0 or (base == 0 and e <= 0) or _mp_power_too_large(base, e):
                        v = None
                    else:
                        v = mpmath.power(base, e)
                elif op in funcs:
                    if op == "log":
                        v = None if args[0] <= 0 else mpmath.log(args[0])
                    elif op != "Abs" and _mp_too_large(args[0]):
                        v = None
                    else:
                        v = funcs[op](args[0])
                elif op == "Max":
                    v = max(args)
                elif op == "Min":
                    v = min(args)
                elif op == "<":
                    v = args[0] < args[1]
                elif op == "<=":
                    v = args[0] <= args[1]
                elif op == "And":
                    v = all(args)
                elif op == "Or":
                    v = any(args)
                elif op == "Not":
                    v = not args[0]
                elif op in ("True", "False"):
                    v = op == "True"
                elif op == "Piecewise":
                    v = None
                    for value, cond in zip(args[0::2], args[1::2]):
                        if cond:
                            v = value
                            break
                else:
                    v = None
            except (ValueError, ZeroDivisionError, OverflowError):
                v = None
            vals[id(node)] = v
        return vals[id(root)]


def _mp_too_large(x: Any) -> bool:
    """mpmath evaluates ``exp``, ``sin``... of ``x`` with about ``log2 |x|`` extra bits: for
    ``exp(exp(exp(123456789)))`` that is 10**53616766 bits, a computation that never ends. Such
    points are given up (a missing second opinion rejects the witness, it never accepts one)."""
    import mpmath

    return bool(x != 0 and mpmath.mag(x) > MP_MAX_MAG)


def _mp_power_too_large(base: Any, e: Any) -> bool:
    import mpmath

    return base != 0 and _mp_too_large(e * mpmath.log(base))


# ---------------------------------------------------------------------------------------------
# search
# ---------------------------------------------------------------------------------------------


def _bounds(d: Interval) -> tuple[float, float]:
    """The domain's ends as floats, rounded inward so samples stay inside (an end past the
    float range, as in ``[1e999, oo)``, gives no finite samples: the search finds nothing)."""
    lo = -np.inf if d.lo == -INF else iv.float_up(d.lo)
    hi = np.inf if d.hi == INF else iv.float_down(d.hi)
    return lo, hi


def _sample(d: Interval, n: int, rng: np.random.Generator) -> np.ndarray:
    lo, hi = _bounds(d)
    if lo == -np.inf and hi == np.inf:
        x = np.where(rng.random(n) < 0.6, rng.uniform(-3, 3, n), rng.uniform(-30, 30, n))
    elif hi == np.inf:
        x = lo + np.exp(rng.uniform(-6, 4, n))
    elif lo == -np.inf:
        x = hi - np.exp(rng.uniform(-6, 4, n))
    else:
        x = rng.uniform(lo, hi, n)
    return _inside(x, d)


def _inside(x: np.ndarray, d: Interval) -> np.ndarray:
    lo, hi = _bounds(d)
    width = (hi - lo) if np.isfinite(hi - lo) else 1.0
    eps = 1e-7 * max(width, 1e-12)
    if np.isfinite(lo):
        x = np.maximum(x, lo + (eps if d.lo_open else 0.0))
    if np.isfinite(hi):
        x = np.minimum(x, hi - (eps if d.hi_open else 0.0))
    return x


def _gaps(root, names, domains, a, b, t, question):
    from convexcheck.symbolic.evaluate import evaluate

    m = {v: t * a[v] + (1 - t) * b[v] for v in names}
    fa, fb, fm = evaluate(root, a), evaluate(root, b), evaluate(root, m)
    with np.errstate(invalid="ignore", over="ignore"):
        # points where f is undefined give NaN/inf here and are masked out below
        chord = t * fa + (1 - t) * fb
        gap = fm - chord if question == "convex" else chord - fm
        scale = 1e-12 * (1 + np.abs(fa) + np.abs(fb) + np.abs(fm))
        ok = np.isfinite(fa) & np.isfinite(fb) & np.isfinite(fm)
        return np.where(ok, (gap - scale) / (1 + np.abs(chord)), -np.inf)


def search_witness(
    root: Node,
    domains: Mapping[str, Interval],
    question: str,
    seed: int = 0,
    samples: int = 4000,
    rounds: int = 6,
    budget: Any = None,
) -> SearchReport:
    """Look for a Jensen violation of ``question`` and return it only if verified exactly.

    ``samples`` random triples, then ``rounds`` of refinement of the 8 best (64 triples each):
    the effort is ``3 * (samples + rounds * 8 * 64)`` evaluations whatever the machine's load.
    ``budget`` (a :class:`convexcheck.budget.Budget`) is only an outer wall-clock cap, checked
    between rounds and between exact verifications."""
    names = list(domains)
    planned = 3 * (samples + rounds * 8 * 64)
    if not names:
        return SearchReport(question, seed, 0, -np.inf, None, 0, 0)
    with np.errstate(all="ignore"):
        return _search(root, domains, question, seed, samples, rounds, budget, names, planned)


def _search(root, domains, question, seed, samples, rounds, budget, names, planned):
    def late() -> bool:
        return budget is not None and budget.spent()

    def report(total: int, largest: float, witness: Any, stopped: bool) -> SearchReport:
        return SearchReport(
            question,
            seed,
            total,
            largest,
            witness,
            3 * total,
            planned,
            "budget" if stopped else "evaluations",
        )

    rng = np.random.default_rng(seed)
    n = samples
    a = {v: _sample(domains[v], n, rng) for v in names}
    b = {v: _sample(domains[v], n, rng) for v in names}
    # half the pairs are short segments: local curvature shows there
    short = rng.random(n) < 0.5
    for v in names:
        scale = np.maximum(np.abs(a[v]), 1.0) * np.exp(rng.uniform(-6, 0, n))
        b[v] = np.where(short, _inside(a[v] + rng.normal(0, 1, n) * scale, domains[v]), b[v])
    t = rng.uniform(0.1, 0.9, n)
    gaps = _gaps(root, names, domains, a, b, t, question)
    total = n
    best = np.argsort(gaps)[::-1][:8]
    candidates = [
        ({v: a[v][i] for v in names}, {v: b[v][i] for v in names}, t[i], gaps[i]) for i in best
    ]
    # local refinement: shrink towards the midpoint and jitter
    stopped = False
    for _ in range(rounds):
        if late():
            stopped = True
            break
        refined = []
        for ca, cb, ct, cg in candidates:
            k = 64
            shrink = np.exp(rng.uniform(-3, 0, k))
            mid = {v: ct * ca[v] + (1 - ct) * cb[v] for v in names}
            na = {
                v: _inside(
                    mid[v]
                    + (ca[v] - mid[v]) * shrink
                    + rng.normal(0, 1e-3, k) * (abs(ca[v]) + 1e-3),
                    domains[v],
                )
                for v in names
            }
            nb = {
                v: _inside(
                    mid[v]
                    + (cb[v] - mid[v]) * shrink
                    + rng.normal(0, 1e-3, k) * (abs(cb[v]) + 1e-3),
                    domains[v],
                )
                for v in names
            }
            nt = np.clip(ct + rng.normal(0, 0.05, k), 0.05, 0.95)
            g = _gaps(root, names, domains, na, nb, nt, question)
            total += k
            i = int(np.argmax(g))
            if g[i] > cg:
                refined.append(
                    ({v: na[v][i] for v in names}, {v: nb[v][i] for v in names}, nt[i], g[i])
                )
            else:
                refined.append((ca, cb, ct, cg))
        candidates = refined
    candidates.sort(key=lambda c: -c[3])
    largest = float(candidates[0][3]) if candidates else -np.inf
    for ca, cb, ct, cg in candidates:
        if not np.isfinite(cg) or cg <= 0:
            continue
        if late():
            stopped = True
            break
        witness = verify_candidate(root, domains, question, ca, cb, ct)
        if witness is not None:
            witness["seed"] = seed
            return report(total, largest, witness, stopped)
    return report(total, largest, None, stopped)


def _rationalise(x: float, d: Interval, digits: int) -> Fraction | None:
    if not np.isfinite(x):
        return None
    q = Fraction(x).limit_denominator(10**digits)
    if not d.contains(q if q.denominator != 1 else q.numerator):
        q = Fraction(x)
        if not d.contains(q):
            return None
    return q


def verify_candidate(root, domains, question, a, b, t) -> dict[str, Any] | None:
    """Rationalise a float candidate and prove the violation exactly; the witness or None."""
    for digits in (1, 2, 3, 6, 9, 12):  # the simplest rationals that still witness
        qa = {v: _rationalise(float(a[v]), domains[v], digits) for v in domains}
        qb = {v: _rationalise(float(b[v]), domains[v], digits) for v in domains}
        qt = Fraction(float(t)).limit_denominator(10 ** min(digits, 6))
        if any(q is None for q in (*qa.values(), *qb.values())) or not 0 < qt < 1:
            continue
        witness = check_witness(root, domains, question, qa, qb, qt)  # type: ignore[arg-type]
        if witness is not None:
            return witness
    return None


def check_witness(root, domains, question, a, b, t) -> dict[str, Any] | None:
    """Exact verification of a rational witness; returns the contract's witness dict or None."""
    for v in domains:
        if not (domains[v].contains(_n(a[v])) and domains[v].contains(_n(b[v]))):
            return None
    m = {v: t * a[v] + (1 - t) * b[v] for v in domains}
    fa, fb, fm = (point_enclosure(root, p) for p in (a, b, m))
    if fa is None or fb is None or fm is None:
        return None
    chord = iv.add(iv.scale(fa, _n(t)), iv.scale(fb, _n(1 - t)))
    gap = iv.add(fm, iv.neg(chord)) if question == "convex" else iv.add(chord, iv.neg(fm))
    if not gap.positive:
        return None
    # independent second opinion at 60 digits
    ma, mb, mm = (_mp_value(root, p) for p in (a, b, m))
    if ma is None or mb is None or mm is None:
        return None
    mp_gap = mm - (t.numerator * ma + (t.denominator - t.numerator) * mb) / t.denominator
    if question == "concave":
        mp_gap = -mp_gap
    if not mp_gap > 0:
        return None
    exact = all(x.is_point for x in (fa, fb, fm))

    def fmt(point):
        return {v: format_number(_n(q)) for v, q in point.items()}

    return {
        "a": fmt(a),
        "b": fmt(b),
        "t": format_number(_n(t)),
        "f_a": str(fa),
        "f_b": str(fb),
        "f_at_t": str(fm),
        "gap": str(gap),
        "gap_float": float(mp_gap),
        "inequality": (
            "f(t*a + (1-t)*b) > t*f(a) + (1-t)*f(b)"
            if question == "convex"
            else "f(t*a + (1-t)*b) < t*f(a) + (1-t)*f(b)"
        ),
        "verified": "exact rational arithmetic" if exact else "rigorous interval enclosures",
    }


def _n(q: Fraction) -> int | Fraction:
    q = Fraction(q)
    return q.numerator if q.denominator == 1 else q
