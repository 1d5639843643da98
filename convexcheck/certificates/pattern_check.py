"""Checking the facts of a pattern step of a DCP derivation against the atom table.

A pattern step says "this node is ``log_sum_exp`` (or a weighted norm, ``quad_over_lin``,
``rel_entr``, a product of powers) of these children". The identity (that the node *is* that
atom of its children) is rebuilt by :mod:`.dcp_structure`; here the atom's curvature, its
monotonicity in each argument and its domain are re-read from the table rows
(:mod:`convexcheck.symbolic.atoms_nary`, layer 0) on the children's claimed ranges, which the
caller has confirmed against the checker's own enclosures. The claims must agree with the table.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from convexcheck.certificates.context import require
from convexcheck.symbolic.atoms import (
    LOG_SUM_EXP,
    REL_ENTR,
    NaryAtom,
    NormAtom,
    PowerProductAtom,
    QuadOverLinAtom,
)
from convexcheck.symbolic.interval import Interval

__all__ = ["check_pattern_facts", "pattern_atom"]


def pattern_atom(entry: dict[str, Any]) -> NaryAtom | None:
    """The table row a pattern step names, with the parameters its detail records (``None``
    for a rule the checker has no row for)."""
    rule = entry["rule"]
    detail = entry.get("detail") or {}
    if rule == "pattern:log_sum_exp":
        return LOG_SUM_EXP
    if rule == "pattern:rel_entr":
        return REL_ENTR
    if rule == "pattern:quad_over_lin":
        return QuadOverLinAtom()
    if rule == "pattern:norm2" and "weights" in detail:
        weights = tuple(Fraction(w) for w in detail["weights"])
        offset = Fraction(detail.get("offset", "0"))
        # what makes sqrt(sum w_i u_i**2 + c) a norm (and so convex): w_i > 0, c >= 0
        require(all(w > 0 for w in weights) and offset >= 0, "a norm2 step with a bad weight")
        return NormAtom(weights, offset)
    if rule == "pattern:power_product" and "exponents" in detail:
        return PowerProductAtom(tuple(Fraction(a) for a in detail["exponents"]))
    return None


def check_pattern_facts(entry: dict[str, Any], atom: NaryAtom, ranges: list[Interval]) -> None:
    """The step's claimed curvature and monotonicity are the table's on ``ranges``, and the
    ranges lie in the atom's domain."""
    text = entry["expr"]
    why = atom.domain_ok(ranges)
    require(why is None, f"{text}: {atom.name} applied outside its domain ({why})")
    claimed = entry.get("atom_curvature")
    table = atom.curvature(ranges)
    require(
        claimed is None or claimed == table,
        f"{text}: {atom.name} is {table} on these ranges, not {claimed}",
    )
    mono = entry.get("monotonicity", [])
    require(len(mono) == len(ranges), f"{text}: one monotonicity per argument expected")
    for i, m in enumerate(mono):
        derived = atom.monotonicity(i, ranges)
        require(
            m == "nonmonotone" or m == derived,
            f"{text}: {atom.name} is {derived} in argument {i}, not {m}",
        )
