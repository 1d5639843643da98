"""Piecewise functions of one variable: convex pieces glued with nondecreasing slopes.

A continuous function on an interval that is convex on each of the closed segments
``[b0, b1], [b1, b2], ...`` is convex on the whole interval exactly when, at every breakpoint,
the slope from the left is at most the slope from the right (``f'(b-) <= f'(b+)``). So a
``Piecewise`` in one variable ``x`` is analysed by

1. turning each condition (comparisons of affine functions of ``x`` — also through ``Abs`` — with
   ``&``, ``|``, ``~``) into a union of intervals and, following SymPy's first-match semantics,
   into the segments where each piece is active;
2. proving each piece convex (concave) on its closed segment with the DCP engine;
3. proving continuity at each breakpoint (both pieces have the same exact rational value there)
   and comparing the one-sided slopes with rigorous enclosures of the pieces' derivatives.

Huber, hinge, pinball and ``Max``-like losses written as ``Piecewise`` are covered; a Piecewise
of several variables that is such a function of one affine map is read by
:mod:`.piecewise_affine`; anything else (non-affine conditions) is reported, not guessed. Each
segment's derivation is written into the step, so the checker re-proves every piece.
"""

from __future__ import annotations

from typing import Any

from convexcheck.symbolic import interval as iv
from convexcheck.symbolic import ir
from convexcheck.symbolic.calculus import diff
from convexcheck.symbolic.dcp import Analysis, DCPEngine
from convexcheck.symbolic.dcp_steps import QUESTIONS, Failure, Step
from convexcheck.symbolic.domains import domain_text
from convexcheck.symbolic.interval import INF, Interval
from convexcheck.symbolic.ir import Node, free_variables
from convexcheck.symbolic.printer import to_str
from convexcheck.symbolic.quadratic import as_quadratic
from convexcheck.symbolic.ranges import evaluate_at

IntervalSet = list[Interval]


class _Unsupported(Exception):
    pass


# ---- sets of intervals ---------------------------------------------------------------------


def _normalise(items: IntervalSet) -> IntervalSet:
    items = sorted(items, key=lambda r: (r.lo, r.lo_open))
    out: IntervalSet = []
    for r in items:
        if out:
            last = out[-1]
            touching = r.lo < last.hi or (r.lo == last.hi and not (r.lo_open and last.hi_open))
            if touching:
                out[-1] = iv.hull(last, r)
                continue
        out.append(r)
    return out


def _intersect(a: IntervalSet, b: IntervalSet) -> IntervalSet:
    out = []
    for x in a:
        for y in b:
            z = iv.intersect(x, y)
            if z is not None:
                out.append(z)
    return _normalise(out)


def _complement(a: IntervalSet, domain: Interval) -> IntervalSet:
    out: IntervalSet = []
    lo, lo_open = domain.lo, domain.lo_open
    for r in _normalise(a):
        gap = _make(lo, r.lo, lo_open, not r.lo_open)
        if gap is not None:
            out.append(gap)
        lo, lo_open = r.hi, not r.hi_open
    tail = _make(lo, domain.hi, lo_open, domain.hi_open)
    if tail is not None:
        out.append(tail)
    return _intersect(out, [domain])


def _make(lo, hi, lo_open, hi_open) -> Interval | None:
    if lo > hi or (lo == hi and (lo_open or hi_open)):
        return None
    return Interval(lo, hi, lo_open, hi_open)


# ---- conditions -> interval sets -------------------------------------------------------------


def _affine(node: Node, x: str) -> tuple[Any, Any]:
    """``node`` as ``a*x + b`` with rational a, b (raises if it is not affine in x)."""
    poly = as_quadratic(node)
    if poly is None or any(len(m) > 1 for m in poly) or any(m and m[0] != x for m in poly):
        raise _Unsupported(f"{to_str(node, limit=60)} is not an affine function of {x}")
    a = poly.get((x,), 0)
    b = poly.get((), 0)
    return ir.normalize_number(a) if a else 0, ir.normalize_number(b) if b else 0


def _half_line(a, b, strict: bool) -> IntervalSet:
    """Solutions of ``a*x + b < 0`` (strict) or ``<= 0``."""
    if a == 0:
        holds = b < 0 if strict else b <= 0
        return [iv.REALS] if holds else []
    t = ir.normalize_number(-b / a) if not isinstance(b, int) or not isinstance(a, int) else None
    if t is None:
        from fractions import Fraction

        t = ir.normalize_number(Fraction(-b, a))
    if a > 0:
        return [Interval(-INF, t, True, strict)]
    return [Interval(t, INF, strict, True)]


def _condition_set(cond: Node, x: str, domain: Interval) -> IntervalSet:
    op = cond.op
    if op == "True":
        return [domain]
    if op == "False":
        return []
    if op == "And":
        out = [domain]
        for c in cond.args:
            out = _intersect(out, _condition_set(c, x, domain))
        return out
    if op == "Or":
        out: IntervalSet = []
        for c in cond.args:
            out = _normalise(out + _condition_set(c, x, domain))
        return _intersect(out, [domain])
    if op == "Not":
        return _complement(_condition_set(cond.args[0], x, domain), domain)
    if op in ("<", "<="):
        strict = op == "<"
        left, right = cond.args
        # |u| < c  <=>  -c < u < c ;   c < |u|  <=>  u < -c or u > c
        if left.op == "Abs" and right.is_const:
            u = left.args[0]
            return _intersect(
                _condition_set(ir.relation(op, u, right), x, domain),
                _condition_set(ir.relation(op, ir.neg(right), u), x, domain),
            )
        if right.op == "Abs" and left.is_const:
            u = right.args[0]
            return _intersect(
                _normalise(
                    _condition_set(ir.relation(op, left, u), x, domain)
                    + _condition_set(ir.relation(op, u, ir.neg(left)), x, domain)
                ),
                [domain],
            )
        a, b = _affine(ir.sub(left, right), x)
        return _intersect(_half_line(a, b, strict), [domain])
    raise _Unsupported(f"the condition {to_str(cond, limit=60)} is not a comparison")


# ---- the rule ---------------------------------------------------------------------------------


def _failure_step(node: Node, rng, text: str) -> Step:
    why = Failure(text)
    return Step(
        node,
        rng,
        False,
        False,
        "piecewise",
        atom="Piecewise",
        failures=dict.fromkeys(QUESTIONS, why),
    )


def rule_piecewise(engine: DCPEngine, node: Node, rng) -> Step:
    names = free_variables(node)
    values = node.args[0::2]
    conditions = node.args[1::2]
    if len(names) != 1:
        return _failure_step(
            node,
            rng,
            "a Piecewise is analysed when it depends on one variable, or on one affine function "
            f"of several that proves convex or concave; this one depends on {len(names)} "
            f"({', '.join(names)})",
        )
    (x,) = names
    domain = engine.domains[x]
    try:
        remaining: IntervalSet = [domain]
        segments: list[tuple[Interval, int]] = []
        for i, cond in enumerate(conditions):
            active = _intersect(_condition_set(cond, x, domain), remaining)
            segments.extend((r, i) for r in active)
            remaining = _intersect(remaining, _complement(_condition_set(cond, x, domain), domain))
    except _Unsupported as exc:
        return _failure_step(node, rng, f"Piecewise condition not understood: {exc}")
    if remaining:
        return _failure_step(
            node,
            rng,
            f"the Piecewise is undefined on {', '.join(str(r) for r in remaining)} "
            "(no condition holds there)",
        )
    segments.sort(key=lambda s: (s[0].lo, s[0].lo_open))
    merged: list[tuple[Interval, int]] = []
    for seg, i in segments:
        if merged and merged[-1][1] == i and merged[-1][0].hi == seg.lo:
            merged[-1] = (iv.hull(merged[-1][0], seg), i)
        else:
            merged.append((seg, i))

    verdict = {"convex": True, "concave": True}
    failures: dict[str, Failure] = {}
    detail_segments = []
    out_range: Interval | None = None
    undefined = False
    # each segment's own derivation, for the checker to re-walk (it re-proves every piece)
    segment_proofs: dict[int, dict[str, Any]] = {}

    def fail(question: str, text: str) -> None:
        if verdict[question]:
            verdict[question] = False
            failures[question] = Failure(text)

    for k, (seg, i) in enumerate(merged):
        piece = values[i]
        closed = Interval(
            seg.lo,
            seg.hi,
            seg.lo_open if k == 0 else False,
            seg.hi_open if k == len(merged) - 1 else False,
        )
        if seg.is_point:
            # A piece active at a single point carries no curvature (the breakpoint checks
            # below compare it with its neighbours), but its value is part of the range:
            # Piecewise((x, x <= 1), (-3, True)) on [1, 2] takes the value 1 at x = 1.
            point_range = engine.fork({x: seg}).analyze(piece).range
            if point_range is None:
                for q in QUESTIONS:
                    fail(q, f"the piece {to_str(piece, limit=60)} is undefined at {x} = {seg.lo}")
                undefined = True
                continue
            out_range = point_range if out_range is None else iv.hull(out_range, point_range)
            continue
        sub = engine.fork({x: closed})
        step = sub.analyze(piece)
        detail_segments.append(
            {
                "interval": str(closed),
                "piece": to_str(piece, limit=200),
                "curvature": step.curvature,
            }
        )
        if step.range is None:
            for q in QUESTIONS:
                fail(q, f"the piece {to_str(piece, limit=60)} is undefined somewhere on {closed}")
            undefined = True
            continue
        out_range = step.range if out_range is None else iv.hull(out_range, step.range)
        if step.convex or step.concave:
            segment_proofs[k] = {
                "domain": domain_text(closed),
                "certificate": Analysis(piece, {x: closed}, sub).certificate(),
            }
        for q in QUESTIONS:
            if not step.proves(q):
                fail(q, f"the piece {to_str(piece, limit=60)} is not proved {q} on {closed}")

    breakpoints = []
    for (left, i), (right, j) in zip(merged, merged[1:]):
        b = left.hi
        if b != right.lo:
            continue
        info = _glue(values, i, j, b, x, merged)
        breakpoints.append(info["record"])
        if not info["continuous"]:
            for q in QUESTIONS:
                fail(q, f"the Piecewise is not provably continuous at {x} = {b} ({info['why']})")
            continue
        lo_slope, hi_slope = info["slopes"]
        if lo_slope is None or hi_slope is None:
            for q in QUESTIONS:
                fail(q, f"the one-sided slopes at {x} = {b} could not be computed")
            continue
        if not lo_slope.hi <= hi_slope.lo:
            fail(
                "convex",
                f"at {x} = {b} the slope from the left {lo_slope} is not <= the slope "
                f"from the right {hi_slope}",
            )
        if not lo_slope.lo >= hi_slope.hi:
            fail(
                "concave",
                f"at {x} = {b} the slope from the left {lo_slope} is not >= the slope "
                f"from the right {hi_slope}",
            )
    if undefined:
        # a reachable piece undefined on its segment: the function has no range there, and the
        # other pieces' hull is not one (Max(Piecewise((x**(-3), x <= -1), (x**(-3), True)),
        # x**2) on the reals was "dominated" by x**2 through the range [-1, 0))
        out_range = None
    return Step(
        node,
        out_range if out_range is not None else rng,
        verdict["convex"],
        verdict["concave"],
        "piecewise",
        atom="Piecewise",
        failures=failures,
        detail={
            "variable": x,
            "segments": detail_segments,
            "breakpoints": breakpoints,
            # where each piece is the first whose condition holds (pieces missing here are
            # unreachable and left out of the range): the checker re-proves each segment
            # and, for each segment that is not a point, the piece's derivation on it (closed)
            "active": [
                {"interval": domain_text(seg), "piece": i, **segment_proofs.get(k, {})}
                for k, (seg, i) in enumerate(merged)
            ],
        },
    )


def _glue(values, i: int, j: int, b, x: str, merged) -> dict[str, Any]:
    left_piece, right_piece = values[i], values[j]
    lv = evaluate_at(left_piece, {x: b})
    rv = evaluate_at(right_piece, {x: b})
    record: dict[str, Any] = {
        "at": str(b),
        "left": to_str(left_piece, limit=120),
        "right": to_str(right_piece, limit=120),
        "left_value": str(lv) if lv else None,
        "right_value": str(rv) if rv else None,
    }
    # a single-point segment sitting on the breakpoint must agree too
    point_values = [
        evaluate_at(values[k], {x: b}) for seg, k in merged if seg.is_point and seg.lo == b
    ]
    exact_values = [v for v in (lv, rv, *point_values) if v is not None and v.is_point]
    continuous = (
        lv is not None
        and rv is not None
        and len(exact_values) == 2 + len(point_values)
        and all(v.lo == exact_values[0].lo for v in exact_values)
    )
    why = "" if continuous else f"value from the left {lv}, from the right {rv}"
    dl, dr = diff(left_piece, x), diff(right_piece, x)
    ls = evaluate_at(dl, {x: b}) if dl is not None else None
    rs = evaluate_at(dr, {x: b}) if dr is not None else None
    record.update(left_slope=str(ls) if ls else None, right_slope=str(rs) if rs else None)
    return {"continuous": continuous, "why": why, "slopes": (ls, rs), "record": record}
