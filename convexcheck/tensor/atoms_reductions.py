"""Tensor rows for reductions: log_sum_exp, max/min, sum_largest, p-norms, quad_over_lin and
geo_mean (the same row type and composition rule as :mod:`convexcheck.tensor.atoms`).

Enclosures of the nondecreasing reductions use one trick: ``f`` maps the box ``[lo, hi]`` into
``[f(lo), f(hi)]``, and each end is computed with rigorous interval operations at that point,
so the enclosure is tight at points (which a witness check needs) and valid on boxes.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from convexcheck.tensor import elementwise as ew
from convexcheck.tensor import intervals as iv
from convexcheck.tensor.atoms_base import (
    CONCAVE,
    CONVEX,
    Curvature,
    Row,
    batch_axis,
    increasing,
    register,
    sign_bits,
)
from convexcheck.tensor.elementwise import DEC
from convexcheck.tensor.expr import TExpr, reduced_shape
from convexcheck.tensor.intervals import IArray


# ---- reductions --------------------------------------------------------------------------------
def _axis(node: TExpr) -> int | None:
    return node.params[0] if node.params else None


def _keep(node: TExpr) -> bool:
    return bool(node.params[1]) if len(node.params) > 1 else False


def _reduce_shape(shapes, params):
    return reduced_shape(
        shapes[0], params[0] if params else None, bool(params[1]) if len(params) > 1 else False
    )


def _monotone_enclosure(node: TExpr, r: IArray, at_point) -> IArray:
    """``[f(lo), f(hi)]`` for a nondecreasing reduction ``f``, each end computed rigorously at
    that point; an infinite end of any entry makes that end of the enclosure infinite (sound,
    if weak)."""
    shape = node.shape
    if np.any(np.isinf(r.lo)):
        lo = np.full(shape, -np.inf)
    else:
        lo = np.broadcast_to(at_point(IArray.point(r.lo)).lo, shape)
    if np.any(np.isinf(r.hi)):
        hi = np.full(shape, np.inf)
    else:
        hi = np.broadcast_to(at_point(IArray.point(r.hi)).hi, shape)
    return IArray(lo, hi)


def _lse_point(node: TExpr, x: IArray) -> IArray:
    axis, keep = _axis(node), _keep(node)
    m = np.max(x.lo, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    shifted = iv.sub(x, IArray.point(np.broadcast_to(m, x.shape)))
    total = iv.sum(ew.EXP.image_of(shifted), axis=axis, keepdims=True)
    out = iv.add(ew.LOG.image_of(total), IArray.point(m))
    return out if keep else out.reshape(node.shape)


def _lse_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    x = xs[0]
    ax = batch_axis(_axis(node), x.ndim - 1)
    m = np.max(x, axis=ax, keepdims=True)
    with np.errstate(all="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=ax, keepdims=True)) + m
    return out if _keep(node) else np.squeeze(out, axis=ax)


register(
    Row(
        "log_sum_exp",
        "reduction",
        _reduce_shape,
        lambda node, r: CONVEX,
        increasing,
        lambda node, r: _monotone_enclosure(node, r[0], lambda p: _lse_point(node, p)),
        _lse_numpy,
        cvxpy="log_sum_exp",
    )
)


def _extreme_reduction_interval(node: TExpr, r: list[IArray]) -> IArray:
    take = np.max if node.op == "max" else np.min
    axis, keep = _axis(node), _keep(node)
    lo = take(r[0].lo, axis=axis, keepdims=keep)
    hi = take(r[0].hi, axis=axis, keepdims=keep)
    return IArray(np.asarray(lo), np.asarray(hi), np.isinf(lo), np.isinf(hi))


def _extreme_reduction_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    take = np.max if node.op == "max" else np.min
    return take(xs[0], axis=batch_axis(_axis(node), xs[0].ndim - 1), keepdims=_keep(node))


for _name in ("max", "min"):
    register(
        Row(
            _name,
            "reduction",
            _reduce_shape,
            lambda node, r: CONVEX if node.op == "max" else CONCAVE,
            increasing,
            _extreme_reduction_interval,
            _extreme_reduction_numpy,
            cvxpy=_name,
        )
    )


def _sum_largest_point(node: TExpr, x: IArray) -> IArray:
    k = int(node.params[0])
    top = np.sort(np.ravel(x.lo))[::-1][:k]
    return iv.sum(IArray.point(top))


register(
    Row(
        "sum_largest",
        "reduction",
        lambda shapes, params: (),
        lambda node, r: CONVEX,
        increasing,
        lambda node, r: _monotone_enclosure(node, r[0], lambda p: _sum_largest_point(node, p)),
        lambda node, xs: np.sum(
            np.sort(xs[0].reshape((xs[0].shape[0], -1)), axis=1)[:, ::-1][:, : int(node.params[0])],
            axis=1,
        ),
        cvxpy="sum_largest",
    )
)


def _p(node: TExpr) -> Fraction | float:
    """The exponent of a p-norm: a Fraction, or ``inf``."""
    p = node.params[2] if len(node.params) > 2 else 2
    return p


def _pnorm_interval(node: TExpr, r: list[IArray]) -> IArray:
    x = r[0]
    axis, keep = _axis(node), _keep(node)
    p = _p(node)
    if p == np.inf:
        a = ew.ABS.image_of(x)
        lo = np.max(a.lo, axis=axis, keepdims=keep)
        hi = np.max(a.hi, axis=axis, keepdims=keep)
        return IArray(np.asarray(lo), np.asarray(hi), np.isinf(lo), np.isinf(hi))
    p = Fraction(p)
    if p == 1:
        return iv.sum(ew.ABS.image_of(x), axis=axis, keepdims=keep)
    base = ew.ABS.image_of(x) if p > 1 else x
    powered = ew.power(p).image_of(base)
    total = iv.sum(powered, axis=axis, keepdims=keep)
    return ew.power(1 / p).image_of(total)


def _pnorm_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    x = xs[0]
    ax = batch_axis(_axis(node), x.ndim - 1)
    p = _p(node)
    with np.errstate(all="ignore"):
        if p == np.inf:
            return np.max(np.abs(x), axis=ax, keepdims=_keep(node))
        p = float(p)
        if p == 1:
            return np.sum(np.abs(x), axis=ax, keepdims=_keep(node))
        if p == 2:
            return np.sqrt(np.sum(x * x, axis=ax, keepdims=_keep(node)))
        base = np.abs(x) if p > 1 else np.where(x < 0, np.nan, x)
        return np.sum(base**p, axis=ax, keepdims=_keep(node)) ** (1 / p)


def _pnorm_curvature(node: TExpr, r: list[IArray]) -> Curvature:
    p = _p(node)
    return CONVEX if p == np.inf or p >= 1 else CONCAVE


def _pnorm_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    p = _p(node)
    if p != np.inf and p < 1:
        return increasing(node, i, r)
    return sign_bits(r[0])


def _pnorm_domain(node: TExpr, r: list[IArray]) -> str | None:
    p = _p(node)
    if p == np.inf or p >= 1:
        return None
    if p > 0 and not np.all(r[0].lo >= 0):
        return f"pnorm with p = {p} needs a nonnegative argument"
    if p < 0 and not np.all(r[0].positive()):
        return f"pnorm with p = {p} needs a positive argument"
    return None


register(
    Row(
        "pnorm",
        "reduction",
        _reduce_shape,
        _pnorm_curvature,
        _pnorm_mono,
        _pnorm_interval,
        _pnorm_numpy,
        _pnorm_domain,
        cvxpy="pnorm",
        arg_domain=lambda node, i: (
            None if (_p(node) == np.inf or _p(node) >= 1) else (0.0, bool(_p(node) < 0))
        ),
    )
)


def _qol_interval(node: TExpr, r: list[IArray]) -> IArray:
    squares = iv.sum(ew.power(Fraction(2)).image_of(r[0]))
    return iv.mul(squares, iv.reciprocal(r[1].reshape(())))


def _qol_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    if i == 1:
        return np.full(node.args[1].shape, DEC, dtype=np.int8)
    return sign_bits(r[0])


def _qol_domain(node: TExpr, r: list[IArray]) -> str | None:
    return None if np.all(r[1].positive()) else "quad_over_lin needs a positive denominator"


register(
    Row(
        "quad_over_lin",
        "reduction",
        lambda shapes, params: (),
        lambda node, r: CONVEX,
        _qol_mono,
        _qol_interval,
        lambda node, xs: (
            np.sum(xs[0].reshape((xs[0].shape[0], -1)) ** 2, axis=1)
            / xs[1].reshape((xs[1].shape[0],))
        ),
        _qol_domain,
        cvxpy="quad_over_lin",
        arg_domain=lambda node, i: (0.0, True) if i == 1 else None,
    )
)


def _gm_weights(node: TExpr) -> tuple[Fraction, ...]:
    return tuple(Fraction(w) for w in node.params[0])


def _weight_enclosure(w: tuple[Fraction, ...]) -> IArray:
    """Float enclosures of rational weights (1/3 is not a float; exact ones stay points)."""
    wl = np.array([float(q) for q in w])
    exact = np.array([Fraction(float(q)) == q for q in w], dtype=bool)
    lo = np.where(exact, wl, np.nextafter(wl, -np.inf))
    hi = np.where(exact, wl, np.nextafter(wl, np.inf))
    return IArray(lo, hi, np.zeros(len(w), bool), np.zeros(len(w), bool))


def _gm_point(node: TExpr, x: IArray) -> IArray:
    w = _gm_weights(node)
    flat = x.reshape((x.size,))
    logs = ew.LOG.image_of(flat)
    weights = _weight_enclosure(w)
    keep = np.array([q != 0 for q in w])
    if np.any(flat.lo[keep] <= 0):  # a zero entry with positive weight: the mean is 0
        return IArray(np.asarray(0.0), np.asarray(0.0))
    total = iv.sum(iv.mul(logs[keep], weights[keep]))
    return ew.EXP.image_of(total)


def _gm_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    w = np.array([float(q) for q in _gm_weights(node)])
    x = xs[0].reshape((xs[0].shape[0], -1))
    with np.errstate(all="ignore"):
        logs = np.where(w > 0, np.log(np.where(x < 0, np.nan, x)), 0.0)
        return np.exp(np.sum(w * logs, axis=1))


register(
    Row(
        "geo_mean",
        "reduction",
        lambda shapes, params: (),
        lambda node, r: CONCAVE,
        increasing,
        lambda node, r: _monotone_enclosure(node, r[0], lambda p: _gm_point(node, p)),
        _gm_numpy,
        lambda node, r: None if np.all(r[0].lo >= 0) else "geo_mean needs a nonnegative argument",
        cvxpy="geo_mean",
        arg_domain=lambda node, i: (0.0, False),
    )
)


# sum_squares(u): what a pattern reads u @ u (one vector with itself) as; convex, monotone in
# each entry by that entry's sign, never negative
def _sum_squares_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    x = xs[0].reshape((xs[0].shape[0], -1))
    return np.sum(x * x, axis=1)


register(
    Row(
        "sum_squares",
        "reduction",
        lambda shapes, params: (),
        lambda node, r: CONVEX,
        lambda node, i, r: sign_bits(r[0]),
        lambda node, r: iv.sum(ew.power(Fraction(2)).image_of(r[0])),
        _sum_squares_numpy,
        cvxpy="sum_squares",
    )
)
