"""Record the user's objective as one ``torch.fx`` graph, parameters visible as graph nodes.

What is traced: a harness module whose ``forward(inputs, targets)`` is the objective being
judged, ``loss_fn(model(inputs), targets)`` (or, for ``wrt="inputs"`` without a ``loss_fn``, the
sum of the model's per-example outputs). The user's model is registered in the harness, so a
``loss_fn`` that reads ``model.fc.weight`` or calls ``model.parameters()`` (weight decay, lasso)
is traced to those very tensors instead of being baked in as a constant.

Which modules stay opaque (one ``call_module`` node, evaluated by torch when its inputs are
constant): recurrent layers, attention and transformer blocks, whose Python ``forward`` checks
tensor sizes and so cannot be traced symbolically, and batch normalisation, whose mode decides
what it computes (:mod:`.ops_modules` has its row). Every other module, the user's and torch's
alike, is traced through, so ``nn.Linear`` becomes ``F.linear`` on its ``weight`` and a
parametrized weight becomes the ops of its parametrization: the translation sees the weight as
the function of the trained tensors it is, never as a plain leaf.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.fx as fx
from torch import nn
from torch.overrides import TorchFunctionMode

# Modules traced as one opaque node. Applied to constants they are evaluated by torch; applied
# to a value that depends on the judged variables they are refused (or, for batch norm, read
# by their module row).
OPAQUE_MODULES: tuple[type[nn.Module], ...] = (
    nn.RNNBase,
    nn.MultiheadAttention,
    nn.TransformerEncoderLayer,
    nn.TransformerDecoderLayer,
    nn.TransformerEncoder,
    nn.TransformerDecoder,
    nn.Transformer,
    nn.modules.batchnorm._BatchNorm,
)


def model_output(x: Any) -> Any:
    """Identity that marks the model's output in the graph (an fx-wrapped call, so the node is
    kept): the report says how the output depends on the variables, then how the loss does."""
    return x


fx.wrap("model_output")


class ObjectiveHarness(nn.Module):
    """``forward(inputs, targets)``: the objective judged, with the model registered so that
    parameters read by the loss are found by identity. ``sum_outputs`` is the inputs-without-
    loss case: the sum over examples of the model's one scalar output each."""

    def __init__(self, model: nn.Module, loss_fn: Callable | None, sum_outputs: bool) -> None:
        super().__init__()
        self.model = model
        self.sum_outputs = sum_outputs
        if isinstance(loss_fn, nn.Module):
            self.fn = loss_fn
        else:
            object.__setattr__(self, "_loss_callable", loss_fn)

    def forward(self, inputs: Any, targets: Any) -> Any:
        out = model_output(self.model(inputs))
        if "fn" in self._modules:
            return self.fn(out, targets)
        loss = self.__dict__.get("_loss_callable")
        if loss is None:
            return torch.sum(out)
        return loss(out, targets)


class ObjectiveTracer(fx.Tracer):
    """A tracer that inlines every module except :data:`OPAQUE_MODULES` holding no judged
    tensor, and under which ``parameters()``/``named_parameters()`` of the model's modules yield
    graph nodes (so penalties over ``model.parameters()`` are traced, not evaluated)."""

    def __init__(self, judged: Iterable[int]) -> None:
        super().__init__()
        self.judged = set(judged)
        self.captured: dict[int, str] = {}  # id -> harness path of each judged tensor

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if not isinstance(m, OPAQUE_MODULES):
            return False
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            return True  # its module row reads trainable affine parameters too
        return not any(id(p) in self.judged for p in m.parameters())

    def call_module(
        self, m: nn.Module, forward: Callable[..., Any], args: tuple, kwargs: dict
    ) -> Any:
        """A module built inside ``loss_fn`` (``nn.KLDivLoss(...)(a, b)``) is not installed in
        the harness: it is traced through, like any other module."""
        try:
            self.path_of_module(m)
        except NameError:
            return forward(*args, **kwargs)
        return super().call_module(m, forward, args, kwargs)

    def trace(self, root: Any, concrete_args: Any = None) -> fx.Graph:
        patched: list[nn.Module] = []
        model = getattr(root, "model", None)
        try:
            if isinstance(model, nn.Module):
                for name, module in model.named_modules():
                    self._patch(module, f"model.{name}." if name else "model.")
                    patched.append(module)
            self.captured = {
                id(p): name for name, p in root.named_parameters() if id(p) in self.judged
            }
            with _CapturedParameters(self):
                return super().trace(root, concrete_args)
        finally:
            for module in patched:
                module.__dict__.pop("named_parameters", None)
                module.__dict__.pop("parameters", None)

    def _patch(self, module: nn.Module, qualifier: str) -> None:
        tracer = self
        original = type(module).named_parameters

        def named_parameters(prefix: str = "", recurse: bool = True, remove_duplicate=True):
            for name, _ in original(module, "", recurse, remove_duplicate):
                proxy = tracer.create_proxy("get_attr", qualifier + name, (), {})
                yield (f"{prefix}.{name}" if prefix else name), proxy

        def parameters(recurse: bool = True):
            for _, proxy in named_parameters(recurse=recurse):
                yield proxy

        module.__dict__["named_parameters"] = named_parameters
        module.__dict__["parameters"] = parameters


class _CapturedParameters(TorchFunctionMode):
    """While tracing, a judged parameter reached by a closure (``params = list(
    model.parameters())`` captured before the call) becomes its graph node too: any torch
    operation that receives the tensor itself, not fx's proxy for it, gets the proxy instead.
    Without this the penalty over such a list would be evaluated once and baked in as a
    constant (the probe check would then withdraw the proof; now it can be proved)."""

    def __init__(self, tracer: ObjectiveTracer) -> None:
        super().__init__()
        self.tracer = tracer

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: Any = None):
        kwargs = kwargs or {}
        captured = self.tracer.captured

        swapped = []

        def swap(a: Any) -> Any:
            if isinstance(a, torch.Tensor) and id(a) in captured:
                swapped.append(a)
                return self.tracer.create_proxy("get_attr", captured[id(a)], (), {})
            return a

        if captured:
            args = fx.node.map_aggregate(args, swap)
            kwargs = fx.node.map_aggregate(kwargs, swap)
        if swapped:  # record the call on the proxy, as fx does for a traced tensor
            return fx.Proxy.__torch_function__(func, (fx.Proxy,), args, kwargs)
        return func(*args, **kwargs)


def trace_objective(harness: ObjectiveHarness, judged: Iterable[int]) -> fx.GraphModule:
    """The harness's graph (raises what fx raises on untraceable code)."""
    tracer = ObjectiveTracer(judged)
    graph = tracer.trace(harness)
    return fx.GraphModule(tracer.root, graph, "objective")


def resolve_attribute(root: nn.Module, target: str) -> Any:
    """The object at dotted path ``target`` under ``root`` (parametrized weights included: the
    attribute access runs the parametrization, as the user's forward does)."""
    obj: Any = root
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def module_path(node: fx.Node) -> str:
    """The user's module path of a node (``model.backbone.0``), from fx's module stack."""
    stack = node.meta.get("nn_module_stack") or {}
    if stack:
        last = list(stack.values())[-1]
        path = last[0] if isinstance(last, tuple) else str(last)
        path = path.removeprefix("L['self'].").replace("L['self']", "")
        return path.removeprefix("model.") if path != "model" else ""
    return ""


def hooks(model: nn.Module, loss_fn: Any) -> list[dict[str, str]]:
    """Forward hooks anywhere: they run in the user's program but not in a traced graph."""
    from torch.nn.modules import module as module_mod

    issues: list[dict[str, str]] = []
    for prefix, obj in (("model", model), ("loss_fn", loss_fn)):
        if not isinstance(obj, nn.Module):
            continue
        for name, m in obj.named_modules():
            found = [*m._forward_pre_hooks.values(), *m._forward_hooks.values()]
            if found:
                where = f"{prefix}.{name}" if name else prefix
                names = ", ".join(
                    sorted({getattr(h, "__qualname__", type(h).__name__) for h in found})
                )
                issues.append(
                    {
                        "kind": "forward_hook",
                        "node": where,
                        "message": f"module '{where}' has forward hooks ({names}) that change "
                        "what it computes outside the traced graph (e.g. the old "
                        "torch.nn.utils.weight_norm rebuilds the weight from weight_g and "
                        "weight_v); not analysed structurally",
                    }
                )
    if module_mod._global_forward_hooks or module_mod._global_forward_pre_hooks:
        issues.append(
            {
                "kind": "forward_hook",
                "node": "",
                "message": "global forward hooks are registered: the traced graph may not be "
                "what runs",
            }
        )
    return issues
