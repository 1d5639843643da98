"""The DCP engine for tensor expressions: the composition rule, written once, as a fold.

For every node, children first: its range (per entry, from the row's interval enclosure), whether
it is defined on the whole domain, and its curvature, one of ``constant``, ``affine``, ``convex``,
``concave`` or ``unknown``. The rule for ``f(g_1, ..., g_k)`` is the textbook one, read per
entry of every argument:

    convex  if f is convex on the argument ranges and, for each i, g_i is affine, or g_i is
            convex and f is nondecreasing in every entry of g_i, or g_i is concave and f is
            nonincreasing in every entry of g_i;

and the mirror image for concave. Monotonicity per entry comes from the row (it may depend on
that entry's range, as for ``abs`` or a norm), so ``A @ u`` with ``A >= 0`` composes with a
convex ``u`` while a mixed-sign ``A`` does not.

Patterns are how convexcheck proves what CVXPY rejects: ``log(1 + exp(u))`` is the logistic
atom, ``sqrt(sum_squares(u))`` is a 2-norm, ``u * log(u)`` is the negative entropy, ``x @ (P @ x)``
is a quadratic form. A pattern only ever *reads* the tree as another atom applied to the same
arguments, and only where every node it replaces is defined on the whole domain, so the function
judged is still the one written (``u*log(u)`` needs ``u > 0``; ``xlogx`` alone would accept 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from convexcheck.tensor.atoms import ROWS, constant_range, make
from convexcheck.tensor.atoms_matrix import psd_argument_reason
from convexcheck.tensor.atoms_psd import PSD_CONTEXT, PSDContext, psd_decision
from convexcheck.tensor.elementwise import DEC, INC
from convexcheck.tensor.expr import TExpr, postorder
from convexcheck.tensor.intervals import IArray

QUESTIONS = ("convex", "concave")


@dataclass
class Step:
    """What the engine concluded about one node, and from what."""

    node: TExpr
    rule: str  # the row name, or "pattern:<name>", "variable", "constant"
    curvature: str
    range: IArray
    defined: bool
    children: list[Step] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # question -> why the rule fails
    as_atom: TExpr | None = None  # the atom a pattern read this node as
    # defined only on part of the domain (CVXPY's convention: +-inf outside an atom's domain)
    restricted: bool = False

    def proves(self, question: str) -> bool:
        if not self.defined:
            return False
        return self.curvature in ("constant", "affine", question)


def _curvature_word(convex: bool, concave: bool) -> str:
    if convex and concave:
        return "affine"
    if convex:
        return "convex"
    if concave:
        return "concave"
    return "unknown"


class TensorDCP:
    """One analysis of one expression (ranges, steps) under one PSD tolerance."""

    def __init__(self, root: TExpr, *, psd_tolerance: float | None = None) -> None:
        self.root = root
        self.psd = PSDContext(tolerance=psd_tolerance)
        self.steps: dict[int, Step] = {}

    def run(self) -> Step:
        token = PSD_CONTEXT.set(self.psd)
        try:
            for node in postorder(self.root):
                self.steps[id(node)] = self._step(node)
        finally:
            PSD_CONTEXT.reset(token)
        return self.steps[id(self.root)]

    # ---- one node --------------------------------------------------------------------------
    def _step(self, node: TExpr) -> Step:
        if node.op == "variable":
            v = node.variable
            assert v is not None
            return Step(node, "variable", "affine", IArray(v.lo, v.hi, v.lo_open, v.hi_open), True)
        if node.op == "constant":
            assert node.value is not None
            return Step(node, "constant", "constant", constant_range(node.value), True)
        kids = [self.steps[id(a)] for a in node.args]
        for pattern in PATTERNS:
            match = pattern.match(node, self.steps)
            if match is not None:
                atom, arg_steps = match
                step = self._compose(node, atom, arg_steps, rule=f"pattern:{pattern.name}")
                step.children = kids
                step.as_atom = atom
                if step.curvature != "unknown" or pattern.always:
                    return step
        return self._compose(node, node, kids, rule=node.op)

    def _compose(self, node: TExpr, atom: TExpr, kids: list[Step], rule: str) -> Step:
        row = ROWS[atom.op]
        ranges = [k.range for k in kids]
        defined = all(k.defined for k in kids)
        restricted = any(k.restricted for k in kids)
        reasons: dict[str, str] = {}
        why_undefined = row.domain(atom, ranges) if defined else None
        if why_undefined and row.arg_domain is not None:
            clipped = _extended(row, atom, kids, ranges)
            if clipped is not None:
                ranges, why_undefined, restricted = clipped, None, True
        if why_undefined:
            defined = False
        if not defined:
            msg = why_undefined or "an argument is not defined on the whole domain"
            try:
                rng = row.interval(atom, ranges)
            except Exception:  # an enclosure of an undefined value is not needed
                rng = _everything(node.shape)
            return Step(node, rule, "unknown", rng, False, kids, {q: msg for q in QUESTIONS})
        rng = row.interval(atom, ranges)
        if all(k.curvature == "constant" for k in kids):
            return Step(node, rule, "constant", rng, True, kids, restricted=restricted)
        f_convex, f_concave, why_f = row.curvature(atom, ranges)
        ok = {"convex": f_convex, "concave": f_concave}
        for question in QUESTIONS:
            if not ok[question]:
                reasons[question] = why_f or f"{row.name} is not {question}"
        for i, kid in enumerate(kids):
            if kid.curvature in ("constant", "affine"):
                continue
            bits = row.monotonicity(atom, i, ranges)
            incr = bool(np.all(np.asarray(bits) & INC))
            decr = bool(np.all(np.asarray(bits) & DEC))
            for question in QUESTIONS:
                if not ok[question]:
                    continue
                needs_incr = kid.curvature == question
                good = (
                    (incr if needs_incr else decr)
                    if kid.curvature in ("convex", "concave")
                    else False
                )
                if not good:
                    ok[question] = False
                    reasons[question] = _composition_reason(row.name, question, i, kid, incr, decr)
        curvature = _curvature_word(ok["convex"], ok["concave"])
        rng = _refine_range(atom, rng, curvature)
        return Step(node, rule, curvature, rng, True, kids, reasons, restricted=restricted)


def _extended(row, atom: TExpr, kids: list[Step], ranges: list[IArray]) -> list[IArray] | None:
    """CVXPY's extended-value reading of an atom whose argument may leave its domain.

    The atom is then ``+inf`` (convex) or ``-inf`` (concave) outside its domain, and the
    composition is still convex (concave) on the set where it is finite when every argument
    that may leave the domain is affine, or is concave with the domain a half-line ``[a, oo)``:
    the extension of a concave nondecreasing atom (``log``, ``sqrt``) is nondecreasing, that of
    a convex nonincreasing one (``inv_pos``) nonincreasing, so the usual monotonicity premises,
    checked on the ranges clipped to the domain, carry over. Returns the clipped ranges, or
    ``None`` if the reading does not apply (the node then stays undefined).
    """
    out = []
    for i, (kid, r) in enumerate(zip(kids, ranges)):
        dom = row.arg_domain(atom, i)
        if dom is None:
            out.append(r)
            continue
        if dom == "psd" or dom == "other":
            if kid.curvature != "affine" and not _psd_ok(atom, i):
                return None
            out.append(r)
            continue
        lo, lo_open = dom
        inside = (r.lo > lo) | ((r.lo == lo) & (r.lo_open | (not lo_open)))
        if np.all(inside):
            out.append(r)
            continue
        if kid.curvature not in ("affine", "concave"):
            return None  # a constant or convex argument outside the domain: not a DCP reading
        reach = (r.hi > lo) | ((r.hi == lo) & (not lo_open) & ~r.hi_open)
        if not np.all(reach):
            return None  # some entry is never in the domain
        new_lo = np.where(inside, r.lo, lo)
        new_open = np.where(inside, r.lo_open, lo_open)
        out.append(IArray(new_lo, r.hi, new_open, r.hi_open))
    return out


def _psd_ok(atom: TExpr, i: int) -> bool:
    return psd_argument_reason(atom.args[i]) is None


def _composition_reason(name: str, question: str, i: int, kid: Step, incr: bool, decr: bool) -> str:
    if kid.curvature == "unknown":
        return f"argument {i + 1} of {name} has unknown curvature"
    mono = "nondecreasing" if incr else "nonincreasing" if decr else "not monotone"
    return (
        f"{name} is {mono} in its {kid.curvature} argument {i + 1}, so the composition is "
        f"not provably {question}"
    )


def _everything(shape: tuple[int, ...]) -> IArray:
    return IArray(
        np.full(shape, -np.inf), np.full(shape, np.inf), np.ones(shape, bool), np.ones(shape, bool)
    )


def _refine_range(atom: TExpr, rng: IArray, curvature: str) -> IArray:
    """Facts a row's enclosure does not see: a PSD quadratic form is >= 0."""
    if atom.op == "quad_form" and atom.args[1].op == "constant":
        if psd_decision(atom.args[1].value).accepted:
            return IArray(
                np.maximum(rng.lo, 0.0),
                np.maximum(rng.hi, 0.0),
                rng.lo_open & (rng.lo > 0),
                rng.hi_open,
            )
        if psd_decision(atom.args[1].value, negate=True).accepted:
            return IArray(
                np.minimum(rng.lo, 0.0),
                np.minimum(rng.hi, 0.0),
                rng.lo_open,
                rng.hi_open & (rng.hi < 0),
            )
    return rng


# ---- patterns ----------------------------------------------------------------------------------
Match = tuple[TExpr, list[Step]] | None


@dataclass(frozen=True)
class Pattern:
    """Reads a node as another atom on (some of) its descendants; ``match`` returns the atom
    node and the steps of its arguments, or ``None``. Every replaced node must be defined."""

    name: str
    match: Callable[[TExpr, dict[int, Step]], Match]
    cvxpy: str
    always: bool = False


def _defined(steps: dict[int, Step], *nodes: TExpr) -> bool:
    """Defined on the whole domain (a pattern never reads an extended-value node)."""
    return all(steps[id(n)].defined and not steps[id(n)].restricted for n in nodes)


def _is_constant_value(node: TExpr, value: float) -> bool:
    return node.op == "constant" and node.value is not None and bool(np.all(node.value == value))


def _plain_sum(node: TExpr) -> bool:
    """A sum over every entry (no axis, no kept dimensions)."""
    return tuple(node.params) in ((), (None,), (None, False))


def _softplus(node: TExpr, steps: dict[int, Step]) -> Match:
    """log(1 + exp(u)) -> logistic(u)."""
    if node.op != "log" or node.args[0].op != "add" or len(node.args[0].args) != 2:
        return None
    add = node.args[0]
    a, b = add.args
    one, e = (a, b) if a.op == "constant" else (b, a)
    if e.op != "exp" or not _is_constant_value(one, 1.0) or not _defined(steps, e):
        return None
    u = e.args[0]
    if one.shape and tuple(np.broadcast_shapes(one.shape, u.shape)) != u.shape:
        return None
    return make("logistic", [u]), [steps[id(u)]]


def _log_sum_exp(node: TExpr, steps: dict[int, Step]) -> Match:
    """log(sum(exp(u))) -> log_sum_exp(u)."""
    if node.op != "log" or node.args[0].op != "sum":
        return None
    s = node.args[0]
    e = s.args[0]
    if e.op != "exp" or not _defined(steps, e):
        return None
    u = e.args[0]
    return make("log_sum_exp", [u], s.params), [steps[id(u)]]


def _two_norm(node: TExpr, steps: dict[int, Step]) -> Match:
    """sqrt(sum_squares(u)), sqrt(sum(u**2)) -> norm2(u)."""
    if node.op != "power" or Fraction(node.params[0]) != Fraction(1, 2):
        return None
    inner = node.args[0]
    if inner.op == "quad_over_lin" and _is_constant_value(inner.args[1], 1.0):
        u = inner.args[0]
    elif (
        inner.op == "sum"
        and _plain_sum(inner)
        and inner.args[0].op == "power"
        and Fraction(inner.args[0].params[0]) == 2
    ):
        u = inner.args[0].args[0]
    else:
        return None
    if not _defined(steps, inner):
        return None
    return make("pnorm", [u], (None, False, Fraction(2))), [steps[id(u)]]


def _entropy(node: TExpr, steps: dict[int, Step]) -> Match:
    """u * log(u) -> xlogx(u) (needs u > 0, as log(u) does); u * u -> u**2; u*exp(u) -> xexp."""
    if node.op != "multiply" or len(node.args) != 2:
        return None
    a, b = node.args
    for u, g in ((a, b), (b, a)):
        if g.op in ("log", "exp") and g.args[0] is u and _defined(steps, g):
            if u.shape != node.shape:
                return None
            return make("xlogx" if g.op == "log" else "xexp", [u]), [steps[id(u)]]
    if a is b:
        return make("power", [a], (Fraction(2),)), [steps[id(a)]]
    for u, g in ((a, b), (b, a)):
        v = _log_ratio_of(u, g, steps)
        if v is not None and u.shape == node.shape:
            return make("rel_entr", [u, v]), [steps[id(u)], steps[id(v)]]
    return None


def _log_ratio_of(u: TExpr, g: TExpr, steps: dict[int, Step]) -> TExpr | None:
    """``v`` when ``g`` is ``log(u) - log(v)`` or ``log(u / v)`` (all of it defined)."""
    if not _defined(steps, g):
        return None
    if g.op == "log" and g.args[0].op == "divide" and g.args[0].args[0] is u:
        return g.args[0].args[1]
    if g.op == "add" and len(g.args) == 2:
        first, second = g.args
        for p, q in ((first, second), (second, first)):
            if p.op == "log" and p.args[0] is u and q.op == "neg" and q.args[0].op == "log":
                return q.args[0].args[0]
    return None


def _self_inner_product(node: TExpr, steps: dict[int, Step]) -> Match:
    """u @ u (one vector with itself) -> sum_squares(u)."""
    if node.op != "matmul" or node.args[0] is not node.args[1] or len(node.args[0].shape) != 1:
        return None
    u = node.args[0]
    return make("sum_squares", [u]), [steps[id(u)]]


def _quad_over_lin(node: TExpr, steps: dict[int, Step]) -> Match:
    """sum_squares(u) / t -> quad_over_lin(u, t) for a scalar t."""
    if node.op != "divide" or node.shape != ():
        return None
    num, den = node.args
    if num.op == "quad_over_lin" and _is_constant_value(num.args[1], 1.0) and den.shape == ():
        return make("quad_over_lin", [num.args[0], den]), [steps[id(num.args[0])], steps[id(den)]]
    return None


def _written_quad_form(node: TExpr, steps: dict[int, Step]) -> Match:
    """x @ (P @ x), (x @ P) @ x and sum(multiply(x, P @ x)) -> quad_form(x, P)."""
    x = p = None
    if node.op == "matmul" and node.shape == ():
        a, b = node.args
        if b.op == "matmul" and b.args[1] is a and b.args[0].op == "constant":
            x, p = a, b.args[0]
        elif a.op == "matmul" and a.args[0] is b and a.args[1].op == "constant":
            x, p = b, a.args[1]
    elif node.op == "sum" and _plain_sum(node) and node.args[0].op == "multiply":
        a, b = node.args[0].args
        for u, v in ((a, b), (b, a)):
            if v.op == "matmul" and v.args[1] is u and v.args[0].op == "constant":
                x, p = u, v.args[0]
    if x is None or p is None or len(x.shape) != 1 or p.value is None or p.value.ndim != 2:
        return None
    return make("quad_form", [x, p]), [steps[id(x)], steps[id(p)]]


PATTERNS: list[Pattern] = [
    Pattern("softplus", _softplus, "logistic"),
    Pattern("log_sum_exp", _log_sum_exp, "log_sum_exp"),
    Pattern("norm2", _two_norm, "norm2"),
    Pattern("entropy", _entropy, "-entr / square / xexp"),
    Pattern("quad_over_lin", _quad_over_lin, "quad_over_lin"),
    Pattern("sum_squares", _self_inner_product, "sum_squares"),
    Pattern("quad_form", _written_quad_form, "quad_form"),
]


@dataclass
class TensorAnalysis:
    """The derivation for a whole expression: the root step and every node's step."""

    root: TExpr
    root_step: Step
    steps: dict[int, Step]
    psd: PSDContext

    def proves(self, question: str) -> bool:
        return self.root_step.proves(question)

    @property
    def restricted(self) -> bool:
        """Whether the proof is about CVXPY's extended-value function (finite on a subset)."""
        return self.root_step.restricted

    @property
    def proved(self) -> bool:
        return any(self.proves(q) for q in QUESTIONS)

    def derivation_lines(self, max_lines: int = 60) -> list[str]:
        """The derivation as an indented tree: each node's rule, shape, curvature and a summary
        of its range (smallest lower and largest upper end over its entries)."""
        lines: list[str] = []
        shown: set[int] = set()
        stack: list[tuple[Step, str]] = [(self.root_step, "")]
        while stack and len(lines) < max_lines:
            step, indent = stack.pop()
            node = step.node
            shape = f" {list(node.shape)}" if node.shape else ""
            lo = float(np.min(step.range.lo)) if step.range.lo.size else 0.0
            hi = float(np.max(step.range.hi)) if step.range.hi.size else 0.0
            rule = step.rule.replace("pattern:", "pattern ")
            as_atom = f" read as {step.as_atom.op}" if step.as_atom is not None else ""
            label = (
                node.variable.name  # type: ignore[union-attr]
                if node.op == "variable"
                else "constant"
                if node.op == "constant"
                else node.op
            )
            repeat = " (shown above)" if id(step) in shown else ""
            lines.append(
                f"{indent}{label}{shape}: {step.curvature}, range [{lo:.3g}, {hi:.3g}]"
                f"{'' if node.op in ('variable', 'constant') else f' ({rule}{as_atom})'}{repeat}"
            )
            if repeat:
                continue
            shown.add(id(step))
            for kid in reversed(step.children):
                stack.append((kid, indent + "  "))
        if stack:
            lines.append("... (derivation truncated)")
        return lines

    def failure_chain(self, question: str, limit: int = 5) -> list[str]:
        """The deepest reasons first: the nodes where the rule broke for ``question``."""
        out: list[str] = []
        stack = [self.root_step]
        seen: set[int] = set()
        while stack and len(out) < limit:
            step = stack.pop()
            if id(step) in seen:
                continue
            seen.add(id(step))
            broken = [
                k
                for k in step.children
                if not k.proves(question) and k.curvature != _opposite(question)
            ]
            if question in step.reasons and not any(k.reasons.get(question) for k in broken):
                out.append(f"{describe(step.node)}: {step.reasons[question]}")
            stack.extend(broken)
        return out


def _opposite(question: str) -> str:
    return "concave" if question == "convex" else "convex"


def describe(node: TExpr) -> str:
    """A short name for a node in messages: ``log_sum_exp(... shape (5,))``."""
    if node.op == "variable":
        return node.variable.name  # type: ignore[union-attr]
    if node.op == "constant":
        return f"constant{list(node.shape) if node.shape else ''}"
    shape = f" -> {list(node.shape)}" if node.shape else ""
    args = ", ".join(
        describe(a) if a.op in ("variable", "constant") else a.op + "(...)" for a in node.args
    )
    return f"{node.op}({args}){shape}"


def analyze(root: TExpr, *, psd_tolerance: float | None = None) -> TensorAnalysis:
    engine = TensorDCP(root, psd_tolerance=psd_tolerance)
    step = engine.run()
    return TensorAnalysis(root, step, engine.steps, engine.psd)
