"""Structural proof of a model's objective: trace, translate, the one DCP engine, then check.

``structural_proof`` is the model ladder's first rung. Its ``yes`` means: the tensor expression
translated from the traced graph is proved convex by :mod:`convexcheck.tensor.dcp`, *and* that
expression, evaluated at several points of the judged variables (the current values, random
pairs at three scales around them and their weighted midpoints, the sign flip), equals the
user's own program there to rounding. The second half is what makes the first about the
user's function: a forward that behaves differently while traced, a penalty baked in as a
constant, a hook, or a translation mistake all show up as a disagreement, and the proof is
withdrawn (``tracing_dependent``).

Variables: ``wrt="parameters"`` judges the parameters with ``requires_grad=True``, a list of
names judges exactly those, ``wrt="inputs"`` judges the input tensor with every parameter held
at its value. Everything not judged is constant data, read at its current value.

Never raises for an unsupported model: it returns ``proved=False`` with issues whose ``kind``
says why (``untraceable``, ``unsupported_op``, ``nonconvex_activation``,
``multiplicative_weights``, ``nonconvex_loss``, ``batch_statistics``, ``stochastic``,
``parametrized_weight``, ``forward_hook``, ``tracing_dependent``, ...).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from convexcheck.tensor.dcp import Step, TensorAnalysis, analyze
from convexcheck.tensor.evaluate import Program
from convexcheck.tensor.expr import TExpr, postorder
from convexcheck.torchgraph.trace import ObjectiveHarness, hooks, trace_objective
from convexcheck.torchgraph.translate import Refusal, Translation, Translator

ACTIVATION_OPS = {
    "F.relu",
    "torch.relu",
    "Tensor.relu",
    "F.leaky_relu",
    "F.softplus",
    "F.logsigmoid",
    "torch.clamp",
    "Tensor.clamp",
    "torch.exp",
    "Tensor.exp",
    "F.max_pool2d",
}


@dataclass
class ModelProof:
    """What :func:`structural_proof` found (``check_model`` reads these fields)."""

    proved: bool
    certificate: dict[str, Any] | None
    obstacles: list[str]
    steps: list[str]
    frozen: list[str]
    issues: list[dict[str, str]] = field(default_factory=list)
    trainable: list[str] = field(default_factory=list)
    output_curvature: str = "unknown"
    loss_curvature: str = "unknown"
    analysis: TensorAnalysis | None = None


def judged_parameters(model: nn.Module, wrt: Any) -> dict[int, str]:
    """``id(tensor) -> name`` of the parameters judged for ``wrt`` (tied tensors once)."""
    if wrt == "inputs":
        return {}
    named = dict(model.named_parameters())
    if wrt == "parameters":
        return {id(p): n for n, p in named.items() if p.requires_grad}
    return {id(named[n]): n for n in wrt if n in named}


def _not_proved(issues: list[dict[str, str]], trainable: list[str], **kw: Any) -> ModelProof:
    return ModelProof(
        proved=False,
        certificate=None,
        obstacles=[i["message"] for i in issues],
        steps=kw.pop("steps", []),
        frozen=kw.pop("frozen", []),
        issues=issues,
        trainable=trainable,
        **kw,
    )


def structural_proof(
    model: nn.Module,
    loss_fn: Callable[..., Any] | None,
    data: Any,
    *,
    wrt: Any = "parameters",
    reference: Any = None,
) -> ModelProof:
    """Try to prove the objective convex in the variables ``wrt`` selects (see the module
    docstring). ``reference`` evaluates the user's program (``names``, ``unflatten``,
    ``theta0``, ``program_losses``, as :class:`~convexcheck.numeric.functional.FunctionalLoss`);
    it is built here for ``wrt="parameters"`` when not given."""
    inputs, targets = (data, None) if torch.is_tensor(data) else tuple(data)
    judged = judged_parameters(model, wrt)
    trainable = ["inputs"] if wrt == "inputs" else list(judged.values())
    found = hooks(model, loss_fn)
    if found:
        return _not_proved(found, trainable)
    harness = ObjectiveHarness(model, loss_fn, sum_outputs=wrt == "inputs" and loss_fn is None)
    try:
        gm = trace_objective(harness, judged)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        msg = (
            f"the model and loss could not be traced by torch.fx ({type(exc).__name__}: "
            f"{first[:200]}); data-dependent control flow or non-torch code cannot be read "
            "structurally"
        )
        kind, node = "untraceable", ""
        parametrized = _parametrized_judged(model, judged)
        if parametrized:
            kind, node = "parametrized_weight", parametrized[0]
            msg = (
                f"the parametrization of '{node}' could not be traced ({type(exc).__name__}: "
                f"{first[:160]}): the weight is a non-linear function of the trained tensors "
                "that the graph cannot show"
            )
        return _not_proved([{"kind": kind, "node": node, "message": msg}], trainable)
    buffers = {k: b.detach().clone() for k, b in model.named_buffers()}
    try:
        translator = Translator(
            gm, harness, judged, inputs, targets, "inputs" if wrt == "inputs" else None
        )
        translation = translator.run()
    except Refusal as refusal:
        return _not_proved([refusal.as_issue()], trainable)
    finally:
        with torch.no_grad():  # evaluating constants may have run batch norm in train mode
            for k, b in model.named_buffers():
                if k in buffers and b.shape == buffers[k].shape:
                    b.copy_(buffers[k])
    frozen = _frozen(model, judged, wrt)
    try:
        analysis = analyze(translation.root)
    except Exception as exc:  # the engine refuses what it cannot bound (a huge product)
        text = " ".join(str(exc).split())[:300]
        issue = {"kind": "dcp_rule", "node": "", "message": f"the DCP engine stopped: {text}"}
        if "product of two non-constant" in text:
            issue = _first_product(translation) or {**issue, "kind": "multiplicative_weights"}
        return _not_proved([issue], trainable, frozen=frozen)
    by_expr: dict[int, Any] = {}
    for r in translation.records:
        by_expr.setdefault(id(r.expr), r)
    steps = _named_steps(translation, analysis)
    lines = [f"{s['node']} {s['op']} {s['shape']}: {s['curvature']} ({s['rule']})" for s in steps]
    out_curv = _output_curvature(translation, analysis)
    loss_curv = analysis.root_step.curvature if analysis.root_step.defined else "unknown"
    facts = {
        "steps": lines,
        "frozen": frozen,
        "output_curvature": out_curv,
        "loss_curvature": loss_curv,
        "analysis": analysis,
    }
    if not analysis.proves("convex"):
        return _not_proved(_obstacles(analysis, translation, by_expr, out_curv), trainable, **facts)
    check = faithfulness(translation, model, loss_fn, data, wrt, reference)
    if check["mismatch"] is not None:
        issue = {"kind": "tracing_dependent", "node": "", "message": check["mismatch"]}
        return _not_proved([issue], trainable, **facts)
    rechecked = independent_check(analysis)
    if rechecked.get("passed") is False:
        issue = {
            "kind": "checker_rejected",
            "node": "",
            "message": "the independent certificate checker rejected the derivation: "
            + "; ".join(rechecked.get("problems", []))[:300],
        }
        return _not_proved([issue], trainable, **facts)
    check = {**check, "independent_check": rechecked}
    certificate = _certificate(
        model, loss_fn, wrt, trainable, frozen, steps, analysis, out_curv, check
    )
    return ModelProof(
        proved=True,
        certificate=certificate,
        obstacles=[],
        steps=lines,
        frozen=frozen,
        trainable=trainable,
        output_curvature=out_curv,
        loss_curvature=loss_curv,
        analysis=analysis,
    )


def _parametrized_judged(model: nn.Module, judged: dict[int, str]) -> list[str]:
    """``module.tensor`` names of parametrized weights whose originals are judged."""
    from torch.nn.utils import parametrize

    out = []
    for name, module in model.named_modules():
        if parametrize.is_parametrized(module):
            for tensor_name, plist in module.parametrizations.items():
                if any(id(p) in judged for p in plist.parameters()):
                    out.append(f"{name}.{tensor_name}" if name else tensor_name)
    return out


def _frozen(model: nn.Module, judged: dict[int, str], wrt: Any) -> list[str]:
    return [n for n, p in model.named_parameters() if id(p) not in judged]


def _named_steps(translation: Translation, analysis: TensorAnalysis) -> list[dict[str, Any]]:
    out = []
    for r in translation.records:
        step = analysis.steps.get(id(r.expr))
        if step is None:
            continue
        out.append(
            {
                "node": r.name,
                "module": r.module,
                "op": r.op,
                "shape": list(r.shape),
                "curvature": step.curvature if step.defined else "undefined",
                "rule": step.rule,
                "why": _why(step),
            }
        )
    return out


def _why(step: Step) -> str:
    if step.rule in ("variable", "constant"):
        return f"a {step.rule}"
    rule = step.rule.replace("pattern:", "the pattern ")
    kids = ", ".join(k.curvature for k in step.children)
    return f"{rule} of ({kids}) is {step.curvature}" if kids else f"{rule}: {step.curvature}"


def _output_curvature(translation: Translation, analysis: TensorAnalysis) -> str:
    for r in translation.records:
        if r.op == "(the model's output)":
            step = analysis.steps.get(id(r.expr))
            return step.curvature if step is not None else "unknown"
    return "constant"


def _first_product(translation: Translation) -> dict[str, str] | None:
    """The first graph node holding a product of two variable-dependent matrices."""
    by_expr: dict[int, Any] = {}
    for r in translation.records:
        by_expr.setdefault(id(r.expr), r)
    parents = _parents(translation.root)
    for node in postorder(translation.root):
        if node.op == "matmul" and all(not _constant_tree(a) for a in node.args):
            up: TExpr | None = node
            while up is not None and id(up) not in by_expr:
                up = parents.get(id(up))
            record = by_expr.get(id(up)) if up is not None else None
            where = (
                f"node '{record.name}' {record.op}"
                + (f" (module '{record.module}')" if record.module else "")
                + ": "
                if record
                else ""
            )
            return {
                "kind": "multiplicative_weights",
                "node": record.name if record else "",
                "message": f"{where}a product of two factors that both depend on the "
                "variables (matmul): not affine, so its curvature is unknown",
            }
    return None


def _constant_tree(node: TExpr) -> bool:
    return all(n.op != "variable" for n in postorder(node))


def _parents(root: TExpr) -> dict[int, TExpr]:
    parents: dict[int, TExpr] = {}
    for node in postorder(root):
        for a in node.args:
            parents.setdefault(id(a), node)
    return parents


def _obstacles(
    analysis: TensorAnalysis, translation: Translation, by_expr: dict, out_curv: str
) -> list[dict[str, str]]:
    """The deepest nodes where the DCP rule broke for ``convex``, named by graph node."""
    parents = _parents(translation.root)
    issues: list[dict[str, str]] = []
    seen: set[int] = set()
    stack: list[Step] = [analysis.root_step]
    while stack and len(issues) < 5:
        step = stack.pop()
        if id(step) in seen:
            continue
        seen.add(id(step))
        broken = [k for k in step.children if not k.proves("convex") and k.curvature != "concave"]
        if "convex" in step.reasons and not any(k.reasons.get("convex") for k in broken):
            issues.append(_issue_for(step, step.reasons["convex"], by_expr, parents))
        stack.extend(broken)
    if not issues:
        if analysis.root_step.curvature == "concave":
            issues.append(
                {
                    "kind": "nonconvex_loss",
                    "node": "output",
                    "message": "the objective is concave (not affine) in the variables",
                }
            )
        else:
            issues.append(
                {
                    "kind": "not_proved",
                    "node": "output",
                    "message": "the DCP rules do not prove the objective convex",
                }
            )
    return issues


def _issue_for(step: Step, why: str, by_expr: dict, parents: dict[int, TExpr]) -> dict[str, str]:
    node: TExpr | None = step.node
    record = None
    while node is not None:
        record = by_expr.get(id(node))
        if record is not None:
            break
        node = parents.get(id(node))
    atom = step.node.op
    variable_args = sum(1 for k in step.children if k.curvature not in ("constant",))
    if atom in ("multiply", "matmul") and variable_args >= 2:
        kind = "multiplicative_weights"
        why = (
            f"a product of two factors that both depend on the variables ({atom}): "
            "not affine, so its curvature is unknown"
        )
    elif not step.defined:
        kind = "domain"
    elif record is not None and record.op in ACTIVATION_OPS:
        kind = "nonconvex_activation"
    elif record is not None and (record.op.endswith("_loss") or "entropy" in record.op):
        kind = "nonconvex_loss"
    elif atom == "power":
        kind = "nonconvex_power"
    else:
        kind = "dcp_rule"
    if record is None:
        return {"kind": kind, "node": "", "message": why}
    where = f" (module '{record.module}')" if record.module else ""
    return {
        "kind": kind,
        "node": record.name,
        "message": f"node '{record.name}' {record.op}{where}: {why}",
    }


# ---- the independent checker re-derives the proof ------------------------------------------
CHECK_MAX_CONSTANT_ENTRIES = 2_000_000  # larger data: the document would be hundreds of MB


def independent_check(analysis: TensorAnalysis) -> dict[str, Any]:
    """Write the derivation as a certificate document and have
    :mod:`convexcheck.certificates` (which re-derives every step against the atom table, and
    shares no code with the DCP engine's composition rule) check it; skipped, and said so,
    when the expression holds too much data to write out."""
    from convexcheck.certificates.checker import verify_document
    from convexcheck.certificates.documents import FORMAT
    from convexcheck.tensor.check import tensor_certificate, variable_descriptions
    from convexcheck.tensor.document import MAX_STORED_ENTRIES
    from convexcheck.tensor.expr import short_text

    sizes = [n.size for n in postorder(analysis.root) if n.op == "constant"]
    if sum(sizes) > CHECK_MAX_CONSTANT_ENTRIES or max(sizes, default=0) > MAX_STORED_ENTRIES:
        return {
            "skipped": f"the expression's data ({sum(sizes):,} constant entries, the largest "
            f"{max(sizes, default=0):,}) is too large to write into a document"
        }
    doc = {
        "format": FORMAT,
        "expression": short_text(analysis.root, limit=500),
        "variables": variable_descriptions(analysis.root),
        "question": "convex",
        "answer": "yes",
        "method": "dcp",
        "summary": "structural proof of a model's objective",
        "certificate": tensor_certificate(analysis),
    }
    report = verify_document(doc, "model objective")
    out: dict[str, Any] = {"passed": bool(report.ok), "trusted": list(report.trusted)}
    if not report.ok:
        out["problems"] = list(report.problems)
    return out


# ---- faithfulness: the expression is the user's program ------------------------------------
MIN_COMPARED_POINTS = 3  # of the 6 probe points, where both sides are finite


def faithfulness(
    translation: Translation,
    model: nn.Module,
    loss_fn: Any,
    data: Any,
    wrt: Any,
    reference: Any,
) -> dict[str, Any]:
    """Evaluate the expression and the user's program at the probe points; ``mismatch`` is
    ``None`` when they agree to rounding at every one, else a sentence."""
    from convexcheck.numeric.faithful import RELATIVE_TOLERANCE_EPS, probe_points

    if not translation.variables and wrt != "inputs" and not judged_parameters(model, wrt):
        return {"mismatch": None, "points": 0, "note": "no variables: the objective is a constant"}
    if reference is None:
        if wrt != "parameters":
            return {"mismatch": "no evaluator of the user's program was given", "points": 0}
        from convexcheck.numeric.functional import FunctionalLoss

        try:
            reference = FunctionalLoss(model, loss_fn, data)
        except Exception as exc:
            return {"mismatch": f"the program could not be evaluated ({exc})", "points": 0}
    names = list(reference.names)
    missing = [n for n in translation.variables if n not in names]
    if missing:
        return {
            "mismatch": f"the variables {missing} are not among the program's {names[:5]}",
            "points": 0,
        }
    points = probe_points(reference)
    try:
        with torch.no_grad():
            expected = reference.program_losses(points).to(torch.float64)
    except Exception as exc:
        return {"mismatch": f"the program could not be evaluated ({exc})", "points": 0}
    values = reference.unflatten(points.to(torch.float64))
    batch = {
        n: values[n].detach().cpu().numpy().reshape((len(points),) + tuple(e.shape))
        for n, e in translation.variables.items()
    }
    try:
        if translation.root.op == "constant":
            got = np.full(len(points), float(translation.root.value))  # type: ignore[arg-type]
        else:
            got = np.asarray(Program(translation.root)(batch), dtype=np.float64)
        got = got.reshape(len(points))
    except Exception as exc:
        return {"mismatch": f"the expression could not be evaluated ({exc})", "points": 0}
    eps = float(torch.finfo(reference.dtype).eps)
    worst, undefined = 0.0, 0
    for i in range(len(points)):
        want = float(expected[i])
        tol = RELATIVE_TOLERANCE_EPS * eps * (abs(got[i]) + abs(want)) + 1e-30
        diff = abs(got[i] - want)
        if not math.isfinite(want) and not math.isfinite(got[i]):
            undefined += 1  # outside the domain on both sides (torch: NaN or inf)
            continue
        if not diff <= tol:
            where = "the current values" if i == 0 else f"probe point {i}"
            return {
                "mismatch": f"the translated expression gives {got[i]:.10g} but the user's "
                f"program gives {want:.10g} at {where}: the forward behaves differently while "
                "traced (is_fx_tracing, Python-level state, a hook, or a value computed from "
                "the variables baked in as a constant), so a proof about the graph is not a "
                "proof about the model",
                "points": i + 1,
            }
        worst = max(worst, diff / max(abs(want), 1e-300))
    compared = len(points) - undefined
    if compared < MIN_COMPARED_POINTS:
        return {
            "mismatch": f"only {compared} of the {len(points)} probe points are inside the "
            "objective's domain, too few to compare the expression with the program",
            "points": len(points),
        }
    out = {"mismatch": None, "points": compared, "max_relative_difference": worst}
    if undefined:
        out["undefined_points"] = undefined
    return out


def _loss_name(loss_fn: Any) -> str:
    if loss_fn is None:
        return "the sum of the outputs"
    if isinstance(loss_fn, nn.Module):
        return type(loss_fn).__name__
    return getattr(loss_fn, "__name__", type(loss_fn).__name__)


def _certificate(
    model: nn.Module,
    loss_fn: Any,
    wrt: Any,
    trainable: list[str],
    frozen: list[str],
    steps: list[dict[str, Any]],
    analysis: TensorAnalysis,
    out_curv: str,
    check: dict[str, Any],
) -> dict[str, Any]:
    what = "inputs" if wrt == "inputs" else "trainable parameters"
    if out_curv in ("affine", "constant"):
        first = {
            "kind": "affine_in_inputs" if wrt == "inputs" else "affine_in_parameters",
            "detail": f"the model output is {out_curv} in the {what}",
        }
    else:
        first = {
            "kind": "convex_in_inputs" if wrt == "inputs" else "convex_output",
            "detail": f"the model output is {out_curv} in the {what} (DCP derivation)",
        }
    reasons = [
        first,
        {
            "kind": "convex_loss",
            "detail": f"{_loss_name(loss_fn)}: the objective is convex by the DCP composition "
            "rules over the graph (the derivation is in the certificate)",
        },
    ]
    if frozen and wrt != "inputs":
        reasons.append(
            {
                "kind": "frozen_features",
                "detail": "held fixed (constant data in the expression): "
                + ", ".join(f"'{n}'" for n in frozen[:8])
                + (" ..." if len(frozen) > 8 else ""),
            }
        )
    return {
        "kind": "structural",
        "engine": "tensor-dcp",
        "wrt": wrt if isinstance(wrt, str) else list(wrt),
        "reasons": reasons,
        "trainable": trainable,
        "frozen": frozen,
        "output_curvature": out_curv,
        "loss": {
            "name": _loss_name(loss_fn),
            "curvature": analysis.root_step.curvature,
            "why": f"{analysis.root_step.rule} at the root: "
            f"{_why(analysis.root_step)} by the DCP composition rules",
        },
        "steps": steps[-200:],
        "derivation": analysis.derivation_lines(max_lines=80),
        "restricted": bool(analysis.restricted),
        "faithfulness": {k: v for k, v in check.items() if k != "mismatch"},
        "scope": "the function the traced graph computes (checked against the user's program "
        "at the probe points), for the given data and the current values of everything held "
        "fixed",
    }
