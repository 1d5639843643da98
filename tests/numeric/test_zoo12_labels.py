"""The zoo-12 labels, re-established by plain float64 torch numerics (no convexcheck code).

A label is the one thing the engine's acceptance test (``test_zoo12_verdicts.py``) trusts, so
every label is checked here when it is written, independently of the engine:

* ``nonconvex``: a deterministic search must find a Jensen violation
  ``f(t a + (1-t) b) > t f(a) + (1-t) f(b) + margin``, ``margin = 1e-6 (|f(a)| + |f(b)| + 1)``,
  within ``MAX_TRIES`` candidate pairs (seeded random pairs around the current point at growing
  scales, then pairs along negative-curvature Hessian eigenvectors).
* ``convex``: (a) the full float64 Hessian at ``HESSIAN_POINTS`` seeded points has
  ``min eig >= -1e-7 (1 + max |eig|)`` and (b) ``JENSEN_TRIPLES`` seeded triples show no
  violation beyond the margin (for piecewise-linear losses the Hessian is 0 almost everywhere
  and the triples are what matter).

The objective is evaluated with ``torch.func.functional_call`` on a wrapper module around the
user's own model and loss, with every floating parameter and buffer substituted by a float64
copy and the judged ones by the point being evaluated. Calling the loss *inside* the
substitution is what lets a penalty that reads ``model.parameters()`` through a closure see the
point (a deep copy of the model would leave the closure reading the original). The user's
objects are never modified; ``test_objective_leaves_the_case_unchanged`` checks that.

All work is bounded by counts (no wall-clock assertions).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import pytest
import torch
from torch import Tensor, nn
from torch.autograd.functional import hessian
from torch.func import functional_call

from tests.numeric.zoo12 import CONVEX, MODELS, NONCONVEX, ZooCase

F64 = torch.float64
HESSIAN_POINTS = 20
JENSEN_TRIPLES = 500
CONVEX_SCALES = (0.1, 0.5, 1.0, 2.0)
SEARCH_SCALES = (0.05, 0.3, 1.0, 3.0, 10.0)
PAIRS_PER_SCALE = 40
HESSIAN_CENTERS = 4
EIGENVECTORS = 3
STEPS = (1e-3, 1e-2, 1e-1, 1.0)
MAX_TRIES = len(SEARCH_SCALES) * PAIRS_PER_SCALE + HESSIAN_CENTERS * EIGENVECTORS * len(STEPS)
FD_STEP = 1e-6
MAX_JUDGED = 300
MAX_EXAMPLES = 64
MAX_DIM = 8
TRAIN_MODE = {"batchnorm_train_linear"}
REQUIRED_CATEGORIES = {
    "glm",
    "loss_row",
    "frozen_backbone",
    "recurrent",
    "attention",
    "adapter",
    "tied_embedding",
    "bilinear",
    "parametrized",
    "penalty",
    "icnn",
    "wrt_subset",
    "deep_linear",
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors: see conftest


def _f64(t: Tensor | None) -> Tensor | None:
    if t is None:
        return None
    return t.detach().to(F64) if t.is_floating_point() else t.detach()


def _margin(fa: float, fb: float) -> float:
    return 1e-6 * (abs(fa) + abs(fb) + 1.0)


class _Objective(nn.Module):
    """``loss(model(inputs), targets)``, or ``model(inputs).sum()`` without a loss."""

    def __init__(self, model: nn.Module, loss_fn: Callable | None) -> None:
        super().__init__()
        self.model = model
        self.loss = loss_fn  # a Module is registered, so its buffers (class weights) go float64

    def forward(self, inputs: Tensor, targets: Tensor | None) -> Tensor:
        out = self.model(inputs)
        return out.sum() if self.loss is None else self.loss(out, targets)


def judged_names(case: ZooCase) -> list[str]:
    """The parameter names ``wrt`` selects (empty for ``wrt="inputs"``)."""
    if case.wrt == "inputs":
        return []
    if case.wrt == "parameters":
        return [n for n, p in case.model.named_parameters() if p.requires_grad]
    return list(case.wrt)


def objective(case: ZooCase) -> tuple[Callable[[Tensor], Tensor], Tensor]:
    """``(f, x0)``: the float64 objective of the judged variables, flattened, and its point."""
    wrapper = _Objective(case.model, case.loss_fn)
    params = {n: _f64(p) for n, p in wrapper.named_parameters()}
    buffers = {n: _f64(b) for n, b in wrapper.named_buffers()}
    inputs, targets = (_f64(t) for t in case.data)

    def state() -> dict[str, Tensor]:
        # buffers are cloned per call: a train-mode BatchNorm updates its running stats in place
        return {**params, **{n: b.clone() for n, b in buffers.items()}}

    if case.wrt == "inputs":
        shape = inputs.shape

        def f_inputs(flat: Tensor) -> Tensor:
            return functional_call(wrapper, state(), (flat.view(shape), targets))

        return f_inputs, inputs.reshape(-1).clone()

    names = judged_names(case)
    own = dict(case.model.named_parameters())
    assert names and all(n in own for n in names), names
    shapes = [own[n].shape for n in names]
    sizes = [own[n].numel() for n in names]

    def f_params(flat: Tensor) -> Tensor:
        st = state()
        for name, shape, piece in zip(names, shapes, torch.split(flat, sizes)):
            st["model." + name] = piece.view(shape)
        return functional_call(wrapper, st, (inputs, targets))

    x0 = torch.cat([params["model." + n].reshape(-1) for n in names]).clone()
    return f_params, x0


def _value(f: Callable[[Tensor], Tensor], x: Tensor) -> float:
    with torch.no_grad():
        v = float(f(x))
    assert v == v and abs(v) != float("inf"), f"objective not finite: {v}"
    return v


def _gradient(f: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    x = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x)
    return g


def _symmetric_hessian(f: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """The full float64 Hessian, symmetrised.

    Autograd's double backward where it exists; where an op has none (``multi_margin_loss``,
    ``embedding_bag`` on CPU), central differences of the float64 autograd gradient with step
    ``FD_STEP (1 + |x_i|)``: exact for the piecewise-linear case away from kinks (the gradient
    is locally constant) and O(step^2) accurate for the smooth ones.
    """
    try:
        h = hessian(f, x)
    except (RuntimeError, NotImplementedError) as err:
        if "not implemented" not in str(err):
            raise
        columns = []
        for i in range(x.numel()):
            step = FD_STEP * (1.0 + abs(float(x[i])))
            e = torch.zeros_like(x)
            e[i] = step
            columns.append((_gradient(f, x + e) - _gradient(f, x - e)) / (2 * step))
        h = torch.stack(columns, dim=1)
    assert torch.isfinite(h).all()
    return (h + h.T) / 2


def _gen(name: str) -> torch.Generator:
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


def find_violation(f: Callable[[Tensor], Tensor], x0: Tensor, gen: torch.Generator):
    """The first Jensen violation ``(tries, a, b, t, gap, margin)`` found, or ``None``.

    Random pairs around ``x0`` at growing scales first (nonconvexity is usually visible from a
    distance: bounded or symmetric losses), then pairs ``c -+ s v`` along the eigenvectors of
    the most negative Hessian eigenvalues at ``x0`` and a few random centres (local negative
    curvature, e.g. an indefinite quadratic).
    """
    tries = 0

    def violates(a: Tensor, b: Tensor, t: float):
        fa, fb, fm = _value(f, a), _value(f, b), _value(f, t * a + (1 - t) * b)
        gap, margin = fm - (t * fa + (1 - t) * fb), _margin(fa, fb)
        return (tries, a, b, t, gap, margin) if gap > margin else None

    for scale in SEARCH_SCALES:
        for _ in range(PAIRS_PER_SCALE):
            tries += 1
            a = x0 + scale * torch.randn(x0.shape, generator=gen, dtype=F64)
            b = x0 + scale * torch.randn(x0.shape, generator=gen, dtype=F64)
            t = 0.2 + 0.6 * float(torch.rand((), generator=gen, dtype=F64))
            if found := violates(a, b, t):
                return found
    centres = [x0] + [
        x0 + torch.randn(x0.shape, generator=gen, dtype=F64) for _ in range(HESSIAN_CENTERS - 1)
    ]
    for c in centres:
        evals, evecs = torch.linalg.eigh(_symmetric_hessian(f, c))
        for j in range(min(EIGENVECTORS, evals.numel())):
            if evals[j] >= 0:
                break
            for s in STEPS:
                tries += 1
                if found := violates(c - s * evecs[:, j], c + s * evecs[:, j], 0.5):
                    return found
    return None


def _snapshot(case: ZooCase) -> dict:
    model = case.model
    return {
        "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "flags": [(n, p.requires_grad, p.dtype) for n, p in model.named_parameters()],
        "ids": [id(p) for p in model.parameters()],
        "training": [m.training for m in model.modules()],
    }


def _same(a: dict, b: dict) -> bool:
    return (
        a["flags"] == b["flags"]
        and a["ids"] == b["ids"]
        and a["training"] == b["training"]
        and a["state"].keys() == b["state"].keys()
        and all(torch.equal(a["state"][k], b["state"][k]) for k in a["state"])
    )


# -- the registry itself -------------------------------------------------------------------------


def test_registry_covers_the_brief() -> None:
    cases = {name: build() for name, build in MODELS.items()}
    assert len(cases) >= 34
    labels = [c.label for c in cases.values()]
    assert set(labels) == {CONVEX, NONCONVEX}
    assert 0.35 <= labels.count(CONVEX) / len(labels) <= 0.65, "roughly half each"
    assert {c.category for c in cases.values()} >= REQUIRED_CATEGORIES
    for name, case in cases.items():
        assert case.why.strip() and case.why.rstrip().endswith("."), name
        assert case.wrt == "inputs" or case.wrt == "parameters" or isinstance(case.wrt, list)
        if case.wrt == "inputs":
            assert case.loss_fn is not None or case.data[1] is None, name
        else:
            assert case.data[1] is not None, name
        assert case.model.training == (name in TRAIN_MODE), name


@pytest.mark.parametrize("name", list(MODELS))
def test_case_is_small_and_deterministic(name: str) -> None:
    one, two = MODELS[name](), MODELS[name]()
    for a, b in [(one.model.state_dict(), two.model.state_dict())]:
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    for a, b in zip(one.data, two.data):
        assert (a is None and b is None) or torch.equal(a, b)
    assert (one.label, one.why, one.category, one.wrt) == (
        two.label,
        two.why,
        two.category,
        two.wrt,
    )
    inputs = one.data[0]
    assert inputs.shape[0] <= MAX_EXAMPLES, inputs.shape
    assert max(inputs.shape[1:], default=1) <= MAX_DIM, inputs.shape
    _, x0 = objective(one)
    assert x0.numel() <= MAX_JUDGED, x0.numel()
    assert all(p.dtype == torch.float32 for p in one.model.parameters())


@pytest.mark.parametrize("name", list(MODELS))
def test_objective_leaves_the_case_unchanged(name: str) -> None:
    case = MODELS[name]()
    before = _snapshot(case)
    f, x0 = objective(case)
    _value(f, x0 + 0.5)
    _gradient(f, x0)
    assert _same(before, _snapshot(case))


def test_objective_matches_the_plain_forward() -> None:
    """At the current point the float64 objective is the float32 forward up to rounding."""
    for name, build in MODELS.items():
        case = build()
        f, x0 = objective(case)
        inputs, targets = case.data
        with torch.no_grad():
            out = case.model(inputs)
            plain = float(out.sum() if case.loss_fn is None else case.loss_fn(out, targets))
        assert abs(_value(f, x0) - plain) <= 1e-4 * (1 + abs(plain)), name


# -- the labels ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in MODELS if MODELS[n]().label == NONCONVEX])
def test_nonconvex_label_has_a_jensen_violation(name: str) -> None:
    case = MODELS[name]()
    f, x0 = objective(case)
    found = find_violation(f, x0, _gen(name))
    assert found is not None, f"{name}: no Jensen violation in {MAX_TRIES} tries ({case.why})"
    tries, a, b, t, gap, margin = found
    assert tries <= MAX_TRIES and gap > margin
    # the witness, re-evaluated from scratch
    fa, fb, fm = _value(f, a), _value(f, b), _value(f, t * a + (1 - t) * b)
    assert fm > t * fa + (1 - t) * fb + _margin(fa, fb)


@pytest.mark.parametrize("name", [n for n in MODELS if MODELS[n]().label == CONVEX])
def test_convex_label_survives_hessian_and_jensen(name: str) -> None:
    case = MODELS[name]()
    f, x0 = objective(case)
    gen = _gen(name)
    for i in range(HESSIAN_POINTS):
        scale = CONVEX_SCALES[i % len(CONVEX_SCALES)]
        x = x0 + scale * torch.randn(x0.shape, generator=gen, dtype=F64)
        evals = torch.linalg.eigvalsh(_symmetric_hessian(f, x))
        tol = 1e-7 * (1.0 + float(evals.abs().max()))
        assert float(evals.min()) >= -tol, (name, i, scale, float(evals.min()), tol)
    for i in range(JENSEN_TRIPLES):
        scale = CONVEX_SCALES[i % len(CONVEX_SCALES)]
        a = x0 + scale * torch.randn(x0.shape, generator=gen, dtype=F64)
        b = x0 + scale * torch.randn(x0.shape, generator=gen, dtype=F64)
        t = float(torch.rand((), generator=gen, dtype=F64))
        fa, fb, fm = _value(f, a), _value(f, b), _value(f, t * a + (1 - t) * b)
        gap = fm - (t * fa + (1 - t) * fb)
        assert gap <= _margin(fa, fb), (name, i, scale, t, gap)
