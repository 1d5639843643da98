"""The import graph of a package, read with :mod:`ast` (nothing is imported).

Used by ``tests/test_architecture.py``, which states the rules; this module only reads. Every
``import`` counts wherever it stands (module level, inside functions, inside ``try``), except
under ``if TYPE_CHECKING:``, which never runs. How a statement becomes edges:

* ``import a.b.c`` (with or without ``as``) is an edge to ``a.b.c`` and to each enclosing package
  ``a.b`` and ``a``: the statement runs their ``__init__`` and (without ``as``) binds ``a``.
* ``from a.b import c`` is an edge to ``a.b.c`` when that is a module of the package, otherwise
  (``c`` is a name defined in ``a.b``) an edge to ``a.b``. Relative imports are resolved first.
  So ``from pkg import submodule`` is the way to reach a sibling without an edge to the
  package's ``__init__``.
* the lazy public-name map ``_LAZY`` of the package's ``__init__.py`` (the one sanctioned
  ``importlib`` lookup) contributes an edge to each module it names.

Besides edges, the reader records imports of other libraries (top-level name), calls of
``print`` and name-based imports (``importlib.import_module``, ``__import__``, ``find_spec``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int
    function: str | None  # enclosing function's qualified name; None at module level
    how: str  # "import", "from" or "lazy-map"

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported}  [line {self.line}, " + (
            "module level]" if self.function is None else f"in {self.function}()]"
        )


@dataclass
class ModuleInfo:
    name: str
    path: Path
    is_package: bool
    lines: int
    tree: ast.Module
    edges: list[Edge] = field(default_factory=list)
    # third-party / standard-library imports: (top-level name, line, enclosing function)
    external: list[tuple[str, int, str | None]] = field(default_factory=list)
    prints: list[tuple[int, str | None]] = field(default_factory=list)
    dynamic_imports: list[tuple[int, str, str | None]] = field(default_factory=list)


def _module_name(path: Path, package_dir: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


_CALL_WORDS = ("print", "import_module", "__import__", "find_spec")


class Collector(ast.NodeVisitor):
    """One pass over a module: imports (with scope), prints and name-based imports."""

    def __init__(self, info: ModuleInfo, modules: frozenset[str], source: str = "") -> None:
        self.info = info
        self.modules = modules
        self.package = info.name.split(".")[0]
        self.stack: list[tuple[str, bool]] = []
        # expressions hold no import statement: walk them only where a call this test looks
        # for can occur (the walk over every expression is most of the cost)
        self.scan_calls = source == "" or any(word in source for word in _CALL_WORDS)

    def visit(self, node: ast.AST) -> None:
        if not self.scan_calls and isinstance(node, ast.expr):
            return
        super().visit(node)

    # scope bookkeeping: an import in a class body runs at import time, only a def defers it
    def _scoped(self, node: ast.AST, name: str, deferred: bool) -> None:
        self.stack.append((name, deferred))
        self.generic_visit(node)
        self.stack.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scoped(node, node.name, True)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._scoped(node, node.name, True)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._scoped(node, "<lambda>", True)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scoped(node, node.name, False)

    def _function(self) -> str | None:
        """The enclosing function's qualified name; None when the code runs at import time."""
        if not any(deferred for _, deferred in self.stack):
            return None
        return ".".join(name for name, _ in self.stack)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    # imports
    def _edge(self, target: str, line: int, how: str) -> None:
        resolved = self._resolve(target)
        if resolved is None:
            self.info.external.append((target.split(".")[0], line, self._function()))
            return
        if resolved == self.info.name:
            return
        self.info.edges.append(Edge(self.info.name, resolved, line, self._function(), how))

    def _resolve(self, target: str) -> str | None:
        """The package module ``target`` names (its longest existing prefix), or None."""
        if target != self.package and not target.startswith(self.package + "."):
            return None
        parts = target.split(".")
        while parts:
            candidate = ".".join(parts)
            if candidate in self.modules:
                return candidate
            parts.pop()
        return self.package

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            parts = alias.name.split(".")
            for i in range(len(parts), 0, -1):
                self._edge(".".join(parts[:i]), node.lineno, "import")
                if self._resolve(alias.name) is None:
                    break

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            here = self.info.name.split(".")
            base_parts = here if self.info.is_package else here[:-1]
            if node.level > 1:
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
            base = ".".join(base_parts + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            if alias.name != "*" and candidate in self.modules:
                self._edge(candidate, node.lineno, "from")
            else:
                self._edge(base, node.lineno, "from")

    # calls: print(...) and name-based imports
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = None
        if isinstance(func, ast.Name):
            name = func.id
        elif isinstance(func, ast.Attribute):
            name = func.attr
        if isinstance(func, ast.Name) and func.id == "print":
            self.info.prints.append((node.lineno, self._function()))
        if name in ("import_module", "__import__", "find_spec"):
            argument = node.args[0] if node.args else None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                text = argument.value
                if text.startswith(".") or self._resolve(text) is not None:
                    self.info.dynamic_imports.append((node.lineno, repr(text), self._function()))
            else:
                shown = ast.unparse(argument) if argument is not None else "<no argument>"
                self.info.dynamic_imports.append(
                    (node.lineno, f"{name}({shown}) (a computed name)", self._function())
                )
        self.generic_visit(node)


def _lazy_map_edges(info: ModuleInfo, modules: frozenset[str]) -> list[Edge]:
    """Edges of the package's ``_LAZY = {name: (module, attribute)}`` map."""
    edges = []
    for node in info.tree.body:
        target = None
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        if not (isinstance(target, ast.Name) and target.id == "_LAZY"):
            continue
        if not isinstance(value, ast.Dict):
            continue
        for entry in value.values:
            if isinstance(entry, ast.Tuple) and entry.elts:
                first = entry.elts[0]
                if (
                    isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                    and first.value in modules
                    and first.value != info.name
                ):
                    edges.append(Edge(info.name, first.value, first.lineno, None, "lazy-map"))
    return edges


def read_package(package_dir: Path) -> dict[str, ModuleInfo]:
    """Every module under ``package_dir`` (a package's folder), by dotted name, with its edges."""
    package = package_dir.name
    paths = sorted(p for p in package_dir.rglob("*.py") if "__pycache__" not in p.parts)
    infos: dict[str, ModuleInfo] = {}
    sources: dict[str, str] = {}
    for path in paths:
        name, is_package = _module_name(path, package_dir)
        source = sources[name] = path.read_text(encoding="utf-8")
        infos[name] = ModuleInfo(
            name=name,
            path=path,
            is_package=is_package,
            lines=source.count("\n") + (0 if source.endswith("\n") or not source else 1),
            tree=ast.parse(source, filename=str(path)),
        )
    modules = frozenset(infos)
    for info in infos.values():
        Collector(info, modules, sources[info.name]).visit(info.tree)
        if info.name == package:
            info.edges.extend(_lazy_map_edges(info, modules))
        # `from a import (b, c)` is one statement: report it once
        info.edges = list(dict.fromkeys(info.edges))
        info.external = list(dict.fromkeys(info.external))
    return infos


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the package graph is small, but recursion is not needed)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def shortest_cycle(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One shortest cycle through the component's first member (breadth-first)."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return component
