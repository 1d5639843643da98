"""The package's shape, checked: layers, the checker's independence, no torch on the light path.

``shared/ARCHITECTURE.md`` states the nevers (no upward imports, the checker never imports a
prover, the closed-form path never imports torch, the cores never render or print, no cycles, no
hidden ``importlib`` edges, no oversized module). Written down, they decay; this test makes them
executable. It reads every module of ``convexcheck/`` with :mod:`ast` (nothing is imported, so it
takes well under a second) and collects every ``import``, wherever it stands: module level, inside
functions, inside ``try``. Only imports under ``if TYPE_CHECKING:`` are left out, since they never
run.

How an import statement becomes edges (``import a.b.c`` reaches ``a.b`` and ``a`` too; ``from
pkg import submodule`` reaches only the submodule; the lazy public-name map of
``convexcheck/__init__.py`` counts) is written down in :mod:`tests.import_graph`, the reader.

Each rule is its own test function, so a failure names the rule it breaks; every message lists
``importer -> imported`` with the line number.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from tests.import_graph import (
    Collector,
    Edge,
    ModuleInfo,
    read_package,
    shortest_cycle,
    strongly_connected,
)

PACKAGE = "convexcheck"
PACKAGE_DIR = Path(__file__).resolve().parents[1] / PACKAGE

# ---------------------------------------------------------------------------------------------
# The layer map of shared/ARCHITECTURE.md, as data. Every module of the package must match exactly
# one pattern (fnmatch syntax on the dotted name), so a new module has to be given a layer here
# before the suite passes: that is the moment to decide where it belongs.
L0, L1, L1_5, L2, L3, L4, L5 = 0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0
LAYER_NAMES = {
    L0: "L0 core",
    L1: "L1 result types",
    L1_5: "L1.5 certificate checker",
    L2: "L2 front ends / provers / numeric",
    L3: "L3 explain",
    L4: "L4 assertions / pytest plugin",
    L5: "L5 cli / package",
}

LAYERS: dict[str, float] = {
    # L0: errors, the expression trees, atom tables, intervals, domains, the curvature algebra
    "convexcheck.errors": L0,
    "convexcheck.budget": L0,
    "convexcheck.version": L0,
    "convexcheck.progress": L0,
    "convexcheck.symbolic.ir": L0,
    "convexcheck.symbolic.interval": L0,
    "convexcheck.symbolic.interval_powers": L0,
    "convexcheck.symbolic.atoms": L0,
    "convexcheck.symbolic.atoms_pieces": L0,
    "convexcheck.symbolic.atoms_nary": L0,
    "convexcheck.symbolic.domains": L0,
    "convexcheck.symbolic.ranges": L0,
    "convexcheck.symbolic.printer": L0,
    "convexcheck.symbolic.evaluate": L0,
    "convexcheck.symbolic.calculus": L0,
    "convexcheck.symbolic.traversal": L0,
    "convexcheck.tensor.expr": L0,
    "convexcheck.tensor.iarray": L0,
    "convexcheck.tensor.interval_functions": L0,
    "convexcheck.tensor.intervals": L0,
    "convexcheck.tensor.elementwise": L0,
    "convexcheck.tensor.atoms": L0,
    "convexcheck.tensor.atoms_*": L0,
    "convexcheck.tensor.evaluate": L0,
    "convexcheck.tensor.matrix_points": L0,
    "convexcheck.tensor.psd": L0,
    "convexcheck.tensor.psd_exact": L0,
    "convexcheck.tensor.document": L0,
    # L1: result types and typed evidence
    "convexcheck.result": L1,
    "convexcheck.numeric.model_result": L1,
    "convexcheck.numeric.progress": L2,
    "convexcheck.numeric.reason_types": L1,
    "convexcheck.evidence": L1,
    "convexcheck.schemas": L1,
    # L1.5: the certificate checker
    "convexcheck.certificates": L1_5,
    "convexcheck.certificates.*": L1_5,
    # L2: front ends, provers, numeric model tools
    "convexcheck.symbolic": L2,
    "convexcheck.symbolic.check": L2,
    "convexcheck.symbolic.compiled": L2,
    "convexcheck.symbolic.curvature": L2,
    "convexcheck.symbolic.curvature_bounds": L2,
    "convexcheck.symbolic.cvxpy_bridge": L2,
    "convexcheck.symbolic.dcp": L2,
    "convexcheck.symbolic.dcp_*": L2,
    "convexcheck.symbolic.hessian": L2,
    "convexcheck.symbolic.parser": L2,
    "convexcheck.symbolic.patterns": L2,
    "convexcheck.symbolic.patterns_*": L2,
    "convexcheck.symbolic.piecewise": L2,
    "convexcheck.symbolic.piecewise_affine": L2,
    "convexcheck.symbolic.quadratic": L2,
    "convexcheck.symbolic.signs": L2,
    "convexcheck.symbolic.signs_chain": L2,
    "convexcheck.symbolic.sos": L2,
    "convexcheck.symbolic.sympy_bridge": L2,
    "convexcheck.symbolic.to_cvxpy": L2,
    "convexcheck.symbolic.witness": L2,
    "convexcheck.tensor": L2,
    "convexcheck.tensor.certificate": L2,
    "convexcheck.tensor.check": L2,
    "convexcheck.tensor.curvature_data": L2,
    "convexcheck.tensor.cvxpy_bridge": L2,
    "convexcheck.tensor.dcp": L2,
    "convexcheck.tensor.front": L2,
    "convexcheck.tensor.to_cvxpy": L2,
    "convexcheck.tensor.witness": L2,
    "convexcheck.torchgraph": L2,
    "convexcheck.torchgraph.*": L2,
    "convexcheck.numeric": L2,
    "convexcheck.numeric.candidates": L2,
    "convexcheck.numeric.block_eigen": L2,
    "convexcheck.numeric.check": L2,
    "convexcheck.numeric.eigen_result": L2,
    "convexcheck.numeric.distributed": L2,
    "convexcheck.numeric.faithful": L2,
    "convexcheck.numeric.functional": L2,
    "convexcheck.numeric.hessian": L2,
    "convexcheck.numeric.jensen": L2,
    "convexcheck.numeric.lanczos": L2,
    "convexcheck.numeric.mechanisms": L2,
    "convexcheck.numeric.loading": L2,
    "convexcheck.numeric.objective": L2,
    "convexcheck.numeric.program": L2,
    "convexcheck.numeric.spectrum": L2,
    "convexcheck.numeric.verify": L2,
    # L3: rendering
    "convexcheck.explain": L3,
    "convexcheck.explain.*": L3,
    # L4
    "convexcheck.assertions": L4,
    "convexcheck.pytest_plugin": L4,
    # L5
    "convexcheck": L5,
    "convexcheck.__main__": L5,
    "convexcheck.cli": L5,
    "convexcheck.cli.*": L5,
}

# The documented exceptions: the only upward edges allowed. Each is a convenience method on a
# result object importing its implementation *inside the method* (a module-level import would
# make the result types depend on what renders them). Each entry must still exist: a stale
# exception fails the test, so the list never outgrows the code.
ALLOWED_UPWARD: list[tuple[str, str, str]] = [
    (
        "convexcheck.result",
        "convexcheck.explain.text",
        "CheckResult.explain() / __str__ render through the text renderer",
    ),
    (
        "convexcheck.result",
        "convexcheck.symbolic.to_cvxpy",
        "CheckResult.to_cvxpy() hands the expression to the CVXPY back end",
    ),
    (
        "convexcheck.result",
        "convexcheck.tensor.to_cvxpy",
        "CheckResult.to_cvxpy() of a tensor expression uses the tensor back end",
    ),
    (
        "convexcheck.result",
        "convexcheck.symbolic.dcp",
        "CheckResult.to_cvxpy() tells a scalar derivation (an Analysis) from a tensor one",
    ),
    (
        "convexcheck.numeric.model_result",
        "convexcheck.explain.text",
        "ModelCheckResult.explain() renders through the text renderer",
    ),
    (
        "convexcheck.result",
        "convexcheck.explain.notebook",
        "CheckResult._repr_html_/_repr_markdown_ are what Jupyter displays",
    ),
    (
        "convexcheck.numeric.model_result",
        "convexcheck.explain.notebook",
        "ModelCheckResult._repr_html_/_repr_markdown_ are what Jupyter displays",
    ),
]

# Never 3: the checker must not call what it checks.
CHECKER_FORBIDDEN = [
    "convexcheck.symbolic.dcp",
    "convexcheck.symbolic.dcp_*",
    "convexcheck.symbolic.patterns",
    "convexcheck.symbolic.patterns_*",
    "convexcheck.symbolic.piecewise",
    "convexcheck.symbolic.piecewise_affine",
    "convexcheck.symbolic.hessian",
    "convexcheck.symbolic.quadratic",
    "convexcheck.symbolic.sos",
    "convexcheck.symbolic.signs",
    "convexcheck.symbolic.signs_chain",
    "convexcheck.symbolic.witness",
    "convexcheck.symbolic.compiled",
    "convexcheck.symbolic.curvature",
    "convexcheck.symbolic.curvature_bounds",
    "convexcheck.symbolic.check",
    "convexcheck.symbolic.parser",
    "convexcheck.symbolic.sympy_bridge",
    "convexcheck.symbolic.cvxpy_bridge",
    "convexcheck.tensor.dcp",
    "convexcheck.tensor.psd",
    "convexcheck.tensor.psd_exact",
    "convexcheck.tensor.witness",
    "convexcheck.tensor.check",
    "convexcheck.tensor.certificate",
    "convexcheck.tensor.front",
    "convexcheck.tensor.cvxpy_bridge",
    "convexcheck.tensor.curvature_data",
]

# Never 1: what `import convexcheck`, `convexcheck.check(...)` and `convexcheck expr` may reach.
# (module, functions): the root's module-level imports are always followed; `None` follows the
# imports inside every function of the root too, a tuple only those inside the named functions.
# Every module reached from there is followed through its module-level imports (what importing
# it runs). The first existing candidate of each group is the root (the cli becomes a package).
CLOSED_FORM_ROOTS: list[list[tuple[str, tuple[str, ...] | None]]] = [
    [("convexcheck", ())],
    [("convexcheck.symbolic.check", None)],
    [("convexcheck.result", None)],
    [("convexcheck.explain.text", None)],
    [("convexcheck.__main__", ())],
    [
        ("convexcheck.cli.expr", None),
        ("convexcheck.cli.commands.expr", None),
        ("convexcheck.cli", ("_run_expr", "main", "_build_parser")),
    ],
]

# Never 2: what the cores (and the checker) never import.
RENDERING_MODULES = [
    "convexcheck.explain",
    "convexcheck.explain.*",
    "convexcheck.cli",
    "convexcheck.cli.*",
]
RENDERING_LIBRARIES = {"rich", "argparse"}

# Never 5.
HARD_LINE_LIMIT = 700
SOFT_LINE_LIMIT = 600

# Never 4: the only file allowed to look modules up by name.
DYNAMIC_IMPORT_ALLOWED = {"convexcheck"}


@lru_cache(maxsize=1)
def package() -> dict[str, ModuleInfo]:
    return read_package(PACKAGE_DIR)


def edges() -> list[Edge]:
    return [edge for info in package().values() for edge in info.edges]


def matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def layer_of(name: str) -> float:
    hits = [pattern for pattern in LAYERS if fnmatch.fnmatchcase(name, pattern)]
    assert len(hits) == 1, f"{name}: {hits}"
    return LAYERS[hits[0]]


def _report(title: str, problems: list[str], advice: str) -> str:
    body = "\n".join(f"  - {problem}" for problem in problems)
    return f"{title} ({len(problems)}):\n{body}\n{textwrap.fill(advice, 100)}"


# ---------------------------------------------------------------------------------------------
# The rules.


def test_every_module_has_exactly_one_layer() -> None:
    problems = []
    for name in package():
        hits = [pattern for pattern in LAYERS if fnmatch.fnmatchcase(name, pattern)]
        if len(hits) != 1:
            problems.append(f"{name}: matches {hits or 'no entry'}")
    assert not problems, _report(
        "modules without exactly one layer in LAYERS",
        problems,
        "Give each new module its layer in tests/test_architecture.py::LAYERS (see the layer "
        "table of shared/ARCHITECTURE.md); patterns must not overlap.",
    )
    unused = [p for p in LAYERS if not any(fnmatch.fnmatchcase(n, p) for n in package())]
    if unused:
        warnings.warn(f"LAYERS entries matching no module: {unused}", stacklevel=1)


def _allowed_upward() -> dict[tuple[str, str], str]:
    return {(importer, imported): reason for importer, imported, reason in ALLOWED_UPWARD}


def test_imports_follow_the_layers() -> None:
    allowed = _allowed_upward()
    problems = []
    for edge in edges():
        importer, imported = layer_of(edge.importer), layer_of(edge.imported)
        if imported <= importer:
            continue
        if (edge.importer, edge.imported) in allowed and edge.function is not None:
            continue
        note = ""
        if (edge.importer, edge.imported) in allowed:
            note = " (a documented exception, but only inside the method, not at module level)"
        problems.append(f"{edge}: {LAYER_NAMES[importer]} imports {LAYER_NAMES[imported]}{note}")
    assert not problems, _report(
        "imports against the layer map (a module may import only its own layer or lower)",
        problems,
        "Move the code to the layer it belongs to, pass the dependency in from above, or (only "
        "for a convenience method on a result object) import inside the method and list it in "
        "ALLOWED_UPWARD with its reason.",
    )


def test_documented_exceptions_are_still_needed() -> None:
    present = {(edge.importer, edge.imported) for edge in edges()}
    problems = [
        f"{importer} -> {imported} ({reason})"
        for importer, imported, reason in ALLOWED_UPWARD
        if (importer, imported) not in present
    ]
    not_upward = [
        f"{importer} -> {imported}"
        for importer, imported, _ in ALLOWED_UPWARD
        if importer in package()
        and imported in package()
        and layer_of(imported) <= layer_of(importer)
    ]
    assert not problems, _report(
        "stale entries in ALLOWED_UPWARD (the edge no longer exists)", problems, "Remove them."
    )
    assert not not_upward, _report(
        "ALLOWED_UPWARD entries that are not upward edges", not_upward, "Remove them."
    )


def test_the_checker_imports_no_prover() -> None:
    problems = [
        f"{edge}: the checker imports the prover module {edge.imported}"
        for edge in edges()
        if edge.importer.startswith("convexcheck.certificates")
        and matches(edge.imported, CHECKER_FORBIDDEN)
    ]
    assert not problems, _report(
        "the certificate checker imports prover code (never 3)",
        problems,
        "If checker and prover call the same function, a bug in it passes both: give the "
        "checker its own small trusted implementation.",
    )


def _closed_form_modules() -> dict[str, list[str]]:
    """Every module reachable on the closed-form path, with one chain of imports to it."""
    infos = package()
    by_importer: dict[str, list[Edge]] = {}
    for edge in edges():
        if edge.how != "lazy-map":
            by_importer.setdefault(edge.importer, []).append(edge)
    chain: dict[str, list[str]] = {}
    todo: list[str] = []
    for group in CLOSED_FORM_ROOTS:
        root, functions = next(((m, f) for m, f in group if m in infos), (None, None))
        assert root is not None, f"none of the closed-form roots {group} exists"
        chain.setdefault(root, [root])
        for edge in by_importer.get(root, []):
            top = edge.function.split(".")[0] if edge.function else None
            follow = (
                edge.function is None
                or functions is None
                or top in functions
                or edge.function in functions
            )
            if follow and edge.imported not in chain:
                chain[edge.imported] = [*chain[root], f"{edge.imported} (line {edge.line})"]
                todo.append(edge.imported)
    while todo:
        name = todo.pop()
        for edge in by_importer.get(name, []):
            if edge.function is None and edge.imported not in chain:
                chain[edge.imported] = [*chain[name], f"{edge.imported} (line {edge.line})"]
                todo.append(edge.imported)
    return chain


def test_the_closed_form_path_never_imports_torch_at_module_level() -> None:
    infos = package()
    problems = []
    for name, path in sorted(_closed_form_modules().items()):
        for library, line, function in infos[name].external:
            if library == "torch" and function is None:
                problems.append(f"{name}:{line} imports torch; reached by " + " -> ".join(path))
    assert not problems, _report(
        "torch on the closed-form path (never 1)",
        problems,
        "`import convexcheck`, `convexcheck.check(...)` and `convexcheck expr` must stay light: "
        "import torch inside the function that needs it, or cut the edge that reaches it.",
    )


_LIGHT_PROBE = """
import json, runpy, sys
import convexcheck
steps = {"import convexcheck": "torch" in sys.modules}
convexcheck.check("x**2")
steps["convexcheck.check('x**2')"] = "torch" in sys.modules
sys.argv = ["convexcheck", "expr", "x**2"]
try:
    runpy.run_module("convexcheck", run_name="__main__", alter_sys=True)
except SystemExit as stop:
    code = stop.code
else:
    code = 0
steps["python -m convexcheck expr x**2"] = "torch" in sys.modules
sys.stdout.write("\\n" + json.dumps({"steps": steps, "code": code}) + "\\n")
"""


def test_the_closed_form_path_leaves_torch_unloaded_at_run_time() -> None:
    environment = dict(os.environ)
    root = str(PACKAGE_DIR.parent)
    environment["PYTHONPATH"] = os.pathsep.join(
        [root, *filter(None, [environment.get("PYTHONPATH")])]
    )
    done = subprocess.run(
        [sys.executable, "-c", _LIGHT_PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["code"] == 0, done.stdout
    loaded = [step for step, torch_loaded in outcome["steps"].items() if torch_loaded]
    assert not loaded, f"torch was imported by: {loaded} (never 1)"


def test_the_cores_never_render_or_print() -> None:
    infos = package()
    cores = [name for name in infos if layer_of(name) in (L2, L1_5)]
    problems = []
    for name in cores:
        info = infos[name]
        for edge in info.edges:
            if matches(edge.imported, RENDERING_MODULES):
                problems.append(f"{edge}: a core module imports the renderer / cli")
        for library, line, function in info.external:
            if library in RENDERING_LIBRARIES:
                scope = "module level" if function is None else f"in {function}()"
                problems.append(f"{name}:{line} ({scope}) imports {library}")
        for line, function in info.prints:
            scope = "module level" if function is None else f"in {function}()"
            problems.append(f"{name}:{line} ({scope}) calls print(")
    assert not problems, _report(
        "provers, numeric tools or the checker render or print (never 2)",
        problems,
        "Return a result (with typed evidence) and let explain/ render it and cli/ print it.",
    )


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {name: set() for name in package()}
    where: dict[tuple[str, str], Edge] = {}
    for edge in edges():
        graph[edge.importer].add(edge.imported)
        where.setdefault((edge.importer, edge.imported), edge)
    problems = []
    for component in strongly_connected(graph):
        if len(component) == 1:
            continue
        cycle = shortest_cycle(component, graph)
        steps = "\n      ".join(str(where[(a, b)]) for a, b in zip(cycle, cycle[1:]))
        problems.append(
            f"cycle {' -> '.join(cycle)}\n      {steps}\n    (strongly connected: "
            f"{', '.join(component)})"
        )
    assert not problems, _report(
        "import cycles among the package's modules (never 4; function-level imports count)",
        problems,
        "Break each cycle: move the shared part down into a module both can import, or inject "
        "the dependency (a registry filled by the module above).",
    )


def test_no_name_based_imports_of_the_package() -> None:
    problems = [
        f"{name}:{line} ({'module level' if function is None else f'in {function}()'}): {what}"
        for name, info in sorted(package().items())
        if name not in DYNAMIC_IMPORT_ALLOWED
        for line, what, function in info.dynamic_imports
    ]
    assert not problems, _report(
        "importlib.import_module / __import__ / find_spec of the package's own modules (never 4)",
        problems,
        "A name-based lookup hides an edge from this test and turns an ImportError into a "
        "silently disabled feature: write a plain (lazy, function-level) import instead. Only "
        "the public-name map of convexcheck/__init__.py may do this.",
    )


def test_no_module_is_oversized() -> None:
    infos = package()
    over_hard = [
        f"{info.path.relative_to(PACKAGE_DIR.parent)}: {info.lines} lines"
        for info in infos.values()
        if info.lines > HARD_LINE_LIMIT
    ]
    over_soft = [
        f"{info.path.relative_to(PACKAGE_DIR.parent)}: {info.lines} lines"
        for info in infos.values()
        if SOFT_LINE_LIMIT < info.lines <= HARD_LINE_LIMIT
    ]
    if over_soft:
        warnings.warn(
            f"modules over {SOFT_LINE_LIMIT} lines (split before they reach {HARD_LINE_LIMIT}): "
            + ", ".join(over_soft),
            stacklevel=1,
        )
    assert not over_hard, _report(
        f"modules over {HARD_LINE_LIMIT} lines (never 5)",
        over_hard,
        "Past about 600 lines a module holds more than one concept: split it along them.",
    )


def test_the_reader_sees_function_level_and_relative_imports() -> None:
    """The rules are only as good as the graph: check the reader on a tiny synthetic module."""
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        import convexcheck.tensor.expr
        from convexcheck.symbolic import ir
        from . import interval as iv
        from .printer import to_str
        if TYPE_CHECKING:
            from convexcheck.explain import text
        def f():
            from convexcheck.result import CheckResult
            print("x")
            import importlib
            importlib.import_module("convexcheck." + "cli")
        """
    )
    modules = frozenset(package())
    info = ModuleInfo("convexcheck.symbolic.fake", Path("fake.py"), False, 0, ast.parse(source))
    Collector(info, modules).visit(info.tree)
    seen = {(edge.imported, edge.function) for edge in info.edges}
    assert seen == {
        ("convexcheck.tensor.expr", None),
        ("convexcheck.tensor", None),
        ("convexcheck", None),
        ("convexcheck.symbolic.ir", None),
        ("convexcheck.symbolic.interval", None),
        ("convexcheck.symbolic.printer", None),
        ("convexcheck.result", "f"),
    }, seen
    assert info.prints == [(11, "f")]
    assert len(info.dynamic_imports) == 1
