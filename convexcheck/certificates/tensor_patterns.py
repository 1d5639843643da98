"""The checker's own reading of pattern nodes in a tensor derivation.

The prover reads some written forms as atoms (``log(1 + exp(u))`` as ``logistic(u)``, ...) and
records the atom in the node's ``as_atom``. The checker accepts such a reading only if its own
matcher, written here from the identities and not from the prover's code, finds the same atom
on the same argument nodes with the same parameters. Every reading below is an identity of
functions wherever the written node is defined (which the caller checks separately, with the
written nodes' own domains), and the atom's shape must be the node's shape:

==============  ==========================================================================
pattern         written form -> atom
==============  ==========================================================================
softplus        ``log(c + exp(u))``, ``c`` a constant equal to 1 that does not broadcast
                ``u`` -> ``logistic(u)``
log_sum_exp     ``log(sum(exp(u), axis, keepdims))`` -> ``log_sum_exp(u, axis, keepdims)``
norm2           ``power(quad_over_lin(u, 1), 1/2)`` or ``power(sum(power(u, 2)), 1/2)``
                (sum over all entries) -> ``pnorm(u, None, False, 2)``
entropy         ``u * log(u)`` -> ``xlogx(u)``; ``u * exp(u)`` -> ``xexp(u)``;
                ``u * u`` -> ``power(u, 2)``; ``u * (log(u) - log(v))`` or
                ``u * log(u / v)`` -> ``rel_entr(u, v)`` (either factor order)
quad_over_lin   ``quad_over_lin(u, 1) / t`` for a scalar ``t`` -> ``quad_over_lin(u, t)``
quad_form       ``x @ (P @ x)``, ``(x @ P) @ x``, ``sum(x * (P @ x))`` for a vector ``x`` and
                a constant square ``P`` of matching size -> ``quad_form(x, P)``
==============  ==========================================================================

"The same node" means structurally equal (same operation, parameters and arguments, the same
variable or the same constant data), decided by hash-consing the decoded tree.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.tensor.document import content_hash, encode_param
from convexcheck.tensor.expr import TExpr

Reading = tuple[str, tuple[TExpr, ...], tuple]

IDENTITIES = {
    "softplus": "log(1 + exp(u)) = logistic(u)",
    "log_sum_exp": "log(sum(exp(u))) = log_sum_exp(u) (same axis)",
    "norm2": "sqrt(sum of u_i**2) = ||u||_2",
    "entropy": "u*log(u) = xlogx(u) for u > 0; u*exp(u) = xexp(u); u*u = u**2; "
    "u*(log u - log v) = u*log(u/v) = rel_entr(u, v) for u, v > 0",
    "quad_over_lin": "(sum of u_i**2)/t = quad_over_lin(u, t) for t > 0",
    "quad_form": "x . (P x) = (x P) . x = sum(x * (P x)) = quad_form(x, P)",
    "sum_squares": "u . u = sum of u_i**2 (one vector with itself)",
}


class Canon:
    """Structural identity of decoded nodes (hash-consing, so shared subtrees stay cheap)."""

    def __init__(self) -> None:
        self._ids: dict[Any, int] = {}
        self._of: dict[int, int] = {}

    def of(self, node: TExpr) -> int:
        hit = self._of.get(id(node))
        if hit is not None:
            return hit
        if node.op == "variable":
            key: Any = ("variable", node.variable.name)  # type: ignore[union-attr]
        elif node.op == "constant":
            key = ("constant", content_hash(node.value))  # type: ignore[arg-type]
        else:
            key = (node.op, params_key(node.params), tuple(self.of(a) for a in node.args))
        out = self._ids.setdefault(key, len(self._ids))
        self._of[id(node)] = out
        return out

    def same(self, a: TExpr, b: TExpr) -> bool:
        return self.of(a) == self.of(b)


def params_key(params: Any) -> str:
    return json.dumps(encode_param(tuple(params)), sort_keys=True)


def _const_equal(node: TExpr, value: float) -> bool:
    return node.op == "constant" and node.value is not None and bool(np.all(node.value == value))


def _all_entries(params: tuple) -> bool:
    """``sum`` parameters meaning: over every entry, no kept dimensions."""
    axis = params[0] if params else None
    keep = bool(params[1]) if len(params) > 1 else False
    return axis is None and not keep and len(params) <= 2


def _is_half(node: TExpr) -> bool:
    return node.op == "power" and bool(node.params) and Fraction(node.params[0]) == Fraction(1, 2)


def _is_square(node: TExpr) -> bool:
    return node.op == "power" and bool(node.params) and Fraction(node.params[0]) == 2


def softplus(node: TExpr, canon: Canon) -> list[Reading]:
    if node.op != "log" or node.args[0].op != "add" or len(node.args[0].args) != 2:
        return []
    add = node.args[0]
    out = []
    for one, e in (add.args, add.args[::-1]):
        if e.op == "exp" and _const_equal(one, 1.0) and add.shape == e.shape:
            out.append(("logistic", (e.args[0],), ()))
    return out


def log_sum_exp(node: TExpr, canon: Canon) -> list[Reading]:
    if node.op != "log" or node.args[0].op != "sum" or node.args[0].args[0].op != "exp":
        return []
    s = node.args[0]
    return [("log_sum_exp", (s.args[0].args[0],), tuple(s.params))]


def norm2(node: TExpr, canon: Canon) -> list[Reading]:
    if not _is_half(node) or node.shape != ():
        return []
    inner = node.args[0]
    if inner.op == "quad_over_lin" and _const_equal(inner.args[1], 1.0):
        u = inner.args[0]
    elif inner.op == "sum" and _all_entries(inner.params) and _is_square(inner.args[0]):
        u = inner.args[0].args[0]
    else:
        return []
    return [("pnorm", (u,), (None, False, Fraction(2)))]


def _log_ratio(u: TExpr, g: TExpr, canon: Canon) -> TExpr | None:
    """``v`` when ``g`` is ``log(u / v)`` or ``log(u) + (-log(v))`` (either order)."""
    if g.op == "log" and g.args[0].op == "divide" and canon.same(g.args[0].args[0], u):
        return g.args[0].args[1]
    if g.op == "add" and len(g.args) == 2:
        for p, q in (g.args, g.args[::-1]):
            if (
                p.op == "log"
                and canon.same(p.args[0], u)
                and q.op == "neg"
                and q.args[0].op == "log"
            ):
                return q.args[0].args[0]
    return None


def entropy(node: TExpr, canon: Canon) -> list[Reading]:
    if node.op != "multiply" or len(node.args) != 2:
        return []
    a, b = node.args
    out: list[Reading] = []
    for u, g in ((a, b), (b, a)):
        if g.op in ("log", "exp") and canon.same(g.args[0], u) and u.shape == node.shape:
            out.append(("xlogx" if g.op == "log" else "xexp", (u,), ()))
        v = _log_ratio(u, g, canon)
        if v is not None and u.shape == node.shape:
            out.append(("rel_entr", (u, v), ()))
    if canon.same(a, b):
        out.append(("power", (a,), (Fraction(2),)))
    return out


def quad_over_lin(node: TExpr, canon: Canon) -> list[Reading]:
    if node.op != "divide" or node.shape != ():
        return []
    num, den = node.args
    if num.op == "quad_over_lin" and _const_equal(num.args[1], 1.0) and den.shape == ():
        return [("quad_over_lin", (num.args[0], den), ())]
    return []


def quad_form(node: TExpr, canon: Canon) -> list[Reading]:
    pairs: list[tuple[TExpr, TExpr]] = []
    if node.op == "matmul" and node.shape == () and len(node.args) == 2:
        a, b = node.args
        if b.op == "matmul" and canon.same(b.args[1], a) and b.args[0].op == "constant":
            pairs.append((a, b.args[0]))
        if a.op == "matmul" and canon.same(a.args[0], b) and a.args[1].op == "constant":
            pairs.append((b, a.args[1]))
    elif node.op == "sum" and _all_entries(node.params) and node.args[0].op == "multiply":
        m = node.args[0]
        if len(m.args) == 2:
            for u, v in (m.args, m.args[::-1]):
                if v.op == "matmul" and canon.same(v.args[1], u) and v.args[0].op == "constant":
                    pairs.append((u, v.args[0]))
    out: list[Reading] = []
    for x, p in pairs:
        if len(x.shape) == 1 and p.shape == (x.shape[0], x.shape[0]):
            out.append(("quad_form", (x, p), ()))
    return out


def sum_squares(node: TExpr, canon: Canon) -> list[Reading]:
    """The inner product of a vector with itself (the same node on both sides)."""
    if node.op != "matmul" or len(node.args) != 2 or len(node.args[0].shape) != 1:
        return []
    if not canon.same(node.args[0], node.args[1]):
        return []
    return [("sum_squares", (node.args[0],), ())]


MATCHERS = {
    "softplus": softplus,
    "log_sum_exp": log_sum_exp,
    "norm2": norm2,
    "entropy": entropy,
    "quad_over_lin": quad_over_lin,
    "quad_form": quad_form,
    "sum_squares": sum_squares,
}


def readings(name: str, node: TExpr, canon: Canon) -> list[Reading]:
    """Every legitimate reading of ``node`` under pattern ``name`` (empty: none, or an unknown
    pattern)."""
    matcher = MATCHERS.get(name)
    return matcher(node, canon) if matcher is not None else []


__all__ = ["IDENTITIES", "MATCHERS", "Canon", "params_key", "readings"]
