"""Checking a one-variable ``piecewise`` step: the segments where each piece applies, every
piece's own derivation on its closed segment, continuity and one-sided slopes at each join.

Why: a continuous function convex on each closed segment of a partition of an interval is
convex on the interval exactly when, at every join ``b``, the slope from the left is at most
the slope from the right (``f'(b-) <= f'(b+)``); the prover's ``piecewise`` rule uses that,
and before this module the checker took the step on trust. Now it re-proves every part:

- the ``active`` segments partition the variable's domain, in order, and on each, every
  earlier condition is false and the piece's own condition true (first-match semantics, by
  the checker's enclosures of ``left - right``, cut at the comparisons' thresholds);
- each segment that is not a point carries the piece's own DCP derivation over the closed
  segment, which the DCP check re-walks as a document of its own;
- at every join the pieces that meet there (including a piece active at the point alone)
  have the same exact value (the checker's own evaluator), and the one-sided derivatives,
  limits of difference quotients taken by SymPy, are ordered as the claim needs.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from convexcheck.certificates.context import CheckFailed, Context, is_zero, require


def enclose_piece(value, box, name: str):
    """Enclosure of a piece over its segment; a piece that is itself a ``Piecewise`` is
    enclosed by the piece its conditions select there (each decided on the segment, in order),
    not by the hull of all its pieces (``Piecewise((3e-7, x <= 5), (x, True))`` on
    ``[1e29, 1e30]`` is ``x`` there)."""
    from convexcheck.symbolic.ranges import enclose

    while value.op == "Piecewise":
        chosen = None
        for piece, cond in zip(value.args[0::2], value.args[1::2]):
            truth = truth_split(cond, box, name)
            if truth is None:
                return enclose(value, box)
            if truth:
                chosen = piece
                break
        if chosen is None:
            return None  # no piece applies somewhere on the segment: undefined there
        value = chosen
    return enclose(value, box)


def truth_split(cond, box, name: str) -> bool | None:
    """:func:`_truth`, and where it cannot tell, the same on the pieces of the segment cut at
    the thresholds of comparisons ``x op c`` (``(x <= 1) & (3e27 <= x)`` is false everywhere,
    but on ``(-oo, oo)`` neither comparison alone is decided)."""
    from convexcheck.symbolic import ir
    from convexcheck.symbolic.interval import Interval

    whole = _truth(cond, box)
    if whole is not None:
        return whole
    seg = box[name]
    cuts = set()
    for node in ir.postorder(cond):
        if node.op in ("<", "<="):
            root = _affine_root(ir.sub(node.args[0], node.args[1]), name)
            if root is not None:  # x op c, and a*x + b op c (2*x - 1 < 1)
                cuts.add(root)
            for side, other in (node.args, node.args[::-1]):
                if side.op == "Abs" and side.args[0].op == "var" and other.op == "num":
                    cuts.update((other.value, -other.value))
    points = sorted(c for c in cuts if seg.contains(c))
    if not points or len(points) > 64:
        return None
    pieces = []
    lo, lo_open = seg.lo, seg.lo_open
    for c in points:
        if lo < c:
            pieces.append(Interval(lo, c, lo_open, True))
        pieces.append(Interval(c, c))
        lo, lo_open = c, True
    if lo < seg.hi:
        pieces.append(Interval(lo, seg.hi, lo_open, seg.hi_open))
    values = {_truth(cond, {**box, name: piece}) for piece in pieces}
    return values.pop() if len(values) == 1 else None


def _affine_root(d, name: str) -> Fraction | None:
    """The zero of ``d`` if it is ``a*name + b`` with numbers ``a != 0`` and ``b``."""
    from convexcheck.symbolic import ir

    slope: Fraction = Fraction(0)
    offset: Fraction = Fraction(0)
    for term in d.args if d.op == "add" else (d,):
        c, rest = ir.split_coefficient(term)
        if not rest:
            offset += Fraction(c)
        elif len(rest) == 1 and rest[0].op == "var" and rest[0].value == name:
            slope += Fraction(c)
        else:
            return None
    return None if slope == 0 else -offset / slope


def _truth(cond, box) -> bool | None:
    """Whether ``cond`` holds on all of ``box`` (True), nowhere (False), or neither is shown."""
    from convexcheck.symbolic import ir
    from convexcheck.symbolic.ranges import enclose

    op = cond.op
    if op in ("True", "False"):
        return op == "True"
    if op == "Not":
        inner = _truth(cond.args[0], box)
        return None if inner is None else not inner
    if op in ("And", "Or"):
        parts = [_truth(c, box) for c in cond.args]
        if op == "And":
            return False if False in parts else (True if all(p is True for p in parts) else None)
        return True if True in parts else (False if all(p is False for p in parts) else None)
    if op in ("<", "<="):
        d = enclose(ir.sub(cond.args[0], cond.args[1]), box)
        if d is None:
            return None
        if op == "<":
            return True if d.negative else (False if d.nonneg else None)
        return True if d.nonpos else (False if d.positive else None)
    return None


# ---- the one-variable Piecewise step -----------------------------------------------------------


def _closure(seg, domain):
    """``seg`` with its ends closed, except an end the domain itself leaves open."""
    from convexcheck.symbolic.interval import Interval

    lo_open = seg.lo == domain.lo and domain.lo_open
    hi_open = seg.hi == domain.hi and domain.hi_open
    return Interval(seg.lo, seg.hi, lo_open, hi_open)


def _segments(ctx: Context, node, name: str, active: list[Any]):
    """The active segments, re-proved, sorted; they must partition the domain exactly."""
    from convexcheck.symbolic.domains import parse_domain

    domain = ctx.domains[name]
    values, conditions = node.args[0::2], node.args[1::2]
    out = []
    for item in active:
        require(isinstance(item, dict), "an active segment is not an object")
        seg = parse_domain(item["interval"])
        k = int(item["piece"])
        require(0 <= k < len(values), f"piece {k} does not exist")
        require(seg.within(domain), f"segment {seg} leaves the domain {domain}")
        box = {**ctx.domains, name: seg}
        for j in range(k):
            require(
                truth_split(conditions[j], box, name) is False, f"condition {j} may hold on {seg}"
            )
        require(truth_split(conditions[k], box, name) is True, f"condition {k} may fail on {seg}")
        out.append((seg, k, item))
    require(bool(out), "a Piecewise step without segments")
    out.sort(key=lambda s: (s[0].lo, s[0].lo_open))
    first, last = out[0][0], out[-1][0]
    require(
        first.lo == domain.lo and first.lo_open == domain.lo_open, "the segments miss the start"
    )
    require(last.hi == domain.hi and last.hi_open == domain.hi_open, "the segments miss the end")
    for (a, _, _), (b, _, _) in zip(out, out[1:]):
        require(a.hi == b.lo, f"the segments leave a gap or overlap at {a.hi}")
        require(a.hi_open != b.lo_open, f"the segments do not partition the domain at {a.hi}")
    return out


def _value(piece, name: str, at: Fraction) -> Any:
    from convexcheck.certificates.definedness import Undecided, Undefined, evaluate_defined

    try:
        return evaluate_defined(piece, {name: at})
    except (Undefined, Undecided) as exc:
        raise CheckFailed(f"a piece has no certified value at {name} = {at}: {exc}") from exc


def _slope(ctx: Context, text: str, name: str, at: Fraction, side: str) -> Any:
    """The one-sided derivative of ``text`` at ``at``: the limit of its difference quotient."""
    import sympy

    f = ctx.sympy_of(text)
    x = ctx.symbols[name]
    h = sympy.Symbol("h_slope", positive=True)
    b = sympy.Rational(at.numerator, at.denominator)
    if side == "left":
        quotient = (f.subs(x, b) - f.subs(x, b - h)) / h
    else:
        quotient = (f.subs(x, b + h) - f.subs(x, b)) / h
    slope = sympy.limit(quotient, h, 0, "+")
    require(
        slope.is_real is True and slope.is_finite is True,
        f"the slope of {text} at {name} = {at} from the {side} is {slope}",
    )
    return slope


def _ordered(low: Any, high: Any) -> bool:
    """``low <= high``, shown exactly (a zero difference, or SymPy's sign of a number)."""
    import sympy

    d = sympy.sympify(high) - sympy.sympify(low)
    return bool(is_zero(d) or d.is_positive is True)


def check_piecewise_step(
    ctx: Context,
    entry: dict[str, Any],
    claimed: list[str],
    check_nested: Callable[[Context, str, dict[str, Any]], None],
) -> None:
    """Re-prove a one-variable ``piecewise`` step for each claimed question (module doc)."""
    from convexcheck.symbolic import ir
    from convexcheck.symbolic.domains import parse_domain

    detail = entry.get("detail") or {}
    name, active = detail.get("variable"), detail.get("active")
    require(not entry["expr"].endswith("..."), "a piecewise step needs its expression in full")
    node = ctx.node_of(entry["expr"])
    require(node.op == "Piecewise", f"{entry['expr']} is not a Piecewise")
    require(
        isinstance(name, str) and name in ctx.domains and ir.free_variables(node) == [name],
        f"{entry['expr']} is not a Piecewise of the one variable {name}",
    )
    require(isinstance(active, list), "a piecewise step without its active segments")
    if not claimed:
        return
    domain = ctx.domains[name]
    values = node.args[0::2]
    segments = _segments(ctx, node, name, active)
    texts: dict[int, str] = {}
    for index, (seg, k, item) in enumerate(segments):
        if seg.is_point:
            continue
        cert, written = item.get("certificate"), item.get("domain")
        require(
            isinstance(cert, dict) and isinstance(written, str),
            f"the piece on {seg} has no derivation",
        )
        require(cert.get("kind") == "dcp", "a segment's derivation is not a dcp derivation")
        nodes = {int(e["id"]): e for e in cert["nodes"]}
        root_text = nodes[int(cert["root"])]["expr"]
        require(
            not root_text.endswith("...") and ctx.node_of(root_text) is values[k],
            f"the derivation on {seg} is not about piece {k}",
        )
        require(
            _closure(seg, domain).within(parse_domain(written)),
            f"the derivation of piece {k} is over {written}, not all of its closed segment",
        )
        sub = Context({"expression": root_text, "variables": {name: written}})
        for q in claimed:
            check_nested(sub, q, cert)
        ctx.trusted.extend(f"on {seg} in {entry['expr'][:80]}: {t}" for t in sub.trusted)
        texts[index] = root_text
    for left, point, right, at in _joins(segments):
        meeting = [values[segments[i][1]] for i in (left, point, right) if i is not None]
        first = _value(meeting[0], name, at)
        for other in meeting[1:]:
            v = _value(other, name, at)
            require(
                _ordered(first, v) and _ordered(v, first),
                f"the Piecewise is not shown continuous at {name} = {at}",
            )
        if left is None or right is None:
            continue  # a point at an end of the domain: continuity is all there is
        lo = _slope(ctx, texts[left], name, at, "left")
        hi = _slope(ctx, texts[right], name, at, "right")
        if "convex" in claimed:
            require(_ordered(lo, hi), f"at {name} = {at} the slope {lo} is not <= {hi}")
        if "concave" in claimed:
            require(_ordered(hi, lo), f"at {name} = {at} the slope {lo} is not >= {hi}")


def _joins(segments) -> list[tuple[int | None, int | None, int | None, Fraction]]:
    """Each point where segments meet: (left segment, point segment, right segment, point),
    by index, ``None`` where there is none (a piece active at a domain end alone)."""
    out: list[tuple[int | None, int | None, int | None, Fraction]] = []
    n = len(segments)
    for i in range(n - 1):
        a, b = segments[i][0], segments[i + 1][0]
        if b.is_point:
            out.append((i, i + 1, i + 2 if i + 2 < n else None, Fraction(b.lo)))
        elif a.is_point:
            if i == 0:
                out.append((None, 0, 1, Fraction(a.lo)))
        else:
            out.append((i, None, i + 1, Fraction(a.hi)))
    return out
