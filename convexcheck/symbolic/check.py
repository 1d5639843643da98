"""``check()``: from any supported input to two verdicts, through a ladder of provers.

Dataflow: input (string, SymPy, CVXPY or IR node) -> :class:`Problem` (expression tree +
variable domains) -> stages in order -> :class:`~convexcheck.result.CheckResult`.

Each stage receives the problem and the questions still open, and may settle a question only
with a proof (``yes`` + certificate) or a re-verified witness (``no``); whatever it tried is
recorded as evidence, so an ``unknown`` always says what was attempted. The DCP stage is first
because it is cheap and its derivation explains itself; later stages (Hessian, SOS, witness
search) plug into :data:`STAGES`.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from convexcheck.budget import Budget, BudgetSpent, time_limit
from convexcheck.errors import ConvexcheckInputError
from convexcheck.progress import STAGE_TITLES, NoProgress, ProgressSink, progress_sink
from convexcheck.result import CheckResult, Verdict
from convexcheck.symbolic.dcp import QUESTIONS, Analysis
from convexcheck.symbolic.dcp_rules import analyze
from convexcheck.symbolic.domains import domain_word, resolve_domains
from convexcheck.symbolic.interval import Interval
from convexcheck.symbolic.ir import Node, free_variables
from convexcheck.symbolic.parser import DEFAULT_MAX_LENGTH, parse_with_names
from convexcheck.symbolic.printer import to_str

# Default seconds per question for the expensive provers, and for the whole check; with
# ``check(budget_s=B)`` the whole check gets B seconds and the provers may use all that is left.
HESSIAN_BUDGET_S = 3.0
SOS_BUDGET_S = 5.0
DEFAULT_BUDGET_S = 30.0


@dataclass
class Problem:
    """A closed-form function and the box it lives on."""

    root: Node
    domains: dict[str, Interval]
    text: str
    seed: int = 0
    hessian_budget_s: float = HESSIAN_BUDGET_S
    sos_budget_s: float = SOS_BUDGET_S
    analysis: Analysis | None = None
    hessian: Any = None  # HessianAttempt, computed once for both questions
    evidence: dict[str, dict[str, Any]] = field(default_factory=lambda: {q: {} for q in QUESTIONS})
    budget: Budget = field(default_factory=lambda: Budget(DEFAULT_BUDGET_S))
    # verdicts as each stage reaches them, so that a stage cut off by the budget keeps the
    # questions it had already settled (each verdict is complete on its own)
    reached: dict[str, Verdict] = field(default_factory=dict)
    # where the stages report how far they got (nothing is reported by default)
    progress: ProgressSink = field(default_factory=NoProgress)

    def each_question(self, questions: Sequence[str]) -> Iterator[str]:
        """The questions a stage works through, reporting each one's start and the stage's
        end to :attr:`progress` (the fraction counts questions, never seconds)."""
        for done, question in enumerate(questions):
            self.progress.update(done / len(questions), question)
            yield question
        self.progress.update(1.0, "")

    def seconds_for(self, stage_cap: float) -> float:
        """A stage's per-question seconds: its cap, never past the check's deadline."""
        return max(min(stage_cap, self.budget.remaining()), 0.0)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Building and walking large trees allocates millions of small objects; the cyclic
    garbage collector would rescan them repeatedly (about half the run time) while none of them
    form cycles, so it is paused for the duration."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def to_problem(
    expression: Any,
    variables: Mapping[str, str | Interval] | None = None,
    *,
    max_length: int | None = DEFAULT_MAX_LENGTH,
    seed: int = 0,
) -> Problem:
    """Normalise any supported input into a :class:`Problem` (raises on bad input)."""
    defaults: dict[str, Interval] = {}
    mentioned: list[str] = []
    if isinstance(expression, str):
        root, mentioned = parse_with_names(expression, max_length=max_length)
        text = expression.strip()
    elif isinstance(expression, Node):
        root, text = expression, to_str(expression)
    else:
        module = type(expression).__module__ or ""
        if module.startswith("sympy"):
            from convexcheck.symbolic.sympy_bridge import from_sympy

            root, defaults = from_sympy(expression)
        elif module.startswith("cvxpy"):
            from convexcheck.symbolic.cvxpy_bridge import from_cvxpy

            root, defaults = from_cvxpy(expression)
        else:
            raise ConvexcheckInputError(
                "expected an expression string, a SymPy expression or a CVXPY expression, "
                f"got {type(expression).__name__}"
            )
        text = to_str(root)
    if root.is_bool:
        raise ConvexcheckInputError("the expression is a condition, not a function to check")
    if variables is not None and not isinstance(variables, Mapping):
        raise ConvexcheckInputError("variables must be a mapping of names to domains")
    names = free_variables(root)
    present = set(names)
    names += [n for n in mentioned if n not in present]
    domains = resolve_domains(names, variables, defaults)
    return Problem(root, domains, text, seed=seed)


# ---------------------------------------------------------------------------------------------
# Stages
# ---------------------------------------------------------------------------------------------

Stage = Callable[[Problem, tuple[str, ...]], dict[str, Verdict]]


def dcp_stage(problem: Problem, open_questions: tuple[str, ...]) -> dict[str, Verdict]:
    """Disciplined convex programming with ranges, patterns and exact quadratic forms."""
    analysis = problem.analysis
    if analysis is None:
        analysis = problem.analysis = analyze(problem.root, problem.domains)
    settled: dict[str, Verdict] = {}
    step = analysis.root_step
    for question in open_questions:
        if step.proves(question):
            settled[question] = problem.reached[question] = Verdict.proved(
                question,  # type: ignore[arg-type]
                "dcp",
                _proof_summary(analysis, question),
                certificate=analysis.certificate,  # built on first use: it is large
            )
        else:
            chain = analysis.failure_chain(question)
            problem.evidence[question]["dcp"] = {
                "result": "not proved",
                "failed_premises": chain,
            }
    return settled


def _proof_summary(analysis: Analysis, question: str) -> str:
    step = analysis.root_step
    kind = step.curvature if step.curvature in ("affine", "constant") else question
    how = step.rule.replace("pattern:", "").replace("rewrite:", "rewrite by ")
    size = len(analysis.proof_nodes())
    return f"{kind} by the DCP rules ({size} derivation steps; top rule: {how})"


def witness_stage(problem: Problem, open_questions: tuple[str, ...]) -> dict[str, Verdict]:
    """Search for a Jensen violation and report it only after exact verification."""
    from convexcheck.symbolic.compiled import Program
    from convexcheck.symbolic.witness import search_witness

    # the search evaluates the tree at many points: keep nodes x samples bounded
    samples = int(min(4000, max(32, 4_000_000 // max(problem.root.size, 1))))
    rounds = 6 if problem.root.size < 20_000 else 0
    settled: dict[str, Verdict] = {}
    program = Program(problem.root, list(problem.domains)) if problem.domains else None
    for question in problem.each_question(open_questions):
        report = search_witness(
            problem.root,
            problem.domains,
            question,
            seed=problem.seed,
            samples=samples,
            rounds=rounds,
            budget=problem.budget,
            program=program,
        )
        if report.witness is not None:
            w = report.witness
            settled[question] = problem.reached[question] = Verdict.refuted(
                question,  # type: ignore[arg-type]
                "jensen-witness",
                f"not {question}: at t = {w['t']} between a = {_point(w['a'])} and "
                f"b = {_point(w['b'])}, Jensen's inequality fails ({w['verified']})",
                witness=w,
            )
        else:
            problem.evidence[question]["witness_search"] = {
                "result": "no violation found",
                "samples": report.samples,
                "evaluations": report.evaluations,
                "evaluation_budget": report.evaluation_budget,
                "stopped_by": report.stopped_by,
                "largest_relative_gap": report.largest_gap if report.largest_gap > -1e300 else None,
                "seed": report.seed,
            }
    return settled


def hessian_stage(problem: Problem, open_questions: tuple[str, ...]) -> dict[str, Verdict]:
    """Prove the symbolic Hessian PSD (NSD) on the whole domain; see :mod:`.hessian`."""
    from convexcheck.symbolic.hessian import (
        EXTENDED_BUDGET_S,
        describe,
        hessian_certificate,
        symbolic_hessian,
    )

    if problem.hessian is None:
        problem.progress.update(0.0, "differentiating")
        try:
            problem.hessian = symbolic_hessian(
                problem.root,
                problem.domains,
                # simplifying the entries is bounded by their number (each call is cut)
                budget_s=problem.seconds_for(max(EXTENDED_BUDGET_S, problem.hessian_budget_s)),
            )
        except RecursionError:  # SymPy recurses on deep trees; that is not a proof either way
            for question in open_questions:
                problem.evidence[question]["hessian"] = {
                    "result": "not proved",
                    "reason": "expression too deeply nested for symbolic differentiation",
                }
            return {}
    settled: dict[str, Verdict] = {}
    for question in problem.each_question(open_questions):
        certificate, why_not = hessian_certificate(
            problem.root,
            problem.domains,
            question,
            problem.hessian,
            budget_s=problem.seconds_for(problem.hessian_budget_s),
            # effort-bounded steps (derivative chains, LDL simplification) may use more of the
            # check's budget than the stage's own cap
            chain_budget_s=problem.seconds_for(max(EXTENDED_BUDGET_S, problem.hessian_budget_s)),
        )
        if certificate is not None:
            settled[question] = problem.reached[question] = Verdict.proved(
                question,  # type: ignore[arg-type]
                "hessian",
                describe(certificate),
                certificate=certificate,
            )
        else:
            problem.evidence[question]["hessian"] = {"result": "not proved", "reason": why_not}
    return settled


def sos_stage(problem: Problem, open_questions: tuple[str, ...]) -> dict[str, Verdict]:
    """SOS-convexity of a polynomial: yᵀH(x)y is a sum of squares; see :mod:`.sos`."""
    from convexcheck.symbolic.sos import describe, sos_certificate

    settled: dict[str, Verdict] = {}
    for question in problem.each_question(open_questions):
        certificate, why_not = sos_certificate(
            problem.root, question, budget_s=problem.seconds_for(problem.sos_budget_s)
        )
        if certificate is not None:
            settled[question] = problem.reached[question] = Verdict.proved(
                question,  # type: ignore[arg-type]
                "sos",
                describe(certificate),
                certificate=certificate,
            )
        else:
            problem.evidence[question]["sos"] = {"result": "not proved", "reason": why_not}
    return settled


def _point(p: dict[str, str]) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in p.items()) + ")"


# Cheapest first, and refutation before the expensive provers: a function that is not convex is
# settled by the witness search in milliseconds instead of after a failed Hessian or SDP attempt.
# The order cannot change an answer (every stage is sound), only the time to it.
STAGES: list[tuple[str, Stage]] = [
    ("dcp", dcp_stage),
    ("witness", witness_stage),
    ("hessian", hessian_stage),
    ("sos", sos_stage),
]


def check(
    expression: Any,
    variables: Mapping[str, str | Interval] | None = None,
    *,
    seed: int = 0,
    max_length: int | None = DEFAULT_MAX_LENGTH,
    stages: Sequence[str] | None = None,
    budget_s: float | None = None,
    psd_tolerance: float | None = None,
    progress: bool | ProgressSink | Callable[[Any], None] = False,
    _scalarise: bool = False,
) -> CheckResult:
    """Is ``expression`` convex, concave, both or neither on the given variable domains?

    ``expression`` is a string in SymPy's printed syntax (parsed safely, never evaluated), a
    SymPy expression or a CVXPY expression; ``variables`` maps names to domains (``"real"``,
    ``"positive"``, ``"[0, 1]"``...); unnamed variables are real (or take the sign assumptions of
    a SymPy symbol / CVXPY variable). Every ``yes`` carries a certificate, every ``no`` an exactly
    verified witness (``seed``, a nonnegative integer, makes the search reproducible); anything
    not settled is ``unknown`` with the evidence gathered. ``stages`` restricts the ladder (names
    from :data:`STAGES`, e.g. ``("dcp",)``).

    ``budget_s`` is the wall-clock cap of the whole check, every stage included (default
    :data:`DEFAULT_BUDGET_S`; then the Hessian and SOS provers also keep their own per-question
    caps :data:`HESSIAN_BUDGET_S` and :data:`SOS_BUDGET_S`, which an explicit ``budget_s``
    lifts). The witness search counts its effort in evaluations, so its answer does not depend
    on machine load; the budget is only its outer cap. A spent budget gives ``unknown`` with
    ``stopped_by: "budget"`` in the evidence, never a guess.

    A CVXPY expression is checked by the shape-aware tensor engine (:mod:`convexcheck.tensor`),
    node for node, without scalarising; ``psd_tolerance`` (a nonnegative float) then lets a
    constant matrix that is PSD only up to rounding count as PSD (``quad_form`` of a Gram matrix
    computed in floating point), an assumption recorded in the certificate and the summary.

    ``progress`` receives each stage as it starts and the fraction of its questions done: a
    callable gets :class:`~convexcheck.progress.ProgressEvent` records, a
    :class:`~convexcheck.progress.ProgressSink` its ``phase``/``update`` calls; ``True`` draws
    a bar on stderr for a check that runs longer than a second (``convexcheck.check``; this
    core function draws nothing itself).
    """
    if psd_tolerance is not None and (
        isinstance(psd_tolerance, bool)
        or not isinstance(psd_tolerance, (int, float))
        or not math.isfinite(psd_tolerance)
        or psd_tolerance < 0
    ):
        raise ConvexcheckInputError(
            f"psd_tolerance must be a nonnegative number, got {psd_tolerance!r}"
        )
    if budget_s is not None and (
        isinstance(budget_s, bool) or not isinstance(budget_s, (int, float)) or not budget_s > 0
    ):
        raise ConvexcheckInputError(
            f"budget_s must be a positive number of seconds, got {budget_s!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConvexcheckInputError(f"seed must be a nonnegative integer, got {seed!r}")
    known = [name for name, _ in STAGES]
    if stages is not None and any(s not in known for s in stages):
        raise ConvexcheckInputError(f"unknown stage in {list(stages)}; stages are {known}")
    sink = progress_sink(progress)
    if not _scalarise and (type(expression).__module__ or "").startswith("cvxpy"):
        from convexcheck.tensor.front import check_cvxpy

        sink.phase("Reading the expression")
        with _gc_paused():
            return check_cvxpy(
                expression,
                variables,
                scalar_check=check,
                seed=seed,
                budget_s=budget_s,
                stages=stages,
                psd_tolerance=psd_tolerance,
                progress=sink,
            )
    budget = Budget(DEFAULT_BUDGET_S if budget_s is None else budget_s)
    with _gc_paused():
        # parsing is bounded by the length limit; its time still counts against the budget
        sink.phase("Reading the expression")
        problem = to_problem(expression, variables, max_length=max_length, seed=seed)
        problem.budget = budget
        problem.progress = sink
        if budget_s is not None:
            problem.hessian_budget_s = problem.sos_budget_s = math.inf
        verdicts: dict[str, Verdict] = {}
        stages_run: list[dict[str, Any]] = []
        stopped: dict[str, Any] | None = None
        planned = [(n, st) for n, st in STAGES if stages is None or n in stages]
        current = ""
        try:
            with time_limit(budget.remaining()):
                for name, stage in planned:
                    open_questions = tuple(q for q in QUESTIONS if q not in verdicts)
                    if not open_questions:
                        break
                    current = name
                    if budget.spent():
                        raise BudgetSpent
                    sink.phase(STAGE_TITLES.get(name, name))
                    start = time.perf_counter()
                    settled = stage(problem, open_questions)
                    stages_run.append(
                        {
                            "stage": name,
                            "seconds": round(time.perf_counter() - start, 6),
                            "settled": sorted(settled),
                        }
                    )
                    verdicts.update(settled)
                    current = ""
        except BudgetSpent:
            if current:  # else the alarm came after the last stage had finished: no loss
                settled = {q: v for q, v in problem.reached.items() if q not in verdicts}
                verdicts.update(settled)
                done = {s["stage"] for s in stages_run}
                stages_run.append(
                    {
                        "stage": current,
                        "seconds": None,
                        "settled": sorted(settled),
                        "stopped_by": "budget",
                    }
                )
                stopped = {
                    "stopped_by": "budget",
                    "budget_s": budget.seconds,
                    "stage": current,
                    "stages_not_run": [n for n, _ in planned if n not in done and n != current],
                }
    for question in QUESTIONS:
        if question not in verdicts:
            evidence: dict[str, Any] = {
                "stages_tried": [s["stage"] for s in stages_run],
                **problem.evidence[question],
            }
            if stopped is not None:
                evidence["stopped_by"] = "budget"
                evidence["budget"] = stopped
            verdicts[question] = Verdict.unknown(
                question,  # type: ignore[arg-type]
                "none",
                _unknown_summary(problem, question, stopped),
                evidence=evidence,
            )
    return CheckResult(
        expression=problem.text,
        variables={name: domain_word(d) for name, d in problem.domains.items()},
        convex=verdicts["convex"],
        concave=verdicts["concave"],
        derivation=problem.analysis,
        stages=stages_run,
    )


def _unknown_summary(problem: Problem, question: str, stopped: dict[str, Any] | None = None) -> str:
    evidence = problem.evidence[question]
    premises = evidence.get("dcp", {}).get("failed_premises") or []
    search = evidence.get("witness_search")
    found = f"; no violation in {search['samples']:,} sampled triples" if search else ""
    if stopped is not None:
        found += (
            f"; the time budget of {stopped['budget_s']:g} s ran out in the "
            f"{stopped['stage']} stage"
        )
    if premises:
        return f"not proved {question}: {premises[0]}{found}"
    return f"not proved {question}{found}"
