"""``cc.curvature_bounds`` on CVXPY quadratic losses on data (the tensor front).

Sound: ``mu <= λ_min(H)`` and ``L >= λ_max(H)``, compared with float64 eigenvalues of the exact
Hessian with a tolerance of ``1e-12 · ‖H‖`` (NumPy's eigvalsh error is about ``n·eps·‖H‖``);
tight: within ``1e-6 · ‖H‖`` of them.
"""

from __future__ import annotations

import copy
from fractions import Fraction

import numpy as np
import pytest

cp = pytest.importorskip("cvxpy")

import convexcheck as cc  # noqa: E402
from convexcheck.certificates.curvature_data_check import check_curvature_data  # noqa: E402

SHAPES = [(30, 8), (12, 5), (8, 8), (20, 3), (5, 1)]


def _true_hessian(A: np.ndarray, c0: float, lam: float) -> np.ndarray:
    n = A.shape[1]
    return 2 * c0 * A.T @ A + 2 * lam * np.eye(n)


def _assert_sound_and_tight(result, H: np.ndarray) -> None:
    w = np.linalg.eigvalsh(H)
    scale = max(abs(w[0]), abs(w[-1]))
    assert result.checked
    assert result.mu is not None and result.L is not None
    assert float(result.mu) <= w[0] + 1e-12 * scale
    assert float(result.L) >= w[-1] - 1e-12 * scale
    assert abs(float(result.mu) - w[0]) <= 1e-6 * scale
    assert abs(float(result.L) - w[-1]) <= 1e-6 * scale


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("lam", [0.0, 0.1, 2.5])
def test_data_loss_bounds_are_sound_and_tight(shape: tuple[int, int], lam: float) -> None:
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    A = rng.standard_normal(shape)
    b = rng.standard_normal(shape[0])
    x = cp.Variable(shape[1])
    m = shape[0]
    f = cp.sum_squares(A @ x - b) / m
    if lam:
        f = f + lam * cp.sum_squares(x)
    result = cc.curvature_bounds(f)
    _assert_sound_and_tight(result, _true_hessian(A, 1 / m, lam))
    assert result.certificate["kind"] == "curvature-data"
    assert check_curvature_data(result.certificate).ok


@pytest.mark.parametrize(
    "build",
    [
        lambda A, b, x: 3 * cp.sum_squares(A @ x - b),
        lambda A, b, x: cp.sum(cp.square(A @ x - b)) * 3,
        lambda A, b, x: 3 * cp.norm(A @ x - b, 2) ** 2,
        lambda A, b, x: cp.sum_squares(A @ x - b) * 1.5 + cp.sum_squares(A @ x) * 1.5,
    ],
)
def test_spellings_of_the_same_loss(build) -> None:
    rng = np.random.default_rng(7)
    A = rng.standard_normal((15, 4))
    b = rng.standard_normal(15)
    x = cp.Variable(4)
    result = cc.curvature_bounds(build(A, b, x))
    _assert_sound_and_tight(result, _true_hessian(A, 3.0, 0.0))


def test_the_ridge_shifts_the_hessian_by_exactly_two_lam() -> None:
    rng = np.random.default_rng(3)
    A = rng.standard_normal((10, 4))
    b = rng.standard_normal(10)
    x = cp.Variable(4)
    lam = 0.3
    plain = cc.curvature_bounds(cp.sum_squares(A @ x - b) / 10)
    ridge = cc.curvature_bounds(cp.sum_squares(A @ x - b) / 10 + lam * cp.sum_squares(x))
    h0 = [[Fraction(v) for v in row] for row in plain.certificate["hessian"]]
    h1 = [[Fraction(v) for v in row] for row in ridge.certificate["hessian"]]
    for i in range(4):
        for j in range(4):
            assert h1[i][j] - h0[i][j] == (2 * Fraction(lam) if i == j else 0)
    scale = float(ridge.L)
    assert abs(float(ridge.mu - plain.mu) - 2 * lam) <= 1e-6 * scale
    assert abs(float(ridge.L - plain.L) - 2 * lam) <= 1e-6 * scale


def test_rank_deficient_data_gives_mu_zero_without_ridge() -> None:
    rng = np.random.default_rng(5)
    A = rng.standard_normal((3, 6))  # rank 3 < 6: AᵀA is singular
    x = cp.Variable(6)
    result = cc.curvature_bounds(cp.sum_squares(A @ x - 1.0))
    assert result.checked
    assert result.mu == 0
    assert not result.strongly_convex
    assert result.condition_number is None
    assert float(result.L) >= np.linalg.eigvalsh(2 * A.T @ A)[-1]
    ridge = cc.curvature_bounds(cp.sum_squares(A @ x - 1.0) + 0.5 * cp.sum_squares(x))
    assert ridge.strongly_convex and abs(float(ridge.mu) - 1.0) <= 1e-6 * float(ridge.L)


def _certificate():
    rng = np.random.default_rng(11)
    A = rng.standard_normal((9, 3))
    b = rng.standard_normal(9)
    x = cp.Variable(3)
    result = cc.curvature_bounds(cp.sum_squares(A @ x - b) / 9 + 0.2 * cp.sum_squares(x))
    assert check_curvature_data(result.certificate).ok
    return result.certificate


def _tamper_mu(cert):
    cert["mu"] = str(Fraction(cert["mu"]) * Fraction(1000001, 1000000))


def _tamper_L(cert):
    cert["L"] = str(Fraction(cert["L"]) * Fraction(999999, 1000000))


def _tamper_hessian(cert):
    cert["hessian"][0][0] = str(Fraction(cert["hessian"][0][0]) + 1)


def _tamper_data(cert):
    const = next(c for c in cert["tree"]["constants"].values() if c["shape"] == [9, 3])
    const["data"][0][0] = "0.5" if const["data"][0][0] != "0.5" else "0.25"


def _tamper_data_and_hash(cert):
    # new data with a matching hash: the checker recomputes H from it, and the stored H is wrong
    from convexcheck.tensor.document import content_hash, decode_values, encode_values

    consts = cert["tree"]["constants"]
    ref = next(k for k, c in consts.items() if c["shape"] == [9, 3])
    value = decode_values(consts[ref]["data"], (9, 3)) * 2
    new = content_hash(value)
    consts[new] = {"shape": [9, 3], "data": encode_values(value)}
    del consts[ref]
    for node in cert["tree"]["nodes"]:
        if node.get("ref") == ref:
            node["ref"] = new


def _tamper_op(cert):
    for node in cert["tree"]["nodes"]:
        if node["op"] == "quad_over_lin":
            node["op"] = "log_sum_exp"
            break


def _tamper_kind(cert):
    cert["kind"] = "curvature-bounds"


@pytest.mark.parametrize(
    "tamper",
    [
        _tamper_mu,
        _tamper_L,
        _tamper_hessian,
        _tamper_data,
        _tamper_data_and_hash,
        _tamper_op,
        _tamper_kind,
    ],
)
def test_tampered_certificates_are_rejected(tamper) -> None:
    cert = copy.deepcopy(_certificate())
    tamper(cert)
    report = check_curvature_data(cert)
    assert not report.ok, tamper.__name__
    assert report.problems


@pytest.mark.parametrize(
    "build",
    [
        lambda A, b, x: cp.log_sum_exp(A @ x - b),
        lambda A, b, x: cp.norm(A @ x - b, 2),
        lambda A, b, x: cp.sum(cp.abs(A @ x - b)),
        lambda A, b, x: cp.sum(cp.power(A @ x - b, 4)),
        lambda A, b, x: cp.sum(cp.exp(x)) + cp.sum_squares(x),
        lambda A, b, x: cp.quad_over_lin(A @ x, cp.sum(x) + 10),
        lambda A, b, x: cp.sum(cp.huber(A @ x - b)),
    ],
)
def test_non_quadratic_expressions_give_none(build) -> None:
    rng = np.random.default_rng(2)
    A = rng.standard_normal((6, 3))
    b = rng.standard_normal(6)
    x = cp.Variable(3)
    result = cc.curvature_bounds(build(A, b, x))
    assert result.mu is None and result.L is None
    assert not result.checked
    assert "reason" in result.evidence


def test_too_many_variable_entries_gives_none_with_a_reason() -> None:
    x = cp.Variable(61)
    result = cc.curvature_bounds(cp.sum_squares(x))
    assert result.mu is None and result.L is None
    assert "61" in result.evidence["reason"]


def test_a_nonnegative_variable_has_the_same_constants() -> None:
    rng = np.random.default_rng(9)
    A = rng.standard_normal((7, 3))
    x = cp.Variable(3, nonneg=True)
    result = cc.curvature_bounds(cp.sum_squares(A @ x - 1) + 0.1 * cp.sum_squares(x))
    _assert_sound_and_tight(result, _true_hessian(A, 1.0, 0.1))
    assert result.variables == {x.name(): "nonnegative"}


def test_variables_argument_is_refused_for_cvxpy() -> None:
    x = cp.Variable(2)
    with pytest.raises(cc.ConvexcheckInputError):
        cc.curvature_bounds(cp.sum_squares(x), {"x": "real"})
