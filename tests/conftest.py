"""Fixtures and collection rules shared by the whole test suite.

Two tiers (see the README's "Running the tests"): ``python -m pytest`` runs everything, as CI
does; ``python -m pytest -m "not slow"`` leaves out the tests marked ``slow`` (many-example
Hypothesis properties, subprocess-heavy end-to-end runs, a real browser) for a quick local loop.
Non-fixture helpers shared by several test modules live in ``tests/helpers/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Every JSON document the command line writes during the tests (in process or in a child
# interpreter, which inherits the environment) is validated against its shipped schema first
# (convexcheck.schemas); a document that drifts from its schema is an internal error, so the test
# that made it fails. A test that needs the unvalidated path unsets it with monkeypatch.
os.environ["CONVEXCHECK_VALIDATE_JSON"] = "1"

# The end-to-end files pin the public behaviour and stay untouched (tests/test_cli.py,
# test_check_api.py, test_assertions.py, test_pytest_plugin.py, test_examples.py), so their slow
# tests are marked here by node id (without parameters: every case of a parametrized test)
# instead of with a decorator in the file. Each entry is slow by the work it does, not by one
# day's timing. tests/test_examples.py marks itself slow as a whole (every test runs an example).
SLOW_END_TO_END: tuple[tuple[str, str, str], ...] = (
    # (file, test, why it is slow)
    (
        "tests/test_check_api.py",
        "test_wide_sum_does_not_overflow_the_stack",
        "checks a sum of 100,000 terms end to end",
    ),
    (
        "tests/test_cli.py",
        "test_large_generated_input_from_stdin_is_analysed",
        "a subprocess analysing a 20,000-term expression read from stdin",
    ),
    (
        "tests/test_pytest_plugin.py",
        "test_model_assertions_through_the_fixture",
        "a nested pytest session that checks torch models",
    ),
    (
        "tests/test_pytest_plugin.py",
        "test_ini_file_sets_the_defaults_and_bad_values_are_usage_errors",
        "three nested pytest sessions",
    ),
)
_SLOW_NODE_IDS = frozenset(f"{path}::{name}" for path, name, _ in SLOW_END_TO_END)


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Run a module's torch work on one intra-op thread, and restore the count afterwards.

    The tensors in these tests are tiny: on a loaded two-core machine the default thread pool
    spends more time spin-waiting than computing (one module measured about 160 s with two threads
    and about 11 s with one, same counts and results). Use it with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch  # here, not at the top: collecting the suite must not import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``-n``), give each worker one BLAS/OpenMP thread.

    The workers already fill the cores; two workers that each spin up a thread pool per core
    oversubscribe them, and tiny NumPy/torch operations then spend their time spin-waiting.
    Runs before the workers import NumPy or torch (which read these variables once); an explicit
    setting in the environment wins, and a plain serial run is left alone.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")
    elif getattr(config.option, "dist", "no") == "loadfile" and hasattr(
        config.option, "loadscopereorder"
    ):
        # The controller hands out whole files in collection order (see the hook below) rather
        # than by test count: a file with few tests can be the longest one.
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow tests of the untouchable end-to-end files (listed in SLOW_END_TO_END).

    Under pytest-xdist, files that hold a slow test are also moved to the front (each file's own
    order kept), so that the longest files start first and the short ones fill in around them;
    otherwise a long file handed out last keeps one worker busy while the others sit idle. A
    serial run keeps pytest's order.
    """
    for item in items:
        if item.nodeid.split("[", 1)[0] in _SLOW_NODE_IDS:
            item.add_marker(pytest.mark.slow)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        heavy = {item.path for item in items if item.get_closest_marker("slow")}
        items.sort(key=lambda item: item.path not in heavy)  # stable: each file keeps its order
