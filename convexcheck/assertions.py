"""Assertions for any test suite: ``assert_convex(expr, variables)`` and friends.

A failed assertion raises :class:`ConvexityAssertionError`, an ``AssertionError``, so every test
runner reports it as a *failure* of the test, not as an error in it. Its message is the
explanation a reviewer needs to act on without re-running anything:

* when the opposite was refuted, the witness: the points ``a`` and ``b``, ``t``, the three
  function values, the gap and how it was verified (exact rationals or rigorous intervals);
* when nothing was settled, the DCP premise that failed and what every other stage tried;
* always, a command line that reproduces the check with the same seed.

The assertions pass only on an *established* claim: a proof for convex/concave/affine, a verified
witness for non-convex/non-concave. ``unknown`` fails, because an assertion that passes on "we
could not tell" would let a non-convex loss slip into a convex solver.

Seed and time budget default to the per-test settings of the pytest plugin (the
``@pytest.mark.convexcheck(...)`` marker or ``--convexcheck-*`` options) when it is active, and
to ``seed=0`` and the default budgets otherwise; explicit arguments always win.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from convexcheck.errors import missing_dependency

if TYPE_CHECKING:  # pragma: no cover
    from convexcheck.numeric.model_result import ModelCheckResult
    from convexcheck.result import CheckResult

__all__ = [
    "AssertionSettings",
    "ConvexityAssertionError",
    "assert_affine",
    "assert_concave",
    "assert_convex",
    "assert_model_convex",
    "assert_model_nonconvex",
    "assert_nonconcave",
    "assert_nonconvex",
]

# What each expectation means in words, for the first line of a failure message.
_CLAIMS = {
    "convex": "convex",
    "concave": "concave",
    "affine": "affine (both convex and concave)",
    "nonconvex": "non-convex (refuted by a verified witness)",
    "nonconcave": "non-concave (refuted by a verified witness)",
}


class ConvexityAssertionError(AssertionError):
    """A convexity assertion did not hold.

    ``result`` is the full :class:`~convexcheck.result.CheckResult` (or
    ``ModelCheckResult``) with every certificate, witness and piece of evidence; ``expected`` is
    the claim that was asserted (``"convex"``, ``"nonconvex"``, ...).
    """

    def __init__(self, message: str, result: Any, expected: str = "") -> None:
        super().__init__(message)
        self.result = result
        self.expected = expected


@dataclass(frozen=True)
class AssertionSettings:
    """Defaults for assertions made while these settings are active (``None``: library default)."""

    seed: int | None = None
    budget_s: float | None = None
    device: str | None = None


@dataclass
class AssertionRecord:
    """One assertion made while a recorder is active (the pytest plugin reports them)."""

    expected: str
    established: bool
    curvature: str
    subject: str


@dataclass
class _Context:
    settings: AssertionSettings = field(default_factory=AssertionSettings)
    records: list[AssertionRecord] | None = None


_CONTEXT: ContextVar[_Context | None] = ContextVar("convexcheck_assertions", default=None)
_NO_CONTEXT = _Context()


@contextmanager
def assertion_context(
    settings: AssertionSettings | None = None, records: list[AssertionRecord] | None = None
) -> Iterator[None]:
    """Make ``settings`` the defaults of assertions in this block and collect their outcomes in
    ``records``; the pytest plugin wraps every test in one."""
    token = _CONTEXT.set(_Context(settings or AssertionSettings(), records))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def active_settings() -> AssertionSettings:
    """The settings in force (the pytest plugin's per-test ones, or all ``None``)."""
    return (_CONTEXT.get() or _NO_CONTEXT).settings


def _record(expected: str, established: bool, curvature: str, subject: str) -> None:
    records = (_CONTEXT.get() or _NO_CONTEXT).records
    if records is not None:
        records.append(AssertionRecord(expected, established, curvature, subject))


# --- closed forms ------------------------------------------------------------------------------


def _assert_expression(
    expect: str,
    expression: Any,
    variables: Mapping[str, Any] | None,
    seed: int | None,
    budget_s: float | None,
    stages: Any,
) -> CheckResult:
    __tracebackhide__ = True  # pytest: show the user's line, not ours
    from convexcheck.symbolic.check import check

    settings = active_settings()
    seed = seed if seed is not None else (settings.seed if settings.seed is not None else 0)
    budget_s = budget_s if budget_s is not None else settings.budget_s
    result = check(expression, variables, seed=seed, budget_s=budget_s, stages=stages)
    established = result.establishes(expect)
    _record(expect, established, result.curvature, result.expression)
    if not established:
        message = failure_message(expect, result, seed=seed, budget_s=budget_s)
        raise ConvexityAssertionError(message, result, expect)
    return result


def assert_convex(
    expression: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    seed: int | None = None,
    budget_s: float | None = None,
    stages: Any = None,
) -> CheckResult:
    """Pass only if ``expression`` is *proved* convex on the variables' domains.

    ``expression`` is a string (SymPy's printed syntax, parsed safely), a SymPy or a CVXPY
    expression; ``variables`` maps names to domains (``"positive"``, ``"[0, 1]"``, ...).
    Returns the :class:`~convexcheck.result.CheckResult`, whose certificate a test may inspect.
    """
    __tracebackhide__ = True
    return _assert_expression("convex", expression, variables, seed, budget_s, stages)


def assert_concave(
    expression: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    seed: int | None = None,
    budget_s: float | None = None,
    stages: Any = None,
) -> CheckResult:
    """Pass only if ``expression`` is *proved* concave on the variables' domains."""
    __tracebackhide__ = True
    return _assert_expression("concave", expression, variables, seed, budget_s, stages)


def assert_affine(
    expression: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    seed: int | None = None,
    budget_s: float | None = None,
    stages: Any = None,
) -> CheckResult:
    """Pass only if ``expression`` is proved both convex and concave on the domains."""
    __tracebackhide__ = True
    return _assert_expression("affine", expression, variables, seed, budget_s, stages)


def assert_nonconvex(
    expression: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    seed: int | None = None,
    budget_s: float | None = None,
    stages: Any = None,
) -> CheckResult:
    """Pass only if convexity is *refuted* by an exactly verified witness (``result.convex.
    witness``); a function that merely could not be proved convex does not pass."""
    __tracebackhide__ = True
    return _assert_expression("nonconvex", expression, variables, seed, budget_s, stages)


def assert_nonconcave(
    expression: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    seed: int | None = None,
    budget_s: float | None = None,
    stages: Any = None,
) -> CheckResult:
    """Pass only if concavity is *refuted* by an exactly verified witness."""
    __tracebackhide__ = True
    return _assert_expression("nonconcave", expression, variables, seed, budget_s, stages)


# --- models ------------------------------------------------------------------------------------


def _assert_model(expect: str, model: Any, loss_fn: Any, data: Any, **kw: Any) -> ModelCheckResult:
    __tracebackhide__ = True
    try:
        from convexcheck.numeric import check_model
    except ModuleNotFoundError as exc:  # the base install has no torch
        missing = missing_dependency(exc, f"assert_model_{expect}")
        if missing is None:
            raise
        raise missing from None

    settings = active_settings()
    if kw.get("seed") is None:
        kw["seed"] = settings.seed if settings.seed is not None else 0
    if kw.get("budget_s") is None and settings.budget_s is not None:
        kw["budget_s"] = settings.budget_s
    if kw.get("device") is None:
        kw["device"] = settings.device or "auto"
    result = check_model(model, loss_fn, data, **kw)
    established = result.establishes(expect)
    _record(expect, established, result.convex.answer, type(model).__name__)
    if not established:
        raise ConvexityAssertionError(model_failure_message(expect, result, model), result, expect)
    return result


def assert_model_convex(model: Any, loss_fn: Any, data: Any, **kwargs: Any) -> ModelCheckResult:
    """Pass only if ``loss_fn(model(inputs), targets)`` is *proved* convex in the model's
    trainable parameters (the structural proof); ``kwargs`` go to :func:`convexcheck.check_model`
    (``seed``, ``budget_s``, ``device``, ``penalties``, ...)."""
    __tracebackhide__ = True
    return _assert_model("convex", model, loss_fn, data, **kwargs)


def assert_model_nonconvex(model: Any, loss_fn: Any, data: Any, **kwargs: Any) -> ModelCheckResult:
    """Pass only if the training loss is *refuted* convex by a float64-verified Jensen witness."""
    __tracebackhide__ = True
    return _assert_model("nonconvex", model, loss_fn, data, **kwargs)


# --- messages ----------------------------------------------------------------------------------


def witness_lines(witness: Mapping[str, Any]) -> list[str]:
    """The witness of a closed-form refutation, one fact per line."""
    from convexcheck.explain.describe import witness_facts

    verified = witness.get("verified", "verified")
    return [f"Jensen's inequality fails ({verified}):", *("  " + f for f in witness_facts(witness))]


def _reproduce_command(result: CheckResult, expect: str, seed: int, budget_s: float | None) -> str:
    parts = ["convexcheck", "expr", shlex.quote(result.expression)]
    for name, domain in result.variables.items():
        if domain != "real":
            parts += ["--var", shlex.quote(f"{name}={domain}")]
    if seed:
        parts += ["--seed", str(seed)]
    if budget_s is not None:
        parts += ["--budget", f"{budget_s:g}"]
    parts += ["--expect", expect]
    return " ".join(parts)


def failure_message(
    expect: str, result: CheckResult, *, seed: int = 0, budget_s: float | None = None
) -> str:
    """The explanation carried by a failed closed-form assertion: the claim, the verdicts on the
    questions it is about and what backs them (the sections of ``result.explain()``), and a
    command line that reproduces the check."""
    from convexcheck.explain.describe import domain_text, verdict_sections, verdicts_section
    from convexcheck.explain.sections import Kind, Line, section
    from convexcheck.explain.text import render_text

    domains = domain_text(result.variables)
    claim = (
        f"expected {result.expression} to be {_CLAIMS[expect]} on {domains}, "
        f"but convexcheck {_got(expect, result)}"
    )
    # The evidence that matters: for a positive claim the refutation of it (or, if none, what
    # was tried); for a refutation claim what was found instead (a proof, or the search).
    questions = _QUESTIONS[expect]
    sections = [section(Kind.MESSAGE, [Line(claim)]), verdicts_section(result, questions)]
    for question in questions:
        sections.extend(verdict_sections(getattr(result, question)))
    reproduce = f"reproduce: {_reproduce_command(result, expect, seed, budget_s)}"
    sections.append(section(Kind.MESSAGE, [Line(reproduce)]))
    return render_text(sections)


_QUESTIONS = {
    "convex": ("convex",),
    "concave": ("concave",),
    "affine": ("convex", "concave"),
    "nonconvex": ("convex",),
    "nonconcave": ("concave",),
}


def _got(expect: str, result: CheckResult) -> str:
    if expect in ("nonconvex", "nonconcave"):
        question = expect[3:]
        verdict = getattr(result, question)
        return "proved it " + question if verdict.answer == "yes" else "found no witness"
    verdicts = [
        getattr(result, q) for q in (("convex", "concave") if expect == "affine" else (expect,))
    ]
    if any(v.answer == "no" for v in verdicts):
        return "refuted it with a verified witness"
    return "could not prove it (unknown)"


def model_failure_message(expect: str, result: ModelCheckResult, model: Any) -> str:
    """The explanation carried by a failed model assertion: verdict, witness or evidence,
    Hessian extremes and reasons (the sections of ``result.explain()``) and the seed to
    reproduce."""
    from convexcheck.explain.describe_model import describe_model
    from convexcheck.explain.sections import Kind, Line, section
    from convexcheck.explain.text import render_text

    got = {
        "yes": "proved it convex",
        "no": "refuted convexity with a float64-verified witness",
        "unknown": "could neither prove nor refute convexity",
    }[result.convex.answer]
    wanted = "convex in its trainable parameters" if expect == "convex" else "non-convex"
    claim = (
        f"expected the training loss of {type(model).__name__} to be {wanted}, but convexcheck "
        f"{got}"
    )
    reproduce = (
        f"reproduce: convexcheck.check_model(model, loss_fn, data, seed={result.seed}, "
        f"device={result.device!r})"
    )
    sections = [
        section(Kind.MESSAGE, [Line(claim)]),
        *describe_model(result),
        section(Kind.MESSAGE, [Line(reproduce)]),
    ]
    return render_text(sections)
