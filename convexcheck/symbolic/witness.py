"""Witnesses of non-convexity: a Jensen violation found numerically, then proved exactly.

A witness is a triple ``a``, ``b``, ``t`` inside the domain with
``f(t*a + (1-t)*b) > t*f(a) + (1-t)*f(b)`` (not convex), or ``<`` (not concave).

1. **Search** (float64, NumPy, seeded): random pairs across the domain box and short segments
   around random points, then a few rounds of local refinement of the best candidates
   (shrinking the segment around its midpoint often increases the relative gap). Every batch
   of points (all three points of every triple, all candidates of a round) is one pass of the
   compiled :class:`~convexcheck.symbolic.compiled.Program`, not a walk of the tree per point
   set. A clear violation in the first round is verified at once (refinement only sharpens
   marginal ones), and a large tree's best candidate is first simplified (most coordinates
   frozen at 0 in both points), because the exact verification below, not the search, is
   what costs most there.
2. **Rationalise**: the coordinates and ``t`` become short exact rationals inside the domain.
3. **Verify exactly**: ``f`` is evaluated at the three rational points with the rigorous
   interval code (exact rational arithmetic, outward-rounded transcendental functions,
   ``Piecewise`` conditions decided exactly), and the gap's enclosure must be strictly positive.
   A second, independent evaluation with mpmath at 60 digits must agree on the sign.

Only a verified witness is ever reported; the search itself proves nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.symbolic import interval as iv
from convexcheck.symbolic.atoms import UNARY_ATOMS
from convexcheck.symbolic.compiled import Program
from convexcheck.symbolic.interval import INF, Interval
from convexcheck.symbolic.ir import UNARY_FUNCTIONS, Node, postorder
from convexcheck.symbolic.printer import format_number
from convexcheck.symbolic.ranges import node_range

MP_MAX_MAG = 2000  # see _mp_too_large
#: Trees of this many nodes or more have their best candidate simplified before the exact
#: verification (see :func:`_simplify`), in up to ``SIMPLIFY_ROUNDS`` rounds of
#: ``SIMPLIFY_BATCH`` triples.
SIMPLIFY_FROM_NODES = 2000
SIMPLIFY_ROUNDS = 4
SIMPLIFY_BATCH = 64
#: A first-round candidate with at least this relative gap is verified before any refinement
#: (which only sharpens marginal violations); refinement runs as planned if it fails.
CLEAR_GAP = 1e-3


@dataclass
class SearchReport:
    """What one search did. Effort is counted in evaluations of the function (each sampled
    triple costs three), fixed in advance by ``samples`` and ``rounds``, so the same seed finds
    the same witness on a laptop and on a loaded CI runner; ``stopped_by`` says whether the
    search used its evaluations (``"evaluations"``) or was cut short by the check's wall-clock
    cap (``"budget"``). ``evaluation_budget`` is the most the search may use: a search that
    finds nothing uses all of it but the simplification of a large tree's candidate, a search
    that verifies a clear first-round candidate stops early."""

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

    # each function's mpmath routine is named by its atom row
    funcs = {name: getattr(mpmath, UNARY_ATOMS[name].mpmath) for name in UNARY_FUNCTIONS}
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
                    v = None if _mp_too_large(args[0]) else _mp_real(funcs[op](args[0]))
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


def _mp_real(v: Any) -> Any:
    """``v`` if it is a finite real, else ``None``: outside a function's domain mpmath answers
    with a complex number (``log(-1)``) or an infinity (``log(0)``), and there is no value."""
    import mpmath

    if not isinstance(v, mpmath.mpf) or not mpmath.isfinite(v):
        return None
    return v


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


class _Box:
    """The domain box as columns (one row per variable), so that sampling and clamping a whole
    batch of points is a few NumPy calls instead of a few per variable."""

    def __init__(self, domains: Mapping[str, Interval], names: list[str]) -> None:
        ends = np.array([_bounds(domains[v]) for v in names], dtype=np.float64).reshape(-1, 2)
        self.lo, self.hi = ends[:, :1], ends[:, 1:]
        lo_open = np.array([domains[v].lo_open for v in names], dtype=bool)[:, None]
        hi_open = np.array([domains[v].hi_open for v in names], dtype=bool)[:, None]
        width = self.hi - self.lo
        width = np.where(np.isfinite(width), width, 1.0)
        eps = 1e-7 * np.maximum(width, 1e-12)
        # open ends are kept 1e-7 of the width away
        self.floor = np.where(np.isfinite(self.lo), self.lo + np.where(lo_open, eps, 0.0), -np.inf)
        self.ceil = np.where(np.isfinite(self.hi), self.hi - np.where(hi_open, eps, 0.0), np.inf)
        lo_inf, hi_inf = ~np.isfinite(self.lo[:, 0]), ~np.isfinite(self.hi[:, 0])
        self.kinds = [
            np.flatnonzero(lo_inf & hi_inf),  # the real line
            np.flatnonzero(~lo_inf & hi_inf),  # [lo, oo)
            np.flatnonzero(lo_inf & ~hi_inf),  # (-oo, hi]
            np.flatnonzero(~lo_inf & ~hi_inf),  # bounded
        ]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` points, shape ``(variables, n)``: the real line mostly within 3 of 0, half-lines
        at log-uniform distances from their end, bounded domains uniformly."""
        x = np.empty((len(self.lo), n))
        real, right, left, bounded = self.kinds
        if len(real):
            # one uniform draw: below 0.6 it maps onto [-3, 3), above onto [-30, 30)
            u = rng.random((len(real), n))
            x[real] = np.where(u < 0.6, (u / 0.3 - 1.0) * 3.0, ((u - 0.6) / 0.2 - 1.0) * 30.0)
        if len(right):
            x[right] = self.lo[right] + np.exp(rng.uniform(-6, 4, (len(right), n)))
        if len(left):
            x[left] = self.hi[left] - np.exp(rng.uniform(-6, 4, (len(left), n)))
        if len(bounded):
            lo, hi = self.lo[bounded], self.hi[bounded]
            x[bounded] = lo + (hi - lo) * rng.random((len(bounded), n))
        return self.inside(x)

    def inside(self, x: np.ndarray) -> np.ndarray:
        """``x`` (shape ``(variables, n)``) clamped into the box."""
        return np.minimum(np.maximum(x, self.floor), self.ceil)


def _gaps(program: Program, a: np.ndarray, b: np.ndarray, t: np.ndarray, question: str):
    """Relative Jensen gaps of the triples (columns of ``a``, ``b``; ``t``), ``-inf`` where
    ``f`` is undefined; one pass of the compiled program over all three points of every triple."""
    n = len(t)
    m = t * a + (1 - t) * b
    f = program.run(np.concatenate([a, b, m], axis=1))
    fa, fb, fm = f[:n], f[n : 2 * n], f[2 * n :]
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
    program: Program | None = None,
) -> SearchReport:
    """Look for a Jensen violation of ``question`` and return it only if verified exactly.

    ``samples`` random triples, then ``rounds`` of refinement of the 8 best (64 triples each):
    the effort is ``3 * (samples + rounds * 8 * 64)`` evaluations whatever the machine's load,
    plus for a tree of :data:`SIMPLIFY_FROM_NODES` nodes or more at most
    ``3 * SIMPLIFY_ROUNDS * SIMPLIFY_BATCH`` to simplify the best candidate (:func:`_simplify`).
    ``budget`` (a :class:`convexcheck.budget.Budget`) is only an outer wall-clock cap, checked
    between rounds and between exact verifications. The search evaluates ``root`` with the
    compiled :class:`~convexcheck.symbolic.compiled.Program` (``program``, if given, must be
    ``root`` compiled over ``list(domains)``: the check compiles once for both questions)."""
    names = list(domains)
    planned = 3 * (samples + rounds * 8 * 64)
    if root.size >= SIMPLIFY_FROM_NODES:
        planned += 3 * SIMPLIFY_ROUNDS * SIMPLIFY_BATCH
    if not names:
        return SearchReport(question, seed, 0, -np.inf, None, 0, 0)
    if program is None:
        program = Program(root, names)
    with np.errstate(all="ignore"):
        return _search(root, domains, question, seed, samples, rounds, budget, program, planned)


def _search(root, domains, question, seed, samples, rounds, budget, program, planned):
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

    names = program.names
    box = _Box(domains, names)
    rng = np.random.default_rng(seed)
    # the simplification draws from its own stream, so that the main search's draws, and hence
    # its candidates, are the same whether or not an early verification happened
    simplify_rng = np.random.default_rng([seed, 1])
    large = root.size >= SIMPLIFY_FROM_NODES
    total = 0
    stopped = False
    verified: list[tuple] = []

    def attempt(tries: list[tuple]) -> Any:
        """Exact verification of the candidates in order (the first simplified first, once,
        for a large tree); the witness or None."""
        nonlocal total, stopped, large
        if tries and large and not late():
            simpler, spent = _simplify(program, box, domains, *tries[0], question, simplify_rng)
            total += spent
            large = False  # its effort is planned once
            if simpler is not None:
                tries = [simpler, *tries]
        for pa, pb, pt in tries:
            if any(_same(pa, pb, pt, *done) for done in verified):
                continue
            if late():
                stopped = True
                return None
            verified.append((pa, pb, pt))
            witness = verify_candidate(
                root,
                domains,
                question,
                {v: pa[i] for i, v in enumerate(names)},
                {v: pb[i] for i, v in enumerate(names)},
                pt,
            )
            if witness is not None:
                witness["seed"] = seed
                return witness
        return None

    n = samples
    a = box.sample(n, rng)
    b = box.sample(n, rng)
    # half the pairs are short segments: local curvature shows there
    short = rng.random(n) < 0.5
    scale = np.maximum(np.abs(a), 1.0) * np.exp(rng.uniform(-6, 0, a.shape))
    b = np.where(short, box.inside(a + rng.normal(0, 1, a.shape) * scale), b)
    t = rng.uniform(0.1, 0.9, n)
    gaps = _gaps(program, a, b, t, question)
    total += n
    best = np.argsort(gaps)[::-1][:8]
    # the candidates, as columns: a, b, t and their gaps
    ca, cb, ct, cg = a[:, best], b[:, best], t[best], gaps[best]
    nv, c, k = len(names), len(best), 64
    if c and cg[0] >= CLEAR_GAP:
        # a clear violation needs no refinement: verify the best candidate at once
        witness = attempt([(ca[:, 0], cb[:, 0], ct[0])])
        if witness is not None:
            return report(total, float(cg[0]), witness, stopped)
    # local refinement of all candidates at once: shrink towards the midpoint and jitter
    for _ in range(rounds):
        if late():
            stopped = True
            break
        if not c:
            break
        shrink = np.exp(rng.uniform(-3, 0, (c, k)))
        mid = (ct * ca + (1 - ct) * cb)[:, :, None]
        na = mid + (ca[:, :, None] - mid) * shrink
        na = na + rng.normal(0, 1e-3, (nv, c, k)) * (np.abs(ca) + 1e-3)[:, :, None]
        nb = mid + (cb[:, :, None] - mid) * shrink
        nb = nb + rng.normal(0, 1e-3, (nv, c, k)) * (np.abs(cb) + 1e-3)[:, :, None]
        na = box.inside(na.reshape(nv, c * k))
        nb = box.inside(nb.reshape(nv, c * k))
        nt = np.clip(ct[:, None] + rng.normal(0, 0.05, (c, k)), 0.05, 0.95).reshape(c * k)
        g = _gaps(program, na, nb, nt, question).reshape(c, k)
        total += c * k
        i = np.argmax(g, axis=1)
        gi = g[np.arange(c), i]
        better = gi > cg
        pick = np.arange(c) * k + i
        ca = np.where(better, na[:, pick], ca)
        cb = np.where(better, nb[:, pick], cb)
        ct = np.where(better, nt[pick], ct)
        cg = np.where(better, gi, cg)
    order = np.argsort(-cg, kind="stable")
    largest = float(cg[order[0]]) if c else -np.inf
    witness = None
    if not stopped:
        tries = [(ca[:, j], cb[:, j], ct[j]) for j in order if np.isfinite(cg[j]) and cg[j] > 0]
        witness = attempt(tries)
    return report(total, largest, witness, stopped)


def _same(a, b, t, a2, b2, t2) -> bool:
    return t == t2 and np.array_equal(a, a2) and np.array_equal(b, b2)


def _simple_points(domains: Mapping[str, Interval], names: list[str]) -> np.ndarray:
    """Per variable a number that is cheap to evaluate exactly (0, 1 or -1, else the integer
    next to an end), NaN where the domain holds none of them."""
    out = np.full(len(names), np.nan)
    for i, v in enumerate(names):
        d = domains[v]
        options = [0, 1, -1]
        if d.lo != -INF and abs(d.lo) < 2**53:
            options.append(math.ceil(d.lo))
        if d.hi != INF and abs(d.hi) < 2**53:
            options.append(math.floor(d.hi))
        for q in options:
            if d.contains(q):
                out[i] = q
                break
    return out


def _simplify(program, box, domains, a, b, t, question, rng):
    """A candidate with as few moving coordinates as the search can keep it to.

    The exact verification evaluates the whole tree at three rational points, at a cost that
    grows with the tree and with the numbers it meets (``exp(281/10)`` to rigorous bounds costs
    several times ``exp(0)``). So before a large tree is verified, the best candidate's
    coordinates are *frozen* (``a_v = b_v =`` a simple point of the domain) in random subsets of
    geometrically decreasing size, and the variant with the fewest moving coordinates whose
    float gap stays positive is kept; for a separable sum one coordinate usually suffices.
    Only the search changes: the result goes through the same exact verification, and the
    original candidate is still tried if it fails. Returns the candidate (or ``None``) and the
    triples evaluated."""
    simple = _simple_points(domains, program.names)
    active = np.flatnonzero(np.isfinite(simple) & ~((a == simple) & (b == simple)))
    best = None
    spent = 0
    for _ in range(SIMPLIFY_ROUNDS):
        size = len(active)
        if size <= 1:
            break
        # the share of the moving coordinates each variant keeps: 1/size up to about 1/2
        share = np.repeat(size ** -np.linspace(1.0, 0.1, 16), SIMPLIFY_BATCH // 16)
        keys = rng.random((len(share), size))
        keep = keys < share[:, None]
        keep[np.arange(len(share)), np.argmin(keys, axis=1)] = True  # at least one moves
        frozen = np.zeros((len(simple), len(share)), dtype=bool)
        frozen[active] = ~keep.T
        na = box.inside(np.where(frozen, simple[:, None], a[:, None]))
        nb = box.inside(np.where(frozen, simple[:, None], b[:, None]))
        g = _gaps(program, na, nb, np.full(len(share), t), question)
        spent += len(share)
        moving = keep.sum(axis=1)
        ok = np.flatnonzero(g > 0)
        if not len(ok):
            break
        j = ok[np.lexsort((-g[ok], moving[ok]))[0]]  # fewest moving, then the largest gap
        a, b = na[:, j], nb[:, j]
        best = (a, b, t)
        active = active[keep[j]]
    return best, spent


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
