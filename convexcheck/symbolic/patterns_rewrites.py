"""Pattern rules that rewrite a node into an equal expression the engine analyses instead.

Each identity is applied only where it holds on the *whole* domain, which the rule checks with
the ranges the engine computed: ``log(x*y) = log(x) + log(y)`` needs ``x, y > 0``,
``(x*y)**p = x**p * y**p`` needs ``x, y >= 0`` (or an integer ``p``), ``Abs(u) = u`` needs
``u >= 0``. The engine then inherits the rewritten expression's step
(:meth:`~convexcheck.symbolic.dcp.DCPEngine.rewrite`), so a failure explains itself in terms of
what the user wrote and the identity used. A rule returns ``None`` when it does not apply.
"""

from __future__ import annotations

from fractions import Fraction

from convexcheck.symbolic import ir
from convexcheck.symbolic.dcp import DCPEngine
from convexcheck.symbolic.dcp_steps import Step
from convexcheck.symbolic.ir import Node
from convexcheck.symbolic.patterns import exp_argument, is_exp, is_nonneg, is_positive

# ---------------------------------------------------------------------------------------------
# log(...)
# ---------------------------------------------------------------------------------------------


def log_identities(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``log(exp(u)) = u``; ``log(x*y) = log(x) + log(y)`` and ``log(u**p) = p*log(u)`` for
    positive factors/bases."""
    (arg,) = node.args
    if arg.op == "mul":
        if not all(is_positive(engine, f) for f in arg.args):
            return None
        replacement = ir.add(*(ir.func("log", f) for f in arg.args))
        return engine.rewrite(
            node, rng, replacement, "log-product", "log(x*y) = log(x) + log(y) for x, y > 0"
        )
    if arg.op == "pow" and arg.args[1].op == "num" and is_positive(engine, arg.args[0]):
        replacement = ir.mul(arg.args[1], ir.func("log", arg.args[0]))
        return engine.rewrite(node, rng, replacement, "log-power", "log(u**p) = p*log(u) for u > 0")
    return None


# ---------------------------------------------------------------------------------------------
# powers and products
# ---------------------------------------------------------------------------------------------


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
        if a.op != "num" or (not integer and not is_nonneg(engine, b)):
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


def exp_product(engine: DCPEngine, node: Node, rng) -> Step | None:
    """``exp(u)*exp(v) = exp(u + v)`` (also ``exp(u)**p`` factors)."""
    exponents = []
    for f in node.args:
        if is_exp(f):
            exponents.append(exp_argument(f))
        elif f.op == "pow" and f.args[0].op == "exp" and f.args[1].op == "num":
            exponents.append(ir.mul(f.args[1], f.args[0].args[0]))
        elif f.is_const and is_positive(engine, f):
            exponents.append(ir.func("log", f))
        else:
            return None
    replacement = ir.func("exp", ir.add(*exponents))
    return engine.rewrite(node, rng, replacement, "exp-product", "exp(u)*exp(v) = exp(u + v)")


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
    if arg.op != "log" or not is_positive(engine, arg.args[0]):
        return None
    return engine.rewrite(node, rng, arg.args[0], "exp-log", "exp(log(u)) = u for u > 0")


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


__all__ = [
    "abs_of_known_sign",
    "dominated_extreme",
    "exp_of_log",
    "exp_product",
    "log_identities",
    "max_plus_min",
    "power_of_exp",
    "power_of_product",
]
