"""The CVXPY expressions of the tensor-bridge tests and CVXPY's own domain and value oracle.

Shared by ``tests/tensor/test_tensor_bridge.py`` (the translation, curvature and Jensen checks
against CVXPY) and ``tests/tensor/test_tensor_to_cvxpy.py`` (the round trip back to CVXPY), so
that neither test module imports the other. Every case builds fresh variables and a scalar CVXPY
expression; the domain of a point is decided by CVXPY's values, never by convexcheck's.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

import convexcheck
from convexcheck.tensor.witness import decode_array

cp = pytest.importorskip("cvxpy")


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], Any]  # fresh variables and a scalar CVXPY expression on each call
    bugs: tuple[tuple[str, str], ...] = ()  # (check, reason): a known engine bug, strict xfail


def _seed(name: str) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(name)) % (2**31)


def _data(name: str, *shape: int, integer: bool = False) -> np.ndarray:
    rng = np.random.default_rng(_seed(name) + 7 * len(shape) + sum(shape))
    if integer:
        return rng.integers(-3, 4, size=shape).astype(np.float64)
    return rng.normal(size=shape)


def _int_psd(n: int, seed: int) -> np.ndarray:
    b = np.random.default_rng(seed).integers(-3, 4, size=(n + 1, n))
    return (b.T @ b).astype(np.float64)


def _int_indefinite(n: int, seed: int) -> np.ndarray:
    c = np.random.default_rng(seed).integers(-2, 3, size=(n, n))
    p = c + c.T
    p[0, 0], p[1, 1] = 2, -3
    return p.astype(np.float64)


def V(shape=(), name="x", **attrs):
    return cp.Variable(shape, name=name, **attrs)


def _affine_target(e: Any, tag: str) -> Any:
    """``sum_squares(e - C)``: convex, and its value sees every entry of ``e``."""
    c = _data(tag, *e.shape) if e.shape else float(_data(tag, 1)[0])
    return cp.sum_squares(e - c)


def _weights(e: Any, tag: str) -> Any:
    """``sum(W * e)`` with signed weights: affine, and every entry counts."""
    w = _data(tag + "w", *e.shape) if e.shape else 1.7
    return cp.sum(cp.multiply(w, e))


A34 = _data("A34", 3, 4)
A43 = _data("A43", 4, 3)
B23 = _data("B23", 2, 3)
K22 = _data("K22", 2, 2)
PSD3 = _int_psd(3, 1)
NSD3 = -_int_psd(3, 2)
INDEF3 = _int_indefinite(3, 3)
MASK34 = np.random.default_rng(4).random((3, 4)) > 0.5
# Cases that once exercised an engine bug, now fixed, carry a comment naming it. A newly found
# bug is a (check, reason) entry in ``bugs`` ("values", "dcp", "jensen" or "all"): strict xfail.
R2 = _data("R2", 3, 2)  # log(R2 @ x + 1) etc.: a domain around 0 that random points often hit


def _cases() -> list[Case]:
    c: list[Case] = []

    def add(name: str, build: Callable[[], Any], *bugs: tuple[str, str]) -> None:
        c.append(Case(name, build, bugs))

    # ---- affine atoms --------------------------------------------------------------------
    add("add_matrices", lambda: _affine_target(V((3, 4), "X") + V((3, 4), "Y"), "add"))
    add("add_broadcast_scalar", lambda: _affine_target(V(4, "x") + V((), "t"), "addb"))
    add("add_broadcast_row", lambda: _affine_target(V((3, 4), "X") + V(4, "r"), "addr"))
    add("neg", lambda: _weights(-V((3, 4), "X"), "neg"))
    add("scale", lambda: _affine_target(3.5 * V((3, 4), "X") - V((3, 4), "Y") / 4, "scale"))
    add("matmul_const_left", lambda: _affine_target(A34 @ V(4, "x"), "mcl"))
    add("matmul_const_right", lambda: _affine_target(V(3, "x") @ A34, "mcr"))
    add("matmul_both_sides", lambda: _affine_target(B23 @ V((3, 4), "X") @ A43, "mcb"))
    add("matmul_matrix_vector", lambda: _weights(V((3, 4), "X") @ _data("v4", 4), "mmv"))
    for axis in (0, 1, None):
        for keep in (False, True):
            add(
                f"sum_axis{axis}_keep{keep}",
                lambda axis=axis, keep=keep: _affine_target(
                    cp.sum(V((3, 4), "X"), axis=axis, keepdims=keep), f"sum{axis}{keep}"
                ),
            )
    add("index_slice", lambda: _affine_target(V(6, "x")[1:5], "is"))
    # fixed: CVXPY's key slice(n-1, -1, -1) for x[::-1] was read by NumPy as an empty slice
    add("index_negative_step_to_zero", lambda: _affine_target(V(5, "x")[::-1], "ins"))
    add("index_negative_step", lambda: _affine_target(V(5, "x")[3:0:-1], "insb"))
    add("index_negative_step_matrix", lambda: _affine_target(V((3, 4), "X")[2:0:-1, -1:0:-2], "im"))
    # fixed: as index_negative_step_to_zero, on a matrix
    add("index_negative_step_matrix_full", lambda: _affine_target(V((3, 4), "X")[:, ::-1], "imf"))
    add("index_negative_int", lambda: _affine_target(V((3, 4), "X")[-1], "ini"))
    add("index_scalar", lambda: _affine_target(V(5, "x")[-2], "isc"))
    add("index_fancy", lambda: _affine_target(V(5, "x")[[0, 3, 3, 1]], "if"))
    add("index_fancy_matrix", lambda: _affine_target(V((3, 4), "X")[[0, 2], [1, 3]], "ifm"))
    add("index_fancy_rows", lambda: _affine_target(V((3, 4), "X")[[2, 0]], "ifr"))
    add("index_bool_mask", lambda: _affine_target(V((3, 4), "X")[MASK34], "ibm"))
    for order in ("C", "F"):
        add(
            f"reshape_{order}",
            lambda order=order: _affine_target(
                cp.reshape(V((3, 4), "X"), (2, 6), order=order), "r" + order
            ),
        )
    add("vec", lambda: _affine_target(cp.vec(V((3, 4), "X"), order="F"), "vec"))
    add("transpose", lambda: _affine_target(V((3, 4), "X").T, "tr"))
    add("hstack_vectors", lambda: _affine_target(cp.hstack([V(3, "x"), V(2, "y")]), "hsv"))
    add(
        "hstack_matrices",
        lambda: _affine_target(cp.hstack([V((3, 2), "X"), V((3, 1), "Y")]), "hsm"),
    )
    add("vstack_vectors", lambda: _affine_target(cp.vstack([V(3, "x"), V(3, "y")]), "vsv"))
    # fixed: concatenate with a constant part (batch size 1) raised for batches of B > 1 points
    add("hstack_with_constant", lambda: _affine_target(cp.hstack([V(3, "x"), np.ones(2)]), "hsc"))
    # fixed: as hstack_with_constant
    add("vstack_with_constant", lambda: cp.sum(cp.exp(cp.vstack([V(3, "x"), np.ones(3)]))))
    add(
        "vstack_matrices",
        lambda: _affine_target(cp.vstack([V((2, 3), "X"), V((1, 3), "Y")]), "vsm"),
    )
    add("promote", lambda: _affine_target(V((), "t") + np.arange(4.0), "prom"))
    add(
        "promote_in_multiply",
        lambda: _affine_target(cp.multiply(V((), "t"), _data("pm", 3, 2)), "pmul"),
    )
    add("diag_vec", lambda: _affine_target(cp.diag(V(3, "x")), "dv"))
    add("diag_mat", lambda: _affine_target(cp.diag(V((3, 3), "X")), "dm"))
    add("trace", lambda: _affine_target(cp.trace(V((3, 3), "X")), "trace"))
    add(
        "multiply_const",
        lambda: _affine_target(cp.multiply(_data("mc", 3, 4), V((3, 4), "X")), "mc"),
    )
    add("convolve", lambda: _affine_target(cp.convolve(_data("k3", 3), V(4, "x")), "conv"))
    add("kron_const_left", lambda: _affine_target(cp.kron(K22, V((2, 3), "X")), "kl"))
    add("kron_const_right", lambda: _affine_target(cp.kron(V((2, 3), "X"), K22), "kr"))
    add("cumsum_vector", lambda: _affine_target(cp.cumsum(V(5, "x")), "cs"))
    add("cumsum_axis0", lambda: _affine_target(cp.cumsum(V((3, 4), "X"), axis=0), "cs0"))
    add("cumsum_axis1", lambda: _affine_target(cp.cumsum(V((3, 4), "X"), axis=1), "cs1"))
    # fixed: cp.cumsum(X, axis=None) (flatten in C order, then sum) was read as axis 0
    add("cumsum_axis_none", lambda: _affine_target(cp.cumsum(V((3, 4), "X"), axis=None), "csn"))
    # fixed: identically 0 under CVXPY's cumsum(axis=None), it was refuted both ways
    add("cumsum_axis_none_identically_zero", _cumsum_zero)
    add("affine_functional", lambda: _weights(A34 @ V(4, "x") + 2 * V(3, "y"), "af"))

    # ---- elementwise atoms ---------------------------------------------------------------
    def ew(name, fn, shape=(3,), **attrs):
        add(name, lambda: cp.sum(fn(V(shape, "x", **attrs))))

    add("exp_affine", lambda: cp.sum(cp.exp(A34 @ V(4, "x") + 0.5)))
    ew("exp_matrix", cp.exp, (2, 3))
    ew("log", cp.log, (4,), pos=True)
    ew("log_matrix", cp.log, (2, 2), pos=True)
    ew("abs", cp.abs, (2, 3))
    add("logistic", lambda: cp.sum(cp.logistic(A34 @ V(4, "x"))))
    ew("huber", lambda u: cp.huber(u, 1.5), (4,))
    ew("huber_matrix", cp.huber, (2, 3))
    add("pos", lambda: cp.sum(cp.pos(A34 @ V(4, "x") - 0.3)))
    ew("neg_part", cp.neg, (4,))
    ew("inv_pos", cp.inv_pos, (4,), pos=True)
    add("kl_div", lambda: cp.sum(cp.kl_div(V(3, "x", pos=True), V(3, "y", pos=True))))
    add("rel_entr", lambda: cp.sum(cp.rel_entr(V(3, "x", pos=True), V(3, "y", pos=True))))
    add(
        "rel_entr_matrix",
        lambda: cp.sum(cp.rel_entr(V((2, 2), "x", pos=True), V((2, 2), "y", pos=True))),
    )
    ew("entr", cp.entr, (4,), nonneg=True)
    ew("xexp", cp.xexp, (4,), nonneg=True)
    add("maximum", lambda: cp.sum(cp.maximum(V(4, "x"), V(4, "y"), 0.5)))
    # fixed (these four): batched arguments of different rank were broadcast with the batch axis
    # of the lower-rank one aligned with an entry axis
    add("maximum_matrix_broadcast", lambda: cp.sum(cp.maximum(V((2, 3), "X"), V(3, "r"))))
    add("maximum_vector_scalar", lambda: cp.sum(cp.maximum(V(3, "x"), V((), "t"))))
    add(
        "kl_div_vector_scalar",
        lambda: cp.sum(cp.kl_div(V(3, "x", pos=True), V((), "t", pos=True))),
    )
    add(
        "rel_entr_matrix_row",
        lambda: cp.sum(cp.rel_entr(V((2, 3), "X", pos=True), V(3, "r", pos=True))),
    )
    add("minimum", lambda: cp.sum(cp.minimum(V((2, 3), "X"), 1.0)))
    for p, attrs in (
        (2, {}),
        (3, {"nonneg": True}),
        (0.5, {"nonneg": True}),
        (-1, {"pos": True}),
        (1.5, {"nonneg": True}),
    ):
        ew(f"power_{p}", lambda u, p=p: cp.power(u, p), (4,), **attrs)
        ew(f"power_{p}_matrix", lambda u, p=p: cp.power(u, p), (2, 2), **attrs)
    # power(power(x, -3), -1) on x < 0 (the fixed POWER_POLE bug, proved convex and concave) is
    # now never finite (CVXPY's power(x, -3) needs x > 0): see test_never_finite_is_not_proved
    ew("power_2_affine", lambda u: cp.power(A34 @ u - 1, 2), (4,))
    ew("sqrt", cp.sqrt, (4,), nonneg=True)
    ew("square", cp.square, (2, 3))
    ew("log1p", cp.log1p, (4,), nonneg=True)

    # ---- CVXPY's domains on real variables: an atom is +inf (convex) or -inf (concave) outside
    # its domain, and a proof is about the set where the expression is finite ----------------
    add("power_3_real", lambda: cp.sum(cp.power(V(2, "x"), 3)))
    add("power_1.5_real", lambda: cp.sum(cp.power(V(2, "x"), 1.5)))
    add("power_1/3_real", lambda: cp.sum(cp.power(V(2, "x"), 1 / 3)))
    add("power_-1_real", lambda: cp.sum(cp.power(V(2, "x"), -1)))
    add("power_-2_real", lambda: cp.sum(cp.power(V(2, "x"), -2)))
    add("sqrt_real", lambda: cp.sum(cp.sqrt(V(2, "x"))))
    add("inv_pos_real", lambda: cp.sum(cp.inv_pos(V(2, "x"))))
    add("log_affine_real", lambda: cp.sum(cp.log(R2 @ V(2, "x") + 1)))
    add("sqrt_affine_real", lambda: cp.sum(cp.sqrt(R2 @ V(2, "x") + 1)))
    add("power_3_affine_real", lambda: cp.sum(cp.power(R2 @ V(2, "x") + 1, 3)))
    add("inv_pos_of_sqrt_real", lambda: cp.sum(cp.inv_pos(cp.sqrt(V(2, "x")))))
    add("log_of_sqrt_real", lambda: cp.sum(cp.log(cp.sqrt(V(2, "x")))))
    add("log_of_log_real", lambda: cp.log(cp.log(V((), "x"))))
    add("log_of_concave_real", lambda: cp.log(1 - cp.sum_squares(V(2, "x"))))
    add("xexp_real", lambda: cp.sum(cp.xexp(V(2, "x"))))
    add("entr_real", lambda: cp.sum(cp.entr(V(2, "x"))))
    add("log1p_real", lambda: cp.sum(cp.log1p(V(2, "x"))))
    add("kl_div_real", lambda: cp.kl_div(V((), "x"), V((), "y")))
    add("rel_entr_real", lambda: cp.rel_entr(V((), "x"), V((), "y")))
    add("geo_mean_real", lambda: cp.geo_mean(V(2, "x")))
    add("pnorm_0.5_real", lambda: cp.pnorm(V(2, "x"), 0.5))
    add("harmonic_mean_real", lambda: cp.harmonic_mean(V(2, "x")))
    add("quad_over_lin_real_t", lambda: cp.quad_over_lin(V(2, "x"), V((), "t")))
    add("log_det_symmetric", lambda: cp.log_det(V((2, 2), "X", symmetric=True)))
    add("tr_inv_symmetric", lambda: cp.tr_inv(V((2, 2), "X", symmetric=True)))
    add(
        "matrix_frac_symmetric",
        lambda: cp.matrix_frac(V(2, "x"), V((2, 2), "P", symmetric=True)),
    )
    # a convex argument leaving sqrt's domain: no DCP reading (|x| >= 1 is not convex)
    add("sqrt_of_square_minus_one", lambda: cp.sqrt(cp.square(V((), "x")) - 1))

    # ---- reductions ----------------------------------------------------------------------
    add("norm1", lambda: cp.norm1(A34 @ V(4, "x") - 1))
    add("norm1_matrix", lambda: cp.norm1(V((2, 3), "X")))
    add("norm2", lambda: cp.norm2(A34 @ V(4, "x") - 1))
    add("norm_2", lambda: cp.norm(V(4, "x"), 2))
    add("pnorm_3", lambda: cp.pnorm(V(4, "x"), 3))
    add("pnorm_0.5", lambda: cp.pnorm(V(4, "x", nonneg=True), 0.5))
    add("norm_inf", lambda: cp.norm_inf(V(4, "x")))
    add("norm_inf_matrix", lambda: cp.norm_inf(V((2, 3), "X")))
    add("sum_squares", lambda: cp.sum_squares(A34 @ V(4, "x") - 1))
    add("quad_over_lin", lambda: cp.quad_over_lin(V(4, "x"), V((), "t", pos=True)))
    add("quad_over_lin_matrix", lambda: cp.quad_over_lin(V((2, 2), "X"), 2.0))
    add("log_sum_exp", lambda: cp.log_sum_exp(V(4, "x")))
    add("log_sum_exp_axis0", lambda: cp.sum(cp.log_sum_exp(V((3, 4), "X"), axis=0)))
    add(
        "log_sum_exp_axis1_keep",
        lambda: cp.sum(cp.log_sum_exp(V((3, 4), "X"), axis=1, keepdims=True)),
    )
    add("geo_mean", lambda: cp.geo_mean(V(3, "x", pos=True)))
    add("geo_mean_weighted", lambda: cp.geo_mean(V(3, "x", nonneg=True), [1, 2, 3]))
    add("harmonic_mean", lambda: cp.harmonic_mean(V(3, "x", pos=True)))
    add("sum_largest", lambda: cp.sum_largest(V(5, "x"), 2))
    add("sum_largest_matrix", lambda: cp.sum_largest(V((2, 3), "X"), 4))
    add("sum_smallest", lambda: cp.sum_smallest(V(5, "x"), 3))
    add("max", lambda: cp.max(V((2, 3), "X")))
    add("max_axis0", lambda: cp.sum(cp.max(V((3, 4), "X"), axis=0)))
    add("max_axis1_keep", lambda: cp.sum(cp.max(V((3, 4), "X"), axis=1, keepdims=True)))
    add("min", lambda: cp.min(V(4, "x")))
    add("min_axis1", lambda: cp.sum(cp.min(V((3, 4), "X"), axis=1)))

    # ---- matrix atoms --------------------------------------------------------------------
    add("quad_form_psd", lambda: cp.quad_form(V(3, "x"), PSD3))
    add("quad_form_psd_affine", lambda: cp.quad_form(A34 @ V(4, "x") - 1, PSD3))
    add("quad_form_nsd", lambda: cp.quad_form(V(3, "x"), NSD3))
    add("quad_form_indefinite", lambda: cp.quad_form(V(3, "x"), INDEF3))
    add("quad_form_psd_wrap", lambda: cp.quad_form(V(3, "x"), cp.psd_wrap(PSD3)))
    add("matrix_frac_vector", lambda: cp.matrix_frac(V(3, "x"), V((3, 3), "P", PSD=True)))
    add("matrix_frac_matrix", lambda: cp.matrix_frac(V((3, 2), "X"), V((3, 3), "P", PSD=True)))
    add("matrix_frac_const_p", lambda: cp.matrix_frac(V(3, "x"), PSD3 + np.eye(3)))
    add("log_det", lambda: cp.log_det(V((3, 3), "X", PSD=True)))
    add("lambda_max", lambda: cp.lambda_max(V((3, 3), "X", symmetric=True)))
    add("lambda_min", lambda: cp.lambda_min(V((3, 3), "X", symmetric=True)))
    add("lambda_sum_largest", lambda: cp.lambda_sum_largest(V((3, 3), "X", symmetric=True), 2))
    add("tr_inv", lambda: cp.tr_inv(V((3, 3), "X", PSD=True)))
    add("normNuc", lambda: cp.normNuc(V((2, 3), "X")))
    add("sigma_max", lambda: cp.sigma_max(V((3, 2), "X")))
    add("norm_fro", lambda: cp.norm(V((2, 3), "X"), "fro"))
    add("norm_matrix_2", lambda: cp.norm(V((2, 3), "X"), 2))
    add("norm_nuc", lambda: cp.norm(V((3, 2), "X"), "nuc"))
    add("log_det_plus_trace", lambda: _log_det_trace())
    return c


def _cumsum_zero() -> Any:
    """Identically 0 under CVXPY's meaning of cumsum(X, axis=None): ``c[1] - c[0] = X[0, 1]``."""
    x = V((3, 4), "X")
    csum = cp.cumsum(x, axis=None)
    return cp.square(csum[1] - csum[0]) - cp.square(x[0, 1])


def _log_det_trace() -> Any:
    x = V((3, 3), "X", PSD=True)
    return cp.log_det(x) - cp.trace(x)


CASES = _cases()
CASE_BY_NAME = {case.name: case for case in CASES}


def _params(cases: list[Case], check: str) -> list[Any]:
    """One parameter per case; a case with a known bug in ``check`` is a strict xfail."""
    out = []
    for case in cases:
        reasons = [why for which, why in case.bugs if which in (check, "all")]
        marks = [pytest.mark.xfail(strict=True, reason=reasons[0])] if reasons else []
        out.append(pytest.param(case.name, id=case.name, marks=marks))
    return out


# ---- CVXPY's domains, decided by CVXPY's own values ----------------------------------------
def _subexpressions(e: Any) -> list[Any]:
    out, stack = [], [e]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(getattr(node, "args", []))
    return out


def _numeric(e: Any) -> np.ndarray | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = e.value
    return None if value is None else np.asarray(value, dtype=float)


def _atom_domain_problems(node: Any) -> list[str]:
    """Why the current values of ``node``'s arguments (as CVXPY evaluates them) are outside the
    domain of the CVXPY atom ``node``; empty if inside or if the atom has no domain."""
    names = {c.__name__ for c in type(node).__mro__}
    args = [_numeric(a) for a in getattr(node, "args", [])]
    out: list[str] = []

    def need(i: int, lo: float, strict: bool) -> None:
        v = args[i]
        ok = v is not None and bool(np.all(v > lo) if strict else np.all(v >= lo))
        if not ok:
            word = ">" if strict else ">="
            out.append(f"{type(node).__name__}: argument {i} is not {word} {lo:g} ({v})")

    def need_pd(i: int) -> None:
        v = args[i]
        sym = v is not None and v.ndim == 2 and np.array_equal(v, v.T)
        if not (sym and np.linalg.eigvalsh(v)[0] > 0):
            out.append(f"{type(node).__name__}: argument {i} is not positive definite ({v})")

    if "Power" in names:  # power, sqrt, inv_pos, square: x >= 0 unless p is an even integer
        p = float(np.asarray(node.p.value))
        even = p > 0 and p == int(p) and int(p) % 2 == 0
        if not even and p not in (0.0, 1.0):
            need(0, 0.0, p < 0)
    elif "log1p" in names:
        need(0, -1.0, True)
    elif "log" in names:
        need(0, 0.0, True)
    elif names & {"xexp", "entr", "GeoMean"}:
        need(0, 0.0, False)
    elif names & {"kl_div", "rel_entr"}:
        need(0, 0.0, False)
        need(1, 0.0, True)
    elif "Pnorm" in names:
        p = node.p
        p = np.inf if isinstance(p, str) else float(p)
        if p < 1:
            need(0, 0.0, p < 0)
    elif "quad_over_lin" in names:
        need(1, 0.0, True)
    elif names & {"log_det", "tr_inv"}:
        need_pd(0)
    elif "MatrixFrac" in names:
        need_pd(1)
    return out


def _set(variables: list[Any], point: dict[str, np.ndarray]) -> None:
    assert set(point) == {v.name() for v in variables}, (sorted(point), variables)
    for v in variables:
        v.value = point[v.name()]


def _domain_problems(expr: Any, variables: list[Any], point: dict[str, np.ndarray]) -> list[str]:
    """Why ``point`` is outside CVXPY's domain of ``expr`` (empty if inside): every atom's
    arguments, evaluated by CVXPY, lie in the atom's domain (power for p not an even integer,
    sqrt, inv_pos, xexp, log, log1p, entr, kl_div, rel_entr, geo_mean, pnorm p < 1,
    quad_over_lin, log_det, tr_inv, matrix_frac), and every subexpression's value is finite."""
    _set(variables, point)
    out = []
    for node in _subexpressions(expr):
        out += _atom_domain_problems(node)
        value = _numeric(node)
        if value is None or not np.all(np.isfinite(value)):
            out.append(f"{type(node).__name__}: the value {value} is not finite")
    return out


def _domain_points(
    expr: Any, variables: list[Any], rng: np.random.Generator, count: int, tries: int = 3000
) -> list[dict[str, np.ndarray]]:
    """``count`` random points of the variables' attributes inside CVXPY's domain of ``expr``."""
    out: list[dict[str, np.ndarray]] = []
    for _ in range(tries):
        p = _point(variables, rng)
        if not _domain_problems(expr, variables, p):
            out.append(p)
            if len(out) == count:
                return out
    raise AssertionError(f"only {len(out)} of {tries} random points lie in CVXPY's domain")


# ---- sampling points from CVXPY variable attributes ----------------------------------------
def _draw(var: Any, rng: np.random.Generator, scale: float) -> np.ndarray:
    attrs = {k for k, v in var.attributes.items() if v is True}
    shape = var.shape
    if "PSD" in attrs:
        n = shape[0]
        g = rng.normal(size=(n, n)) * scale
        m = g @ g.T / n + 0.05 * scale**2 * np.eye(n)
        return (m + m.T) / 2
    if "symmetric" in attrs:
        g = rng.normal(size=shape) * scale
        return (g + g.T) / 2
    if "pos" in attrs:
        return scale * np.exp(rng.uniform(-3.0, 1.5, size=shape))
    if "neg" in attrs:
        return -scale * np.exp(rng.uniform(-3.0, 1.5, size=shape))
    if "nonneg" in attrs:
        x = np.abs(rng.normal(size=shape)) * scale
        return np.where(rng.random(shape) < 0.1, 0.0, x)
    assert not attrs - {"real"}, attrs
    return rng.normal(size=shape) * scale


def _point(variables: list[Any], rng: np.random.Generator) -> dict[str, np.ndarray]:
    scale = float(rng.choice([0.3, 1.0, 3.0]))
    return {v.name(): _draw(v, rng, scale) for v in variables}


def _cvxpy_value(expr: Any, variables: list[Any], point: dict[str, np.ndarray]) -> float:
    _set(variables, point)
    value = _numeric(expr)
    return float(np.nan if value is None else value.reshape(()))


@functools.cache
def _built(name: str):
    expr = CASE_BY_NAME[name].build()
    return expr, list(expr.variables())


@functools.cache
def _checked(name: str):
    expr, _ = _built(name)
    return convexcheck.check(expr, seed=0, budget_s=20.0)


def _verify_witness(expr: Any, variables: list[Any], question: str, verdict: Any, label: str):
    """A "no" re-verified by CVXPY: a, b and the point between them at t lie in CVXPY's domain
    of every atom of ``expr``, and CVXPY's values there break Jensen's inequality."""
    w = verdict.witness
    a = {n: decode_array(v) for n, v in w["a"].items()}
    b = {n: decode_array(v) for n, v in w["b"].items()}
    t = Fraction(str(w.get("t", "1/2")))
    if t == Fraction(1, 2):
        m = {n: (a[n] + b[n]) / 2 for n in a}
    else:
        m = {n: float(t) * a[n] + float(1 - t) * b[n] for n in a}
    for where, p in (("a", a), ("b", b), ("between", m)):
        problems = _domain_problems(expr, variables, p)
        assert not problems, (
            f"{label}: the {question} witness point {where} = {p} is outside CVXPY's domain: "
            f"{problems}"
        )
    fa, fb, fm = (_cvxpy_value(expr, variables, p) for p in (a, b, m))
    gap = fm - (float(t) * fa + float(1 - t) * fb)
    if question == "concave":
        gap = -gap
    assert gap > 0, f"{label}: the {question} witness does not break Jensen in CVXPY's values"
