"""Walk the traced objective and build its tensor expression, node by node.

Each fx node gets a value: a torch value computed by torch when none of its inputs depends on
the judged variables (so the frozen part of a model is evaluated once, by the user's own
modules, and enters the expression as constant data), or a
:class:`~convexcheck.torchgraph.values.Sym` built by the node's op row. What the walk refuses
(an op without a row, a row's refusal, an in-place update of a variable value that something
else reads) stops it with a :class:`Refusal` naming the node, its module path and the reason
kind; nothing is guessed.

The record of every ``Sym`` node (name, module path, op, shape) is kept so that the derivation
can be reported over the user's graph rather than over anonymous atoms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import Tensor, nn

from convexcheck.tensor.expr import TExpr, constant, variable
from convexcheck.torchgraph import (  # noqa: F401  (the row modules register their rows)
    ops,
    ops_layers,
    ops_losses,
    ops_reductions,
    ops_structural,
)
from convexcheck.torchgraph.ops_layers import batch_norm_module
from convexcheck.torchgraph.trace import model_output, module_path, resolve_attribute
from convexcheck.torchgraph.values import Opaque, Refused, Sym


@dataclass
class NodeRecord:
    """One graph node whose value depends on the variables."""

    name: str
    module: str
    op: str
    shape: tuple[int, ...]
    expr: TExpr


@dataclass
class Refusal(Exception):
    """Why the walk stopped: ``kind``, the node and its module path, and a sentence."""

    kind: str
    node: str
    module: str
    message: str

    def __str__(self) -> str:
        return self.message

    def as_issue(self) -> dict[str, str]:
        where = f" (module '{self.module}')" if self.module else ""
        return {
            "kind": self.kind,
            "node": self.node,
            "message": f"node '{self.node}'{where}: {self.message}",
        }


@dataclass
class Translation:
    """The root expression, its variables and the record of the nodes that built it."""

    root: TExpr
    variables: dict[str, TExpr]
    records: list[NodeRecord] = field(default_factory=list)
    constant_nodes: int = 0


def _flatten(obj: Any) -> list[Any]:
    if isinstance(obj, (list, tuple)):
        return [x for o in obj for x in _flatten(o)]
    if isinstance(obj, dict):
        return [x for o in obj.values() for x in _flatten(o)]
    if isinstance(obj, slice):
        return [obj.start, obj.stop, obj.step]
    return [obj]


def _describe_target(node: fx.Node) -> str:
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    if node.op == "call_module":
        return str(node.target)
    target = node.target
    if target is model_output:
        return "(the model's output)"
    mod = getattr(target, "__module__", "") or ""
    name = getattr(target, "__name__", str(target))
    if mod.startswith("torch.nn.functional") or getattr(F, name, None) is target:
        return f"F.{name}"
    if mod.startswith("torch") or mod == "":
        return f"torch.{name}" if not mod.startswith("_operator") else name
    return f"{mod}.{name}"


class Translator:
    """One walk over ``gm`` (the traced harness). ``judged`` maps ``id(tensor)`` of each judged
    parameter to its name; ``inputs_variable`` names the inputs when they are the variables."""

    def __init__(
        self,
        gm: fx.GraphModule,
        root_module: nn.Module,
        judged: Mapping[int, str],
        inputs: Any,
        targets: Any,
        inputs_variable: str | None = None,
    ) -> None:
        self.gm = gm
        self.root_module = root_module
        self.judged = dict(judged)
        self.inputs = inputs
        self.targets = targets
        self.inputs_variable = inputs_variable
        self.values: dict[fx.Node, Any] = {}
        self.variables: dict[str, TExpr] = {}
        self.records: list[NodeRecord] = []
        self.constant_nodes = 0
        self.users: dict[fx.Node, int] = {n: len(n.users) for n in gm.graph.nodes}

    # ---- the walk ----------------------------------------------------------------------------
    def run(self) -> Translation:
        output = None
        placeholders = 0
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                self.values[node] = self._placeholder(node, placeholders)
                placeholders += 1
            elif node.op == "output":
                output = node
            else:
                self.values[node] = self._visit(node)
        assert output is not None
        result = self._resolve(output.args[0])
        if isinstance(result, (tuple, list)) and len(result) == 1:
            result = result[0]
        if not isinstance(result, Sym):
            # the traced objective does not depend on the variables: a constant (the
            # faithfulness check then compares it with the program at the probe points)
            try:
                value = torch.as_tensor(result, dtype=torch.float64).detach().cpu()
            except (TypeError, ValueError, RuntimeError):
                raise Refusal(
                    "nonscalar_objective", "output", "", "the objective is not a number"
                ) from None
            if value.numel() != 1:
                raise Refusal(
                    "nonscalar_objective",
                    "output",
                    "",
                    f"the objective has shape {list(value.shape)}, not a scalar",
                )
            result = Sym(constant(value.reshape(()).numpy()), torch.float64)
        if result.expr.size != 1:
            raise Refusal(
                "nonscalar_objective",
                "output",
                "",
                f"the objective has shape {list(result.expr.shape)}, not a scalar",
            )
        root = result.expr
        if root.shape != ():
            from convexcheck.tensor.atoms import make

            root = make("reshape", [root], ((), "C"))
        return Translation(root, self.variables, self.records, self.constant_nodes)

    def _placeholder(self, node: fx.Node, position: int) -> Any:
        if position == 0:
            if self.inputs_variable is not None:
                x = self.inputs
                return Sym(self._variable(self.inputs_variable, tuple(x.shape)), x.dtype)
            return self.inputs
        return self.targets

    def _variable(self, name: str, shape: tuple[int, ...]) -> TExpr:
        if name not in self.variables:
            self.variables[name] = variable(name, shape)
        return self.variables[name]

    def _resolve(self, arg: Any) -> Any:
        return fx.node.map_aggregate(arg, lambda a: self.values[a] if isinstance(a, fx.Node) else a)

    def _visit(self, node: fx.Node) -> Any:
        if node.op == "get_attr":
            value = resolve_attribute(self.root_module, str(node.target))
            if isinstance(value, Tensor) and id(value) in self.judged:
                name = self.judged[id(value)]
                return Sym(self._variable(name, tuple(value.shape)), value.dtype)
            return value
        args = self._resolve(node.args)
        kwargs = self._resolve(node.kwargs)
        dependent = [a for a in _flatten((args, kwargs)) if isinstance(a, (Sym, Opaque))]
        module = self.gm.get_submodule(str(node.target)) if node.op == "call_module" else None
        if module is not None and any(id(p) in self.judged for p in module.parameters()):
            dependent.append(module)
        if not dependent:
            self.constant_nodes += 1
            return self._evaluate(node, module, args, kwargs)
        try:
            self._check_in_place(node, args, kwargs)
            value = self._translate(node, module, args, kwargs)
        except Refused as exc:
            raise self._refusal(node, exc.kind, exc.message) from None
        except Refusal:
            raise
        except Exception as exc:  # a row meeting arguments it does not read
            raise self._refusal(
                node,
                "unsupported_op",
                f"{_describe_target(node)} could not be translated "
                f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})",
            ) from None
        for item in _flatten(value):
            if isinstance(item, Sym):
                self.records.append(
                    NodeRecord(
                        node.name,
                        module_path(node),
                        _describe_target(node),
                        tuple(item.expr.shape),
                        item.expr,
                    )
                )
                break
        return value

    def _refusal(self, node: fx.Node, kind: str, message: str) -> Refusal:
        path = module_path(node)
        if "parametrizations" in path or "parametrizations" in str(node.target):
            kind = "parametrized_weight"
            message = (
                f"{message} (inside the parametrization of a weight: the weight is a non-linear "
                "function of the tensors that are trained)"
            )
        return Refusal(kind, node.name, path, message)

    # ---- constants: torch computes them ------------------------------------------------------
    def _evaluate(self, node: fx.Node, module: nn.Module | None, args: Any, kwargs: Any) -> Any:
        with torch.no_grad():
            if node.op == "call_function":
                return node.target(*args, **kwargs)  # type: ignore[operator]
            if node.op == "call_method":
                self_obj, *rest = args
                return getattr(self_obj, str(node.target))(*rest, **kwargs)
            assert module is not None
            return module(*args, **kwargs)

    # ---- variables: the op table ---------------------------------------------------------
    def _translate(self, node: fx.Node, module: nn.Module | None, args: Any, kwargs: Any) -> Any:
        if node.op == "call_module":
            return self._module(node, module, args, kwargs)
        if node.op == "call_method":
            entry = ops.lookup_method(str(node.target))
        else:
            entry = ops.lookup_function(node.target)
        if entry is None:
            raise Refused(
                "unsupported_op",
                f"{_describe_target(node)} is not in the op table (applied to a value that "
                "depends on the variables)",
            )
        if entry.kind == "loss" and any(
            kwargs.get(k) is not None for k in ("size_average", "reduce")
        ):
            raise Refused("unsupported_op", "the deprecated size_average/reduce arguments")
        return entry.translate(*args, **kwargs)

    def _module(self, node: fx.Node, module: nn.Module | None, args: Any, kwargs: Any) -> Any:
        assert module is not None
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            proxy = _ModuleView(module, self)
            return batch_norm_module(proxy, args[0])  # type: ignore[arg-type]
        raise Refused(
            "unsupported_op",
            f"{type(module).__name__} applied to a value that depends on the variables (its "
            "forward is not traced: recurrent layers, attention and transformer blocks are "
            "read only when they are held fixed and their input is data)",
        )

    def _check_in_place(self, node: fx.Node, args: Any, kwargs: Any) -> None:
        """An in-place op on a variable value that some other node also reads: the eager
        program would see the updated value there, the graph the old one."""
        in_place = (node.op == "call_method" and str(node.target).endswith("_")) or bool(
            kwargs.get("inplace")
        )
        if not in_place or not node.args:
            return
        first = node.args[0]
        if not isinstance(first, fx.Node) or not isinstance(self.values.get(first), Sym):
            return
        if self.users.get(first, 0) > 1 or _is_view(first):
            raise Refused(
                "in_place",
                "an in-place update of a value that depends on the variables and is read "
                "elsewhere (aliasing is not modelled)",
            )


_VIEW_METHODS = {
    "view",
    "reshape",
    "flatten",
    "unflatten",
    "squeeze",
    "unsqueeze",
    "transpose",
    "permute",
    "t",
    "expand",
    "expand_as",
    "narrow",
    "select",
    "split",
    "chunk",
    "diagonal",
    "as_strided",
    "view_as",
    "unfold",
    "detach",
    "contiguous",
    "swapaxes",
    "movedim",
}


def _is_view(node: fx.Node) -> bool:
    """Whether ``node`` may share memory with another node's value (an in-place update of it
    then changes that other value too, which the graph does not show)."""
    if node.op == "call_method":
        return str(node.target) in _VIEW_METHODS
    if node.op == "call_function":
        name = getattr(node.target, "__name__", "")
        return name in _VIEW_METHODS or name == "getitem"
    return node.op in ("placeholder", "get_attr")


class _ModuleView:
    """A module's attributes with its judged parameters replaced by their Syms."""

    def __init__(self, module: nn.Module, translator: Translator) -> None:
        self._module = module
        self._translator = translator

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        if isinstance(value, Tensor) and id(value) in self._translator.judged:
            t = self._translator
            return Sym(t._variable(t.judged[id(value)], tuple(value.shape)), value.dtype)
        return value
