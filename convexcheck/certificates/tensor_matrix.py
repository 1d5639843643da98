"""Matrix atoms for the checker's tensor evaluator: eigenvalues, singular values, ``matrix_frac``.

There is no interval arithmetic for eigenvalues in mpmath, so each atom is evaluated at the
box's lower-end matrix (an exact point) with mpmath's ``eigsy``, ``svd_r`` and ``lu_solve`` at
:data:`~.tensor_iv.PREC` bits, and the result is taken to be within :data:`MATRIX_TRUST` times
the matrix's Frobenius norm (far above the error of those routines at that precision: this is
the trusted step). Every matrix in the box differs from the lower-end one by at most the
Frobenius norm of the widths, which moves each eigenvalue of a symmetric matrix, and each
singular value, by at most that much (Weyl's inequality); ``matrix_frac`` gets the perturbation
bound written at its computation. The eigenvalue atoms act on the symmetric part
``(X + X^T)/2``, as the atom rows declare.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

from convexcheck.certificates.tensor_iv import (
    _between,
    _hi,
    _lo,
    _need,
    _obj,
    _symmetric_part,
    _total,
    iv,
    precision,
)
from convexcheck.tensor.expr import TExpr

MAX_MATRIX_N = 60
MATRIX_TRUST = "1e-40"  # relative (to the Frobenius norm) error allowed to mpmath's eigsy/svd/solve
MATRIX_OPS = frozenset(
    {"lambda_max", "lambda_sum_largest", "log_det", "tr_inv", "sigma_max", "normNuc", "matrix_frac"}
)


def _center_radius(x: np.ndarray) -> tuple[Any, Any]:
    """The lower ends as an mpmath matrix (exact) and an upper bound on the Frobenius norm of
    the widths: every matrix in the box is ``center + E`` with ``||E||_F <= radius``."""
    rows, cols = x.shape
    center = mpmath.matrix(rows, cols)
    width2 = iv.mpf(0)
    for i in range(rows):
        for j in range(cols):
            center[i, j] = _lo(x[i, j])
            w = iv.mpf(_hi(x[i, j])) - iv.mpf(_lo(x[i, j]))
            width2 = width2 + w * w
    return center, iv.sqrt(width2)


def _trust(center: Any) -> Any:
    return iv.mpf(MATRIX_TRUST) * iv.mpf(mpmath.mnorm(center, "f")) + iv.mpf("1e-55")


def _spread(values: list[Any], slack: Any) -> list[Any]:
    return [iv.mpf(v) + _between(-_hi(slack), _hi(slack)) for v in sorted(values)]


def _eigenvalues(x: np.ndarray) -> list[Any]:
    center, radius = _center_radius(_symmetric_part(x))
    _need(
        center.rows <= MAX_MATRIX_N,
        f"an eigenvalue atom of size {center.rows} is beyond {MAX_MATRIX_N}",
    )
    ev = mpmath.eigsy(center, eigvals_only=True)
    return _spread([ev[i] for i in range(center.rows)], _trust(center) + radius)


def _singular_values(x: np.ndarray) -> list[Any]:
    x2 = x.reshape((x.shape[0], -1)) if x.ndim == 2 else x.reshape((-1, 1))
    center, radius = _center_radius(x2)
    _need(
        max(center.rows, center.cols) <= MAX_MATRIX_N, "a singular-value atom beyond the size limit"
    )
    sv = mpmath.svd_r(center, compute_uv=False)
    out = _spread([sv[i] for i in range(len(sv))], _trust(center) + radius)
    return [_between(max(_lo(s), mpmath.mpf(0)), _hi(s)) for s in out]


def _positive_spectrum(x: np.ndarray, op: str) -> list[Any]:
    ev = _eigenvalues(x)
    _need(_lo(ev[0]) > 0, f"{op} of a matrix not certainly positive definite")
    return ev


def _matrix_frac(x: np.ndarray, p: np.ndarray) -> Any:
    ev = _positive_spectrum(p, "matrix_frac")
    center_p, eps_p = _center_radius(_symmetric_part(p))
    m_low = iv.mpf(_lo(ev[0]))  # a lower bound on lambda_min over the whole box
    m_center = m_low + eps_p  # ... and on lambda_min(center_p)
    cols = x.reshape((p.shape[0], -1))
    center_x, eps_x = _center_radius(cols)
    value = iv.mpf(0)
    for j in range(center_x.cols):
        col = mpmath.matrix([center_x[i, j] for i in range(center_x.rows)])
        sol = mpmath.lu_solve(center_p, col)
        value = value + iv.mpf(mpmath.fdot(col, sol))
    norm_x = iv.mpf(mpmath.mnorm(center_x, "f"))
    kappa = iv.mpf(mpmath.mnorm(center_p, "f")) / m_center
    solve_err = iv.mpf(MATRIX_TRUST) * (1 + kappa) * norm_x**2 / m_center + iv.mpf("1e-55")
    # any (X, P) in the box is (X0 + D, P0 + E) with ||D||_F <= eps_x, ||E||_F <= eps_p; with
    # m = lambda_min(P0):
    #   |tr(X^T (P0+E)^-1 X) - tr(X^T P0^-1 X)| <= ||X||_F^2 eps_p / (m (m - eps_p))
    # and |tr(X^T P0^-1 X) - tr(X0^T P0^-1 X0)| <= (2 eps_x ||X0||_F + eps_x^2) / m
    moved = (norm_x + eps_x) ** 2 * eps_p / (m_center * m_low) + (
        2 * eps_x * norm_x + eps_x**2
    ) / m_center
    slack = solve_err + moved
    return value + _between(-_hi(slack), _hi(slack))


def matrix_atom(node: TExpr, args: list[np.ndarray]) -> Any:
    op = node.op
    if op == "matrix_frac":
        return _matrix_frac(args[0], args[1])
    if op in ("sigma_max", "normNuc"):
        sv = _singular_values(args[0])
        return sv[-1] if op == "sigma_max" else _total(sv)
    if op == "lambda_max":
        return _eigenvalues(args[0])[-1]
    if op == "lambda_sum_largest":
        return _total(_eigenvalues(args[0])[::-1][: int(node.params[0])])
    ev = _positive_spectrum(args[0], op)
    if op == "log_det":
        return _total([iv.log(v) for v in ev])
    return _total([1 / v for v in ev])  # tr_inv


def matrix_enclosure(node: TExpr, args: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """Float64 bounds ``(lo, hi)`` of a matrix atom over argument boxes given as float arrays
    ``(lo, hi)`` (the fallback of the witness check when the tree is too large for
    :func:`~.tensor_eval.evaluate`)."""
    for lo, hi in args:
        _need(
            bool(np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))),
            f"{node.op}: an unbounded argument",
        )
    with precision():
        boxes = [
            _obj(
                lo.shape,
                [
                    _between(mpmath.mpf(float(u)), mpmath.mpf(float(v)))
                    for u, v in zip(np.ravel(lo), np.ravel(hi), strict=True)
                ],
            )
            for lo, hi in args
        ]
        value = matrix_atom(node, boxes)
        low, high = float(_lo(value)), float(_hi(value))  # round to nearest, then one step out
    return float(np.nextafter(low, -np.inf)), float(np.nextafter(high, np.inf))


__all__ = ["MATRIX_OPS", "MATRIX_TRUST", "MAX_MATRIX_N", "matrix_atom", "matrix_enclosure"]
