"""Block Lanczos extremes and batched HVPs against dense eigensolvers; work bounded by counts."""

from __future__ import annotations

import pytest
import torch

from convexcheck.numeric.block_eigen import block_lanczos_extremes
from convexcheck.numeric.hessian import METHODS, dense_hessian, make_hvp
from convexcheck.numeric.lanczos import lanczos_extremes
from tests.helpers.torch_models import MODELS, flat_loss, with_spectrum

F64 = torch.float64

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors: see conftest


class Counting:
    """``v -> M v`` and ``V -> V M`` that count single and batched products separately."""

    def __init__(self, mat: torch.Tensor) -> None:
        self.mat = mat
        self.single = 0
        self.rows = 0
        self.batches = 0

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        self.single += 1
        return self.mat @ v.to(self.mat.dtype)

    def batched(self, vs: torch.Tensor) -> torch.Tensor:
        self.batches += 1
        self.rows += vs.shape[0]
        return vs.to(self.mat.dtype) @ self.mat


def _spectra() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    return {
        "clustered-negative": torch.cat(
            [-3.0 + 1e-6 * torch.arange(30.0), torch.linspace(-0.5, 1.0, 90)]
        ),
        "dense-negative-end": torch.cat(
            [torch.linspace(-1.0, -0.9, 60), torch.linspace(-0.9, 2.0, 60)]
        ),
        "two-clusters": torch.cat(
            [1.0 + 1e-8 * torch.arange(50.0), -2.0 + 1e-8 * torch.arange(50.0)]
        ),
        "outlier-below": torch.cat([torch.linspace(0.0, 1.0, 99), torch.tensor([-20.0])]),
        "random": torch.randn(130, generator=g, dtype=F64),
    }


SPECTRA = _spectra()


@pytest.mark.parametrize("block", [1, 2, 3])
@pytest.mark.parametrize("kind", sorted(SPECTRA))
def test_matches_eigvalsh(kind: str, block: int) -> None:
    mat = with_spectrum(SPECTRA[kind], seed=7)
    evals = torch.linalg.eigvalsh(mat)
    op = Counting(mat)
    res = block_lanczos_extremes(op, mat.shape[0], tol=1e-10, block=block, batched=op.batched)
    assert res.converged
    assert abs(res.min_eigenvalue - float(evals[0])) <= 1e-7
    assert abs(res.max_eigenvalue - float(evals[-1])) <= 1e-7
    assert res.min_error <= 1e-9 * max(1.0, abs(res.min_eigenvalue))
    assert res.max_error <= 1e-9 * max(1.0, abs(res.max_eigenvalue))
    # the reported errors are the explicit residuals of the returned unit vectors
    for lam, vec, err in (
        (res.min_eigenvalue, res.min_vector, res.min_error),
        (res.max_eigenvalue, res.max_vector, res.max_error),
    ):
        assert abs(float(torch.linalg.vector_norm(vec)) - 1.0) <= 1e-12
        explicit = float(torch.linalg.vector_norm(mat @ vec - lam * vec))
        assert abs(explicit - err) <= 1e-10 + 1e-6 * err
    # every product counted: k for a batch of k, nothing spent after the last step
    assert res.matvecs == op.single + op.rows == res.iterations
    if block > 1:
        assert op.single == 0 and op.batches > 0


@pytest.mark.parametrize("block", [1, 2])
@pytest.mark.parametrize("steps", [3, 8, 20])
def test_residual_bounds_bound_the_true_error_when_stopped_early(steps: int, block: int) -> None:
    mat = with_spectrum(SPECTRA["dense-negative-end"], seed=11)
    evals = torch.linalg.eigvalsh(mat)
    res = block_lanczos_extremes(lambda v: mat @ v, 120, tol=1e-12, max_iter=steps, block=block)
    assert not res.converged and res.matvecs == steps
    for lam, err in ((res.min_eigenvalue, res.min_error), (res.max_eigenvalue, res.max_error)):
        # some eigenvalue lies within the residual (Krylov-Bogoliubov)
        assert float((evals - lam).abs().min()) <= err * (1 + 1e-9) + 1e-12
    # Ritz values lie inside the spectrum (Courant-Fischer)
    assert res.min_eigenvalue >= float(evals[0]) - 1e-10
    assert res.max_eigenvalue <= float(evals[-1]) + 1e-10


@pytest.mark.parametrize("scale", ["unit", "radius"])
def test_stops_on_the_residual_rule(scale: str) -> None:
    spectrum = SPECTRA["dense-negative-end"] * 30.0  # radius 60: the two scales differ
    mat = with_spectrum(spectrum, seed=3)
    tol = 1e-3
    res = block_lanczos_extremes(lambda v: mat @ v, 120, tol=tol, scale=scale)
    assert res.converged and not res.exhausted and res.iterations < 120
    radius = max(abs(res.min_eigenvalue), abs(res.max_eigenvalue))
    for lam, err in ((res.min_eigenvalue, res.min_error), (res.max_eigenvalue, res.max_error)):
        assert err <= tol * (radius if scale == "radius" else max(1.0, abs(lam)))
    evals = torch.linalg.eigvalsh(mat)
    assert abs(res.min_eigenvalue - float(evals[0])) <= res.min_error
    assert abs(res.max_eigenvalue - float(evals[-1])) <= res.max_error


def test_radius_scale_never_needs_more_steps_when_the_radius_exceeds_one() -> None:
    mat = with_spectrum(SPECTRA["dense-negative-end"] * 30.0, seed=3)
    unit = block_lanczos_extremes(lambda v: mat @ v, 120, tol=1e-4)
    radius = block_lanczos_extremes(lambda v: mat @ v, 120, tol=1e-4, scale="radius")
    assert radius.matvecs <= unit.matvecs


@pytest.mark.parametrize("block", [1, 2, 4])
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_exhausted_space_is_exact(n: int, block: int) -> None:
    g = torch.Generator().manual_seed(n)
    a = torch.randn(n, n, generator=g, dtype=F64)
    mat = (a + a.T) / 2
    evals = torch.linalg.eigvalsh(mat)
    op = Counting(mat)
    res = block_lanczos_extremes(op, n, tol=1e-14, block=block, batched=op.batched)
    assert res.converged
    assert res.matvecs <= n and res.matvecs == op.single + op.rows
    assert abs(res.min_eigenvalue - float(evals[0])) <= 1e-10
    assert abs(res.max_eigenvalue - float(evals[-1])) <= 1e-10


@pytest.mark.parametrize("block", [1, 2])
def test_few_distinct_eigenvalues_and_restarts(block: int) -> None:
    spectrum = torch.tensor([-1.0, 0.0, 3.0]).repeat_interleave(torch.tensor([10, 70, 20]))
    mat = with_spectrum(spectrum, seed=4)
    res = block_lanczos_extremes(lambda v: mat @ v, 100, tol=1e-10, block=block)
    # each start (the first and at most two restarts) exhausts its Krylov space in 3 block steps
    assert res.converged and res.matvecs <= 3 * block * 3
    assert abs(res.min_eigenvalue + 1.0) <= 1e-10 and abs(res.max_eigenvalue - 3.0) <= 1e-10
    # a start vector inside one eigenspace: the residual vanishes at once, restarts find the rest
    v0 = torch.zeros(100, dtype=F64)
    v0[0] = 1.0
    diag = torch.diag(spectrum.to(F64))
    res = block_lanczos_extremes(lambda v: diag @ v, 100, tol=1e-10, v0=v0, max_restarts=5)
    assert res.restarts >= 1
    assert abs(res.min_eigenvalue + 1.0) <= 1e-10 and abs(res.max_eigenvalue - 3.0) <= 1e-10


def test_zero_operator() -> None:
    res = block_lanczos_extremes(lambda v: 0 * v, 40, tol=1e-6)
    assert res.converged and res.matvecs == 3 and res.restarts == 2  # bounded restarts, done
    assert res.min_eigenvalue == 0.0 and res.max_eigenvalue == 0.0


@pytest.mark.parametrize("block", [1, 3])
def test_deterministic_for_a_seed(block: int) -> None:
    mat = with_spectrum(SPECTRA["random"], seed=9)
    runs = [
        block_lanczos_extremes(lambda v: mat @ v, 130, tol=1e-4, seed=s, block=block)
        for s in (3, 3, 4)
    ]
    a, b, c = runs
    assert a.min_eigenvalue == b.min_eigenvalue and a.max_eigenvalue == b.max_eigenvalue
    assert a.matvecs == b.matvecs and torch.equal(a.min_vector, b.min_vector)
    assert (c.min_eigenvalue, c.matvecs) != (a.min_eigenvalue, a.matvecs)


def test_float32_products_and_basis() -> None:
    mat = with_spectrum(SPECTRA["dense-negative-end"], seed=2)
    evals = torch.linalg.eigvalsh(mat)
    m32 = mat.float()
    res = block_lanczos_extremes(lambda v: m32 @ v, 120, tol=1e-4, hvp_dtype=torch.float32)
    assert res.converged and res.min_vector.dtype == F64
    assert abs(res.min_eigenvalue - float(evals[0])) <= res.min_error + 1e-5
    assert abs(res.max_eigenvalue - float(evals[-1])) <= res.max_error + 1e-5
    # a tol below float32 rounding is not met, but the run ends at max_iter with honest bounds
    tight = block_lanczos_extremes(
        lambda v: m32 @ v, 120, tol=1e-12, max_iter=60, hvp_dtype=torch.float32
    )
    assert tight.matvecs == 60 and tight.min_error > 1e-12 * 0.9


def test_which_end() -> None:
    mat = with_spectrum(SPECTRA["dense-negative-end"], seed=2)
    top = block_lanczos_extremes(lambda v: mat @ v, 120, tol=1e-6, which="max")
    both = block_lanczos_extremes(lambda v: mat @ v, 120, tol=1e-6)
    assert top.converged and top.matvecs <= both.matvecs
    assert top.max_error <= 1e-6 * max(1.0, abs(top.max_eigenvalue))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_with_batched_hvps(name: str) -> None:
    model, loss_fn, data = MODELS[name]
    loss, theta = flat_loss(model, loss_fn, data)
    n = theta.numel()
    evals = torch.linalg.eigvalsh(dense_hessian(loss, theta))
    hvp = make_hvp(loss, theta, method="double-backward")
    res = lanczos_extremes(
        hvp, n, tol=1e-9, method="block", block=2, batched=hvp.batched, dtype=F64
    )
    assert res.converged
    assert abs(res.min_eigenvalue - float(evals[0])) <= 1e-6
    assert abs(res.max_eigenvalue - float(evals[-1])) <= 1e-6
    assert res.matvecs == hvp.calls


@pytest.mark.parametrize("method", [*METHODS, "auto"])
def test_hvp_batched_equals_single_products(method: str) -> None:
    model, loss_fn, data = MODELS["tanh-mlp"]
    loss, theta = flat_loss(model, loss_fn, data)
    g = torch.Generator().manual_seed(0)
    vs = torch.randn(3, theta.numel(), generator=g, dtype=F64)
    hvp = make_hvp(loss, theta, method=method)
    out = hvp.batched(vs)
    assert out.shape == vs.shape and hvp.calls == 3
    ref = make_hvp(loss, theta, method="double-backward")
    expected = torch.stack([ref(v) for v in vs])
    assert torch.allclose(out, expected, atol=1e-10, rtol=1e-8)
    assert hvp.batched(vs[:1]).shape == (1, theta.numel()) and hvp.calls == 4


def test_hvp_batched_falls_back_to_single_products(monkeypatch: pytest.MonkeyPatch) -> None:
    model, loss_fn, data = MODELS["relu-mlp"]
    loss, theta = flat_loss(model, loss_fn, data)
    hvp = make_hvp(loss, theta, method="double-backward")

    def no_rule(vs: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("Batching rule not implemented for aten::something")

    monkeypatch.setattr(hvp, "_batched_product", no_rule)
    vs = torch.randn(2, theta.numel(), dtype=F64)
    out = hvp.batched(vs)
    assert hvp.batched_fallback_reason and "Batching rule" in hvp.batched_fallback_reason
    assert torch.allclose(out, torch.stack([hvp(v) for v in vs]))
    assert hvp.calls == 4


def test_lanczos_extremes_block_method_and_bad_arguments() -> None:
    mat = with_spectrum(SPECTRA["random"], seed=1)
    via = lanczos_extremes(lambda v: mat @ v, 130, tol=1e-6, method="block", seed=2)
    direct = block_lanczos_extremes(lambda v: mat @ v, 130, tol=1e-6, seed=2)
    assert via.min_eigenvalue == direct.min_eigenvalue and via.matvecs == direct.matvecs
    classic = lanczos_extremes(lambda v: mat @ v, 130, tol=1e-6, scale="radius")
    assert classic.converged
    with pytest.raises(ValueError):
        lanczos_extremes(lambda v: mat @ v, 130, method="block", criterion="change")
    with pytest.raises(ValueError):
        lanczos_extremes(lambda v: mat @ v, 130, method="nope")
    with pytest.raises(ValueError):
        lanczos_extremes(lambda v: mat @ v, 130, block=2)
    with pytest.raises(ValueError):
        lanczos_extremes(lambda v: mat @ v, 130, scale="nope")
    for kw in ({"block": 0}, {"tol": 0.0}, {"scale": "x"}, {"which": "x"}):
        with pytest.raises(ValueError):
            block_lanczos_extremes(lambda v: mat @ v, 130, **kw)
    with pytest.raises(ValueError):
        block_lanczos_extremes(lambda v: mat @ v, 0)
    with pytest.raises(ValueError):
        block_lanczos_extremes(lambda v: mat @ v, 130, v0=torch.zeros(130))
