"""``check()`` for tensor expressions: the DCP engine first, then the vectorised witness search.

The same contract as the scalar ladder (:mod:`convexcheck.symbolic.check`): a ``yes`` carries the
derivation, a ``no`` a witness proved by rigorous evaluation at three points, anything else is
``unknown`` with the evidence (the broken rule, the search effort, the PSD decisions). When a
question stays open and the expression is small enough to scalarise, the scalar ladder (Hessian,
SOS) is tried on the scalarised form as a last stage; its verdicts are sound on their own.
"""

from __future__ import annotations

import time
from typing import Any

from convexcheck.budget import Budget, BudgetSpent, time_limit
from convexcheck.errors import ConvexcheckError
from convexcheck.progress import STAGE_TITLES, NoProgress, ProgressSink
from convexcheck.result import CheckResult, Verdict
from convexcheck.tensor.dcp import QUESTIONS, TensorAnalysis, analyze, describe
from convexcheck.tensor.evaluate import Program
from convexcheck.tensor.expr import TExpr, variables_of
from convexcheck.tensor.witness import search_tensor_witness

DEFAULT_BUDGET_S = 30.0
SCALARISE_MAX_ENTRIES = 12  # variables' entries up to which the scalar ladder is also tried


def check_tensor(
    root: TExpr,
    *,
    text: str,
    notes: list[str] | None = None,
    seed: int = 0,
    budget_s: float | None = None,
    stages: Any = None,
    psd_tolerance: float | None = None,
    scalar_fallback: Any = None,
    progress: ProgressSink | None = None,
) -> CheckResult:
    """Both verdicts for the tensor expression ``root`` (a scalar-valued tree); each stage is
    announced to ``progress`` as it starts (the scalarised fallback reports its own stages)."""
    sink = progress if progress is not None else NoProgress()
    budget = Budget(DEFAULT_BUDGET_S if budget_s is None else budget_s)
    infos = variables_of(root)
    evidence: dict[str, dict[str, Any]] = {q: {} for q in QUESTIONS}
    verdicts: dict[str, Verdict] = {}
    stages_run: list[dict[str, Any]] = []
    analysis: Any = None  # a TensorAnalysis, or the scalar ladder's when only that one proves
    scalarised: dict[str, Any] | None = None
    wanted = lambda name: stages is None or name in stages  # noqa: E731
    current = ""
    try:
        with time_limit(budget.remaining()):
            if wanted("dcp"):
                current = "dcp"
                sink.phase(STAGE_TITLES["dcp"])
                start = time.perf_counter()
                analysis = analyze(root, psd_tolerance=psd_tolerance)
                settled = []
                for q in QUESTIONS:
                    if analysis.proves(q):
                        verdicts[q] = Verdict.proved(
                            q,  # type: ignore[arg-type]
                            "dcp",
                            _proof_summary(analysis, q),
                            certificate=lambda a=analysis: tensor_certificate(a),
                        )
                        settled.append(q)
                    else:
                        evidence[q]["dcp"] = {
                            "result": "not proved",
                            "failed_premises": analysis.failure_chain(q),
                        }
                        psd = _psd_evidence(analysis)
                        if psd:
                            evidence[q]["dcp"]["psd_decisions"] = psd
                stages_run.append(_stage("dcp", start, settled))
            open_q = [q for q in QUESTIONS if q not in verdicts]
            if open_q and wanted("witness"):
                current = "witness"
                sink.phase(STAGE_TITLES["witness"])
                start = time.perf_counter()
                program = Program(root)
                settled = []
                for k, q in enumerate(open_q):
                    sink.update(k / len(open_q), q)
                    report = search_tensor_witness(
                        root, q, seed=seed, program=program, deadline=budget
                    )
                    if report.witness is not None:
                        w = report.witness
                        verdicts[q] = Verdict.refuted(
                            q,  # type: ignore[arg-type]
                            "jensen-witness",
                            f"not {q}: at the midpoint of two points, Jensen's inequality fails by "
                            f"at least {float(w['gap_lower_bound']):.3g} ({w['verified']})",
                            witness=w,
                        )
                        settled.append(q)
                    else:
                        evidence[q]["witness_search"] = {
                            "result": "no violation found",
                            "evaluations": report.evaluations,
                            "evaluation_budget": report.evaluation_budget,
                            "candidates_checked": report.candidates_checked,
                            "largest_relative_gap": report.largest_gap,
                            "stopped_by": report.stopped_by,
                            "seed": seed,
                            **({"rejected": report.rejected} if report.rejected else {}),
                        }
                stages_run.append(_stage("witness", start, settled))
            open_q = [q for q in QUESTIONS if q not in verdicts]
            total = sum(i.size for i in infos)
            if open_q and scalar_fallback is not None and total <= SCALARISE_MAX_ENTRIES:
                current = "scalarised"
                start = time.perf_counter()
                settled = []
                try:
                    scalar = scalar_fallback(max(budget.remaining(), 0.1))
                except (ConvexcheckError, RecursionError) as exc:
                    # the scalar bridge lacks some tensor atoms, and recurses on deep trees
                    for q in open_q:
                        evidence[q]["scalarised"] = {"result": "not run", "reason": str(exc)[:200]}
                    scalar = None
                else:
                    if scalar is None:
                        for q in open_q:
                            evidence[q]["scalarised"] = {
                                "result": "not run",
                                "reason": "an atom is CVXPY's restriction of its formula to a "
                                "smaller domain (power, xexp), which the scalar bridge does "
                                "not read",
                            }
                if scalar is not None:
                    tensor_proved = analysis is not None and analysis.proved
                    if (
                        not tensor_proved
                        and scalar.derivation is not None
                        and scalar.derivation.proved
                    ):
                        analysis = scalar.derivation  # the proof to explain and to_cvxpy()
                    for q in open_q:
                        v = getattr(scalar, q)
                        if v.answer != "unknown":
                            verdicts[q] = v
                            settled.append(q)
                        else:
                            evidence[q]["scalarised"] = {
                                "result": "not settled",
                                "summary": v.summary,
                            }
                    if settled:
                        scalarised = {
                            "expression": scalar.expression,
                            "variables": dict(scalar.variables),
                            "questions": sorted(settled),
                        }
                stages_run.append(_stage("scalarised", start, settled))
    except BudgetSpent:
        stages_run.append(
            {"stage": current, "seconds": None, "settled": [], "stopped_by": "budget"}
        )
        for q in QUESTIONS:
            evidence[q]["stopped_by"] = "budget"
    finally:
        _clear_caches()
    for q in QUESTIONS:
        if q not in verdicts:
            ev = {"stages_tried": [s["stage"] for s in stages_run], **evidence[q]}
            if notes:
                ev["notes"] = list(notes)
            premises = ev.get("dcp", {}).get("failed_premises") or []
            search = ev.get("witness_search")
            summary = f"not proved {q}" + (f": {premises[0]}" if premises else "")
            if search:
                summary += f"; no violation in {search['evaluations']:,} point evaluations"
            verdicts[q] = Verdict.unknown(q, "none", summary, evidence=ev)  # type: ignore[arg-type]
    return CheckResult(
        expression=text,
        variables=variable_descriptions(root),
        convex=verdicts["convex"],
        concave=verdicts["concave"],
        derivation=analysis,
        stages=stages_run,
        tree=root,
        scalarised=scalarised,
    )


def _clear_caches() -> None:
    from convexcheck.tensor import atoms, intervals

    intervals.clear_caches()
    atoms.clear_caches()


def _stage(name: str, start: float, settled: list[str]) -> dict[str, Any]:
    return {
        "stage": name,
        "seconds": round(time.perf_counter() - start, 6),
        "settled": sorted(settled),
    }


def variable_descriptions(root: TExpr) -> dict[str, Any]:
    """Scalar variables as today's domain word; others as ``{"shape": [...], "domain": ...}``."""
    out: dict[str, Any] = {}
    for info in variables_of(root):
        if info.shape == ():
            out[info.name] = info.domain_word()
        else:
            out[info.name] = {"shape": list(info.shape), "domain": info.domain_word()}
    return out


def _proof_summary(analysis: TensorAnalysis, question: str) -> str:
    step = analysis.root_step
    kind = step.curvature if step.curvature in ("affine", "constant") else question
    rule = step.rule.replace("pattern:", "pattern ")
    text = f"{kind} by the DCP rules ({len(analysis.steps)} derivation steps; top rule: {rule})"
    if analysis.restricted:
        text += (
            "; on the set where it is finite (CVXPY's convention: an atom is +-inf outside its "
            "domain, e.g. log needs a positive argument)"
        )
    assumed = [d for d in analysis.psd.decisions.values() if getattr(d, "assumed", False)]
    if assumed:
        text += f"; assumes a matrix PSD within psd_tolerance ({assumed[0].reason})"
    return text


def _psd_evidence(analysis: TensorAnalysis) -> list[dict[str, Any]]:
    out = []
    for d in analysis.psd.decisions.values():
        out.append(
            {
                "status": d.status,
                "method": d.method,
                "min_eigenvalue": d.min_eigenvalue,
                "reason": d.reason,
                "assumed": d.assumed,
            }
        )
    return out


def tensor_certificate(analysis: TensorAnalysis) -> dict[str, Any]:
    """The derivation as a JSON-ready certificate (see ``docs/certificates.md``)."""
    from convexcheck.tensor.certificate import derivation_document

    return derivation_document(analysis)


__all__ = ["check_tensor", "describe", "variable_descriptions"]
