"""Why is a small ReLU network's training loss not convex? Ask convexcheck, and read its numbers.

Run: ``python examples/mlp_explained.py [--seed N] [--report PATH.html|PATH.md]``.

The model is the 2-10-1 ReLU MLP ``nn.Sequential(Linear(2, 10), ReLU(), Linear(10, 1))`` with
the mean squared error on 64 fixed random points. ``cc.check_model`` judges the loss as a
function of the 41 trainable parameters and prints:

* the verdict (``no``) and its witness: two parameter vectors ``a``, ``b`` and a ``t`` where
  ``f(t a + (1-t) b) > t f(a) + (1-t) f(b)``, recomputed in float64 with a stated rounding
  margin, and then re-checked once more here by hand from the saved state dicts;
* the extreme eigenvalues of the Hessian at the current parameters (Lanczos, evidence only);
* each reason with its own numbers: the permutation symmetry of the hidden units, the
  multiplicative weights (a 2x2 saddle in one incoming and one outgoing weight) and the ReLU
  rescaling symmetry.

``--report PATH.html`` also writes a self-contained HTML report with plots (``.md`` for
Markdown). Every number is computed when the script runs; the same seed gives the same output.
"""

from __future__ import annotations

import argparse
import copy

import torch
from torch import nn

import convexcheck as cc


def build(seed: int = 0) -> tuple[nn.Module, nn.Module, tuple[torch.Tensor, torch.Tensor]]:
    """The seed's MLP and its regression data (as in ``docs/models.md``)."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 1))
    x = torch.randn(64, 2)
    y = torch.sin(x[:, :1])
    return model, nn.MSELoss(), (x, y)


def recheck_by_hand(model: nn.Module, loss_fn: nn.Module, data, result) -> dict[str, float]:
    """Recompute the witness from its two full state dicts, in float64, without convexcheck."""
    payload = result.witness_state_dicts()
    t = payload["t"]
    x, y = (d.double() for d in data)

    def loss_at(state: dict[str, torch.Tensor]) -> float:
        m = copy.deepcopy(model).double()
        m.load_state_dict(state)
        with torch.no_grad():
            return float(loss_fn(m(x), y))

    a, b = payload["a"], payload["b"]
    mid = {k: t * a[k].double() + (1 - t) * b[k].double() for k in a}
    fa, fb, fm = loss_at(a), loss_at(b), loss_at(mid)
    return {"t": t, "f(a)": fa, "f(b)": fb, "f(m)": fm, "gap": fm - (t * fa + (1 - t) * fb)}


def _matrix(rows) -> str:
    return "[" + ", ".join("[" + ", ".join(f"{v:.4f}" for v in row) + "]" for row in rows) + "]"


def print_reason(reason: dict) -> None:
    kind = reason["kind"]
    if reason.get("source") != "reasons":  # one-line reasons from the search and the tracer
        source = f" ({reason['source']})" if reason.get("source") else ""
        print(f"  {kind}{source}: {reason.get('detail', '')}")
        return
    mark = "witnessed" if reason.get("witnessed") else "NOT witnessed"
    print(f"  {kind} ({mark} in float64):")
    if kind == "permutation_symmetry":
        i, j = reason["units"]
        print(f"    swap hidden units {i} and {j} between layers {' -> '.join(reason['layers'])}")
    elif kind == "multiplicative_weights":
        (ps, ks), (pu, ku) = reason["parameters"]
        s, u = reason["point"]
        lo, hi = reason["slice_eigenvalues"]
        print(f"    s = {ps}[{ks}] = {s:.6f}, u = {pu}[{ku}] = {u:.6f} multiply on one path")
        print(f"    2x2 Hessian in (s, u): {_matrix(reason['slice_hessian'])}")
        print(f"    its eigenvalues: {lo:.6f} < 0 < {hi:.6f} (a saddle)")
        a, b = reason["a"], reason["b"]
        print(f"    segment (s, u): a = ({a[0]:.6f}, {a[1]:.6f}), b = ({b[0]:.6f}, {b[1]:.6f})")
    elif kind == "rescaling_symmetry":
        c = reason["factor"]
        print(
            f"    unit {reason['unit']}: incoming weights x {c:g}, outgoing / {c:g}; the "
            f"midpoint amplifies the unit by (1+c)(1+1/c)/4 = "
            f"{reason['midpoint_amplification']:.4f}"
        )
    if "loss_a" in reason:
        print(
            f"    loss_a = {reason['loss_a']:.6f}, loss_b = {reason['loss_b']:.6f}, "
            f"loss_midpoint = {reason['loss_midpoint']:.6f}"
        )
        print(f"    midpoint_gap = {reason['midpoint_gap']:.6g} > margin = {reason['margin']:.3g}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed for the model and the search")
    parser.add_argument("--report", metavar="PATH", help="write an .html or .md report")
    args = parser.parse_args(argv)

    model, loss_fn, data = build(args.seed)
    result = cc.check_model(model, loss_fn, data, device="cpu", seed=args.seed)
    count = result.trainable_parameters["count"]
    print(f"model: 2-10-1 ReLU MLP, MSE on {len(data[0])} points, {count} trainable parameters")
    v = result.convex
    print(f"convex: {v.answer} ({v.method}) {v.summary}")

    if v.answer == "no":
        w = v.witness
        chord = w["t"] * w["loss_a"] + (1 - w["t"]) * w["loss_b"]
        print(f"witness ({w['source']}), verified {w['verified_in']}:")
        print(f"  t                    = {w['t']}")
        print(f"  f(a)                 = {w['loss_a']:.10f}")
        print(f"  f(b)                 = {w['loss_b']:.10f}")
        print(f"  t f(a) + (1-t) f(b)  = {chord:.10f}")
        print(f"  f(t a + (1-t) b)     = {w['loss_at_t']:.10f}")
        print(f"  gap                  = {w['gap']:.6g}")
        terms = ", ".join(f"{k} {val:.2g}" for k, val in w["margin_terms"].items())
        print(f"  margin               = {w['margin']:.3g}  ({terms})")
        print(f"  gap / margin         = {w['gap'] / w['margin']:.3g}")
        by_hand = recheck_by_hand(model, loss_fn, data, result)
        print(
            "re-checked by hand from the witness's state dicts (float64): "
            f"f(a) = {by_hand['f(a)']:.10f}, f(b) = {by_hand['f(b)']:.10f}, "
            f"f(m) = {by_hand['f(m)']:.10f}, gap = {by_hand['gap']:.6g}"
        )

    h = result.hessian or {}
    if h.get("min_eigenvalue") is not None:
        print(
            f"Hessian at the current parameters (Lanczos, {h.get('iterations')} steps): "
            f"lambda_min = {h['min_eigenvalue']:.5f} +- {h['min_error']:.1e}, "
            f"lambda_max = {h['max_eigenvalue']:.5f} +- {h['max_error']:.1e}"
        )
    print("reasons:")
    for reason in result.reasons:
        print_reason(reason)

    if args.report:
        from convexcheck.explain.report import write_model_report

        path = write_model_report(result, args.report, source="examples/mlp_explained.py")
        print(f"report written to {path}")


if __name__ == "__main__":
    main()
