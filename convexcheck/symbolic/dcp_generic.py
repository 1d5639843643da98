"""The generic DCP rules: one per op, the textbook composition rule applied to what was written.

``add`` is a sum, ``mul`` a constant times an expression, ``pow`` a power atom (or ``c**u`` for a
positive constant base), and every other function an atom of :mod:`convexcheck.symbolic.atoms`.
The rule table (:mod:`.dcp_rules`) tries each op's generic rule first and its patterns after.
"""

from __future__ import annotations

from collections.abc import Callable

from convexcheck.symbolic import interval as iv
from convexcheck.symbolic import ir
from convexcheck.symbolic.atoms import (
    AFFINE,
    DECREASING,
    INCREASING,
    NARY_ATOMS,
    UNARY_ATOMS,
    exp_base_atom,
    power_atom,
)
from convexcheck.symbolic.dcp import DCPEngine, Rule
from convexcheck.symbolic.dcp_steps import QUESTIONS, Failure, Step, curvature_words, short
from convexcheck.symbolic.ir import Node


def _sum_text(bad: Step, question: str) -> Callable[[], str]:
    return lambda: (
        f"the term {short(bad.node)} is {curvature_words(bad)}, and a sum is {question} "
        f"only when every term is {question}"
    )


def rule_sum(engine: DCPEngine, node: Node, rng) -> Step:
    kids = [engine.steps[a] for a in node.args]
    failures: dict[str, Failure] = {}
    for question in QUESTIONS:
        bad = next((k for k in kids if not k.proves(question)), None)
        if bad is not None:
            failures[question] = Failure(
                _sum_text(bad, question),
                cause=bad.node if bad.curvature == "unknown" else None,
            )
    return Step(
        node,
        rng,
        "convex" not in failures,
        "concave" not in failures,
        "sum",
        atom="sum",
        atom_curvature=AFFINE,
        monotonicity=(INCREASING,) * len(node.args),
        children=node.args,
        failures=failures,
    )


def rule_product(engine: DCPEngine, node: Node, rng) -> Step | None:
    constants = [a for a in node.args if a.is_const]
    others = [a for a in node.args if not a.is_const]
    if not constants:
        return Step(
            node,
            rng,
            False,
            False,
            "product",
            children=node.args,
            failures=dict.fromkeys(
                QUESTIONS,
                Failure(
                    "a product of non-constant factors ("
                    + ", ".join(short(a) for a in others[:4])
                    + ") is not covered by DCP, which allows only a constant times an expression; "
                    "the product patterns (exp(u)*exp(v), u*log(u), u**2/v, products of powers of "
                    "positive expressions) do not apply"
                ),
            ),
        )
    factor = constants[0] if len(constants) == 1 else ir.mul(*constants)
    rest = others[0] if len(others) == 1 else ir.mul(*others)
    c = engine.step_of(factor)
    inner = engine.step_of(rest)
    crange = c.range
    if rng is None and crange is not None and inner.range is not None:
        # the generic range is undefined (e.g. log(0) inside -x*log(x)) but the step composed
        # below extends it continuously: take the range from that step
        rng = iv.mul(crange, inner.range)
    if crange is None:
        return engine.domain_failure(
            node, rng, "scale", "constant factor", f"{short(factor)} is undefined"
        )
    if crange.nonneg:
        mono = INCREASING
    elif crange.nonpos:
        mono = DECREASING
    else:
        return engine.domain_failure(
            node,
            rng,
            "scale",
            "scaling",
            f"the sign of the constant factor {short(factor)} is not known (enclosure {crange})",
        )
    label = (
        f"multiplication by {factor.value}"
        if factor.op == "num"
        else "multiplication by a constant"
    )
    step = engine.compose(node, rng, label, AFFINE, (mono,), (rest,), rule="scale")
    step.children = (factor, rest)
    step.monotonicity = ("constant", mono)
    return step


def power_name(p) -> str:
    text = str(p)
    return f"x**({text})" if "/" in text or text.startswith("-") else f"x**{text}"


def rule_power(engine: DCPEngine, node: Node, rng) -> Step:
    base, exponent = node.args
    if exponent.op == "num":
        atom = power_atom(exponent.value)
        return engine.apply_unary(node, rng, atom, power_name(exponent.value), base, role="base")
    if exponent.is_const:
        return engine.domain_failure(
            node,
            rng,
            "composition",
            "power",
            f"the exponent {short(exponent)} is not a rational number",
            (base,),
        )
    if base.op == "const" and base.value == "E":
        atom = UNARY_ATOMS["exp"]
    elif base.op == "num" and base.value > 0:  # type: ignore[operator]
        atom = exp_base_atom(base.value)
    else:
        return engine.domain_failure(
            node,
            rng,
            "composition",
            "power",
            "a power with a non-constant exponent is covered only for a positive constant base "
            "(write exp(v*log(u)) for u > 0)",
            (base, exponent),
        )
    return engine.apply_unary(node, rng, atom, atom.name, exponent, role="exponent")


def rule_unary(engine: DCPEngine, node: Node, rng) -> Step:
    return engine.apply_unary(node, rng, UNARY_ATOMS[node.op], node.op, node.args[0])


def rule_nary(engine: DCPEngine, node: Node, rng) -> Step:
    atom = NARY_ATOMS[node.op]
    ranges = [engine.steps[a].range for a in node.args]
    if any(r is None for r in ranges):
        return engine.domain_failure(
            node, rng, "composition", node.op, "an argument is undefined somewhere", node.args
        )
    monos = tuple(atom.monotonicity(i, ranges) for i in range(len(ranges)))
    return engine.compose(node, rng, node.op, atom.curvature(ranges), monos, node.args)


GENERIC_RULES: dict[str, Rule] = {
    "add": rule_sum,
    "mul": rule_product,
    "pow": rule_power,
    **dict.fromkeys(ir.UNARY_FUNCTIONS, rule_unary),
    **dict.fromkeys(ir.NARY_FUNCTIONS, rule_nary),
}


__all__ = [
    "GENERIC_RULES",
    "power_name",
    "rule_nary",
    "rule_power",
    "rule_product",
    "rule_sum",
    "rule_unary",
]
