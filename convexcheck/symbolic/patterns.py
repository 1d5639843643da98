"""Pattern rules that recognise an atom in the natural spelling of a convex function.

Plain DCP rejects ``log(1 + exp(u))``, ``sqrt(u**2 + v**2)``, ``u*log(u)`` or ``u**2/v`` as
written; each rule here looks at a node's structure (its children and grandchildren), checks the
preconditions that make the identity true on the *whole* domain (using the ranges the engine
computed) and composes the recognised atom (``logistic``, ``log_sum_exp``, a norm,
``quad_over_lin``, the negative or relative entropy, a product of powers of positive
expressions), or returns ``None`` when it does not apply. Rules that instead rewrite a node into
an equal expression live in :mod:`.patterns_rewrites`, the quadratic-form rule in
:mod:`.patterns_quadratic`; :mod:`.dcp_rules` orders them all after each op's generic rule, and the
engine keeps the step that proves the most.

The small readers at the top (``is_exp``, ``is_positive``...) are shared with the rewrites.
"""

from __future__ import annotations

from fractions import Fraction

from convexcheck.symbolic import ir
from convexcheck.symbolic.atoms import (
    INCREASING,
    LOG_SUM_EXP,
    REL_ENTR,
    UNARY_ATOMS,
    NormAtom,
    PowerProductAtom,
    QuadOverLinAtom,
)
from convexcheck.symbolic.dcp import DCPEngine
from convexcheck.symbolic.dcp_steps import Step
from convexcheck.symbolic.ir import Node
from convexcheck.symbolic.printer import to_str

# ---------------------------------------------------------------------------------------------
# readers shared by the patterns and the rewrites
# ---------------------------------------------------------------------------------------------


def is_exp(node: Node) -> bool:
    """``exp(u)`` or ``E**u``."""
    return node.op == "exp" or (
        node.op == "pow" and node.args[0].op == "const" and node.args[0].value == "E"
    )


def exp_argument(node: Node) -> Node:
    """The ``u`` of ``exp(u)`` or ``E**u``."""
    return node.args[0] if node.op == "exp" else node.args[1]


def is_positive(engine: DCPEngine, node: Node) -> bool:
    """``node > 0`` on the whole domain (by the range the engine computed)."""
    r = engine.step_of(node).range
    return r is not None and r.positive


def is_nonneg(engine: DCPEngine, node: Node) -> bool:
    """``node >= 0`` on the whole domain (by the range the engine computed)."""
    r = engine.step_of(node).range
    return r is not None and r.nonneg


def _exponent_of_exp_term(engine: DCPEngine, term: Node) -> Node | None:
    """``c*exp(u1)*...*exp(uk)`` with constant ``c > 0`` -> ``u1 + ... + uk + log(c)``."""
    factors = term.args if term.op == "mul" else (term,)
    pieces: list[Node] = []
    found = False
    for f in factors:
        if is_exp(f):
            pieces.append(exp_argument(f))
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
    exps = [t for t in base.args if is_exp(t)]
    if len(one) != 1 or len(exps) != 1:
        return None
    u = ir.neg(exp_argument(exps[0]))
    return engine.apply_unary(
        node,
        rng,
        UNARY_ATOMS["sigmoid"],
        "sigmoid",
        u,
        rule="pattern:sigmoid",
        detail={"identity": "1/(1 + exp(-u)) = sigmoid(u)"},
    )


# ---------------------------------------------------------------------------------------------
# products of non-constant factors (the engine splits constant factors off first)
# ---------------------------------------------------------------------------------------------


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
                    if is_positive(engine, u) and is_positive(engine, v):
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


__all__ = [
    "entropy",
    "exp_argument",
    "is_exp",
    "is_nonneg",
    "is_positive",
    "log_of_exponentials",
    "norm_of_squares",
    "power_product",
    "quad_over_lin",
    "sigmoid",
]
