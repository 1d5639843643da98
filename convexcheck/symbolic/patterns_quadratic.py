"""The quadratic-form pattern: a sum's quadratic terms decided exactly by their matrix.

``x**2 - 2*x*y + 2*y**2`` is convex, though DCP cannot see it (``-2*x*y`` is a product of
non-constant factors): the rule collects the terms that form a polynomial of degree at most two,
builds its symmetric matrix with exact rationals and decides semidefiniteness by an exact LDL^T
(:func:`convexcheck.symbolic.quadratic.certify_quadratic`); the other terms of the sum must then
be convex (or concave) on their own. The certificate goes into the step's detail.
"""

from __future__ import annotations

from convexcheck.symbolic import interval as iv
from convexcheck.symbolic import ir
from convexcheck.symbolic.atoms import AFFINE, INCREASING
from convexcheck.symbolic.dcp import DCPEngine
from convexcheck.symbolic.dcp_steps import Failure, Step
from convexcheck.symbolic.interval import INF, Interval
from convexcheck.symbolic.ir import Node
from convexcheck.symbolic.printer import format_number, to_str
from convexcheck.symbolic.quadratic import (
    as_quadratic,
    certify_quadratic,
    degree,
    evaluate_poly,
    stationary_point,
)


def quadratic_form(engine: DCPEngine, node: Node, rng) -> Step | None:
    """Group the terms that form a quadratic polynomial and decide its matrix exactly."""
    group: list[Node] = []
    rest: list[Node] = []
    poly: dict = {}
    for t in node.args:
        p = as_quadratic(t, engine.poly_memo)
        if p is None:
            rest.append(t)
            continue
        group.append(t)
        for m, c in p.items():
            poly[m] = poly.get(m, 0) + c
    poly = {m: c for m, c in poly.items() if c != 0}
    if not group or (len(group) < 2 and degree(poly) < 2):
        return None
    cert = certify_quadratic(poly)
    group_convex = cert.semidefinite in ("positive", "both")
    group_concave = cert.semidefinite in ("negative", "both")
    group_node = ir.add(*group)
    failures = {}
    kids = [engine.steps[t] for t in rest]
    for question, ok_group in (("convex", group_convex), ("concave", group_concave)):
        if not ok_group:
            failures[question] = Failure(
                f"the quadratic part {to_str(group_node, limit=80)} has matrix Q = "
                f"{_matrix_text(cert)}, which is not "
                f"{'positive' if question == 'convex' else 'negative'} "
                "semidefinite (exact LDL^T pivot of the wrong sign)"
            )
            continue
        bad = next((k for k in kids if not k.proves(question)), None)
        if bad is not None:
            failures[question] = Failure(
                f"the term {to_str(bad.node, limit=80)} is {bad.curvature}, and a sum is "
                f"{question} only when every term is",
                cause=bad.node if bad.curvature == "unknown" else None,
            )
    extremum = _extremum(poly, cert.semidefinite)
    if extremum is not None and rng is not None:
        rng = _range_with(rng, extremum, [k.range for k in kids])
    detail = {
        "quadratic_terms": to_str(group_node, limit=2000),
        "certificate": cert.to_dict(),
    }
    if extremum is not None:
        detail["extremum"] = extremum
    return Step(
        node,
        rng,
        "convex" not in failures,
        "concave" not in failures,
        "quadratic-form",
        specific=not rest,
        atom="sum",
        atom_curvature=AFFINE,
        monotonicity=(INCREASING,) * len(rest),
        children=tuple(rest),
        failures=failures,
        detail=detail,
    )


def _extremum(poly: dict, semidefinite: str | None) -> dict | None:
    """The exact minimum (PSD) or maximum (NSD) of the quadratic part and a point attaining it.

    Why (issue 16, item 3): the rules above this node need its range, and interval arithmetic
    gives ``(-oo, oo)`` for ``3*u**2 - 2*u*v + v**2``; a stationary point of a quadratic with a
    semidefinite matrix is a global extremum, so ``[q(z*), oo)`` is exact. The checker re-proves
    it: ``Q``'s sign by its own LDLᵀ, the gradient at the written point by its own polynomial.
    """
    if semidefinite not in ("positive", "negative"):
        return None
    point = stationary_point(poly)
    if point is None:
        return None
    value = evaluate_poly(poly, point)
    return {
        "bound": "lower" if semidefinite == "positive" else "upper",
        "value": format_number(_number(value)),
        "point": {v: format_number(_number(q)) for v, q in point.items()},
    }


def _number(q):
    return q.numerator if q.denominator == 1 else q


def _range_with(rng: Interval, extremum: dict, rest: list[Interval | None]) -> Interval:
    """``rng`` narrowed by the quadratic part's exact bound plus the other terms' ranges."""
    from fractions import Fraction

    value = Fraction(extremum["value"])
    if extremum["bound"] == "lower":
        bound = iv.make(value, INF, False, True)
    else:
        bound = iv.make(-INF, value, True, False)
    if any(r is None for r in rest):
        return rng
    total = iv.sum_all([bound, *rest]) if rest else bound  # type: ignore[list-item]
    narrowed = iv.intersect(rng, total)
    return narrowed if narrowed is not None else rng


def _matrix_text(cert) -> str:
    rows = ["[" + ", ".join(str(v) for v in row) + "]" for row in cert.matrix]
    return "[" + ", ".join(rows) + "]" + f" over ({', '.join(cert.variables)})"


__all__ = ["quadratic_form"]
