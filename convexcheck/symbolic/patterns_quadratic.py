"""The quadratic-form pattern: a sum's quadratic terms decided exactly by their matrix.

``x**2 - 2*x*y + 2*y**2`` is convex, though DCP cannot see it (``-2*x*y`` is a product of
non-constant factors): the rule collects the terms that form a polynomial of degree at most two,
builds its symmetric matrix with exact rationals and decides semidefiniteness by an exact LDL^T
(:func:`convexcheck.symbolic.quadratic.certify_quadratic`); the other terms of the sum must then
be convex (or concave) on their own. The certificate goes into the step's detail.
"""

from __future__ import annotations

from convexcheck.symbolic import ir
from convexcheck.symbolic.atoms import AFFINE, INCREASING
from convexcheck.symbolic.dcp import DCPEngine
from convexcheck.symbolic.dcp_steps import Failure, Step
from convexcheck.symbolic.ir import Node
from convexcheck.symbolic.printer import to_str
from convexcheck.symbolic.quadratic import as_quadratic, certify_quadratic, degree


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
        detail={
            "quadratic_terms": to_str(group_node, limit=2000),
            "certificate": cert.to_dict(),
        },
    )


def _matrix_text(cert) -> str:
    rows = ["[" + ", ".join(str(v) for v in row) + "]" for row in cert.matrix]
    return "[" + ", ".join(rows) + "]" + f" over ({', '.join(cert.variables)})"


__all__ = ["quadratic_form"]
