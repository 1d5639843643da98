"""A labelled corpus of vector and matrix CVXPY expressions, for the shape-aware tensor engine.

Each :class:`CorpusEntry` holds a CVXPY expression built fresh by :func:`build_corpus` (float64
data from ``np.random.default_rng(seed)``, one seed per entry, so an entry does not depend on
its neighbours), its mathematical curvature on the variables' domains (given by variable
attributes: ``pos``, ``nonneg``, ``symmetric``, ``PSD``) and what CVXPY 1.9 says about it.

``truth`` is one of ``affine``, ``convex``, ``concave``, ``neither``; a vector- or
matrix-valued expression is convex when every entry is. ``cvxpy_dcp`` is
``expression.is_dcp()`` as recorded with CVXPY 1.9.3. ``witness_hint`` (for some ``neither``
entries) holds pairs of points ``(a, b)``, each a mapping from variable name to value, whose
midpoints break Jensen's inequality; ``tests/corpus/tensor_numeric_labels.py`` tries them
before its random search. Quadratic forms use integer matrices, so "is P PSD" has an exact
answer: ``B.T @ B`` for an integer ``B`` is PSD, and a matrix with a positive and a negative
diagonal entry is indefinite (``e_i' P e_i`` has either sign).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cvxpy as cp
import numpy as np

TRUTHS = ("affine", "convex", "concave", "neither")

Point = dict[str, Any]


@dataclass(frozen=True)
class CorpusEntry:
    name: str
    expression: Any
    truth: str
    cvxpy_dcp: bool
    source: str
    matrix: bool = False  # a matrix variable or a matrix atom (lambda_max, log_det, kron...)
    witness_hint: tuple[tuple[Point, Point], ...] = ()


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _regression(m: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = _rng(seed)
    return rng.normal(size=(m, n)), rng.normal(size=m)


def _int_psd(n: int, seed: int) -> np.ndarray:
    """``B.T @ B`` for an integer ``B``: exactly PSD, every entry an exact float64 integer."""
    b = _rng(seed).integers(-3, 4, size=(n + 1, n))
    return (b.T @ b).astype(np.float64)


def _int_indefinite(n: int, seed: int) -> np.ndarray:
    """A symmetric integer matrix with ``P[0, 0] = 2`` and ``P[1, 1] = -3``: indefinite."""
    c = _rng(seed).integers(-2, 3, size=(n, n))
    p = c + c.T
    p[0, 0], p[1, 1] = 2, -3
    return p.astype(np.float64)


def _unit(n: int, i: int, scale: float = 1.0) -> np.ndarray:
    e = np.zeros(n)
    e[i] = scale
    return e


def _regression_entries() -> list[CorpusEntry]:
    out = []
    a, b = _regression(40, 10, 1)
    x = cp.Variable(10, name="x")
    out.append(
        CorpusEntry(
            "least_squares_m40_n10",
            cp.sum_squares(a @ x - b),
            "convex",
            True,
            "ordinary least squares, the basic regression objective",
        )
    )
    a, b = _regression(50, 20, 2)
    x = cp.Variable(20, name="x")
    out.append(
        CorpusEntry(
            "lasso_m50_n20",
            cp.sum_squares(a @ x - b) + 0.5 * cp.norm1(x),
            "convex",
            True,
            "lasso: sparse regression with an l1 penalty",
        )
    )
    a, b = _regression(100, 1000, 3)
    x = cp.Variable(1000, name="x")
    out.append(
        CorpusEntry(
            "lasso_m100_n1000",
            cp.sum_squares(a @ x - b) + 2.0 * cp.norm1(x),
            "convex",
            True,
            "lasso in the wide regime (more features than samples), the size it is used at",
        )
    )
    a, b = _regression(30, 10, 4)
    x = cp.Variable(10, name="x")
    out.append(
        CorpusEntry(
            "ridge_m30_n10",
            cp.sum_squares(a @ x - b) + 0.1 * cp.sum_squares(x),
            "convex",
            True,
            "ridge (Tikhonov) regression",
        )
    )
    a, b = _regression(30, 10, 5)
    x = cp.Variable(10, name="x")
    out.append(
        CorpusEntry(
            "ridge_stacked_norm2_m30_n10",
            cp.norm2(cp.hstack([a @ x - b, 0.3 * x])),
            "convex",
            True,
            "ridge written as one stacked residual (hstack of two affine vectors) under norm2",
        )
    )
    a, b = _regression(40, 15, 6)
    x = cp.Variable(15, name="x")
    out.append(
        CorpusEntry(
            "elastic_net_m40_n15",
            cp.sum_squares(a @ x - b) + 0.3 * cp.norm1(x) + 0.2 * cp.sum_squares(x),
            "convex",
            True,
            "elastic net: l1 plus l2 penalised least squares",
        )
    )
    a, b = _regression(40, 8, 7)
    x = cp.Variable(8, name="x")
    out.append(
        CorpusEntry(
            "huber_regression_m40_n8",
            cp.sum(cp.huber(a @ x - b, 1.0)),
            "convex",
            True,
            "robust regression with the Huber loss",
        )
    )
    rng = _rng(8)
    xd, y = rng.normal(size=(50, 10)), rng.integers(0, 2, size=50).astype(np.float64)
    w = cp.Variable(10, name="w")
    out.append(
        CorpusEntry(
            "logistic_regression_m50_n10",
            cp.sum(cp.logistic(xd @ w)) - y @ (xd @ w),
            "convex",
            True,
            "logistic regression negative log-likelihood with the logistic atom",
        )
    )
    w = cp.Variable(10, name="w")
    out.append(
        CorpusEntry(
            "logistic_softplus_spelled_m50_n10",
            cp.sum(cp.log(1 + cp.exp(xd @ w))) - y @ (xd @ w),
            "convex",
            False,
            "logistic regression spelled log(1 + exp(z)): convex, but log of convex is not DCP",
        )
    )
    rng = _rng(9)
    xd, y = rng.normal(size=(40, 6)), np.where(rng.random(40) < 0.5, -1.0, 1.0)
    w = cp.Variable(6, name="w")
    out.append(
        CorpusEntry(
            "svm_hinge_m40_n6",
            cp.sum(cp.pos(1 - cp.multiply(y, xd @ w))) + 0.1 * cp.sum_squares(w),
            "convex",
            True,
            "soft-margin support vector machine: hinge loss plus l2 regulariser",
        )
    )
    a, b = _regression(40, 5, 10)
    x = cp.Variable(5, name="x")
    r = a @ x - b
    out.append(
        CorpusEntry(
            "quantile_regression_tau03_m40_n5",
            cp.sum(cp.maximum(0.3 * r, -0.7 * r)),
            "convex",
            True,
            "quantile (pinball) loss regression at the 0.3 quantile",
        )
    )
    rng = _rng(11)
    xd, y = 0.3 * rng.normal(size=(30, 5)), rng.poisson(2.0, size=30).astype(np.float64)
    w = cp.Variable(5, name="w")
    out.append(
        CorpusEntry(
            "poisson_regression_m30_n5",
            cp.sum(cp.exp(xd @ w)) - y @ (xd @ w),
            "convex",
            True,
            "Poisson regression (log link) negative log-likelihood",
        )
    )
    a, b = _regression(30, 10, 12)
    x = cp.Variable(10, name="x")
    out.append(
        CorpusEntry(
            "norm2_residual_m30_n10",
            cp.norm2(a @ x - b),
            "convex",
            True,
            "Euclidean norm of a residual (square-root lasso data term)",
        )
    )
    a, b = _regression(30, 10, 13)
    x = cp.Variable(10, name="x")
    out.append(
        CorpusEntry(
            "norm_inf_residual_m30_n10",
            cp.norm_inf(a @ x - b),
            "convex",
            True,
            "Chebyshev (minimax) approximation",
        )
    )
    x = cp.Variable(20, name="x")
    out.append(
        CorpusEntry("pnorm3_n20", cp.pnorm(x, 3), "convex", True, "p-norm with p = 3 (pnorm atom)")
    )
    a, b = _regression(30, 8, 14)
    x = cp.Variable(8, name="x")
    out.append(
        CorpusEntry(
            "sum_squares_pow_half_spelled_m30_n8",
            cp.sum(cp.square(a @ x - b)) ** 0.5,
            "convex",
            False,
            "residual norm spelled (sum of squares)**0.5: convex, sqrt of convex is not DCP",
        )
    )
    return out


def _broadcasting_entries() -> list[CorpusEntry]:
    xd = _rng(20).normal(size=(20, 5))
    w = cp.Variable(5, name="w")
    x50 = cp.Variable(50, name="x")
    x10 = cp.Variable(10, name="x")
    return [
        CorpusEntry(
            "one_plus_exp_vector_m20_n5",
            1 + cp.exp(xd @ w),
            "convex",
            True,
            "scalar 1 broadcast against a vector of exponentials (inside the softplus)",
        ),
        CorpusEntry(
            "sum_relu_n50",
            cp.sum(cp.maximum(x50, 0)),
            "convex",
            True,
            "sum of ReLUs: the scalar 0 promoted to the vector's shape in maximum",
        ),
        CorpusEntry(
            "scalar_promotion_x_plus_1_n10",
            x10 + 1,
            "affine",
            True,
            "scalar promotion in an affine vector expression",
        ),
    ]


def _quadratic_entries() -> list[CorpusEntry]:
    out = []
    x = cp.Variable(6, name="x")
    out.append(
        CorpusEntry(
            "quad_form_int_psd_n6",
            cp.quad_form(x, _int_psd(6, 30)),
            "convex",
            True,
            "quadratic form with an exactly PSD integer matrix B'B (QP objective)",
        )
    )
    x = cp.Variable(6, name="x")
    out.append(
        CorpusEntry(
            "quad_form_int_nsd_n6",
            cp.quad_form(x, -_int_psd(6, 31)),
            "concave",
            True,
            "quadratic form with an exactly negative semidefinite integer matrix -B'B",
        )
    )
    p = _int_indefinite(5, 32)
    x = cp.Variable(5, name="x")
    out.append(
        CorpusEntry(
            "quad_form_int_indefinite_n5",
            cp.quad_form(x, p),
            "neither",
            False,
            "quadratic form with an indefinite integer matrix (nonconvex QP)",
            witness_hint=(
                ({"x": _unit(5, 0)}, {"x": _unit(5, 0, -1.0)}),
                ({"x": _unit(5, 1)}, {"x": _unit(5, 1, -1.0)}),
            ),
        )
    )
    p = _int_psd(5, 33)
    x = cp.Variable(5, name="x")
    out.append(
        CorpusEntry(
            "quad_written_out_psd_n5",
            x @ p @ x,
            "convex",
            True,
            "quadratic form written x @ P @ x with integer PSD P (CVXPY turns it into quad_form)",
        )
    )
    p = _int_indefinite(4, 34)
    x = cp.Variable(4, name="x")
    out.append(
        CorpusEntry(
            "quad_written_out_indefinite_n4",
            x @ p @ x,
            "neither",
            False,
            "quadratic form written x @ P @ x with an indefinite integer P",
            witness_hint=(
                ({"x": _unit(4, 0)}, {"x": _unit(4, 0, -1.0)}),
                ({"x": _unit(4, 1)}, {"x": _unit(4, 1, -1.0)}),
            ),
        )
    )
    p = _int_psd(6, 35)
    x = cp.Variable(6, name="x")
    out.append(
        CorpusEntry(
            "quad_multiply_spelled_psd_n6",
            cp.sum(cp.multiply(x, p @ x)),
            "convex",
            False,
            "x'Px with integer PSD P spelled sum(x * (P x)): a product of two affine terms",
        )
    )
    x = cp.Variable(10, name="x")
    out.append(
        CorpusEntry(
            "self_inner_product_spelled_n10",
            x @ x,
            "convex",
            False,
            "squared norm spelled x @ x: CVXPY rejects the product of two variables",
        )
    )
    x, t = cp.Variable(8, name="x"), cp.Variable(pos=True, name="t")
    out.append(
        CorpusEntry(
            "quad_over_lin_n8",
            cp.quad_over_lin(x, t),
            "convex",
            True,
            "quad_over_lin, the perspective of the squared norm (SOCP modelling)",
        )
    )
    x, t = cp.Variable(8, name="x"), cp.Variable(pos=True, name="t")
    out.append(
        CorpusEntry(
            "sum_squares_over_t_spelled_n8",
            cp.sum_squares(x) / t,
            "convex",
            False,
            "quad_over_lin spelled ||x||^2 / t: CVXPY calls it quasiconvex, not DCP",
        )
    )
    return out


def _matrix_entries() -> list[CorpusEntry]:
    out = []
    s = cp.Variable((4, 4), PSD=True, name="S")
    out.append(
        CorpusEntry(
            "log_det_psd_n4",
            cp.log_det(s),
            "concave",
            True,
            "log-determinant (D-optimal design, max-entropy Gaussian)",
            matrix=True,
        )
    )
    s = cp.Variable((4, 4), PSD=True, name="S")
    out.append(
        CorpusEntry(
            "neg_log_det_psd_n4",
            -cp.log_det(s),
            "convex",
            True,
            "negative log-determinant barrier",
            matrix=True,
        )
    )
    rng = _rng(40)
    g = rng.normal(size=(30, 5))
    c = g.T @ g / 30
    s = cp.Variable((5, 5), PSD=True, name="S")
    out.append(
        CorpusEntry(
            "graphical_lasso_n5",
            -cp.log_det(s) + cp.trace(c @ s) + 0.1 * cp.sum(cp.abs(s)),
            "convex",
            True,
            "graphical lasso: sparse inverse covariance estimation",
            matrix=True,
        )
    )
    s = cp.Variable((5, 5), symmetric=True, name="S")
    out.append(
        CorpusEntry(
            "lambda_max_sym_n5",
            cp.lambda_max(s),
            "convex",
            True,
            "largest eigenvalue of a symmetric matrix (SDP, eigenvalue optimisation)",
            matrix=True,
        )
    )
    s = cp.Variable((5, 5), symmetric=True, name="S")
    out.append(
        CorpusEntry(
            "lambda_min_sym_n5",
            cp.lambda_min(s),
            "concave",
            True,
            "smallest eigenvalue of a symmetric matrix",
            matrix=True,
        )
    )
    s = cp.Variable((4, 4), symmetric=True, name="S")
    out.append(
        CorpusEntry(
            "eigenvalue_spread_sym_n4",
            cp.lambda_max(s) - cp.lambda_min(s),
            "convex",
            True,
            "eigenvalue spread lambda_max - lambda_min (condition-number style objectives)",
            matrix=True,
        )
    )
    s = cp.Variable((6, 6), symmetric=True, name="S")
    out.append(
        CorpusEntry(
            "lambda_sum_largest_2_sym_n6",
            cp.lambda_sum_largest(s, 2),
            "convex",
            True,
            "sum of the two largest eigenvalues (Ky Fan)",
            matrix=True,
        )
    )
    x = cp.Variable((4, 6), name="X")
    out.append(
        CorpusEntry(
            "nuclear_norm_4x6",
            cp.normNuc(x),
            "convex",
            True,
            "nuclear norm (matrix completion, low-rank regularisation)",
            matrix=True,
        )
    )
    x = cp.Variable((5, 3), name="X")
    out.append(
        CorpusEntry(
            "sigma_max_5x3",
            cp.sigma_max(x),
            "convex",
            True,
            "spectral norm (largest singular value)",
            matrix=True,
        )
    )
    s = cp.Variable((6, 6), symmetric=True, name="S")
    out.append(
        CorpusEntry(
            "trace_sym_n6",
            cp.trace(s),
            "affine",
            True,
            "trace of a symmetric matrix variable (SDP objective)",
            matrix=True,
        )
    )
    s = cp.Variable((4, 4), PSD=True, name="S")
    out.append(
        CorpusEntry(
            "tr_inv_psd_n4",
            cp.tr_inv(s),
            "convex",
            True,
            "trace of the inverse (A-optimal experiment design)",
            matrix=True,
        )
    )
    x, s = cp.Variable(4, name="x"), cp.Variable((4, 4), PSD=True, name="S")
    out.append(
        CorpusEntry(
            "matrix_frac_n4",
            cp.matrix_frac(x, s),
            "convex",
            True,
            "matrix fractional function x' S^-1 x, jointly convex",
            matrix=True,
        )
    )
    a = _rng(41).normal(size=(5, 5))
    x = cp.Variable((5, 5), name="X")
    out.append(
        CorpusEntry(
            "trace_a_x_5x5",
            cp.trace(a @ x),
            "affine",
            True,
            "trace inner product <A', X> (linear matrix objective)",
            matrix=True,
        )
    )
    x = cp.Variable(6, name="x")
    out.append(
        CorpusEntry(
            "lambda_max_diag_n6",
            cp.lambda_max(cp.diag(x)),
            "convex",
            True,
            "lambda_max of diag(x), i.e. max(x) through a matrix atom",
            matrix=True,
        )
    )
    a, b = _rng(42).normal(size=(6, 4)), _rng(43).normal(size=(6, 3))
    x = cp.Variable((4, 3), name="X")
    out.append(
        CorpusEntry(
            "matrix_least_squares_fro_6x4x3",
            cp.sum_squares(a @ x - b) + 0.1 * cp.norm(x, "fro"),
            "convex",
            True,
            "multi-output least squares with a Frobenius-norm penalty",
            matrix=True,
        )
    )
    x, y = cp.Variable(4, name="x"), cp.Variable(4, name="y")
    out.append(
        CorpusEntry(
            "vstack_rows_n4",
            cp.vstack([x, 2 * y - 1]),
            "affine",
            True,
            "vstack of two affine vectors into a 2 x 4 matrix",
            matrix=True,
        )
    )
    x = cp.Variable((3, 4), name="X")
    out.append(CorpusEntry("transpose_3x4", x.T, "affine", True, "matrix transpose", matrix=True))
    x = cp.Variable((3, 4), name="X")
    out.append(
        CorpusEntry(
            "reshape_3x4_to_12",
            cp.reshape(x, (12,), order="F"),
            "affine",
            True,
            "reshape (vec) of a matrix variable",
            matrix=True,
        )
    )
    x = cp.Variable((4, 5), name="X")
    out.append(
        CorpusEntry(
            "column_sums_4x5",
            cp.sum(x, axis=0),
            "affine",
            True,
            "axis reduction: column sums (transport / assignment constraints)",
            matrix=True,
        )
    )
    a = _rng(44).integers(-2, 3, size=(2, 2)).astype(np.float64)
    x = cp.Variable((3, 3), name="X")
    out.append(
        CorpusEntry(
            "kron_const_2x2_var_3x3",
            cp.kron(a, x),
            "affine",
            True,
            "Kronecker product of a constant with a matrix variable",
            matrix=True,
        )
    )
    x = cp.Variable((3, 3), name="X")
    out.append(
        CorpusEntry(
            "kron_norm_fro_2x2_3x3",
            cp.norm(cp.kron(a, x) - np.eye(6), "fro"),
            "convex",
            True,
            "Frobenius distance of a Kronecker-structured matrix to the identity",
            matrix=True,
        )
    )
    return out


def _signal_entries() -> list[CorpusEntry]:
    c = np.array([0.25, 0.5, 0.25])
    x = cp.Variable(10, name="x")
    y = np.convolve(c, _rng(50).normal(size=30))
    x30 = cp.Variable(30, name="x")
    x6 = cp.Variable(6, name="x")
    return [
        CorpusEntry(
            "convolve_c3_n10",
            cp.convolve(c, x),
            "affine",
            True,
            "1-D convolution with a fixed kernel (FIR filter)",
        ),
        CorpusEntry(
            "deconvolution_l1_n30",
            cp.norm1(cp.convolve(c, x30) - y) + 0.1 * cp.norm1(cp.diff(x30)),
            "convex",
            True,
            "l1 deconvolution with a total-variation penalty",
        ),
        CorpusEntry(
            "slice_x_1_3_n6",
            x6[1:3],
            "affine",
            True,
            "indexing / slicing a vector variable",
        ),
    ]


def _elementwise_entries() -> list[CorpusEntry]:
    out = []
    x = cp.Variable(20, name="x")
    out.append(
        CorpusEntry(
            "log_sum_exp_n20",
            cp.log_sum_exp(x),
            "convex",
            True,
            "log-sum-exp (softmax normaliser, geometric programming)",
        )
    )
    a, b = _regression(15, 6, 60)
    x = cp.Variable(6, name="x")
    out.append(
        CorpusEntry(
            "log_sum_exp_spelled_m15_n6",
            cp.log(cp.sum(cp.exp(a @ x + b))),
            "convex",
            False,
            "log-sum-exp of an affine map spelled log(sum(exp(.))): log of convex is not DCP",
        )
    )
    x = cp.Variable(5, nonneg=True, name="x")
    out.append(
        CorpusEntry(
            "geo_mean_nonneg_n5",
            cp.geo_mean(x),
            "concave",
            True,
            "geometric mean (log-optimal portfolios, Nash bargaining)",
        )
    )
    x = cp.Variable(5, pos=True, name="x")
    out.append(
        CorpusEntry(
            "geo_mean_spelled_pos_n5",
            cp.exp(cp.sum(cp.log(x)) / 5),
            "concave",
            False,
            "geometric mean spelled exp(mean(log x)): concave, exp of concave is not DCP",
        )
    )
    x = cp.Variable(6, pos=True, name="x")
    out.append(
        CorpusEntry(
            "harmonic_mean_pos_n6",
            cp.harmonic_mean(x),
            "concave",
            True,
            "harmonic mean (parallel resistances, throughput fairness)",
        )
    )
    x = cp.Variable(30, name="x")
    out.append(
        CorpusEntry(
            "sum_largest_3_n30",
            cp.sum_largest(x, 3),
            "convex",
            True,
            "sum of the 3 largest entries (CVaR-style risk)",
        )
    )
    x = cp.Variable(1000, name="x")
    out.append(
        CorpusEntry(
            "sum_largest_10_n1000",
            cp.sum_largest(x, 10),
            "convex",
            True,
            "sum of the 10 largest entries over 1000 scenarios (CVaR at scale)",
        )
    )
    x = cp.Variable(20, name="x")
    out.append(CorpusEntry("max_n20", cp.max(x), "convex", True, "max of a vector (minimax)"))
    x = cp.Variable(20, name="x")
    out.append(CorpusEntry("min_n20", cp.min(x), "concave", True, "min of a vector (maximin)"))
    x = cp.Variable(10, nonneg=True, name="x")
    out.append(
        CorpusEntry(
            "entropy_nonneg_n10",
            cp.sum(cp.entr(x)),
            "concave",
            True,
            "Shannon entropy (maximum-entropy distributions)",
        )
    )
    x, y = cp.Variable(8, pos=True, name="x"), cp.Variable(8, pos=True, name="y")
    out.append(
        CorpusEntry(
            "kl_div_pos_n8",
            cp.sum(cp.kl_div(x, y)),
            "convex",
            True,
            "Kullback-Leibler divergence, jointly convex",
        )
    )
    x, y = cp.Variable(8, pos=True, name="x"), cp.Variable(8, pos=True, name="y")
    out.append(
        CorpusEntry(
            "rel_entr_pos_n8",
            cp.sum(cp.rel_entr(x, y)),
            "convex",
            True,
            "relative entropy x log(x/y), jointly convex",
        )
    )
    x, y = cp.Variable(6, pos=True, name="x"), cp.Variable(6, pos=True, name="y")
    out.append(
        CorpusEntry(
            "rel_entr_spelled_pos_n6",
            cp.sum(cp.multiply(x, cp.log(x) - cp.log(y))),
            "convex",
            False,
            "relative entropy spelled x * (log x - log y): jointly convex, a product for CVXPY",
        )
    )
    x = cp.Variable(10, pos=True, name="x")
    out.append(
        CorpusEntry(
            "inv_pos_sum_n10",
            cp.sum(cp.inv_pos(x)),
            "convex",
            True,
            "sum of reciprocals (resource allocation, delay models)",
        )
    )
    x = cp.Variable(10, nonneg=True, name="x")
    out.append(
        CorpusEntry(
            "power3_nonneg_n10",
            cp.sum(cp.power(x, 3)),
            "convex",
            True,
            "cubic cost on a nonnegative variable",
        )
    )
    x = cp.Variable(10, nonneg=True, name="x")
    out.append(
        CorpusEntry(
            "power_half_nonneg_n10",
            cp.sum(cp.power(x, 0.5)),
            "concave",
            True,
            "sum of square roots (diminishing-returns utility)",
        )
    )
    x = cp.Variable(8, nonneg=True, name="x")
    out.append(
        CorpusEntry(
            "xexp_nonneg_n8",
            cp.sum(cp.xexp(x)),
            "convex",
            True,
            "x exp(x) on nonnegative x (xexp atom)",
        )
    )
    x = cp.Variable(10, name="x")
    out.append(
        CorpusEntry(
            "sqrt_sum_squares_spelled_n10",
            cp.sqrt(cp.sum_squares(x)),
            "convex",
            False,
            "Euclidean norm spelled sqrt(sum_squares(x)): sqrt of convex is not DCP",
        )
    )
    x = cp.Variable(10, pos=True, name="x")
    out.append(
        CorpusEntry(
            "neg_entropy_spelled_pos_n10",
            cp.sum(cp.multiply(x, cp.log(x))),
            "convex",
            False,
            "negative entropy spelled sum(x * log x): convex, a product for CVXPY",
        )
    )
    x = cp.Variable(10, name="x")
    out.append(
        CorpusEntry(
            "sum_sqrt_square_spelled_n10",
            cp.sum(cp.sqrt(cp.square(x))),
            "convex",
            False,
            "l1 norm spelled sum(sqrt(x^2)): |x| is convex, sqrt of convex is not DCP",
        )
    )
    x, y = cp.Variable(5, pos=True, name="x"), cp.Variable(5, pos=True, name="y")
    out.append(
        CorpusEntry(
            "sqrt_product_spelled_pos_n5",
            cp.sum(cp.sqrt(cp.multiply(x, y))),
            "concave",
            False,
            "sum of sqrt(x*y) (2-term geometric means) spelled with a product: concave",
        )
    )
    x = cp.Variable(8, pos=True, name="x")
    out.append(
        CorpusEntry(
            "log_of_inv_pos_spelled_n8",
            -cp.sum(cp.log(cp.inv_pos(x))),
            "concave",
            False,
            "sum(log x) spelled -log(1/x): concave, log of convex is not DCP",
        )
    )
    return out


def _nonconvex_entries() -> list[CorpusEntry]:
    out = []
    x, y = cp.Variable(5, name="x"), cp.Variable(5, name="y")
    ones = np.ones(5)
    out.append(
        CorpusEntry(
            "bilinear_xy_n5",
            cp.sum(cp.multiply(x, y)),
            "neither",
            False,
            "bilinear x'y (pooling, bilinear programs): along (t d, t d) convex, (t d, -t d) "
            "concave",
            witness_hint=(
                ({"x": ones, "y": ones}, {"x": -ones, "y": -ones}),
                ({"x": ones, "y": -ones}, {"x": -ones, "y": ones}),
            ),
        )
    )
    x, y = cp.Variable(4, name="x"), cp.Variable(4, name="y")
    out.append(
        CorpusEntry(
            "sum_squares_difference_n4",
            cp.sum_squares(x) - cp.sum_squares(y),
            "neither",
            False,
            "difference of convex quadratics (DC programming): convex in x, concave in y",
        )
    )
    x = cp.Variable(2, name="x")
    out.append(
        CorpusEntry(
            "exp_difference_n2",
            cp.exp(x[0]) - cp.exp(x[1]),
            "neither",
            False,
            "difference of exponentials: convex in x[0], concave in x[1]",
        )
    )
    x = cp.Variable(3, name="x")
    out.append(
        CorpusEntry(
            "norm2_minus_norm1_n3",
            cp.norm2(x) - cp.norm1(x),
            "neither",
            False,
            "l2 - l1 (sparsity-promoting DC penalty): strictly convex on x = (1+s, 1-s, 0), "
            "concave kink on x = (1, s, 0) at s = 0",
            witness_hint=(
                ({"x": np.array([1.0, -1.0, 0.0])}, {"x": np.array([1.0, 1.0, 0.0])}),
                ({"x": np.array([1.5, 0.5, 0.0])}, {"x": np.array([0.5, 1.5, 0.0])}),
            ),
        )
    )
    x = cp.Variable(2, pos=True, name="x")
    out.append(
        CorpusEntry(
            "product_x0_x1_pos",
            cp.multiply(x[0], x[1]),
            "neither",
            False,
            "product x0*x1 on the positive orthant: convex along (t, t), concave along (t, 2-t)",
            witness_hint=(
                ({"x": np.array([0.5, 0.5])}, {"x": np.array([1.5, 1.5])}),
                ({"x": np.array([0.5, 1.5])}, {"x": np.array([1.5, 0.5])}),
            ),
        )
    )
    x = cp.Variable(3, pos=True, name="x")
    out.append(
        CorpusEntry(
            "log_plus_square_pos_n3",
            cp.sum(cp.log(x)) + cp.sum_squares(x),
            "neither",
            False,
            "log x + x^2 on x > 0: second derivative 2 - 1/x^2 changes sign at 1/sqrt(2)",
            witness_hint=(
                ({"x": np.full(3, 0.05)}, {"x": np.full(3, 0.25)}),
                ({"x": np.full(3, 2.0)}, {"x": np.full(3, 4.0)}),
            ),
        )
    )
    x, y = cp.Variable(pos=True, name="x"), cp.Variable(pos=True, name="y")
    out.append(
        CorpusEntry(
            "exp_log_product_spelled_pos",
            cp.exp(cp.log(x) + cp.log(y)),
            "neither",
            False,
            "the product xy spelled exp(log x + log y) (geometric-programming monomial)",
            witness_hint=(
                ({"x": 0.5, "y": 0.5}, {"x": 1.5, "y": 1.5}),
                ({"x": 0.5, "y": 1.5}, {"x": 1.5, "y": 0.5}),
            ),
        )
    )
    s = cp.Variable((3, 3), symmetric=True, name="S")
    out.append(
        CorpusEntry(
            "lambda_max_plus_lambda_min_sym_n3",
            cp.lambda_max(s) + cp.lambda_min(s),
            "neither",
            False,
            "lambda_max + lambda_min: on diag(t, 1, -1) it is 0 for |t| <= 1 and slope 1 "
            "outside, a concave kink at -1 and a convex one at 1",
            matrix=True,
            witness_hint=(
                ({"S": np.diag([-2.0, 1.0, -1.0])}, {"S": np.diag([0.0, 1.0, -1.0])}),
                ({"S": np.diag([0.0, 1.0, -1.0])}, {"S": np.diag([2.0, 1.0, -1.0])}),
            ),
        )
    )
    x, y = cp.Variable((3, 3), name="X"), cp.Variable((3, 3), name="Y")
    eye = np.eye(3)
    out.append(
        CorpusEntry(
            "trace_bilinear_xy_3x3",
            cp.trace(x @ y),
            "neither",
            False,
            "bilinear matrix product trace(XY) (bilinear matrix inequalities)",
            matrix=True,
            witness_hint=(
                ({"X": eye, "Y": eye}, {"X": -eye, "Y": -eye}),
                ({"X": eye, "Y": -eye}, {"X": -eye, "Y": eye}),
            ),
        )
    )
    return out


def build_corpus() -> list[CorpusEntry]:
    """Every entry, built fresh (new variables, same seeded data) on each call."""
    return (
        _regression_entries()
        + _broadcasting_entries()
        + _quadratic_entries()
        + _matrix_entries()
        + _signal_entries()
        + _elementwise_entries()
        + _nonconvex_entries()
    )
