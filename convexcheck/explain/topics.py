"""``convexcheck explain TOPIC``: interview questions about convexity, answered on live numbers.

Every topic is a short argument in prose followed by numbers that the library computes when the
topic is asked for (seeded, small models, a few seconds on a CPU), so a reader can see the claim
hold, or fail, instead of taking the text on trust. ``TOPICS`` maps a topic's name to its title
and the function computing its numbers; :func:`explain_topic` returns text plus numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from convexcheck.numeric.reason_types import Reason, ReasonKind


@dataclass(frozen=True)
class Topic:
    name: str
    title: str
    text: str
    compute: Callable[[], dict[str, Any]]


# -- shared helpers (torch imported lazily: listing topics must stay cheap) --------------------
def _seed_mlp(seed: int = 0) -> tuple[Any, Any, Any]:
    """The seed's 2-10-1 ReLU MLP on a small noisy ``sin`` regression."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 1))
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 2, generator=g)
    y = torch.sin(x[:, :1]) + 0.1 * torch.randn(64, 1, generator=g)
    return model, nn.MSELoss(), (x, y)


def _eigenvalues(floss: Any, theta: Any = None) -> Any:
    """All Hessian eigenvalues (float64, dense: the topics' models are tiny)."""
    import torch

    from convexcheck.numeric.hessian import dense_hessian

    f64 = floss.to(dtype=torch.float64, device="cpu")
    at = f64.theta0 if theta is None else theta.to(torch.float64)
    return torch.linalg.eigvalsh(dense_hessian(f64.loss, at))


def _reason(reasons: list[Any], kind: ReasonKind) -> dict[str, Any] | None:
    """The first reason of ``kind`` as its JSON object (``reasons``: records or objects)."""
    as_dicts = (r.to_dict() if isinstance(r, Reason) else r for r in reasons)
    return next((r for r in as_dicts if r["kind"] == kind.value), None)


def _short(reason: dict[str, Any] | None, keys: tuple[str, ...]) -> dict[str, Any] | None:
    if reason is None:
        return None
    return {k: reason[k] for k in keys if k in reason}


_PERM_KEYS = ("layers", "units", "loss_a", "loss_b", "loss_midpoint", "midpoint_gap", "margin",
              "witnessed")  # fmt: skip
_MULT_KEYS = ("parameters", "point", "slice_hessian", "slice_eigenvalues", "a", "b", "loss_a",
              "loss_b", "loss_midpoint", "midpoint_gap", "margin", "witnessed")  # fmt: skip
_RESC_KEYS = ("layers", "unit", "factor", "midpoint_amplification", "loss_a", "loss_b",
              "loss_midpoint", "midpoint_gap", "margin", "witnessed")  # fmt: skip


# -- topics ------------------------------------------------------------------------------------
def _why_nn_nonconvex() -> dict[str, Any]:
    from convexcheck.numeric.functional import FunctionalLoss
    from convexcheck.numeric.mechanisms import model_reasons

    model, loss_fn, data = _seed_mlp()
    floss = FunctionalLoss(model, loss_fn, data)
    reasons = model_reasons(model, floss)
    evals = _eigenvalues(floss)
    return {
        "model": "2-10-1 ReLU MLP, MSE on 64 points of sin(x1) + noise",
        "parameters": floss.numel,
        "loss": floss.loss0,
        "permutation_symmetry": _short(
            _reason(reasons, ReasonKind.PERMUTATION_SYMMETRY), _PERM_KEYS
        ),
        "multiplicative_weights": _short(
            _reason(reasons, ReasonKind.MULTIPLICATIVE_WEIGHTS), _MULT_KEYS
        ),
        "hessian_min_eigenvalue": float(evals[0]),
        "hessian_max_eigenvalue": float(evals[-1]),
        "negative_eigenvalues": int((evals < -1e-10).sum()),
    }


def _logistic_regression() -> dict[str, Any]:
    import torch
    from torch import nn

    from convexcheck.numeric.check import check_model
    from convexcheck.numeric.functional import FunctionalLoss

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(128, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3 * torch.randn(128, 1, generator=g) > 0
    model, loss_fn, data = nn.Linear(3, 1), nn.BCEWithLogitsLoss(), (x, y.float())
    result = check_model(model, loss_fn, data, device="cpu", hessian=False)
    floss = FunctionalLoss(model, loss_fn, data)
    mins = []
    for _ in range(5):  # the Hessian X^T diag(p(1-p)) X / n is PSD at every parameter vector
        theta = floss.theta0.double() + 3.0 * torch.randn(floss.numel, generator=g).double()
        mins.append(float(_eigenvalues(floss, theta)[0]))
    return {
        "model": "logistic regression, 3 features + bias, BCE-with-logits on 128 points",
        "verdict": result.convex.answer,
        "method": result.convex.method,
        "reasons": [r["kind"] for r in result.reasons],
        "hessian_min_eigenvalue_at_5_random_points": mins,
        "all_nonnegative": all(m >= -1e-12 for m in mins),
    }


def _xy_saddle() -> dict[str, Any]:
    from convexcheck.symbolic.check import check

    joint = check("x*y")
    in_x = check("2*x")  # x*y with y held at 2
    w = joint.convex.witness or {}
    return {
        "function": "f(x, y) = x*y",
        "hessian": [[0, 1], [1, 0]],
        "hessian_eigenvalues": [-1.0, 1.0],
        "joint_convex": joint.convex.answer,
        "joint_witness": {k: w.get(k) for k in ("a", "b", "t", "f_a", "f_b", "f_at_t", "gap")},
        "convex_in_x_with_y_fixed_at_2": in_x.convex.answer,
        "hand_witness": {"a": [1, -1], "b": [-1, 1], "t": 0.5, "f_a": -1, "f_b": -1, "f_mid": 0},
    }


def _deep_linear() -> dict[str, Any]:
    import torch
    from torch import nn

    from convexcheck.numeric.functional import FunctionalLoss
    from convexcheck.numeric.mechanisms import model_reasons

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 3, generator=g)
    y = x @ torch.tensor([[1.0], [2.0], [-1.0]])
    deep = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    floss = FunctionalLoss(deep, nn.MSELoss(), (x, y))
    reasons = model_reasons(deep, floss)
    shallow = FunctionalLoss(nn.Linear(3, 1), nn.MSELoss(), (x, y))
    ev_deep, ev_shallow = _eigenvalues(floss), _eigenvalues(shallow)
    return {
        "model": "Linear(3,4) -> Linear(4,1), no activation; the function is still linear in x",
        "multiplicative_weights": _short(
            _reason(reasons, ReasonKind.MULTIPLICATIVE_WEIGHTS), _MULT_KEYS
        ),
        "deep_hessian_min_eigenvalue": float(ev_deep[0]),
        "shallow_hessian_min_eigenvalue": float(ev_shallow[0]),
        "deep_negative_eigenvalues": int((ev_deep < -1e-10).sum()),
    }


def _l2_shifts_hessian() -> dict[str, Any]:
    from convexcheck.numeric.functional import FunctionalLoss, L2Penalty

    model, loss_fn, data = _seed_mlp()
    out: dict[str, Any] = {"model": "2-10-1 ReLU MLP", "shifts": []}
    base = _eigenvalues(FunctionalLoss(model, loss_fn, data))
    out["lambda_min_without_penalty"] = float(base[0])
    for lam in (0.01, 0.1, 1.0):
        ev = _eigenvalues(FunctionalLoss(model, loss_fn, data, penalties=[L2Penalty(lam)]))
        out["shifts"].append(
            {
                "lambda": lam,
                "lambda_min": float(ev[0]),
                "measured_shift": float(ev[0] - base[0]),
                "expected_shift_2lambda": 2 * lam,
                "max_deviation_over_spectrum": float(((ev - base) - 2 * lam).abs().max()),
            }
        )
    out["convex_once"] = "lambda > -lambda_min / 2 makes the Hessian PD at THIS point only"
    return out


def _strong_convexity() -> dict[str, Any]:
    import torch
    from torch import nn

    from convexcheck.numeric.functional import FunctionalLoss, L2Penalty

    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=g)
    y = torch.randn(64, 1, generator=g)
    torch.manual_seed(0)
    lam = 0.05
    f = FunctionalLoss(nn.Linear(3, 1), nn.MSELoss(), (x, y), penalties=[L2Penalty(lam)])
    f64 = f.to(dtype=torch.float64)
    ev = _eigenvalues(f)
    mu = float(ev[0])
    slack = []
    for _ in range(200):
        a = torch.randn(f.numel, generator=g, dtype=torch.float64)
        b = torch.randn(f.numel, generator=g, dtype=torch.float64)
        t = float(torch.rand((), generator=g))
        fm = float(f64.loss(t * a + (1 - t) * b))
        bound = t * float(f64.loss(a)) + (1 - t) * float(f64.loss(b))
        bound -= 0.5 * mu * t * (1 - t) * float((a - b).pow(2).sum())
        slack.append(bound - fm)
    return {
        "model": f"ridge regression (3 features + bias, L2 weight {lam})",
        "mu_equals_lambda_min": mu,
        "lambda_max": float(ev[-1]),
        "condition_number": float(ev[-1] / ev[0]),
        "penalty_alone_guarantees_mu": 2 * lam,
        "pairs_checked": len(slack),
        "min_slack_of_strong_jensen": min(slack),
        "holds_everywhere_checked": min(slack) >= -1e-9,
    }


def _certified_constants() -> dict[str, Any]:
    from convexcheck.symbolic.curvature_bounds import curvature_bounds

    box = {"x": "[-2, 2]"}
    plain = curvature_bounds("log(1 + exp(x))", box)
    ridge = curvature_bounds("log(1 + exp(x)) + x**2/10", box)
    return {
        "function": "logistic loss log(1 + exp(x)) on [-2, 2], without and with 0.1*x**2",
        "mu_without_penalty": plain.mu_float,
        "L_without_penalty": plain.L_float,
        "mu_with_penalty": ridge.mu_float,
        "L_with_penalty": ridge.L_float,
        "shift_2lambda": 0.2,
        "step_size_1_over_L": ridge.step_size,
        "condition_number_bound": ridge.condition_number,
        "checked": plain.checked and ridge.checked,
    }


def _saddles_vs_minima() -> dict[str, Any]:
    import torch

    from convexcheck.numeric.functional import FunctionalLoss

    model, loss_fn, data = _seed_mlp()
    floss = FunctionalLoss(model, loss_fn, data)
    theta = floss.theta0.clone().requires_grad_(True)
    opt = torch.optim.Adam([theta], lr=0.02)
    trace = []
    for step in range(301):
        if step % 50 == 0:
            ev = _eigenvalues(floss, theta.detach())
            trace.append(
                {
                    "step": step,
                    "loss": float(floss.loss(theta.detach())),
                    "negative_eigenvalues": int((ev < -1e-8).sum()),
                    "lambda_min": float(ev[0]),
                    "lambda_max": float(ev[-1]),
                    "grad_norm": float(torch.func.grad(floss.loss)(theta.detach()).norm()),
                }
            )
        opt.zero_grad()
        floss.loss(theta).backward()
        opt.step()
    return {"model": "2-10-1 ReLU MLP trained with Adam (lr 0.02)", "trace": trace}


def _l1_vs_l2() -> dict[str, Any]:
    from convexcheck.symbolic.check import check

    l1, l2 = check("Abs(x)"), check("x**2")
    # Jensen gaps at t = 1/2 for two same-sign points and for opposite signs
    pairs = [(1.0, 3.0), (-1.0, 3.0)]
    gaps = [
        {
            "a": a,
            "b": b,
            "l1_gap": (abs(a) + abs(b)) / 2 - abs((a + b) / 2),
            "l2_gap": (a * a + b * b) / 2 - ((a + b) / 2) ** 2,
        }
        for a, b in pairs
    ]
    soft = [{"z": z, "prox_l1": max(abs(z) - 0.5, 0) * (1 if z > 0 else -1), "prox_l2": z / 2}
            for z in (0.3, -0.4, 2.0)]  # fmt: skip
    return {
        "l1_convex": l1.convex.answer,
        "l2_convex": l2.convex.answer,
        "chord_gaps_at_t_half": gaps,
        "note": "|x| has zero gap on same-sign pairs (convex, not strictly); x^2 has gap "
        "(a-b)^2/4 everywhere (strongly convex, mu = 2)",
        "prox_step_weight_half": soft,
    }


def _relu_rescaling() -> dict[str, Any]:
    from convexcheck.numeric.functional import FunctionalLoss
    from convexcheck.numeric.mechanisms import model_reasons

    model, loss_fn, data = _seed_mlp()
    floss = FunctionalLoss(model, loss_fn, data)
    reason = _reason(model_reasons(model, floss), ReasonKind.RESCALING_SYMMETRY)
    return {"model": "2-10-1 ReLU MLP", "rescaling_symmetry": _short(reason, _RESC_KEYS)}


def _frozen_features() -> dict[str, Any]:
    import torch
    from torch import nn

    from convexcheck.numeric.check import check_model

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 3))
    for p in model[0].parameters():
        p.requires_grad_(False)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=g)
    y = torch.randint(0, 3, (64,), generator=g)
    frozen = check_model(model, nn.CrossEntropyLoss(), (x, y), device="cpu", hessian=False)
    for p in model[0].parameters():
        p.requires_grad_(True)
    thawed = check_model(model, nn.CrossEntropyLoss(), (x, y), device="cpu", hessian=False)
    affine = _reason(frozen.reasons, ReasonKind.AFFINE_IN_PARAMETERS) or {}
    return {
        "model": "2-10-3 ReLU MLP, cross-entropy; first layer frozen",
        "frozen_verdict": frozen.convex.answer,
        "frozen_parameters": affine.get("frozen"),
        "trainable_parameters": affine.get("trainable"),
        "reasons": [r["kind"] for r in frozen.reasons],
        "unfrozen_verdict": thawed.convex.answer,
        "unfrozen_witness_source": (thawed.convex.witness or {}).get("source"),
    }


TOPICS: dict[str, Topic] = {
    t.name: t
    for t in [
        Topic(
            "why-nn-nonconvex",
            "Why is a neural network's loss non-convex in its weights?",
            "Hidden units are interchangeable: swap two of them (rows in, columns out) and the "
            "network computes the same function, so the loss has the same value at two "
            "different points. Convexity would force the midpoint to be no worse, but the "
            "midpoint averages the two units into a different network, usually a worse one. "
            "Second, weights of successive layers multiply, and products like s*u are saddles. "
            "Below: both arguments on the 2-10-1 ReLU MLP, verified in float64.",
            _why_nn_nonconvex,
        ),
        Topic(
            "logistic-regression-is-convex",
            "Why is logistic regression convex?",
            "The logit w.x + b is affine in the parameters and log(1 + exp(-z)) is convex in "
            "z; a convex function of an affine map is convex. Its Hessian X^T diag(p(1-p)) X/n "
            "is positive semidefinite at every parameter vector, not just near the optimum. "
            "Below: convexcheck's structural verdict and the measured smallest Hessian "
            "eigenvalue at random parameters.",
            _logistic_regression,
        ),
        Topic(
            "xy-saddle",
            "f(x, y) = x y: convex in each variable, not jointly",
            "For fixed y, x*y is linear in x (so convex), and likewise in y; jointly its "
            "Hessian [[0,1],[1,0]] has eigenvalues -1 and 1, a saddle. Along (t, -t) the "
            "function is -t^2, concave. This is the two-layer product in miniature. Below: "
            "the exact witness convexcheck finds.",
            _xy_saddle,
        ),
        Topic(
            "deep-linear-networks",
            "A deep linear network computes a linear function; is its loss convex?",
            "No. The map x -> W2 W1 x is linear in x, but the loss is judged in (W1, W2), "
            "and the product W2 W1 is bilinear in them: the xy saddle again. The same "
            "regression with one Linear layer is convex. Below: a verified multiplicative "
            "witness and the two Hessians' smallest eigenvalues.",
            _deep_linear,
        ),
        Topic(
            "l2-shifts-hessian",
            "What does L2 regularisation do to the Hessian?",
            "Adding lambda*||w||^2 adds 2*lambda*I to the Hessian: every eigenvalue moves up "
            "by exactly 2 lambda, the eigenvectors stay. It can make the Hessian positive "
            "definite at a point, but it does not make a network's loss convex everywhere: "
            "the negative curvature elsewhere can be arbitrarily large. Below: the measured "
            "shift on the MLP's dense Hessian.",
            _l2_shifts_hessian,
        ),
        Topic(
            "strong-convexity",
            "Strong convexity",
            "f is mu-strongly convex when f(t a + (1-t) b) <= t f(a) + (1-t) f(b) - "
            "mu/2 t(1-t)||a-b||^2; for a twice-differentiable f this is lambda_min(H) >= mu "
            "everywhere. Ridge regression has a constant Hessian, so mu is its smallest "
            "eigenvalue, at least 2 lambda. Strong convexity gives a unique minimiser and "
            "linear convergence of gradient descent at rate ~ 1 - mu/L. Below: mu measured, "
            "and the strong Jensen inequality checked on random pairs.",
            _strong_convexity,
        ),
        Topic(
            "saddle-points-vs-local-minima",
            "Saddle points or local minima: what does training meet?",
            "A critical point with a negative Hessian eigenvalue is a saddle: there is a "
            "descent direction, and noisy or momentum methods escape it. In high dimensions "
            "most critical points with high loss are saddles. Below: the count of negative "
            "Hessian eigenvalues along a short Adam run on the MLP: the gradient shrinks "
            "while lambda_min creeps toward zero from below, i.e. training slows down in a "
            "flat, slightly saddle-shaped region rather than at a clean minimum.",
            _saddles_vs_minima,
        ),
        Topic(
            "l1-vs-l2",
            "L1 versus L2 penalties",
            "Both are convex, so adding either to a convex loss keeps it convex. L2 is "
            "strongly convex (the chord gap is (a-b)^2/4 at t = 1/2) and differentiable, so it "
            "shrinks weights proportionally; L1 is convex but not strictly (zero gap for "
            "same-sign points) and not differentiable at 0, and its proximal step "
            "(soft-thresholding) sets small weights exactly to zero: sparsity.",
            _l1_vs_l2,
        ),
        Topic(
            "relu-rescaling",
            "ReLU rescaling symmetry",
            "relu(c z) = c relu(z) for c > 0, so multiplying a unit's incoming weights by c "
            "and its outgoing weights by 1/c does not change the network. The two parameter "
            "sets have equal loss, and on the segment between them the unit is scaled by "
            "(1+c)(1+1/c)/4 > 1 at the midpoint: a different network, and when worse, a "
            "Jensen violation. (It is also why weight decay picks balanced layers.)",
            _relu_rescaling,
        ),
        Topic(
            "frozen-features-are-convex",
            "Training only the last layer on frozen features is convex",
            "With every earlier layer frozen, the features phi(x) are fixed numbers and the "
            "output W phi(x) + b is affine in the trainable (W, b); cross-entropy is convex in "
            "the logits, so the loss is convex: a linear probe. Unfreeze the features and the "
            "multiplicative structure comes back. Below: the structural proof naming the "
            "frozen tensors, then the same model unfrozen.",
            _frozen_features,
        ),
        Topic(
            "certified-constants",
            "How convex is it? Certified mu and L",
            "mu (the strong-convexity modulus) is a lower bound on every Hessian eigenvalue over "
            "the domain, L (the smoothness constant) an upper bound: f is mu-strongly convex, "
            "its gradient L-Lipschitz, 1/L is the safe constant gradient step and L/mu bounds "
            "the condition number (gradient descent contracts by 1 - mu/L per step). "
            "cc.curvature_bounds and `convexcheck expr ... --constants` prove both on boxes "
            "(interval Hessian, eigenvalue enclosures, bisection) and the independent checker "
            "re-derives them; sampled Hessians only ever guess. An L2 penalty lam*x**2 shifts "
            "every eigenvalue by 2*lam, which the proved bounds show below.",
            _certified_constants,
        ),
    ]
}


def list_topics() -> list[dict[str, str]]:
    """``[{name, title}]`` in presentation order (computes nothing)."""
    return [{"name": t.name, "title": t.title} for t in TOPICS.values()]


def explain_topic(name: str) -> dict[str, Any]:
    """The topic's text and live numbers, with the seconds they took to compute."""
    from convexcheck.errors import ConvexcheckInputError

    if name not in TOPICS:
        known = ", ".join(TOPICS)
        raise ConvexcheckInputError(f"unknown topic {name!r}; known topics: {known}")
    topic = TOPICS[name]
    start = time.perf_counter()
    numbers = topic.compute()
    return {
        "topic": topic.name,
        "title": topic.title,
        "text": topic.text,
        "numbers": numbers,
        "seconds": round(time.perf_counter() - start, 3),
    }


def format_numbers(value: Any, indent: int = 0) -> list[str]:
    """Nested numbers as indented ``key: value`` lines (floats to 6 significant digits)."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict) or (isinstance(v, list) and any(isinstance(e, dict) for e in v)):
                lines.append(f"{pad}{k}:")
                lines.extend(format_numbers(v, indent + 1))
            else:
                lines.append(f"{pad}{k}: {_fmt(v)}")
    elif isinstance(value, list):
        for item in value:
            sub = format_numbers(item, indent + 1)
            if sub:
                lines.append(f"{pad}- " + sub[0].strip())
                lines.extend(sub[1:])
    else:
        lines.append(f"{pad}{_fmt(value)}")
    return lines


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(e) for e in v) + "]"
    return str(v)
