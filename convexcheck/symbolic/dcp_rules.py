"""The rule table of the scalar DCP engine, and :func:`analyze`, which runs the engine with it.

This is the one place that knows every rule: for each op, the generic rule
(:mod:`.dcp_generic`) first, then the patterns in the order they are tried (atoms recognised in
:mod:`.patterns`, the quadratic form of :mod:`.patterns_quadratic`, the identities of
:mod:`.patterns_rewrites`, the Piecewise rule of :mod:`.piecewise`). The engine
(:mod:`.dcp`) is handed the table and imports none of the rule modules, so the dependencies run
one way, and the table is built once at import, never looked up per node.

The order matters: the engine stops at the first step that proves both questions (and, except
for ``Abs``/``Max``/``Min``, at the first that proves one), so cheap, common rules come first.
"""

from __future__ import annotations

from collections.abc import Mapping

from convexcheck.symbolic.dcp import Analysis, Rule, RuleTable
from convexcheck.symbolic.dcp import analyze as _analyze_with
from convexcheck.symbolic.dcp_generic import GENERIC_RULES
from convexcheck.symbolic.interval import Interval
from convexcheck.symbolic.ir import Node
from convexcheck.symbolic.patterns import (
    entropy,
    log_of_exponentials,
    norm_of_squares,
    power_product,
    quad_over_lin,
    sigmoid,
)
from convexcheck.symbolic.patterns_norm import norm_of_psd_form
from convexcheck.symbolic.patterns_quadratic import quadratic_form
from convexcheck.symbolic.patterns_rewrites import (
    abs_of_known_sign,
    dominated_extreme,
    exp_of_log,
    exp_product,
    log_identities,
    max_plus_min,
    power_of_exp,
    power_of_product,
)
from convexcheck.symbolic.piecewise import rule_piecewise
from convexcheck.symbolic.piecewise_affine import rule_piecewise_affine

#: The patterns of each op, tried in this order after the op's generic rule.
PATTERNS: dict[str, tuple[Rule, ...]] = {
    "log": (log_of_exponentials, log_identities),
    "exp": (exp_of_log,),
    "Abs": (abs_of_known_sign,),
    "Max": (dominated_extreme,),
    "Min": (dominated_extreme,),
    "pow": (norm_of_squares, sigmoid, power_of_product, power_of_exp, norm_of_psd_form),
    "mul": (exp_product, entropy, quad_over_lin, power_product),
    "add": (quadratic_form, max_plus_min),
    "Piecewise": (rule_piecewise, rule_piecewise_affine),
}


def _table() -> dict[str, tuple[Rule, ...]]:
    ops = list(GENERIC_RULES) + [op for op in PATTERNS if op not in GENERIC_RULES]
    return {
        op: ((GENERIC_RULES[op],) if op in GENERIC_RULES else ()) + PATTERNS.get(op, ())
        for op in ops
    }


#: op -> (generic rule, *patterns): what the engine tries at a node of that op.
RULES: RuleTable = _table()


def analyze(root: Node, domains: Mapping[str, Interval]) -> Analysis:
    """The DCP derivation of ``root`` over ``domains``, with every rule of the table."""
    return _analyze_with(root, domains, RULES)


__all__ = ["PATTERNS", "RULES", "analyze"]
