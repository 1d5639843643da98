"""A tensor DCP proof back as a CVXPY expression that CVXPY itself accepts.

The derivation says how each node was read; a node a pattern read as another atom becomes that
atom (``log(1 + exp(u))`` comes back as ``cp.logistic(u)``, ``sqrt(sum_squares(u))`` as
``cp.norm2(u)``, ``x @ (P @ x)`` as ``cp.quad_form(x, P)``). Everything else maps one to one.
The tests compare the value of the result with the original at random points and assert
``is_dcp()``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.errors import NotExpressibleError
from convexcheck.tensor.dcp import TensorAnalysis
from convexcheck.tensor.expr import TExpr, postorder


def _variable(cp: Any, node: TExpr, given: dict[str, Any]) -> Any:
    info = node.variable
    assert info is not None
    if info.name in given:
        return given[info.name]
    attrs: dict[str, Any] = {}
    if info.psd:
        attrs["PSD"] = True
    elif info.nsd:
        attrs["NSD"] = True
    elif info.symmetric:
        attrs["symmetric"] = True
    lo, hi = info.lo, info.hi
    if not (info.psd or info.nsd):
        if np.all(lo == 0) and np.all(info.lo_open) and np.all(np.isinf(hi)):
            attrs["pos"] = True
        elif np.all(lo == 0) and np.all(np.isinf(hi)):
            attrs["nonneg"] = True
        elif np.all(hi == 0) and np.all(info.hi_open) and np.all(np.isinf(lo)):
            attrs["neg"] = True
        elif np.all(hi == 0) and np.all(np.isinf(lo)):
            attrs["nonpos"] = True
        elif np.any(np.isfinite(lo)) or np.any(np.isfinite(hi)):
            attrs["bounds"] = [np.array(lo), np.array(hi)]
    var = cp.Variable(info.shape, name=info.name, **attrs)
    given[info.name] = var
    return var


def _atom(cp: Any, op: str, node: TExpr, a: list[Any]) -> Any:
    p = node.params
    if op == "add":
        out = a[0]
        for x in a[1:]:
            out = out + x
        return out
    simple = {
        "neg": lambda: -a[0],
        "multiply": lambda: cp.multiply(a[0], a[1]),
        "divide": lambda: a[0] / a[1],
        "matmul": lambda: a[0] @ a[1],
        "transpose": lambda: a[0].T,
        "exp": lambda: cp.exp(a[0]),
        "log": lambda: cp.log(a[0]),
        "abs": lambda: cp.abs(a[0]),
        "logistic": lambda: cp.logistic(a[0]),
        "xlogx": lambda: -cp.entr(a[0]),
        "xexp": lambda: cp.xexp(a[0]),
        "maximum": lambda: cp.maximum(*a),
        "minimum": lambda: cp.minimum(*a),
        "kl_div": lambda: cp.kl_div(a[0], a[1]),
        "rel_entr": lambda: cp.rel_entr(a[0], a[1]),
        "trace": lambda: cp.trace(a[0]),
        "diag_vec": lambda: cp.diag(a[0]),
        "diag_mat": lambda: cp.diag(a[0]),
        "lambda_max": lambda: cp.lambda_max(a[0]),
        "log_det": lambda: cp.log_det(a[0]),
        "tr_inv": lambda: cp.tr_inv(a[0]),
        "normNuc": lambda: cp.normNuc(a[0]),
        "sigma_max": lambda: cp.sigma_max(a[0]),
        "matrix_frac": lambda: cp.matrix_frac(a[0], a[1]),
        "quad_form": lambda: cp.quad_form(a[0], a[1]),
        "quad_over_lin": lambda: cp.quad_over_lin(a[0], a[1]),
        "sum_squares": lambda: cp.sum_squares(a[0]),
        "kron": lambda: cp.kron(a[0], a[1]),
        "conv": lambda: cp.convolve(a[0], a[1]),
        "cumsum": lambda: cp.cumsum(a[0], axis=p[0] if p else 0),
        "sum_largest": lambda: cp.sum_largest(a[0], int(p[0])),
        "lambda_sum_largest": lambda: cp.lambda_sum_largest(a[0], int(p[0])),
        "geo_mean": lambda: cp.geo_mean(a[0], [Fraction(w) for w in p[0]]),
        "huber": lambda: cp.huber(a[0], float(p[0])),
    }
    if op in simple:
        return simple[op]()
    if op == "power":
        return cp.power(a[0], float(Fraction(p[0])))
    if op in ("sum", "max", "min", "log_sum_exp"):
        fn = {"sum": cp.sum, "max": cp.max, "min": cp.min, "log_sum_exp": cp.log_sum_exp}[op]
        axis = p[0] if p else None
        keep = bool(p[1]) if len(p) > 1 else False
        return fn(a[0], axis=axis, keepdims=keep)
    if op == "pnorm":
        axis = p[0] if p else None
        keep = bool(p[1]) if len(p) > 1 else False
        power = p[2]
        return cp.pnorm(
            a[0], "inf" if power == np.inf else float(Fraction(power)), axis=axis, keepdims=keep
        )
    if op == "index":
        return a[0][p[0]]
    if op == "reshape":
        return cp.reshape(a[0], tuple(p[0]), order=p[1])
    if op == "promote":
        return (
            cp.broadcast_to(a[0], tuple(p[0]))
            if hasattr(cp, "broadcast_to")
            else a[0] + np.zeros(p[0])
        )
    if op == "concatenate":
        return cp.concatenate(a, axis=p[0])
    raise NotExpressibleError(f"the tensor operation {op} has no CVXPY counterpart here")


def tensor_to_cvxpy(analysis: TensorAnalysis, variables: dict[str, Any] | None = None) -> Any:
    """The proof as a DCP-compliant CVXPY expression (``variables`` maps names to existing
    ``cvxpy.Variable`` objects; missing ones are created with matching attributes)."""
    import cvxpy as cp

    if not analysis.proved:
        raise NotExpressibleError("to_cvxpy() needs a DCP proof of convexity or concavity")
    given = dict(variables or {})
    built: dict[int, Any] = {}
    for node in postorder(analysis.root):
        if node.op == "variable":
            built[id(node)] = _variable(cp, node, given)
        elif node.op == "constant":
            built[id(node)] = cp.Constant(np.array(node.value))
    for node in postorder(analysis.root):
        if node.op in ("variable", "constant"):
            continue
        step = analysis.steps[id(node)]
        atom = step.as_atom if step.as_atom is not None else node
        args = [built[id(x)] if id(x) in built else _missing(x) for x in atom.args]
        built[id(node)] = _atom(cp, atom.op, atom, args)
    out = built[id(analysis.root)]
    if not out.is_dcp():
        # e.g. xexp of an argument CVXPY cannot see is nonnegative: our proof stands, but
        # CVXPY has no DCP spelling of it
        raise NotExpressibleError(
            "the proof has no DCP spelling CVXPY accepts (CVXPY rejects the rewritten "
            f"{type(out).__name__})"
        )
    return out


def _missing(node: TExpr) -> Any:
    raise NotExpressibleError(f"a pattern argument ({node.op}) is not part of the derivation")
