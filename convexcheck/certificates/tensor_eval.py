"""The checker's own evaluation of a tensor tree at a point, in high-precision interval arithmetic.

A tensor witness is accepted only if ``f`` is re-evaluated at ``a``, ``b`` and ``t*a + (1-t)*b``
by code that shares nothing with the prover's evaluation (its batched NumPy rows, its float64
interval enclosures, :mod:`convexcheck.tensor.matrix_points`). Here every entry of every node
is an ``mpmath.iv`` interval at :data:`PREC` bits (about 60 digits), held in NumPy object
arrays; each operation is written out again from its mathematical definition, with the
definedness conditions checked on the way (``log`` needs a certainly positive argument, a
denominator must certainly not be 0, ...). A value that cannot be certified raises
:class:`Undefined`, and the witness is then rejected: never accepted on a guess.

Meanings follow CVXPY, whose atoms the trees name, where they are stricter than the real
function: ``power(p)`` is ``x**p`` on all reals only for an even integer ``p >= 2``; otherwise
it needs ``x >= 0`` (``p > 0``) or ``x > 0`` (``p < 0``); ``xexp`` needs ``x >= 0``. The
eigenvalue atoms act on the symmetric part ``(X + X^T)/2``, as the atom rows declare.

Trusted here: mpmath's interval arithmetic (outward rounding of ``+ - * /``, ``exp``, ``log``,
``sqrt``, integer powers); the matrix atoms' trusted step is described in
:mod:`.tensor_matrix`. The interval arrays and the exact integer products of float64 data live
in :mod:`.tensor_iv`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from convexcheck.certificates.tensor_iv import (
    Undefined,
    _between,
    _fraction,
    _hi,
    _imax,
    _imin,
    _lo,
    _map,
    _need,
    _obj,
    _total,
    _wrap,
    exact_matmul,
    exact_quad_form,
    iv,
    precision,
    to_intervals,
)
from convexcheck.certificates.tensor_matrix import MATRIX_OPS, matrix_atom
from convexcheck.tensor.expr import TExpr, postorder

MAX_OPERATIONS = 2_000_000  # scalar operations over the three points; beyond: the rows' enclosures


# ---- elementwise functions ------------------------------------------------------------------
def _log(x: Any) -> Any:
    _need(_lo(x) > 0, "log of a value that is not certainly positive")
    return iv.log(x)


def _xlogx(x: Any) -> Any:
    _need(_lo(x) >= 0, "x*log(x) of a value that is not certainly >= 0")
    if _hi(x) == 0:
        return iv.mpf(0)
    if _lo(x) > 0:
        return x * iv.log(x)
    b = iv.mpf(_hi(x))  # [0, b]: decreasing to -1/e at 1/e, then increasing
    at_b = b * iv.log(b)
    low = -iv.exp(iv.mpf(-1)) if _hi(x) >= mpmath.exp(-1) else at_b
    return _between(min(_lo(low), _lo(at_b)), max(mpmath.mpf(0), _hi(at_b)))


def _pow_nonneg(x: Any, p: Fraction) -> Any:
    """``x**p`` for ``x >= 0`` (``x > 0`` when ``p < 0``), monotone in ``x``."""
    if p.denominator == 1:
        return x ** int(p)
    big_p = _fraction(p)

    def at(end: mpmath.mpf) -> Any:
        if end == 0:
            return iv.mpf(0)
        return iv.exp(big_p * iv.log(iv.mpf(end)))

    lo, hi = at(_lo(x)), at(_hi(x))
    return _between(_lo(lo), _hi(hi)) if p > 0 else _between(_lo(hi), _hi(lo))


def _power(x: Any, p: Fraction) -> Any:
    if p == 0:
        return iv.mpf(1)
    if p == 1:
        return x
    if p.denominator == 1 and p > 0 and p.numerator % 2 == 0:
        return x ** int(p)
    if p > 0:
        _need(_lo(x) >= 0, f"power({p}) of a value that is not certainly >= 0 (CVXPY's domain)")
    else:
        _need(_lo(x) > 0, f"power({p}) of a value that is not certainly > 0 (CVXPY's domain)")
    return _pow_nonneg(x, p)


def _huber(x: Any, m: float) -> Any:
    big_m = iv.mpf(m)
    a = abs(x)
    inner = x**2
    outer = 2 * big_m * a - big_m**2
    if _hi(a) <= m:
        return inner
    if _lo(a) > m:
        return outer
    return _between(min(_lo(inner), _lo(outer)), max(_hi(inner), _hi(outer)))


def _xexp(x: Any) -> Any:
    _need(_lo(x) >= 0, "xexp of a value that is not certainly >= 0 (CVXPY's domain)")
    return x * iv.exp(x)


def _rel_entr(x: Any, y: Any) -> Any:
    _need(_lo(x) >= 0 and _lo(y) > 0, "rel_entr/kl_div needs x >= 0 and y > 0")
    return _xlogx(x) - x * iv.log(y)


UNARY: dict[str, Callable[[Any], Any]] = {
    "exp": iv.exp,
    "log": _log,
    "abs": abs,
    "logistic": lambda x: iv.log(1 + iv.exp(x)),
    "xlogx": _xlogx,
    "xexp": _xexp,
    "neg": lambda x: -x,
}


# ---- reductions -----------------------------------------------------------------------------
def _sum_params(params: tuple) -> tuple[int | None, bool]:
    return (params[0] if params else None), (bool(params[1]) if len(params) > 1 else False)


def _reduce(
    x: np.ndarray, axis: int | None, keepdims: bool, fn: Callable[[list[Any]], Any]
) -> np.ndarray:
    if axis is None:
        out = _wrap(fn(list(np.ravel(x))))
        return out.reshape((1,) * x.ndim) if keepdims else out
    axis %= x.ndim
    moved = np.moveaxis(x, axis, -1)
    rows = moved.reshape((-1, moved.shape[-1]))
    out = _obj(moved.shape[:-1], [fn(list(r)) for r in rows])
    return np.expand_dims(out, axis) if keepdims else out


def _sum_largest(items: list[Any], k: int) -> Any:
    lows = sorted((_lo(v) for v in items), reverse=True)[:k]
    highs = sorted((_hi(v) for v in items), reverse=True)[:k]
    return _between(_lo(_total([iv.mpf(v) for v in lows])), _hi(_total([iv.mpf(v) for v in highs])))


def _pnorm(items: list[Any], p: Any) -> Any:
    if p == np.inf or p == float("inf"):
        out = iv.mpf(0)
        for v in items:
            out = _imax(out, abs(v))
        return out
    p = Fraction(p)
    if p == 1:
        return _total([abs(v) for v in items])
    if p == 2:
        return iv.sqrt(_total([v**2 for v in items]))
    if p > 1:
        s = _total([_pow_nonneg(abs(v), p) for v in items])
    else:
        for v in items:
            _need(_lo(v) > 0 if p < 0 else _lo(v) >= 0, f"pnorm with p = {p} outside its domain")
        s = _total([_pow_nonneg(v, p) for v in items])
    if p < 0:
        _need(_lo(s) > 0, "pnorm with p < 0 of a vector with no positive entry")
    return _pow_nonneg(s, 1 / p)


def _geo_mean(items: list[Any], weights: tuple[Fraction, ...]) -> Any:
    _need(len(items) == len(weights), "geo_mean: the weights do not match the entries")
    used = [(v, Fraction(w)) for v, w in zip(items, weights, strict=True) if Fraction(w) != 0]
    for v, w in used:
        _need(_lo(v) >= 0 and w > 0, "geo_mean needs nonnegative entries and positive weights")

    def at(ends: list[mpmath.mpf]) -> Any:
        if any(e == 0 for e in ends):
            return iv.mpf(0)
        return iv.exp(
            _total([_fraction(w) * iv.log(iv.mpf(e)) for e, (_, w) in zip(ends, used, strict=True)])
        )

    return _between(_lo(at([_lo(v) for v, _ in used])), _hi(at([_hi(v) for v, _ in used])))


# ---- affine structure -----------------------------------------------------------------------
def _matmul(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.ndim == 0 or y.ndim == 0:
        return _map(lambda u, v: u * v, x, y)
    return _wrap(np.matmul(x, y))


def _conv(c: np.ndarray, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    cv, xv = list(np.ravel(c)), list(np.ravel(x))
    m, n = len(cv), len(xv)
    out = [
        _total([cv[k - j] * xv[j] for j in range(max(0, k - m + 1), min(n, k + 1))])
        for k in range(n + m - 1)
    ]
    return _obj((n + m - 1,), out).reshape(shape)


def _kron(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    (m, n), (p, q) = a.shape, b.shape
    out = np.empty((m * p, n * q), dtype=object)
    for i in range(m):
        for j in range(n):
            out[i * p : (i + 1) * p, j * q : (j + 1) * q] = _map(lambda u, v=a[i, j]: v * u, b)
    return out


def _diag_vec(x: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    out = _obj((n, n), [iv.mpf(0)] * (n * n))
    for i in range(n):
        out[i, i] = x[i]
    return out


# ---- one node -------------------------------------------------------------------------------
def _node_value(node: TExpr, args: list[np.ndarray]) -> np.ndarray:
    op, params = node.op, node.params
    if op in UNARY:
        return _map(UNARY[op], args[0])
    if op == "add":
        out = args[0]
        for a in args[1:]:
            out = _map(lambda u, v: u + v, out, a)
        return out
    if op == "multiply":
        return _map(lambda u, v: u * v, args[0], args[1])
    if op == "divide":

        def div(u: Any, v: Any) -> Any:
            _need(_lo(v) > 0 or _hi(v) < 0, "a denominator that is not certainly nonzero")
            return u / v

        return _map(div, args[0], args[1])
    if op == "power":
        return _map(lambda u: _power(u, Fraction(params[0])), args[0])
    if op == "huber":
        return _map(lambda u: _huber(u, float(params[0])), args[0])
    if op in ("maximum", "minimum"):
        pick = _imax if op == "maximum" else _imin
        out = args[0]
        for a in args[1:]:
            out = _map(pick, out, a)
        return out
    if op == "rel_entr":
        return _map(_rel_entr, args[0], args[1])
    if op == "kl_div":
        return _map(lambda u, v: _rel_entr(u, v) - u + v, args[0], args[1])
    if op == "matmul":
        return _matmul(args[0], args[1])
    if op == "sum":
        return _reduce(args[0], *_sum_params(params), _total)
    if op == "cumsum":
        axis = params[0] if params else 0
        return np.cumsum(args[0], axis=axis) if args[0].ndim else args[0]
    if op == "index":
        return _wrap(args[0][params[0]])
    if op == "reshape":
        return np.reshape(args[0], tuple(params[0]), order=params[1] if len(params) > 1 else "C")
    if op == "transpose":
        return args[0].T
    if op == "promote":
        return np.broadcast_to(args[0], tuple(params[0]))
    if op == "concatenate":
        return np.concatenate(args, axis=params[0])
    if op == "diag_vec":
        return _diag_vec(args[0])
    if op == "diag_mat":
        return _obj((args[0].shape[0],), [args[0][i, i] for i in range(args[0].shape[0])])
    if op == "trace":
        return _wrap(_total([args[0][i, i] for i in range(args[0].shape[0])]))
    if op == "conv":
        return _conv(args[0], args[1], node.shape)
    if op == "kron":
        return _kron(args[0], args[1])
    if op == "log_sum_exp":
        return _reduce(
            args[0], *_sum_params(params), lambda xs: iv.log(_total([iv.exp(v) for v in xs]))
        )
    if op in ("max", "min"):
        pick = _imax if op == "max" else _imin

        def fold(xs: list[Any]) -> Any:
            _need(len(xs) > 0, f"{op} of no entries")
            out = xs[0]
            for v in xs[1:]:
                out = pick(out, v)
            return out

        return _reduce(args[0], *_sum_params(params), fold)
    if op == "sum_largest":
        return _wrap(_sum_largest(list(np.ravel(args[0])), int(params[0])))
    if op == "pnorm":
        axis, keep = _sum_params(params)
        p = params[2] if len(params) > 2 else Fraction(2)
        return _reduce(args[0], axis, keep, lambda xs: _pnorm(xs, p))
    if op == "quad_over_lin":
        (y,) = np.ravel(args[1])
        _need(_lo(y) > 0, "quad_over_lin needs a certainly positive denominator")
        return _wrap(_total([v**2 for v in np.ravel(args[0])]) / y)
    if op == "geo_mean":
        return _wrap(_geo_mean(list(np.ravel(args[0])), tuple(params[0])))
    if op == "quad_form":
        x = np.ravel(args[0])
        return _wrap(np.dot(x, np.dot(args[1], x)))
    if op in MATRIX_OPS:
        return _wrap(matrix_atom(node, args))
    raise Undefined(f"the checker has no evaluation for the operation {op!r}")


_STRUCTURAL = frozenset({"neg", "reshape", "transpose", "index", "promote", "concatenate"})


def _exact_value(node: TExpr, args: list[np.ndarray]) -> np.ndarray:
    """The float64 value of a structural node of float64 arguments (no rounding happens)."""
    if node.op == "neg":
        return -args[0]
    out = _node_value(node, [np.asarray(a, dtype=object) for a in args])
    return np.asarray(out, dtype=np.float64)


def evaluate(
    root: TExpr, point: Mapping[str, Any], cache: dict[int, np.ndarray] | None = None
) -> np.ndarray:
    """The value of every entry of ``root`` at ``point`` (name -> array of float64 or Fraction
    entries), as an object array of ``mpmath.iv`` intervals; raises :class:`Undefined`.

    Nodes whose value is float64 data (constants, variables at a float point, and reshapes,
    indexings... of them) are also kept as floats, so that ``A @ x`` and ``quad_form`` of such
    data are computed exactly in integers and rounded once. ``cache`` keeps the constants'
    intervals between calls on the same tree."""
    values: dict[int, np.ndarray] = {}
    floats: dict[int, np.ndarray] = {}
    cache = {} if cache is None else cache
    with precision():
        for node in postorder(root):
            if node.op == "variable":
                raw = np.asarray(point[node.variable.name], dtype=object).reshape(node.shape)  # type: ignore[union-attr]
                if not any(isinstance(v, Fraction) for v in np.ravel(raw)):
                    floats[id(node)] = raw.astype(np.float64)
                out = to_intervals(raw)
            elif node.op == "constant":
                floats[id(node)] = np.asarray(node.value, dtype=np.float64)
                if id(node) not in cache:
                    cache[id(node)] = to_intervals(node.value)
                out = cache[id(node)]
            else:
                exact = [floats.get(id(a)) for a in node.args]
                out = None
                if all(e is not None for e in exact):
                    if node.op in _STRUCTURAL:
                        floats[id(node)] = _exact_value(node, exact)  # type: ignore[arg-type]
                    elif node.op == "matmul" and all(e.ndim >= 1 for e in exact):  # type: ignore[union-attr]
                        out = exact_matmul(*exact)  # type: ignore[misc]
                    elif node.op == "quad_form":
                        out = exact_quad_form(*exact)  # type: ignore[misc]
                if out is None:
                    out = _node_value(node, [values[id(a)] for a in node.args])
            if tuple(out.shape) != tuple(node.shape):
                raise Undefined(
                    f"{node.op} evaluated to shape {out.shape}, its node has {node.shape}"
                )
            values[id(node)] = out
    return values[id(root)]


def operation_count(root: TExpr) -> int:
    """A count of the scalar interval operations :func:`evaluate` does, to cap the work."""
    total = 0
    for node in postorder(root):
        sizes = [a.size for a in node.args]
        if node.op == "matmul" and len(node.args) == 2:
            a = node.args[0]
            inner = a.shape[-1] if a.shape else 1
            total += 2 * max(node.size, 1) * inner
        elif node.op in MATRIX_OPS:
            n = max(node.args[-1].shape or (1,))
            total += 40 * n**3 * (2 if node.op in ("sigma_max", "normNuc") else 1)
        elif node.op == "quad_form":
            total += 2 * node.args[1].size + 2 * node.args[0].size
        elif node.op == "conv":
            total += 2 * sizes[0] * sizes[1]
        elif node.op in ("log_sum_exp", "pnorm", "geo_mean", "logistic", "sum_largest"):
            total += 20 * sum(sizes)
        elif node.op in ("exp", "log", "xlogx", "xexp", "power", "rel_entr", "kl_div"):
            total += 10 * max(node.size, 1)
        else:
            total += max(node.size, 1) + sum(sizes)
    return total


__all__ = ["MAX_OPERATIONS", "evaluate", "operation_count"]
