"""The test suite's own rules: the slow tier's node ids exist, and no test module imports another.

``tests/conftest.py`` marks the slow tests of the untouched end-to-end files by name; a renamed
test would silently fall back into the fast tier, so the names are checked here. Test modules
share code through ``tests/helpers/`` and fixtures through ``conftest.py``, never by importing
each other (an imported test module is collected twice and ties unrelated files together).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import SLOW_END_TO_END

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


@pytest.mark.parametrize(("path", "name", "why"), SLOW_END_TO_END)
def test_every_slow_node_id_names_a_test(path: str, name: str, why: str) -> None:
    assert why
    assert name in _test_functions(ROOT / path), f"{path}::{name} is gone: update conftest.py"


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_test_module_imports_another() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for name in _imported_modules(path):
            parts = name.split(".")
            if parts[0] == "tests" and any(p.startswith("test_") for p in parts[1:]):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, "\n".join(offenders)
