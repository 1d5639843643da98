"""Pattern rules: the natural spellings of convex functions that plain DCP rejects.

Each rule looks at a node's structure (its children and grandchildren), checks the preconditions
that make an identity true on the *whole* domain (using the ranges the engine computed), and
either

* composes a recognised atom (``log(1 + exp(u))`` is ``logistic(u)``, ``log(exp(u) + exp(v))`` is
  ``log_sum_exp(u, v)``, ``sqrt(u**2 + v**2 + c)`` a norm, ``u**2/v`` ``quad_over_lin``,
  ``u*log(u)`` the negative entropy, products of powers of positive expressions), or
* rewrites the node into an equal expression the engine analyses instead (``exp(u)*exp(v) =
  exp(u + v)``, ``log(x*y) = log(x) + log(y)`` for ``x, y > 0``, ``(x*y)**p = x**p * y**p`` for
  ``x, y >= 0``, ``(a + b)/v = a/v + b/v``),

or returns ``None`` when it does not apply. Rules are tried after the generic rule for the same
op (see :func:`rules_for`); the engine keeps the step that proves the most.
"""

from __future__ import annotations

from fractions import Fraction

from convexcheck.symbolic import ir
from convexcheck.symbolic.atoms import (
    AFFINE,
    INCREASING,
    LOG_SUM_EXP,
    REL_ENTR,
    UNARY_ATOMS,
    NormAtom,
    PowerProductAtom,
    QuadOverLinAtom,
)
from convexcheck.symbolic.dcp import (
    GENERIC_RULES,
    DCPEngine,
    Rule,
    Step,
    rule_sum,
)
from convexcheck.symbolic.interval import Interval
from convexcheck.symbolic.ir import Node
from convexcheck.symbolic.printer import to_str
from convexcheck.symbolic.quadratic import as_quadratic, certify_quadratic, degree

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _is_exp(node: Node) -> bool:
    return node.op == "exp" or (
        node.op == "pow" and node.args[0].op == "const" and node.args[0].value == "E"
    )


def _exp_arg(node: Node) -> Node:
    return node.args[0] if node.op == "exp" else node.args[1]


def _exponent_of_exp_term(engine: DCPEngine, term: Node) -> Node | None:
    """``c*exp(u1)*...*exp(uk)`` with constant ``c > 0`` -> ``u1 + ... + uk + log(c)``."""
    factors = term.args if term.op == "mul" else (term,)
    pieces: list[Node] = []
    found = False
    for f in factors:
        if _is_exp(f):
            pieces.append(_exp_arg(f))
            found = True
        elif (
            f.op == "pow"
            and f.args[0].op == "num"
            and f.args[0].value > 0
            and not f.args[1].is_const
        ):  # type: ignore[operator]
            pieces.append(ir.mul(f.args[1], ir.func("log", f.args[0])))  # c**u = exp(u*log c)
            found = True
        elif f.is_const:
            r = engine.step_of(f).range
            if r is None or not r.positive:
                return None
            pieces.append(ir.func("log", f))
        else:
            return None
    if not found:
        return None
    return ir.add(*pieces)


def _unit_step(step: Step, node: Node) -> Step:
    step.node = node
    return step


# ---------------------------------------------------------------------------------------------
# log(...)
# ---------------------------------------------------------------------------------------------


def log_of_exponentials(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``log(c0 + c1*exp(u1) + ...)`` with ``c_i > 0``: log-sum-exp (softplus for 1 + exp(u))."""
    (arg,) = node.args
    terms = arg.args if arg.op == "add" else (arg,)
    exponents: list[Node] = []
    has_exp = False
    for t in terms:
        if t.is_const:
            r = engine.step_of(t).range
            if r is None or not r.positive:
                return None
            exponents.append(ir.func("log", t))
            continue
        u = _exponent_of_exp_term(engine, t)
        if u is None:
            return None
        exponents.append(u)
        has_exp = True
    if not has_exp:
        return None
    if len(exponents) == 1:
        return engine.rewrite(node, rng, exponents[0], "log-exp", "log(c*exp(u)) = u + log(c)")
    if len(terms) == 2 and any(ir.is_num(t, 1) for t in terms):
        u = exponents[0] if not ir.is_num(terms[0], 1) else exponents[1]
        return engine.apply_unary(
            node,
            rng,
            UNARY_ATOMS["logistic"],
            "logistic",
            u,
            rule="pattern:logistic",
            detail={"identity": f"log(1 + exp(u)) = logistic(u) with u = {to_str(u, limit=200)}"},
        )
    return engine.compose(
        node,
        rng,
        "log_sum_exp",
        LOG_SUM_EXP.curvature([]),
        (INCREASING,) * len(exponents),
        tuple(exponents),
        rule="pattern:log_sum_exp",
        detail={"identity": "log(sum_i c_i*exp(u_i)) = log_sum_exp(u_i + log(c_i))"},
    )


def log_identities(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``log(exp(u)) = u``; ``log(x*y) = log(x) + log(y)`` and ``log(u**p) = p*log(u)`` for
    positive factors/bases."""
    (arg,) = node.args
    if arg.op == "mul":
        if not all(_positive(engine, f) for f in arg.args):
            return None
        replacement = ir.add(*(ir.func("log", f) for f in arg.args))
        return engine.rewrite(
            node, rng, replacement, "log-product", "log(x*y) = log(x) + log(y) for x, y > 0"
        )
    if arg.op == "pow" and arg.args[1].op == "num" and _positive(engine, arg.args[0]):
        replacement = ir.mul(arg.args[1], ir.func("log", arg.args[0]))
        return engine.rewrite(node, rng, replacement, "log-power", "log(u**p) = p*log(u) for u > 0")
    return None


def _positive(engine: DCPEngine, node: Node) -> bool:
    r = engine.step_of(node).range
    return r is not None and r.positive


def _nonneg(engine: DCPEngine, node: Node) -> bool:
    r = engine.step_of(node).range
    return r is not None and r.nonneg


# ---------------------------------------------------------------------------------------------
# powers
# ---------------------------------------------------------------------------------------------


def norm_of_squares(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``sqrt(w1*u1**2 + ... + c)`` with ``w_i > 0``, ``c >= 0``: a (weighted) Euclidean norm."""
    base, exponent = node.args
    if not ir.is_num(exponent, Fraction(1, 2)):
        return None
    terms = base.args if base.op == "add" else (base,)
    weights: list[Fraction | int] = []
    args: list[Node] = []
    offset: Fraction | int = 0
    for t in terms:
        if t.op == "num":
            if t.value < 0:  # type: ignore[operator]
                return None
            offset = t.value  # type: ignore[assignment]
            continue
        c, rest = ir.split_coefficient(t)
        if len(rest) != 1 or c <= 0:
            return None
        square = rest[0]
        if square.op != "pow" or not ir.is_num(square.args[1], 2):
            return None
        weights.append(c)
        args.append(square.args[0])
    if not args:
        return None
    if len(args) == 1 and weights[0] == 1 and offset == 0:
        return engine.rewrite(
            node, rng, ir.func("Abs", args[0]), "sqrt-square", "sqrt(u**2) = Abs(u)"
        )
    atom = NormAtom(tuple(weights), offset)
    ranges = [engine.step_of(a).range for a in args]
    if any(r is None for r in ranges):
        return None
    monos = tuple(atom.monotonicity(i, ranges) for i in range(len(args)))
    return engine.compose(
        node,
        rng,
        "norm2",
        atom.curvature(ranges),
        monos,
        tuple(args),
        rule="pattern:norm2",
        detail={
            "identity": "sqrt(sum_i w_i*u_i**2 + c) = norm2(sqrt(w_i)*u_i, sqrt(c))",
            "weights": [str(w) for w in weights],
            "offset": str(offset),
        },
    )


def sigmoid(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``1/(1 + exp(v))`` is ``sigmoid(-v)``."""
    base, exponent = node.args
    if not ir.is_num(exponent, -1) or base.op != "add" or len(base.args) != 2:
        return None
    one = [t for t in base.args if ir.is_num(t, 1)]
    exps = [t for t in base.args if _is_exp(t)]
    if len(one) != 1 or len(exps) != 1:
        return None
    u = ir.neg(_exp_arg(exps[0]))
    return engine.apply_unary(
        node,
        rng,
        UNARY_ATOMS["sigmoid"],
        "sigmoid",
        u,
        rule="pattern:sigmoid",
        detail={"identity": "1/(1 + exp(-u)) = sigmoid(u)"},
    )


def power_of_product(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``(c*x**a*y**b)**p = c**p * x**(a*p) * y**(b*p)`` for ``c > 0`` and ``x, y >= 0``
    (or any signs when ``p`` is an integer and each ``x**(a*p)`` is defined where ``(x**a)**p``
    is, see :func:`convexcheck.symbolic.ir.powers_compose_on_the_same_set`)."""
    base, exponent = node.args
    if base.op != "mul" or exponent.op != "num":
        return None
    p = exponent.value
    integer = isinstance(p, int)
    factors = []
    for f in base.args:
        if f.op == "num":
            if f.value <= 0 and not integer:  # type: ignore[operator]
                return None
            factors.append(ir.power(f, exponent))
            continue
        b, a = (f.args[0], f.args[1]) if f.op == "pow" else (f, ir.ONE)
        if a.op != "num" or (not integer and not _nonneg(engine, b)):
            return None
        if integer and not ir.powers_compose_on_the_same_set(a.value, p):  # type: ignore[arg-type]
            # (2*sqrt(x))**2 is 4*x only where sqrt(x) is defined: the rewrite would drop
            # x >= 0 (and (2/x)**(-1) = x/2 would drop x != 0)
            return None
        factors.append(ir.power(b, ir.num(Fraction(a.value) * Fraction(p))))  # type: ignore[arg-type]
    replacement = ir.mul(*factors)
    return engine.rewrite(
        node, rng, replacement, "power-of-product", "(x*y)**p = x**p * y**p for x, y >= 0"
    )


def power_of_exp(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``exp(u)**p = exp(p*u)``."""
    base, exponent = node.args
    if base.op != "exp" or exponent.op != "num":
        return None
    replacement = ir.func("exp", ir.mul(exponent, base.args[0]))
    return engine.rewrite(node, rng, replacement, "power-of-exp", "exp(u)**p = exp(p*u)")


# ---------------------------------------------------------------------------------------------
# products of non-constant factors (the engine splits constant factors off first)
# ---------------------------------------------------------------------------------------------


def exp_product(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``exp(u)*exp(v) = exp(u + v)`` (also ``exp(u)**p`` factors)."""
    exponents = []
    for f in node.args:
        if _is_exp(f):
            exponents.append(_exp_arg(f))
        elif f.op == "pow" and f.args[0].op == "exp" and f.args[1].op == "num":
            exponents.append(ir.mul(f.args[1], f.args[0].args[0]))
        elif f.is_const and _positive(engine, f):
            exponents.append(ir.func("log", f))
        else:
            return None
    replacement = ir.func("exp", ir.add(*exponents))
    return engine.rewrite(node, rng, replacement, "exp-product", "exp(u)*exp(v) = exp(u + v)")


def entropy(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``u*log(u)`` (negative entropy) and ``u*log(u/v)`` (relative entropy)."""
    if len(node.args) != 2:
        return None
    a, b = node.args
    for u, lg in ((a, b), (b, a)):
        if lg.op != "log":
            continue
        inner = lg.args[0]
        if inner is u:
            atom = UNARY_ATOMS["xlogx"]
            r = engine.step_of(u).range
            # the generic range is undefined at u = 0 (log(0)); the atom's extension is not
            own_range = atom.image_of(r) if r is not None and atom.domain_ok(r) else rng
            return engine.apply_unary(
                node,
                own_range,
                atom,
                "xlogx",
                u,
                rule="pattern:xlogx",
                detail={"identity": "u*log(u) = -entr(u), extended by 0 at u = 0"},
            )
        if inner.op == "mul" and len(inner.args) == 2:
            p, q = inner.args
            for num_, den in ((p, q), (q, p)):
                if not (den.op == "pow" and ir.is_num(den.args[1], -1)):
                    continue
                v = den.args[0]
                ranges = [engine.step_of(u).range, engine.step_of(v).range]
                if any(r is None for r in ranges):
                    return None
                if num_ is u:
                    why = REL_ENTR.domain_ok(ranges)  # type: ignore[arg-type]
                    if why:
                        return engine.domain_failure(
                            node, rng, "pattern:rel_entr", "u*log(u/v)", why, (u, v)
                        )
                    return engine.compose(
                        node,
                        rng,
                        "rel_entr",
                        REL_ENTR.curvature(ranges),
                        (REL_ENTR.monotonicity(0, ranges), REL_ENTR.monotonicity(1, ranges)),
                        (u, v),
                        rule="pattern:rel_entr",
                        detail={"identity": "u*log(u/v) = rel_entr(u, v)"},
                    )
                if num_ is v and inner.args:
                    # u*log(v/u) = -(u*log(u/v))
                    replacement = ir.neg(ir.mul(u, ir.func("log", ir.div(u, v))))
                    if _positive(engine, u) and _positive(engine, v):
                        return engine.rewrite(
                            node,
                            rng,
                            replacement,
                            "log-ratio",
                            "u*log(v/u) = -u*log(u/v) for u, v > 0",
                        )
    return None


def quad_over_lin(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``u**2/v`` for ``v > 0`` (convex; ``v < 0`` gives the concave mirror), and distribution
    ``(a + b)/v = a/v + b/v``."""
    denominators = [f for f in node.args if f.op == "pow" and ir.is_num(f.args[1], -1)]
    if len(denominators) != 1:
        return None
    v = denominators[0].args[0]
    numerators = [f for f in node.args if f is not denominators[0]]
    if len(numerators) != 1:
        return None
    (n,) = numerators
    if n.op == "add":
        replacement = ir.add(*(ir.mul(t, denominators[0]) for t in n.args))
        return engine.rewrite(node, rng, replacement, "distribute", "(a + b)/v = a/v + b/v")
    if n.op != "pow" or not ir.is_num(n.args[1], 2):
        return None
    u = n.args[0]
    vr = engine.step_of(v).range
    if vr is None:
        return None
    if vr.negative:
        replacement = ir.neg(ir.mul(n, ir.power(ir.neg(v), ir.MINUS_ONE)))
        return engine.rewrite(
            node, rng, replacement, "negative-denominator", "u**2/v = -(u**2/(-v))"
        )
    atom = QuadOverLinAtom()
    ranges = [engine.step_of(u).range, vr]
    if ranges[0] is None:
        return None
    why = atom.domain_ok(ranges)  # type: ignore[arg-type]
    if why:
        return engine.domain_failure(node, rng, "pattern:quad_over_lin", "u**2/v", why, (u, v))
    return engine.compose(
        node,
        rng,
        "quad_over_lin",
        atom.curvature(ranges),
        (atom.monotonicity(0, ranges), atom.monotonicity(1, ranges)),
        (u, v),  # type: ignore[arg-type]
        rule="pattern:quad_over_lin",
        detail={"identity": "u**2/v = quad_over_lin(u, v) for v > 0"},
    )


def power_product(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``x1**a1 * ... * xn**an`` over positive bases (geometric means, ``1/(x*y)``, ``x**2/y``)."""
    bases: list[Node] = []
    exponents: list[Fraction | int] = []
    for f in node.args:
        if f.op == "pow" and f.args[1].op == "num":
            bases.append(f.args[0])
            exponents.append(f.args[1].value)  # type: ignore[arg-type]
        elif not f.is_const:
            bases.append(f)
            exponents.append(1)
        else:
            return None
    if len(bases) < 2:
        return None
    atom = PowerProductAtom(tuple(exponents))
    ranges = [engine.step_of(b).range for b in bases]
    if any(r is None for r in ranges):
        return None
    why = atom.domain_ok(ranges)  # type: ignore[arg-type]
    if why:
        return engine.domain_failure(
            node, rng, "pattern:power_product", "product of powers", why, bases
        )
    curvature = atom.curvature(ranges)  # type: ignore[arg-type]
    monos = tuple(atom.monotonicity(i, ranges) for i in range(len(bases)))  # type: ignore[arg-type]
    exps = ", ".join(str(a) for a in exponents)
    return engine.compose(
        node,
        rng,
        f"product of powers ({exps})",
        curvature,
        monos,
        tuple(bases),
        rule="pattern:power_product",
        detail={
            "identity": "prod x_i**a_i on x > 0: convex iff all a_i <= 0 or (one a_j > 0 and "
            "sum(a) >= 1); concave iff all a_i >= 0 and sum(a) <= 1",
            "exponents": [str(a) for a in exponents],
        },
    )


# ---------------------------------------------------------------------------------------------
# sums: quadratic forms
# ---------------------------------------------------------------------------------------------


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
    from convexcheck.symbolic.dcp import Failure

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


# ---------------------------------------------------------------------------------------------
# sign-aware simplifications: what the ranges say about Abs, Max, Min, exp(log(u))
# ---------------------------------------------------------------------------------------------


def abs_of_known_sign(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``Abs(u) = u`` where ``u >= 0`` on the domain, ``-u`` where ``u <= 0``."""
    (u,) = node.args
    r = engine.step_of(u).range
    if r is None:
        return None
    if r.nonneg:
        return engine.rewrite(node, rng, u, "abs-nonneg", "Abs(u) = u where u >= 0")
    if r.nonpos:
        return engine.rewrite(node, rng, ir.neg(u), "abs-nonpos", "Abs(u) = -u where u <= 0")
    return None


def dominated_extreme(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``Max(a, b, ...) = a`` when ``a - b >= 0`` on the whole domain for every other ``b``
    (and dually for ``Min``); the differences are range-checked, so this is exact."""
    if len(node.args) > 8:
        return None
    want_max = node.op == "Max"
    for a in node.args:
        dominant = True
        for b in node.args:
            if b is a:
                continue
            r = engine.step_of(ir.sub(a, b)).range
            if r is None or not (r.nonneg if want_max else r.nonpos):
                dominant = False
                break
        if dominant:
            return engine.rewrite(
                node,
                rng,
                a,
                "dominated-argument",
                f"{node.op}(a, b, ...) = a where a {'>=' if want_max else '<='} every other "
                "argument",
            )
    return None


def exp_of_log(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``exp(log(u)) = u`` (``u > 0`` is needed for ``log(u)``, and checked)."""
    (arg,) = node.args
    if arg.op != "log" or not _positive(engine, arg.args[0]):
        return None
    return engine.rewrite(node, rng, arg.args[0], "exp-log", "exp(log(u)) = u for u > 0")


def _piecewise_rule(engine: DCPEngine, node: Node, rng):
    from convexcheck.symbolic.piecewise import rule_piecewise

    return rule_piecewise(engine, node, rng)


def max_plus_min(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``Max(a, b) + Min(a, b) = a + b`` (one of them is a, the other b, at every point)."""
    terms = node.args
    if len(terms) > 64:
        return None
    maxima = {
        frozenset(t.args): i for i, t in enumerate(terms) if t.op == "Max" and len(t.args) == 2
    }
    for j, term in enumerate(terms):
        if term.op == "Min" and len(term.args) == 2 and frozenset(term.args) in maxima:
            i = maxima[frozenset(term.args)]
            rest = [t for k, t in enumerate(terms) if k not in (i, j)]
            replacement = ir.add(*rest, *term.args)
            return engine.rewrite(
                node, rng, replacement, "max-plus-min", "Max(a, b) + Min(a, b) = a + b"
            )
    return None


PATTERNS: dict[str, list[Rule]] = {
    "log": [log_of_exponentials, log_identities],
    "exp": [exp_of_log],
    "Abs": [abs_of_known_sign],
    "Max": [dominated_extreme],
    "Min": [dominated_extreme],
    "pow": [norm_of_squares, sigmoid, power_of_product, power_of_exp],
    "mul": [exp_product, entropy, quad_over_lin, power_product],
    "add": [quadratic_form, max_plus_min],
    "Piecewise": [_piecewise_rule],
}

_RULES: dict[str, list[Rule]] = {}


def rules_for(op: str) -> list[Rule]:
    """Generic rule first, then the patterns for ``op``."""
    rules = _RULES.get(op)
    if rules is None:
        generic = GENERIC_RULES.get(op)
        rules = ([generic] if generic else []) + PATTERNS.get(op, [])
        _RULES[op] = rules
    return rules


__all__ = ["PATTERNS", "Interval", "rule_sum", "rules_for"]
