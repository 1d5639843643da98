"""Tensor rows for matrix atoms: quad_form (convex exactly when its matrix is PSD, decided in
:mod:`convexcheck.tensor.psd`), lambda_max, lambda_sum_largest, log_det, tr_inv, sigma_max,
normNuc and matrix_frac. Eigenvalue atoms act on the symmetric part ``(X + X^T)/2``; their
values at points are checked by :mod:`convexcheck.tensor.matrix_points`.
"""

from __future__ import annotations

import numpy as np

from convexcheck.errors import ConvexcheckInputError
from convexcheck.tensor import elementwise as ew
from convexcheck.tensor import intervals as iv
from convexcheck.tensor.atoms_base import CONCAVE, CONVEX, Curvature, Row, interval_matmul, register
from convexcheck.tensor.atoms_psd import psd_decision
from convexcheck.tensor.elementwise import DEC, INC
from convexcheck.tensor.expr import TExpr
from convexcheck.tensor.intervals import IArray


# ---- matrix rows -------------------------------------------------------------------------------
def _quad_form_curvature(node: TExpr, r: list[IArray]) -> Curvature:
    p = node.args[1]
    if p.op != "constant":
        return (False, False, "quad_form needs a constant matrix")
    psd = psd_decision(p.value)
    nsd = psd_decision(p.value, negate=True)
    cvx = psd.accepted
    ccv = nsd.accepted
    why = "" if cvx or ccv else f"its matrix is neither PSD nor NSD ({psd.reason})"
    return (cvx, ccv, why)


def _quad_form_interval(node: TExpr, r: list[IArray]) -> IArray:
    x, p = node.args
    rx = r[0].reshape((x.size,))
    if p.op == "constant":
        px = iv.mul_const_matmul(np.asarray(p.value), rx)
    else:
        px = interval_matmul(r[1], rx)
    return iv.sum(iv.mul(rx, px))


def _quad_form_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    x, p = xs
    xb = x.reshape((x.shape[0], -1))
    if p.shape[0] == 1:
        return np.einsum("bi,bi->b", xb, xb @ p[0].T)
    return np.einsum("bi,bij,bj->b", xb, p, xb)


def _quad_form_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    if i == 1:
        return np.zeros(node.args[1].shape, dtype=np.int8)
    # with P >= 0 entrywise, d/dx_i x^T P x = 2 (P_sym x)_i has one sign only when every
    # entry of x has that sign (a single nonpositive x_i next to positive ones proves nothing)
    p = node.args[1]
    shape = node.args[0].shape
    if p.op == "constant" and np.all(p.value >= 0):
        if np.all(r[0].lo >= 0):
            return np.full(shape, INC, dtype=np.int8)
        if np.all(r[0].hi <= 0):
            return np.full(shape, DEC, dtype=np.int8)
    return np.zeros(shape, dtype=np.int8)


register(
    Row(
        "quad_form",
        "matrix",
        lambda shapes, params: (),
        _quad_form_curvature,
        _quad_form_mono,
        _quad_form_interval,
        _quad_form_numpy,
        cvxpy="quad_form",
    )
)


def psd_argument_reason(node: TExpr, *, strict: bool = False) -> str | None:
    """``None`` when ``node`` provably lies in the PSD cone over the whole domain."""
    if node.op == "variable":
        info = node.variable
        if info is not None and info.psd:
            return None
        return f"{info.name if info else 'the argument'} is not declared PSD (use PSD=True)"
    if node.op == "constant":
        if node.shape and len(node.shape) == 2:
            d = psd_decision(node.value)
            if d.accepted and (not strict or d.status == "pd"):
                return None
            return f"the constant matrix is not {'PD' if strict else 'PSD'} ({d.reason})"
        return "a non-matrix constant"
    if node.op == "add":
        reasons = [psd_argument_reason(a, strict=strict) for a in node.args]
        bad = [x for x in reasons if x]
        return bad[0] if bad else None
    if node.op == "promote":
        return "a promoted scalar is not a PSD matrix"
    if (
        node.op == "multiply"
        and node.args[0].op == "constant"
        and node.args[0].size == 1
        and float(np.ravel(node.args[0].value)[0]) >= 0
    ):
        return psd_argument_reason(node.args[1], strict=strict)
    return "its argument is not provably PSD (declare the matrix variable PSD=True)"


def _sym(x: np.ndarray) -> np.ndarray:
    return (x + np.swapaxes(x, -1, -2)) / 2


def _eig_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    with np.errstate(all="ignore"):
        x = _sym(xs[0])
        if not np.all(np.isfinite(x)):
            return np.full(x.shape[0], np.nan)
        w = np.linalg.eigvalsh(x)
        if node.op == "lambda_max":
            return w[:, -1]
        if node.op == "log_det":
            return np.where(w[:, 0] > 0, np.sum(np.log(np.where(w > 0, w, 1.0)), axis=1), np.nan)
        if node.op == "lambda_sum_largest":
            return np.sum(w[:, ::-1][:, : int(node.params[0])], axis=1)
        if node.op == "tr_inv":
            return np.where(w[:, 0] > 0, np.sum(1.0 / np.where(w > 0, w, 1.0), axis=1), np.nan)
    raise AssertionError(node.op)


def _svd_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    x = xs[0]
    if not np.all(np.isfinite(x)):
        return np.full(x.shape[0], np.nan)
    s = np.linalg.svd(x, compute_uv=False)
    return s[:, 0] if node.op == "sigma_max" else np.sum(s, axis=1)


def _gershgorin(r: IArray) -> IArray:
    """Rigorous bounds on lambda_max of the symmetric part: >= max diagonal entry,
    <= max absolute row/column sum."""
    n = r.shape[0]
    diag_lo = r.lo[np.arange(n), np.arange(n)]
    a = ew.ABS.image_of(r)
    rows = iv.sum(a, axis=1).hi
    cols = iv.sum(a, axis=0).hi
    hi = float(np.max(np.maximum(rows, cols)))
    lo = float(np.max(diag_lo))
    return IArray(
        np.asarray(lo), np.asarray(max(hi, lo)), np.asarray(np.isinf(lo)), np.asarray(np.isinf(hi))
    )


def _unbounded_above_zero(node: TExpr, r: list[IArray]) -> IArray:
    return IArray(np.asarray(0.0), np.asarray(np.inf), np.asarray(False), np.asarray(True))


def _reals(node: TExpr, r: list[IArray]) -> IArray:
    return IArray(np.asarray(-np.inf), np.asarray(np.inf), np.asarray(True), np.asarray(True))


def _square_matrix_shape(shapes, params):
    s = shapes[0]
    if len(s) != 2 or s[0] != s[1]:
        raise ConvexcheckInputError(f"expected a square matrix, got shape {s}")
    return ()


def _none_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    return np.zeros(node.args[i].shape, dtype=np.int8)


register(
    Row(
        "lambda_max",
        "matrix",
        _square_matrix_shape,
        lambda node, r: CONVEX,
        _none_mono,
        lambda node, r: _gershgorin(r[0]),
        _eig_numpy,
        cvxpy="lambda_max",
        description="largest eigenvalue of the symmetric part (X + X^T)/2",
    )
)


def _lambda_sum_largest_range(node: TExpr, r: list[IArray]) -> IArray:
    """Each of the k largest eigenvalues is at most lambda_max: the sum is <= k * lambda_max."""
    g = _gershgorin(r[0])
    hi = float(np.nextafter(float(g.hi) * int(node.params[0]), np.inf))
    return IArray(np.asarray(-np.inf), np.asarray(hi))


register(
    Row(
        "lambda_sum_largest",
        "matrix",
        lambda shapes, params: _square_matrix_shape(shapes, params),
        lambda node, r: CONVEX,
        _none_mono,
        _lambda_sum_largest_range,
        _eig_numpy,
        cvxpy="lambda_sum_largest",
        description="sum of the k largest eigenvalues of the symmetric part",
    )
)
register(
    Row(
        "log_det",
        "matrix",
        _square_matrix_shape,
        lambda node, r: CONCAVE,
        _none_mono,
        _reals,
        _eig_numpy,
        lambda node, r: psd_argument_reason(node.args[0]),
        cvxpy="log_det",
        arg_domain=lambda node, i: "psd",
        description="log det X on the PSD cone (-inf where singular)",
    )
)
register(
    Row(
        "tr_inv",
        "matrix",
        _square_matrix_shape,
        lambda node, r: CONVEX,
        _none_mono,
        _unbounded_above_zero,
        _eig_numpy,
        lambda node, r: psd_argument_reason(node.args[0]),
        cvxpy="tr_inv",
        arg_domain=lambda node, i: "psd",
        description="trace of the inverse on the PSD cone (+inf where singular)",
    )
)
for _name in ("sigma_max", "normNuc"):
    register(
        Row(
            _name,
            "matrix",
            lambda shapes, params: (),
            lambda node, r: CONVEX,
            _none_mono,
            _unbounded_above_zero,
            _svd_numpy,
            cvxpy=_name,
        )
    )


def _matrix_frac_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    x, p = xs
    b = max(x.shape[0], p.shape[0])
    n = node.args[1].shape[0]
    xm = np.broadcast_to(
        x.reshape((x.shape[0], n, -1)), (b, n, x.reshape((x.shape[0], n, -1)).shape[2])
    )
    pm = np.broadcast_to(_sym(p), (b, n, n))
    with np.errstate(all="ignore"):
        w = np.linalg.eigvalsh(pm)
        ok = w[:, 0] > 0
        safe = np.where(ok[:, None, None], pm, np.eye(n))
        sol = np.linalg.solve(safe, xm)
        val = np.sum(xm * sol, axis=(1, 2))
    return np.where(ok, val, np.nan)


register(
    Row(
        "matrix_frac",
        "matrix",
        lambda shapes, params: (),
        lambda node, r: CONVEX,
        _none_mono,
        _unbounded_above_zero,
        _matrix_frac_numpy,
        lambda node, r: psd_argument_reason(node.args[1]),
        cvxpy="matrix_frac",
        arg_domain=lambda node, i: "psd" if i == 1 else None,
        description="tr(X^T P^-1 X) for P in the PSD cone (+inf where singular)",
    )
)
