"""pytest plugin: convexity assertions in any test suite, configured per run or per test.

Installed with the package through the ``pytest11`` entry point, so a user's suite needs no
``conftest.py``: ``pip install convexcheck`` and the fixture, the marker and the options exist.
Disable it with ``pytest -p no:convexcheck``.

* **Fixture** ``convexcheck``: ``convexcheck.assert_convex("x**2/y", {"y": "positive"})``,
  ``convexcheck.assert_model_convex(model, loss_fn, data)``, ``convexcheck.check(...)``... with
  the test's seed, time budget and device.
* **Marker** ``@pytest.mark.convexcheck(seed=1, budget=2.0, device="cpu")``: settings for one
  test (or a class/module with ``pytestmark``). They also apply to plain
  ``convexcheck.assert_convex(...)`` calls made during that test.
* **Options** ``--convexcheck-seed``, ``--convexcheck-budget``, ``--convexcheck-device`` and the
  ini keys ``convexcheck_seed``, ``convexcheck_budget``, ``convexcheck_device``. Precedence:
  marker, then command line, then ini file, then the defaults (seed 0, the library's budgets,
  device ``auto``).
* **Reporting**: the settings appear in pytest's header; a failed assertion shows convexcheck's
  explanation (witness or failed premise) without library frames; each assertion's expectation
  and outcome are recorded as test properties, which ``--junitxml`` writes out.

This module imports only pytest and convexcheck's light modules: SymPy, CVXPY and torch load when
a check first runs, so the plugin costs nothing to suites that never use it.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from convexcheck.assertions import AssertionRecord, AssertionSettings, assertion_context
from convexcheck.errors import missing_dependency

DEVICES = ("auto", "cpu", "cuda")
MARKER_KEYS = ("seed", "budget", "device")


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one test; ``budget`` ``None`` means the library's default budgets."""

    seed: int = 0
    budget: float | None = None
    device: str = "auto"

    def describe(self) -> str:
        budget = "default" if self.budget is None else f"{self.budget:g} s"
        return f"seed={self.seed}, budget={budget}, device={self.device}"


def _parse_seed(value: Any, where: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise pytest.UsageError(f"convexcheck: {where} must be an integer, got {value!r}") from None


def _parse_budget(value: Any, where: str) -> float:
    try:
        budget = float(value)
    except (TypeError, ValueError):
        budget = float("nan")
    if not budget > 0:
        raise pytest.UsageError(
            f"convexcheck: {where} must be a positive number of seconds, got {value!r}"
        )
    return budget


def _parse_device(value: Any, where: str) -> str:
    device = str(value).strip()
    if device not in DEVICES and not device.startswith("cuda:"):
        raise pytest.UsageError(
            f"convexcheck: {where} must be one of {', '.join(DEVICES)} (or cuda:N), got {value!r}"
        )
    return device


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("convexcheck", "convexity assertions (convexcheck)")
    group.addoption(
        "--convexcheck-seed",
        dest="convexcheck_seed",
        default=None,
        metavar="N",
        help="seed of convexcheck's random searches (default 0; witnesses then reproduce)",
    )
    group.addoption(
        "--convexcheck-budget",
        dest="convexcheck_budget",
        default=None,
        metavar="SECONDS",
        help="wall-clock cap in seconds: of the whole check for expressions, of the Jensen "
        "search for models, whose effort is counted in evaluations (default: the library's)",
    )
    group.addoption(
        "--convexcheck-device",
        dest="convexcheck_device",
        default=None,
        metavar="DEVICE",
        help="device for model checks: auto (CUDA when present), cpu or cuda",
    )
    parser.addini("convexcheck_seed", "convexcheck: seed of the random searches", default="")
    parser.addini("convexcheck_budget", "convexcheck: time budget in seconds", default="")
    parser.addini("convexcheck_device", "convexcheck: device for model checks", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "convexcheck(seed=None, budget=None, device=None): convexcheck settings for this test",
    )
    config.stash[_SESSION_SETTINGS] = _session_settings(config)


_SESSION_SETTINGS = pytest.StashKey[Settings]()


def _session_settings(config: pytest.Config) -> Settings:
    """Command line over ini file over defaults; bad values stop the run with a usage error."""
    values: dict[str, Any] = {}
    for key, parse in (("seed", _parse_seed), ("budget", _parse_budget), ("device", _parse_device)):
        option = config.getoption(f"convexcheck_{key}")
        if option is not None:
            values[key] = parse(option, f"--convexcheck-{key}")
            continue
        ini = str(config.getini(f"convexcheck_{key}") or "").strip()
        if ini:
            values[key] = parse(ini, f"ini option convexcheck_{key}")
    return Settings(**values)


def _marker_overrides(item: pytest.Item, base: Settings) -> Settings:
    marker = item.get_closest_marker("convexcheck")
    if marker is None:
        return base
    if marker.args:
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.convexcheck takes keywords only "
            f"({', '.join(MARKER_KEYS)}), got positional {marker.args!r}"
        )
    unknown = sorted(set(marker.kwargs) - set(MARKER_KEYS))
    if unknown:
        raise pytest.UsageError(
            f"{item.nodeid}: unknown @pytest.mark.convexcheck keyword(s) {unknown}; "
            f"expected {', '.join(MARKER_KEYS)}"
        )
    kw = marker.kwargs
    where = f"{item.nodeid}: @pytest.mark.convexcheck"
    return Settings(
        seed=_parse_seed(kw["seed"], f"{where}(seed=...)") if "seed" in kw else base.seed,
        budget=(
            _parse_budget(kw["budget"], f"{where}(budget=...)")
            if kw.get("budget") is not None
            else base.budget
        ),
        device=_parse_device(kw["device"], f"{where}(device=...)")
        if "device" in kw
        else base.device,
    )


def settings_for(item: pytest.Item) -> Settings:
    """The settings in force for ``item`` (marker > command line > ini > defaults)."""
    return _marker_overrides(item, item.config.stash[_SESSION_SETTINGS])


def pytest_report_header(config: pytest.Config) -> str:
    from convexcheck.version import __version__

    return f"convexcheck {__version__}: {config.stash[_SESSION_SETTINGS].describe()}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Run the test with its settings as the assertions' defaults, recording each assertion."""
    settings = settings_for(item)
    records: list[AssertionRecord] = []
    active = AssertionSettings(seed=settings.seed, budget_s=settings.budget, device=settings.device)
    try:
        with assertion_context(active, records):
            yield
    finally:
        _record_properties(item, records)


def _record_properties(item: pytest.Item, records: list[AssertionRecord]) -> None:
    """Each assertion becomes test properties (``--junitxml`` writes ``<property>`` entries)."""
    for record in records:
        item.user_properties.append(("convexcheck_expected", record.expected))
        item.user_properties.append(("convexcheck_curvature", record.curvature))
        item.user_properties.append(("convexcheck_established", str(record.established).lower()))


class ConvexcheckFixture:
    """What the ``convexcheck`` fixture gives a test: checks and assertions with its settings.

    Every method forwards to the library function of the same name with ``seed`` (and
    ``budget_s``/``device`` where they apply) filled in from the test's settings; explicit
    keyword arguments still win.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def seed(self) -> int:
        return self.settings.seed

    @property
    def budget(self) -> float | None:
        return self.settings.budget

    @property
    def device(self) -> str:
        return self.settings.device

    def __repr__(self) -> str:
        return f"<convexcheck fixture: {self.settings.describe()}>"

    # closed forms
    def _expr_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("seed", self.seed)
        kwargs.setdefault("budget_s", self.budget)
        return kwargs

    def check(self, expression: Any, variables: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        """:func:`convexcheck.check` with this test's seed and budget."""
        from convexcheck.symbolic.check import check

        return check(expression, variables, **self._expr_kwargs(kw))

    def assert_convex(self, expression: Any, variables: Any = None, **kw: Any) -> Any:
        __tracebackhide__ = True
        from convexcheck.assertions import assert_convex

        return assert_convex(expression, variables, **self._expr_kwargs(kw))

    def assert_concave(self, expression: Any, variables: Any = None, **kw: Any) -> Any:
        __tracebackhide__ = True
        from convexcheck.assertions import assert_concave

        return assert_concave(expression, variables, **self._expr_kwargs(kw))

    def assert_affine(self, expression: Any, variables: Any = None, **kw: Any) -> Any:
        __tracebackhide__ = True
        from convexcheck.assertions import assert_affine

        return assert_affine(expression, variables, **self._expr_kwargs(kw))

    def assert_nonconvex(self, expression: Any, variables: Any = None, **kw: Any) -> Any:
        __tracebackhide__ = True
        from convexcheck.assertions import assert_nonconvex

        return assert_nonconvex(expression, variables, **self._expr_kwargs(kw))

    def assert_nonconcave(self, expression: Any, variables: Any = None, **kw: Any) -> Any:
        __tracebackhide__ = True
        from convexcheck.assertions import assert_nonconcave

        return assert_nonconcave(expression, variables, **self._expr_kwargs(kw))

    # models
    def _model_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("seed", self.seed)
        kwargs.setdefault("device", self.device)
        if self.budget is not None:
            kwargs.setdefault("budget_s", self.budget)
        return kwargs

    def check_model(self, model: Any, loss_fn: Any, data: Any, **kw: Any) -> Any:
        """:func:`convexcheck.check_model` with this test's seed, budget and device."""
        try:
            from convexcheck.numeric import check_model
        except ModuleNotFoundError as exc:  # the base install has no torch
            missing = missing_dependency(exc, "the convexcheck fixture's check_model")
            if missing is None:
                raise
            raise missing from None

        return check_model(model, loss_fn, data, **self._model_kwargs(kw))

    def assert_model_convex(self, model: Any, loss_fn: Any, data: Any, **kw: Any) -> Any:
        __tracebackhide__ = True
        from convexcheck.assertions import assert_model_convex

        return assert_model_convex(model, loss_fn, data, **self._model_kwargs(kw))

    def assert_model_nonconvex(self, model: Any, loss_fn: Any, data: Any, **kw: Any) -> Any:
        __tracebackhide__ = True
        from convexcheck.assertions import assert_model_nonconvex

        return assert_model_nonconvex(model, loss_fn, data, **self._model_kwargs(kw))


@pytest.fixture
def convexcheck(request: pytest.FixtureRequest) -> ConvexcheckFixture:
    """Convexity checks and assertions with this test's seed, budget and device."""
    return ConvexcheckFixture(settings_for(request.node))
