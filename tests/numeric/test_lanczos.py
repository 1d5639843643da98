"""Lanczos extremes against dense eigensolvers: models, structured spectra and corner cases."""

from __future__ import annotations

import pytest
import torch

from convexcheck.numeric.hessian import dense_hessian, make_hvp
from convexcheck.numeric.lanczos import lanczos_extremes, lanczos_tridiagonal
from tests.helpers.torch_models import MODELS, flat_loss, with_spectrum

F64 = torch.float64


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors: see conftest


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_extremes_match_dense_eigvalsh(name: str) -> None:
    model, loss_fn, data = MODELS[name]
    loss, theta = flat_loss(model, loss_fn, data)
    n = theta.numel()
    assert n <= 500
    evals = torch.linalg.eigvalsh(dense_hessian(loss, theta))
    res = lanczos_extremes(make_hvp(loss, theta), n, tol=1e-10, dtype=F64)
    assert res.converged
    assert abs(res.min_eigenvalue - float(evals[0])) <= 1e-6
    assert abs(res.max_eigenvalue - float(evals[-1])) <= 1e-6
    assert res.min_error <= 1e-6 and res.max_error <= 1e-6
    if name in ("tanh-mlp", "relu-mlp", "cnn"):
        assert res.min_eigenvalue < -1e-8  # these Hessians are indefinite: the point of the tool


SPECTRA = {
    "gaussian": None,
    "clustered": torch.cat([1.0 + 1e-7 * torch.arange(60.0), -2.0 + 1e-9 * torch.arange(40.0)]),
    "degenerate": torch.tensor([-1.0, 0.0, 3.0]).repeat_interleave(torch.tensor([10, 70, 20])),
    "one-outlier": torch.cat([torch.linspace(0.0, 1.0, 119), torch.tensor([-50.0])]),
    "tight-top": torch.cat(
        [torch.linspace(-1.0, 1.0, 148), torch.tensor([1.0 + 1e-4, 1.0 + 2e-4])]
    ),
}


@pytest.mark.parametrize("kind", sorted(SPECTRA))
def test_random_symmetric_matrices(kind: str) -> None:
    spectrum = SPECTRA[kind]
    if spectrum is None:
        g = torch.Generator().manual_seed(3)
        a = torch.randn(150, 150, generator=g, dtype=F64)
        mat = (a + a.T) / 2
    else:
        mat = with_spectrum(spectrum, seed=4)
    evals = torch.linalg.eigvalsh(mat)
    res = lanczos_extremes(lambda v: mat @ v, mat.shape[0], tol=1e-10)
    assert res.converged
    assert abs(res.min_eigenvalue - float(evals[0])) <= 1e-6
    assert abs(res.max_eigenvalue - float(evals[-1])) <= 1e-6
    # Ritz vectors really are (approximate) eigenvectors
    for lam, vec in ((res.min_eigenvalue, res.min_vector), (res.max_eigenvalue, res.max_vector)):
        assert abs(float(torch.linalg.vector_norm(vec)) - 1.0) < 1e-12
        assert float(torch.linalg.vector_norm(mat @ vec - lam * vec)) <= 1e-5


def test_error_bounds_hold_when_stopped_early() -> None:
    g = torch.Generator().manual_seed(5)
    a = torch.randn(300, 300, generator=g, dtype=F64)
    mat = (a + a.T) / 2
    evals = torch.linalg.eigvalsh(mat)
    res = lanczos_extremes(lambda v: mat @ v, 300, tol=1e-12, max_iter=12)
    assert not res.converged
    assert res.iterations == 12
    for lam, err in ((res.min_eigenvalue, res.min_error), (res.max_eigenvalue, res.max_error)):
        nearest = float(torch.min(torch.abs(evals - lam)))
        assert nearest <= err * (1 + 1e-9) + 1e-12
        assert err > 1e-6  # genuinely unconverged, so the bound is being exercised
    # Ritz values are inside the spectrum (Courant-Fischer): upper bound for λ_min etc.
    assert res.min_eigenvalue >= float(evals[0]) - 1e-12
    assert res.max_eigenvalue <= float(evals[-1]) + 1e-12


def test_relative_tolerance_stops_early_and_is_met() -> None:
    mat = with_spectrum(torch.linspace(-3.0, 10.0, 400), seed=6)
    res = lanczos_extremes(lambda v: mat @ v, 400, tol=1e-3)
    assert res.converged and not res.exhausted
    assert res.iterations < 200
    assert res.min_error <= 1e-3 * 3.0 * 1.5  # the estimate it stopped on vs the recomputed one
    assert res.max_error <= 1e-3 * 10.0 * 1.5
    assert abs(res.min_eigenvalue + 3.0) <= res.min_error
    assert abs(res.max_eigenvalue - 10.0) <= res.max_error


def test_n_equals_one() -> None:
    res = lanczos_extremes(lambda v: -2.5 * v, 1)
    assert res.converged and res.exhausted
    assert res.min_eigenvalue == res.max_eigenvalue == -2.5
    assert res.min_error == 0.0


def test_zero_matrix_stops_quickly() -> None:
    res = lanczos_extremes(lambda v: torch.zeros_like(v), 10_000)
    assert res.converged
    assert res.min_eigenvalue == 0.0 and res.max_eigenvalue == 0.0
    assert res.iterations <= 5  # breakdown, bounded restarts, done: not 10 000 steps


def test_invariant_start_vector_restarts() -> None:
    diag = torch.diag(torch.arange(1.0, 21.0, dtype=F64))
    v0 = torch.zeros(20, dtype=F64)
    v0[7] = 1.0  # an eigenvector: the Krylov space is one-dimensional
    res = lanczos_extremes(lambda v: diag @ v, 20, v0=v0, tol=1e-12)
    assert res.restarts >= 1
    assert res.min_eigenvalue == pytest.approx(1.0, abs=1e-10)
    assert res.max_eigenvalue == pytest.approx(20.0, abs=1e-10)
    # with restarts disabled the same start sees only its own eigenvalue
    stuck = lanczos_extremes(lambda v: diag @ v, 20, v0=v0, max_restarts=0)
    assert stuck.min_eigenvalue == pytest.approx(8.0) and stuck.max_eigenvalue == pytest.approx(8.0)


def test_few_distinct_eigenvalues_exact() -> None:
    mat = with_spectrum(torch.tensor([2.0, -1.0]).repeat_interleave(torch.tensor([50, 50])), 7)
    res = lanczos_extremes(lambda v: mat @ v, 100)
    assert res.converged and res.iterations <= 6
    assert res.min_eigenvalue == pytest.approx(-1.0, abs=1e-12)
    assert res.max_eigenvalue == pytest.approx(2.0, abs=1e-12)


def test_float32_products_with_float64_recurrence() -> None:
    mat = with_spectrum(torch.linspace(-1.0, 4.0, 200), seed=8)
    m32 = mat.float()
    seen: list[torch.dtype] = []

    def hvp32(v: torch.Tensor) -> torch.Tensor:
        seen.append(v.dtype)
        return m32 @ v

    res = lanczos_extremes(hvp32, 200, tol=1e-4, hvp_dtype=torch.float32, dtype=F64)
    assert set(seen) == {torch.float32}
    assert res.min_vector.dtype == F64
    assert abs(res.min_eigenvalue + 1.0) < 1e-4 and abs(res.max_eigenvalue - 4.0) < 1e-4


def test_deterministic_for_a_seed() -> None:
    mat = with_spectrum(torch.linspace(0.0, 1.0, 80), seed=9)
    a = lanczos_extremes(lambda v: mat @ v, 80, tol=1e-3, seed=11)
    b = lanczos_extremes(lambda v: mat @ v, 80, tol=1e-3, seed=11)
    assert a.min_eigenvalue == b.min_eigenvalue and a.iterations == b.iterations
    assert torch.equal(a.max_vector, b.max_vector)


def test_tridiagonal_basis_is_orthonormal() -> None:
    mat = with_spectrum(torch.linspace(-5.0, 5.0, 120), seed=10)
    v0 = torch.ones(120, dtype=F64)
    run = lanczos_tridiagonal(lambda v: mat @ v, v0, 60)
    q = run.basis
    assert q.shape == (60, 120)
    assert float(torch.max(torch.abs(q @ q.T - torch.eye(60, dtype=F64)))) < 1e-12
    t = run.tridiagonal()
    assert float(torch.max(torch.abs(q @ mat @ q.T - t))) < 1e-10


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        lanczos_extremes(lambda v: v, 0)
    with pytest.raises(ValueError):
        lanczos_extremes(lambda v: v, 3, tol=0.0)
    with pytest.raises(ValueError):
        lanczos_extremes(lambda v: v, 3, v0=torch.zeros(3, dtype=F64))


def test_change_criterion_and_which() -> None:
    mat = with_spectrum(torch.cat([torch.linspace(-1.0, 1.0, 398), torch.tensor([-4.0, 6.0])]), 12)
    strict = lanczos_extremes(lambda v: mat @ v, 400, tol=1e-3)
    loose = lanczos_extremes(lambda v: mat @ v, 400, tol=1e-3, criterion="change")
    assert loose.converged and loose.iterations <= strict.iterations
    top = lanczos_extremes(lambda v: mat @ v, 400, tol=1e-3, criterion="change", which="max")
    assert top.iterations <= loose.iterations
    for res in (strict, loose, top):  # the explicit residual bound is reported whatever stopped it
        assert abs(res.max_eigenvalue - 6.0) <= res.max_error + 1e-12
        assert abs(res.min_eigenvalue + 4.0) <= res.min_error + 1e-12 or res is top
    assert abs(loose.max_eigenvalue - 6.0) < 6e-3
    with pytest.raises(ValueError):
        lanczos_extremes(lambda v: mat @ v, 400, criterion="power")
