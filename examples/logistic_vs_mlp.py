"""Logistic regression is convex in its weights; a small MLP on the same data is not.

Run: ``python examples/logistic_vs_mlp.py``.

Three checks on one seeded binary classification data set (2 features, 64 points):

1. ``nn.Linear(2, 1)`` with ``nn.BCEWithLogitsLoss``: ``cc.check_model`` *proves* the loss convex
   in (weight, bias) with a structural certificate (the logit is affine in the parameters and
   BCE-with-logits is convex in the logit); its steps are printed.
2. A 2-8-1 ReLU MLP with the same loss on the same data: refuted with a float64-verified Jensen
   witness.
3. The same logistic loss written in closed form on the first points, ``log(1 + exp(-y*(...)))``
   with the data as numbers and only (w1, w2, b) as variables: ``cc.check`` proves it convex by
   the DCP rules and prints the derivation. The closed form is evaluated at the trained
   model's parameters and compared with PyTorch's loss, to show it is the same function. With
   ``x`` a variable too (``w*x``), the same formula is refuted: convexity is always *in* the
   variables.
"""

from __future__ import annotations

import torch
from torch import nn

import convexcheck as cc

CLOSED_FORM_POINTS = 4  # points in the closed-form loss (the derivation grows with each)


def make_data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two features, labels from a noisy linear rule; features rounded to 2 decimals so that
    the closed form below can state them exactly."""
    g = torch.Generator().manual_seed(seed)
    x = torch.round(torch.randn(64, 2, generator=g) * 100) / 100
    noise = 0.3 * torch.randn(64, 1, generator=g)
    y = (x[:, :1] - 0.5 * x[:, 1:] + noise > 0).float()
    return x, y


def closed_form(x: torch.Tensor, y: torch.Tensor, n: int) -> str:
    """Mean logistic loss over the first ``n`` points, labels mapped to -1/+1."""
    terms = []
    for (x1, x2), label in zip(x[:n].tolist(), y[:n, 0].tolist()):
        z = f"{x1:.2f}*w1 {'-' if x2 < 0 else '+'} {abs(x2):.2f}*w2 + b"
        # BCE with logits: -log(sigmoid(z)) = log(1 + exp(-z)) for y = 1, log(1 + exp(z)) for 0
        terms.append(f"log(1 + exp(-({z})))" if label > 0.5 else f"log(1 + exp({z}))")
    return f"({' + '.join(terms)})/{n}"


def train(model: nn.Module, data, steps: int = 200) -> None:
    """A few full-batch Adam steps, so the closed form is compared at non-initial weights."""
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(data[0]), data[1]).backward()
        opt.step()


def main() -> None:
    x, y = make_data()
    data = (x, y)
    loss_fn = nn.BCEWithLogitsLoss()

    print("1. logistic regression: nn.Linear(2, 1) + BCEWithLogitsLoss on 64 points")
    torch.manual_seed(0)
    logistic = nn.Linear(2, 1)
    r = cc.check_model(logistic, loss_fn, data, device="cpu", seed=0)
    print(f"   convex: {r.convex.answer} ({r.convex.method}) {r.convex.summary}")
    for step in r.convex.certificate["steps"]:
        print(f"     {step['node']:14s} {step['curvature']:7s} {step['why']}")
    h = r.hessian
    print(
        f"   Hessian here (evidence only): lambda_min = {h['min_eigenvalue']:.6f}, "
        f"lambda_max = {h['max_eigenvalue']:.6f}"
    )

    print("\n2. a 2-8-1 ReLU MLP, same loss, same data")
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    m = cc.check_model(mlp, loss_fn, data, device="cpu", seed=0)
    print(f"   convex: {m.convex.answer} ({m.convex.method}) {m.convex.summary}")
    w = m.convex.witness
    chord = w["t"] * w["loss_a"] + (1 - w["t"]) * w["loss_b"]
    print(
        f"   witness ({w['source']}): t = {w['t']}, f(a) = {w['loss_a']:.8f}, "
        f"f(b) = {w['loss_b']:.8f}"
    )
    print(
        f"   f(t a + (1-t) b) = {w['loss_at_t']:.8f} > chord {chord:.8f}: "
        f"gap {w['gap']:.4g} > margin {w['margin']:.2g}"
    )
    kinds = sorted({reason["kind"] for reason in m.reasons})
    print(f"   reasons: {', '.join(kinds)}")

    n = CLOSED_FORM_POINTS
    expr = closed_form(x, y, n)
    print(f"\n3. the logistic loss in closed form on the first {n} points, in (w1, w2, b):")
    print(f"   {expr}")
    c = cc.check(expr)
    print(f"   curvature: {c.curvature}; convex: {c.convex.answer} ({c.convex.method})")
    print("   " + c.convex.summary)
    print("   DCP derivation (top three levels):")
    tree = c.explain().split("Derivation (DCP):\n", 1)[1].splitlines()
    omitted = []
    for line in tree:
        # two spaces of indent; below the root, three characters per level plus a 3-char branch
        depth = max(0, (len(line) - len(line.lstrip(" |`-")) - 2) // 3 - 1)
        if depth <= 2:
            print("   " + line)
        else:
            omitted.append(line)
    kinds = (
        "all affine or constant"
        if all("[affine" in o or "[constant" in o for o in omitted)
        else "not all affine"
    )
    print(f"   ({len(omitted)} deeper nodes omitted: {kinds})")

    train(logistic, data)
    weight = logistic.weight.detach()[0].tolist()
    bias = float(logistic.bias.detach())
    values = {"w1": weight[0], "w2": weight[1], "b": bias}
    f = cc.parse(expr)  # the same safe parser, to a SymPy expression
    at_model = float(f.subs({s: values[s.name] for s in f.free_symbols}))
    with torch.no_grad():
        torch_loss = float(loss_fn(logistic(x[:n]), y[:n]))
    print(
        f"   after 200 Adam steps (w1 = {weight[0]:.4f}, w2 = {weight[1]:.4f}, b = {bias:.4f}): "
        f"closed form = {at_model:.6f}, torch BCEWithLogitsLoss = {torch_loss:.6f}"
    )

    product = cc.check("log(1 + exp(-(w*x + b)))")
    print(
        f"\n   with x a variable as well, log(1 + exp(-(w*x + b))) is {product.curvature}: "
        f"convex: {product.convex.answer} ({product.convex.method})"
    )


if __name__ == "__main__":
    main()
