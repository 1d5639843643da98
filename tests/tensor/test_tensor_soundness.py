"""No wrong answer on random CVXPY tensor expressions, by evidence independent of the engine.

A Hypothesis strategy builds CVXPY expressions over one to three variables (scalars, vectors
and matrices with sides 1 to 6; attributes nonneg, pos, nonpos, neg, bounds, symmetric, PSD or
none) from affine maps with random float data (negative, zero, huge and tiny entries included),
elementwise atoms, reductions, quadratic forms (PSD, PSD only in exact arithmetic: a Gram matrix
computed in floating point, rank-deficient, indefinite, NSD), matrix atoms, and products,
quotients and differences that are generally nonconvex, each in both DCP and non-DCP spellings.
Each expression is checked with ``cc.check(expr, seed=0, budget_s=10)`` and the answer is judged
by CVXPY alone, never by convexcheck's own evaluator:

(a) a ``yes`` is attacked with the midpoint form of Jensen's inequality, evaluated by CVXPY's
    ``.value`` at points drawn from the variables' domains (200 random pairs at several scales,
    pairs along coordinate lines, pairs at small distances); a violation beyond ``1e-8``
    relative, entry by entry, is a wrong proof;
(b) a ``no`` is replayed: the witness points ``a``, ``b`` (decoded exactly) must lie in the
    domain, CVXPY's values at ``a``, ``b`` and ``(a + b)/2`` must show the violation in float64,
    consistent with ``gap_lower_bound``, and must lie in the witness's own enclosures (a
    witness of the scalarised last stage, one rational per entry and any ``t``, likewise);
(c) when CVXPY's DCP analysis certifies a curvature we must not refute it inside CVXPY's own
    domain (``expr.domain`` at the witness points), and must prove it too, except where our
    reading of the formula is undefined on part of the declared domain (CVXPY's implicit
    domains, ``log`` of a real variable, are not imported by design) or where CVXPY's claim
    rests on its PSD tolerance (a quadratic form whose exact matrix is not semidefinite,
    decided here by exact principal minors). A refutation at points outside CVXPY's domain
    (``inv_pos(x)`` or ``x**3`` for a real ``x``: our formula, and CVXPY's own ``.value``,
    is ``1/x`` and ``x**3`` there, CVXPY's atom is ``+oo``) is counted as a semantic
    difference, not failed.

Outcomes are counted; every failure is collected (not raised at once) so that one run reports
all of them, each with a runnable source listing. ``TENSOR_SOUNDNESS_EXAMPLES`` sets the number
of examples (default: what fits in about two minutes on a shared machine);
``TENSOR_SOUNDNESS_SEED=n`` draws other examples than the fixed (derandomized) default ones;
``TENSOR_SOUNDNESS_REPORT=path.json`` writes the counts and failures.

The counterexamples found by long runs are kept below as explicit regression cases.
"""

from __future__ import annotations

import json
import os
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import convexcheck as cc
from convexcheck.errors import ConvexcheckInputError
from convexcheck.tensor.witness import decode_array

EXAMPLES = int(os.environ.get("TENSOR_SOUNDNESS_EXAMPLES", "300"))
REPORT = os.environ.get("TENSOR_SOUNDNESS_REPORT")
_SEED = os.environ.get("TENSOR_SOUNDNESS_SEED")  # other examples than the fixed default ones
SEED = int(_SEED) if _SEED else None
BUDGET_S = 10
REL_TOL = 1e-8  # Jensen gap, relative to 1 + |f(a)| + |f(b)| + |f(m)|
N_RANDOM_PAIRS = 200
N_LINE_PAIRS = 40
N_NEAR_PAIRS = 60

pytestmark = pytest.mark.filterwarnings("ignore")


# ---------------------------------------------------------------------------------------------
# the generator: expressions together with a runnable listing of them
# ---------------------------------------------------------------------------------------------


@dataclass
class Var:
    """A CVXPY variable and its domain as this file understands it (from its attributes)."""

    name: str
    shape: tuple[int, ...]
    kind: str  # real nonneg pos nonpos neg bounds symmetric psd
    var: Any
    lo: np.ndarray
    hi: np.ndarray
    lo_open: bool = False
    hi_open: bool = False

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1


@dataclass
class Node:
    expr: Any
    src: str


@dataclass
class Case:
    expr: Any
    src: str
    variables: list[Var]
    lines: list[str] = field(default_factory=list)

    def listing(self) -> str:
        return "\n".join([*self.lines, f"expr = {self.src}"])


def _array_src(a: np.ndarray) -> str:
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return repr(float(a))
    return f"np.array({json.dumps(a.tolist())})".replace("Infinity", "np.inf")


class Builder:
    """Draws one expression; constants go into ``lines`` as ``D0 = ...`` so listings run."""

    def __init__(self, draw: Callable, rng: np.random.Generator) -> None:
        self.draw = draw
        self.rng = rng
        self.lines: list[str] = ["import cvxpy as cp", "import numpy as np"]
        self.variables: list[Var] = []
        self.n_data = 0

    # ---- data ------------------------------------------------------------------------------
    def data(self, shape: tuple[int, ...], style: str | None = None) -> Node:
        style = style or self.draw(
            st.sampled_from(
                ["normal", "normal", "int", "sparse", "huge", "tiny", "positive", "negative"]
            )
        )
        r = self.rng
        if style == "int":
            a = r.integers(-3, 4, size=shape).astype(float)
        elif style == "sparse":
            a = r.normal(size=shape) * (r.random(size=shape) < 0.4)
        elif style == "huge":
            a = r.normal(size=shape) * np.where(r.random(size=shape) < 0.5, 1e150, 1.0)
        elif style == "tiny":
            a = r.normal(size=shape) * np.where(r.random(size=shape) < 0.5, 1e-150, 1.0)
        elif style == "positive":
            a = np.exp(r.normal(size=shape))
        elif style == "negative":
            a = -np.exp(r.normal(size=shape))
        else:
            a = r.normal(size=shape)
        return self.constant(np.asarray(a, dtype=float))

    def constant(self, a: np.ndarray) -> Node:
        name = f"D{self.n_data}"
        self.n_data += 1
        self.lines.append(f"{name} = {_array_src(a)}")
        return Node(a if a.ndim else float(a), name)

    def positive_scalar(self) -> Node:
        return self.constant(np.asarray(float(np.exp(self.rng.normal()))))

    # ---- variables ---------------------------------------------------------------------------
    def make_variables(self) -> None:
        n = self.draw(st.integers(1, 3))
        for i in range(n):
            form = self.draw(st.sampled_from(["scalar", "vector", "vector", "matrix"]))
            if form == "scalar":
                shape: tuple[int, ...] = ()
            elif form == "vector":
                shape = (self.draw(st.integers(1, 6)),)
            else:
                shape = (self.draw(st.integers(1, 4)), self.draw(st.integers(1, 4)))
            kinds = ["real", "real", "nonneg", "pos", "nonpos", "neg", "bounds", "bounds"]
            if len(shape) == 2 and shape[0] == shape[1]:
                kinds += ["symmetric", "psd", "psd"]
            self.variables.append(self._variable(f"x{i}", shape, self.draw(st.sampled_from(kinds))))

    def _variable(self, name: str, shape: tuple[int, ...], kind: str) -> Var:
        lo = np.full(shape, -np.inf)
        hi = np.full(shape, np.inf)
        lo_open = hi_open = False
        attrs = ""
        if kind in ("nonneg", "pos"):
            lo[...] = 0.0
            lo_open = kind == "pos"
            attrs = f", {kind}=True"
        elif kind in ("nonpos", "neg"):
            hi[...] = 0.0
            hi_open = kind == "neg"
            attrs = f", {kind}=True"
        elif kind == "bounds":
            side = self.draw(st.sampled_from(["both", "both", "lo", "hi"]))
            a = np.round(self.rng.normal(size=shape) * 2, 1)
            width = np.round(np.exp(self.rng.normal(size=shape)), 2) + 0.01
            lo_v = a if side in ("both", "lo") else None
            hi_v = a + width if side in ("both", "hi") else None
            if lo_v is not None:
                lo[...] = lo_v
            if hi_v is not None:
                hi[...] = hi_v
            lo_s = "None" if lo_v is None else _array_src(lo_v)
            hi_s = "None" if hi_v is None else _array_src(hi_v)
            attrs = f", bounds=[{lo_s}, {hi_s}]"
        elif kind == "symmetric":
            attrs = ", symmetric=True"
        elif kind == "psd":
            attrs = ", PSD=True"
        shape_src = repr(shape)
        self.lines.append(f"{name} = cp.Variable({shape_src}{attrs}, name={name!r})")
        var = eval(f"cp.Variable({shape_src}{attrs}, name={name!r})", {"cp": cp, "np": np})
        return Var(name, shape, kind, var, lo, hi, lo_open, hi_open)

    # ---- expressions ---------------------------------------------------------------------------
    def leaf(self) -> Node:
        v = self.draw(st.sampled_from(self.variables))
        node = Node(v.var, v.name)
        how = self.draw(st.sampled_from(["plain", "plain", "plain", "index", "vec", "T"]))
        try:
            if how == "index" and v.shape and v.shape[0] > 1:
                k = self.draw(st.integers(1, v.shape[0] - 1))
                sl = self.draw(st.sampled_from([f"{k}:", f":{k}", "::-1", f"{k}"]))
                if len(v.shape) == 2:
                    sl = sl + ", :"
                return Node(eval(f"v[{sl}]", {"v": v.var}), f"{v.name}[{sl}]")
            if how == "vec" and len(v.shape) == 2:
                return Node(cp.vec(v.var, order="F"), f"cp.vec({v.name}, order='F')")
            if how == "T" and len(v.shape) == 2:
                return Node(v.var.T, f"{v.name}.T")
        except Exception:
            pass
        return node

    def expression(self, depth: int) -> Node:
        if depth <= 0:
            return self.leaf()
        family = self.draw(
            st.sampled_from(
                [
                    "affine",
                    "affine",
                    "elementwise",
                    "elementwise",
                    "reduction",
                    "reduction",
                    "quadratic",
                    "binary",
                    "binary",
                    "spelled",
                    "matrix",
                ]
            )
        )
        if family == "leaf":
            return self.leaf()
        if family == "matrix":
            square = [v for v in self.variables if v.kind in ("symmetric", "psd")]
            if square:
                return self._attempt(self.matrix_atom, self.draw(st.sampled_from(square)))
            family = "affine"
        inner = self.expression(depth - 1)
        if family == "affine":
            return self._attempt(self.affine, inner)
        if family == "elementwise":
            return self._attempt(self.elementwise, inner)
        if family == "reduction":
            return self._attempt(self.reduction, inner)
        if family == "quadratic":
            return self._attempt(self.quadratic, inner)
        if family == "spelled":
            return self._attempt(self.spelled, inner)
        other = self.expression(depth - 1)
        return self._attempt(self.binary, inner, other)

    def _attempt(self, fn: Callable, *nodes: Any) -> Node:
        """``fn(*nodes)``, or the first node if CVXPY refuses the construction."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = fn(*nodes)
        except (ValueError, TypeError, IndexError, AttributeError, cp.error.DCPError):
            return nodes[0] if isinstance(nodes[0], Node) else self.leaf()
        return out

    @staticmethod
    def _named(template: str, *nodes: Node) -> Node:
        """``template`` (``{0}``, ``{1}``... for the nodes) evaluated, and as source text."""
        env: dict[str, Any] = {"cp": cp, "np": np}
        names = [f"_a{i}" for i in range(len(nodes))]
        env.update({n: node.expr for n, node in zip(names, nodes)})
        expr = eval(template.format(*names), env)
        return Node(expr, template.format(*[f"({node.src})" for node in nodes]))

    def _d(self, shape: tuple[int, ...], style: str | None = None) -> Node:
        return self.data(shape, style)

    def affine(self, e: Node) -> Node:
        shape = tuple(e.expr.shape)
        op = self.draw(
            st.sampled_from(
                [
                    "A@",
                    "@B",
                    "scale",
                    "mul",
                    "add",
                    "neg",
                    "sum",
                    "cumsum",
                    "T",
                    "diff",
                    "trace",
                    "hstack",
                    "vstack",
                    "reshape_C",
                    "kron",
                    "conv",
                    "diag",
                    "index",
                ]
            )
        )
        k = self.draw(st.integers(1, 5))
        if op == "A@" and shape:
            A = self._d((k, shape[0]))
            return self._named("{0} @ {1}", A, e)
        if op == "@B" and shape:
            B = self._d((shape[-1], k))
            return self._named("{0} @ {1}", e, B)
        if op == "scale":
            c = self._d(())
            return self._named("{0} * {1}", c, e)
        if op == "mul" and shape:
            return self._named("cp.multiply({0}, {1})", self._d(shape), e)
        if op == "add":
            return self._named("{0} + {1}", e, self._d(shape))
        if op == "neg":
            return self._named("-{0}", e)
        if op == "sum":
            if len(shape) == 2 and self.draw(st.booleans()):
                axis = self.draw(st.integers(0, 1))
                return self._named("cp.sum({0}, axis=" + str(axis) + ")", e)
            return self._named("cp.sum({0})", e)
        if op == "cumsum" and len(shape) == 1:
            return self._named("cp.cumsum({0})", e)
        if op == "T" and len(shape) == 2:
            return self._named("{0}.T", e)
        if op == "diff" and len(shape) == 1 and shape[0] > 1:
            return self._named("cp.diff({0})", e)
        if op == "trace" and len(shape) == 2 and shape[0] == shape[1]:
            return self._named("cp.trace({0})", e)
        if op == "hstack" and len(shape) == 1:
            return self._named("cp.hstack([{0}, {1}, {0}])", e, self._d((k,)))
        if op == "vstack" and shape:
            row = shape if len(shape) == 2 else (1, shape[0])
            return self._named("cp.vstack([{0}, {1}])", e, self._d(row))
        if op == "reshape_C" and shape:
            size = int(np.prod(shape))
            target = "(" + str(size) + ",)" if len(shape) == 2 else "(1, " + str(size) + ")"
            return self._named("cp.reshape({0}, " + target + ", order='C')", e)
        if op == "kron" and len(shape) == 2:
            return self._named("cp.kron({0}, {1})", self._d((2, 1)), e)
        if op == "conv" and len(shape) == 1:
            return self._named("cp.conv({0}, {1})", self._d((k,)), e)
        if op == "diag" and len(shape) == 1:
            return self._named("cp.diag({0})", e)
        if op == "diag" and len(shape) == 2 and shape[0] == shape[1]:
            return self._named("cp.diag({0})", e)
        if op == "index" and shape and shape[0] > 1:
            keys = ["[::-1]", "[1:]", "[::2]", "[[0, 0]]", "[-1]"]
            key = self.draw(st.sampled_from(keys))
            return self._named("{0}" + key, e)
        return self._named("{0} + {1}", e, self._d(shape))

    def elementwise(self, e: Node) -> Node:
        shape = tuple(e.expr.shape)
        op = self.draw(
            st.sampled_from(
                [
                    "exp",
                    "log",
                    "abs",
                    "square",
                    "power",
                    "sqrt",
                    "inv_pos",
                    "entr",
                    "logistic",
                    "huber",
                    "pos",
                    "neg",
                    "maximum",
                    "minimum",
                    "log1p",
                    "xexp",
                    "kl_div",
                    "rel_entr",
                ]
            )
        )
        if op == "power":
            p = self.draw(st.sampled_from([2, 3, 4, 0.5, 1.5, -1, -0.5, 0.25, 2.5, 0.9999999]))
            return self._named("cp.power({0}, " + repr(p) + ")", e)
        if op == "huber":
            m = self.draw(st.sampled_from([0.5, 1.0, 2.0]))
            return self._named("cp.huber({0}, " + repr(m) + ")", e)
        if op in ("maximum", "minimum"):
            return self._named("cp." + op + "({0}, {1})", e, self._d(shape))
        if op in ("kl_div", "rel_entr"):
            return self._named("cp." + op + "({0}, {1})", e, self._d(shape, "positive"))
        return self._named("cp." + op + "({0})", e)

    def reduction(self, e: Node) -> Node:
        shape = tuple(e.expr.shape)
        size = int(np.prod(shape)) if shape else 1
        op = self.draw(
            st.sampled_from(
                [
                    "sum",
                    "max",
                    "min",
                    "norm1",
                    "norm2",
                    "norm_inf",
                    "pnorm",
                    "sum_squares",
                    "log_sum_exp",
                    "sum_largest",
                    "geo_mean",
                    "quad_over_lin",
                ]
            )
        )
        if op == "norm2":
            return self._named(
                "cp.norm({0}, 'fro')" if len(shape) == 2 else "cp.norm({0}, 2)",
                e,
            )
        if op == "norm1":
            return self._named("cp.norm1({0})", e)
        if op == "pnorm":
            p = self.draw(st.sampled_from([1.5, 3, 0.5]))
            return self._named("cp.pnorm({0}, " + repr(p) + ")", e)
        if op == "sum_largest":
            k = self.draw(st.integers(1, max(1, size)))
            return self._named("cp.sum_largest({0}, " + str(k) + ")", e)
        if op == "geo_mean":
            if len(shape) != 1:
                return self._named("cp.geo_mean(cp.vec({0}, order='F'))", e)
            return self._named("cp.geo_mean({0})", e)
        if op == "quad_over_lin":
            y = self._scalar_denominator()
            return self._named("cp.quad_over_lin({0}, {1})", e, y)
        return self._named("cp." + op + "({0})", e)

    def _scalar_denominator(self) -> Node:
        scalars = [v for v in self.variables if v.shape == ()]
        if scalars and self.draw(st.booleans()):
            v = self.draw(st.sampled_from(scalars))
            return Node(v.var, v.name)
        return self.positive_scalar()

    def psd_matrix(self, n: int) -> Node:
        kind = self.draw(
            st.sampled_from(["psd_int", "gram_float", "low_rank", "indefinite", "nsd", "nudged"])
        )
        r = self.rng
        if kind == "psd_int":
            b = r.integers(-3, 4, size=(n + 1, n)).astype(float)
            P = b.T @ b
        elif kind == "gram_float":
            a = r.normal(size=(n + 1, n))
            P = a.T @ a  # PSD in exact arithmetic, maybe not as rounded
            P = np.triu(P) + np.triu(P, 1).T
        elif kind == "low_rank":
            b = r.normal(size=(1, n))
            P = b.T @ b
            P = np.triu(P) + np.triu(P, 1).T
        elif kind == "indefinite":
            c = r.normal(size=(n, n))
            P = c + c.T
            if n > 1:
                P[0, 0], P[1, 1] = 2.0, -3.0
            else:
                P[0, 0] = -1.0
        elif kind == "nsd":
            b = r.integers(-3, 4, size=(n + 1, n)).astype(float)
            P = -(b.T @ b)
        else:  # singular PSD minus a hair: indefinite in exact arithmetic only
            b = r.integers(1, 4, size=(1, n)).astype(float)
            P = b.T @ b
            P[0, 0] -= 2.0**-40
        return self.constant(P)

    def quadratic(self, e: Node) -> Node:
        shape = tuple(e.expr.shape)
        vec = e if len(shape) == 1 else self._named("cp.vec({0}, order='F')", e) if shape else e
        n = int(vec.expr.shape[0]) if vec.expr.shape else 1
        if not vec.expr.shape:
            vec = self._named("cp.hstack([{0}])", vec)
        P = self.psd_matrix(n)
        how = self.draw(st.sampled_from(["quad_form", "written", "multiply", "sum_squares_A"]))
        if how == "quad_form":
            return self._named("cp.quad_form({0}, {1})", vec, P)
        if how == "written":
            return self._named("{0} @ ({1} @ {0})", vec, P)
        if how == "multiply":
            return self._named("cp.sum(cp.multiply({0}, {1} @ {0}))", vec, P)
        A = self._d((self.draw(st.integers(1, 4)), n))
        return self._named("cp.sum_squares({0} @ {1})", A, vec)

    def binary(self, e1: Node, e2: Node) -> Node:
        op = self.draw(
            st.sampled_from(["add", "sub", "multiply", "times", "dot", "max", "min", "div", "qol"])
        )
        s1, s2 = tuple(e1.expr.shape), tuple(e2.expr.shape)
        if op == "dot" and len(s1) == 1:
            if s2 != s1:
                e2 = self._fit_vector(e2, s1[0])
            return self._named("{0} @ {1}", e1, e2)
        if op == "times":  # scalar * expression
            if s1:
                e1 = self._named("cp.sum({0})", e1)
            return self._named("{0} * {1}", e1, e2)
        if op == "div":
            if s2:
                e2 = self._named("cp.sum({0})", e2)
            return self._named("{0} / {1}", e1, e2)
        if op == "qol":
            if s2:
                e2 = self._named("cp.sum({0})", e2)
            return self._named("cp.quad_over_lin({0}, {1})", e1, e2)
        if s1 != s2 and s2:
            e2 = self._named("cp.sum({0})", e2)
        if op == "dot":  # of a scalar or a matrix: elementwise instead
            op = "multiply"
        template = {
            "add": "{0} + {1}",
            "sub": "{0} - {1}",
            "multiply": "cp.multiply({0}, {1})",
            "max": "cp.maximum({0}, {1})",
            "min": "cp.minimum({0}, {1})",
        }[op]
        return self._named(template, e1, e2)

    def _fit_vector(self, e: Node, n: int) -> Node:
        shape = tuple(e.expr.shape)
        if not shape:
            return self._named("{0} * {1}", e, self._d((n,)))
        if len(shape) == 2:
            e = self._named("cp.vec({0}, order='F')", e)
        return self._named("{0} @ {1}", self._d((n, int(e.expr.shape[0]))), e)

    def spelled(self, e: Node) -> Node:
        """Non-DCP spellings of DCP atoms, and their near misses."""
        op = self.draw(
            st.sampled_from(
                [
                    "self_multiply",
                    "self_dot",
                    "sqrt_sum_squares",
                    "softplus",
                    "xlogx",
                    "lse",
                    "sqrt_square",
                    "exp_log",
                    "log_exp",
                    "square_of_sum",
                    "inv_inv",
                    "power_of_power",
                ]
            )
        )
        shape = tuple(e.expr.shape)
        if op == "self_multiply":
            return self._named("cp.multiply({0}, {0})", e)
        if op == "self_dot" and len(shape) == 1:
            return self._named("{0} @ {0}", e)
        if op == "sqrt_sum_squares":
            return self._named("cp.sqrt(cp.sum_squares({0}))", e)
        if op == "softplus":
            return self._named("cp.log(1 + cp.exp({0}))", e)
        if op == "xlogx":
            return self._named("cp.multiply({0}, cp.log({0}))", e)
        if op == "lse":
            return self._named("cp.log(cp.sum(cp.exp({0})))", e)
        if op == "sqrt_square":
            return self._named("cp.sqrt(cp.square({0}))", e)
        if op == "exp_log":
            return self._named("cp.exp(cp.log({0}))", e)
        if op == "log_exp":
            return self._named("cp.log(cp.exp({0}))", e)
        if op == "square_of_sum":
            return self._named("cp.square(cp.sum({0}))", e)
        if op == "inv_inv":
            return self._named("cp.inv_pos(cp.inv_pos({0}))", e)
        return self._named("cp.power(cp.power({0}, 2), 0.5)", e)

    def matrix_atom(self, v: Var) -> Node:
        base = Node(v.var, v.name)
        n = v.shape[0]
        if self.draw(st.booleans()):
            c = self.rng.normal(size=(n, n))
            base = self._named("{0} + {1}", base, self.constant((c + c.T) / 2))
        ops = ["lambda_max", "lambda_min", "sigma_max", "normNuc", "trace", "lambda_sum_largest"]
        if v.kind == "psd":
            ops += ["log_det", "tr_inv", "matrix_frac"]
            base = Node(v.var, v.name)  # CVXPY's matrix atoms take the variable on the cone
        op = self.draw(st.sampled_from(ops))
        if op == "normNuc":
            return self._named("cp.normNuc({0})", base)
        if op == "lambda_sum_largest":
            return self._named("cp.lambda_sum_largest({0}, " + str(min(2, n)) + ")", base)
        if op == "matrix_frac":
            return self._named("cp.matrix_frac({0}, {1})", self._d((n,)), base)
        return self._named("cp." + op + "({0})", base)


@st.composite
def cases(draw) -> Case:
    seed = draw(st.integers(0, 2**32 - 1))
    b = Builder(draw, np.random.default_rng(seed))
    b.make_variables()
    depth = draw(st.integers(1, 4))
    node = b.expression(depth)
    return Case(node.expr, node.src, b.variables, b.lines)


# ---------------------------------------------------------------------------------------------
# the oracle: CVXPY's own values
# ---------------------------------------------------------------------------------------------


def _sample(v: Var, rng: np.random.Generator, scale: float) -> np.ndarray:
    shape = v.shape
    if v.kind == "psd":
        n = shape[0]
        g = rng.normal(size=(n, rng.integers(1, n + 2))) * np.sqrt(scale)
        m = g @ g.T + (1e-3 * scale if rng.random() < 0.8 else 0.0) * np.eye(n)
        return (m + m.T) / 2
    if v.kind == "symmetric":
        g = rng.normal(size=shape) * scale
        return (g + g.T) / 2
    lo, hi = v.lo, v.hi
    z = rng.normal(size=shape) * scale
    e = rng.exponential(scale, size=shape)
    u = rng.random(size=shape)
    if rng.random() < 0.1:
        u = np.where(rng.random(size=shape) < 0.5, 0.0, np.where(u < 0.5, 0.0, 1.0))
    finite_lo, finite_hi = np.isfinite(lo), np.isfinite(hi)
    with np.errstate(all="ignore"):
        out = np.where(finite_lo & finite_hi, lo + (hi - lo) * u, z)
        out = np.where(finite_lo & ~finite_hi, lo + e, out)
        out = np.where(~finite_lo & finite_hi, hi - e, out)
    if v.lo_open:
        out = np.where(out <= lo, lo + np.maximum(e, 1e-300), out)
    if v.hi_open:
        out = np.where(out >= hi, hi - np.maximum(e, 1e-300), out)
    return np.asarray(out, dtype=float)


def in_domain(v: Var, x: np.ndarray) -> str:
    """ "" if ``x`` is in the domain of ``v``, else why not."""
    x = np.asarray(x, dtype=float)
    if x.shape != v.shape:
        return f"{v.name}: shape {x.shape}, not {v.shape}"
    if not np.all(np.isfinite(x)):
        return f"{v.name}: not finite"
    if v.kind in ("symmetric", "psd") and not np.array_equal(x, x.T):
        return f"{v.name}: not symmetric"
    if v.kind == "psd":
        w = np.linalg.eigvalsh(x)
        if w[0] < -1e-9 * max(1.0, float(np.max(np.abs(x)))):
            return f"{v.name}: not PSD (eigenvalue {w[0]:.3g})"
    below = (x < v.lo) | ((x == v.lo) & v.lo_open)
    above = (x > v.hi) | ((x == v.hi) & v.hi_open)
    if np.any(below) or np.any(above):
        return f"{v.name}: outside its bounds"
    return ""


def _evaluate(case: Case, point: dict[str, np.ndarray]) -> np.ndarray | None:
    try:
        for v in case.variables:
            if v.name in point:
                v.var.value = point[v.name]
        with np.errstate(all="ignore"):
            value = case.expr.value
    except (ValueError, ArithmeticError, TypeError, np.linalg.LinAlgError):
        return None
    if value is None:
        return None
    return np.asarray(value, dtype=float)


def _pairs(case: Case, rng: np.random.Generator):
    used = case_variables(case)
    for i in range(N_RANDOM_PAIRS):
        scale = (1.0, 0.1, 10.0, 1e-3, 1e3)[i % 5]
        yield (
            {v.name: _sample(v, rng, scale) for v in used},
            {v.name: _sample(v, rng, scale) for v in used},
        )
    for _ in range(N_LINE_PAIRS):  # along a coordinate line
        a = {v.name: _sample(v, rng, 1.0) for v in used}
        b = {k: x.copy() for k, x in a.items()}
        v = used[rng.integers(len(used))]
        far = _sample(v, rng, float(10.0 ** rng.uniform(-2, 2)))
        if v.kind in ("symmetric", "psd") or not v.shape:
            b[v.name] = far if v.kind != "psd" else a[v.name] + far  # psd: PSD + PSD
        else:
            idx = tuple(int(rng.integers(s)) for s in v.shape)
            b[v.name][idx] = far[idx]
        yield a, b
    for _ in range(N_NEAR_PAIRS):  # close together: curvature at small scales
        a = {v.name: _sample(v, rng, 1.0) for v in used}
        c = {v.name: _sample(v, rng, 1.0) for v in used}
        step = 10.0 ** rng.uniform(-6, -1)
        yield a, {k: a[k] + step * (c[k] - a[k]) for k in a}


def case_variables(case: Case) -> list[Var]:
    present = {v.id for v in case.expr.variables()}
    return [v for v in case.variables if v.var.id in present]


def jensen_attack(case: Case, question: str, stats: Counter) -> str:
    """ "" if no violation of ``question`` is found, else a description of the violation."""
    rng = np.random.default_rng(12345)
    sign = 1.0 if question == "convex" else -1.0
    for a, b in _pairs(case, rng):
        used = case_variables(case)
        if any(in_domain(v, a[v.name]) or in_domain(v, b[v.name]) for v in used):
            stats["attack_pairs_outside_domain"] += 1
            continue
        m = {k: (a[k] + b[k]) / 2 for k in a}
        if any(in_domain(v, m[v.name]) for v in used):  # PSD rounding at the boundary
            continue
        # the function judged is CVXPY's: finite only where every atom's domain holds
        # (power(x, 3) is +inf for x < 0 there, whatever the formula gives)
        if not all(_cvxpy_domain_holds(case, p) for p in (a, b, m)):
            stats["attack_pairs_outside_cvxpy_domain"] += 1
            continue
        fa, fb, fm = _evaluate(case, a), _evaluate(case, b), _evaluate(case, m)
        if fa is None or fb is None or fm is None:
            stats["attack_eval_refused"] += 1
            continue
        with np.errstate(all="ignore"):
            finite = np.isfinite(fa) & np.isfinite(fb) & np.isfinite(fm)
            if not np.all(finite):
                stats["attack_nonfinite_entries"] += 1
                if np.any(np.isnan(fa) | np.isnan(fb) | np.isnan(fm)):
                    stats["attack_nan_at_domain_point"] += 1
                    if len(NAN_NOTES) < 30 and case.listing() not in NAN_NOTES:
                        NAN_NOTES.append(case.listing())
            gap = sign * (fm - (fa + fb) / 2)
            scale = 1.0 + np.abs(fa) + np.abs(fb) + np.abs(fm)
            bad = finite & (gap > REL_TOL * scale)
        stats["attack_pairs"] += 1
        if np.any(bad):
            k = int(np.argmax(np.where(bad, gap / scale, -np.inf)))
            return (
                f"{question} claimed, but CVXPY's values violate Jensen at entry "
                f"{np.unravel_index(k, np.shape(gap)) if np.ndim(gap) else ()}: "
                f"f(a)={np.ravel(fa)[k]!r} f(b)={np.ravel(fb)[k]!r} f(m)={np.ravel(fm)[k]!r}; "
                f"a={ {n: x.tolist() for n, x in a.items()} } "
                f"b={ {n: x.tolist() for n, x in b.items()} }"
            )
    return ""


def replay_witness(case: Case, question: str, w: dict[str, Any], stats: Counter) -> str:
    """ "" if the witness holds by CVXPY's values (or cannot be evaluated in float64 at all:
    counted), else why it does not."""
    if "gap_lower_bound" not in w:
        return replay_scalar_witness(case, question, w, stats)
    by_name = {v.name: v for v in case.variables}
    a = {n: decode_array(x) for n, x in w["a"].items()}
    b = {n: decode_array(x) for n, x in w["b"].items()}
    if set(a) != {v.name for v in case_variables(case)}:
        return f"witness names {sorted(a)} are not the expression's variables"
    for n in a:
        v = by_name[n]
        a[n] = np.reshape(a[n], v.shape)
        b[n] = np.reshape(b[n], v.shape)
        for side, x in (("a", a[n]), ("b", b[n])):
            why = in_domain(v, x)
            if why:
                return f"witness point {side} is outside the domain: {why}"
    m = {n: (a[n] + b[n]) / 2 for n in a}
    for n in a:
        if not np.array_equal(m[n] * 2 - a[n], b[n]):
            return f"the midpoint of {n} is not exact in float64"
    fa, fb, fm = _evaluate(case, a), _evaluate(case, b), _evaluate(case, m)
    if fa is None or fb is None or fm is None:
        return "CVXPY refuses to evaluate at the witness points"
    entry = w.get("entry")
    fa, fb, fm = (_entry_of(f, entry) for f in (fa, fb, fm))
    if not all(np.isfinite([fa, fb, fm])):
        stats["witness_nonfinite_in_cvxpy"] += 1
        return ""
    for label, f in (("f_a", fa), ("f_b", fb), ("f_t", fm)):
        lo, hi = (float(s) for s in w[label])
        slack = 1e-9 * (abs(f) + abs(lo) + abs(hi)) + 1e-300
        if not lo - slack <= f <= hi + slack:
            return f"CVXPY's value {f!r} is outside the witness enclosure {label}=[{lo}, {hi}]"
    sign = 1.0 if question == "convex" else -1.0
    gap = sign * (fm - (fa + fb) / 2)
    bound = float(w["gap_lower_bound"])
    noise = 1e-12 * (abs(fa) + abs(fb) + abs(fm))
    if not bound > 0:
        return f"gap_lower_bound {bound!r} is not positive"
    if gap < bound - noise:
        return f"CVXPY's gap {gap!r} is below gap_lower_bound {bound!r}"
    if gap <= 0:
        stats["witness_gap_below_float_noise"] += 1
    stats["witness_confirmed"] += 1
    return ""


def _interval(text: str) -> tuple[float, float]:
    """``"[lo, hi]"`` or an exact ``"{q}"``, ends as exact rationals, as floats."""
    ends = [Fraction(e.strip()) for e in text.strip("[]{} ").split(",")]
    return float(ends[0]), float(ends[-1])


def _filler(v: Var) -> np.ndarray:
    """A point of ``v``'s domain, for entries a witness does not mention."""
    if v.kind == "psd":
        return np.eye(v.shape[0])
    lo = np.where(np.isfinite(v.lo), v.lo + (1.0 if v.lo_open else 0.0), 0.0)
    out = np.where(np.isfinite(v.hi) & (lo > v.hi), v.hi - (1.0 if v.hi_open else 0.0), lo)
    out = np.minimum(out, v.hi - 1.0 if v.hi_open else v.hi)
    return np.array(out, dtype=float).reshape(v.shape)


def replay_scalar_witness(case: Case, question: str, w: dict[str, Any], stats: Counter) -> str:
    """The scalar ladder's witness (from the scalarised last stage): one exact rational per
    entry, named ``x0``, ``x0_1``, ``x0_1_2``..., any ``t`` in (0, 1), enclosures as text."""
    stats["witness_scalarised"] += 1
    points = []
    for side in ("a", "b"):
        point = {}
        for v in case_variables(case):
            x = _filler(v)
            for idx in np.ndindex(v.shape):
                key = v.name + "".join(f"_{i}" for i in idx)
                if key in w[side]:
                    x[idx] = float(Fraction(w[side][key]))
            point[v.name] = x
            why = in_domain(v, x)
            if why:
                return f"scalarised witness point {side} is outside the domain: {why}"
        points.append(point)
    a, b = points
    t = float(Fraction(w["t"]))
    m = {n: t * a[n] + (1 - t) * b[n] for n in a}
    fa, fb, fm = _evaluate(case, a), _evaluate(case, b), _evaluate(case, m)
    if fa is None or fb is None or fm is None:
        return "CVXPY refuses to evaluate at the scalarised witness points"
    fa, fb, fm = (float(np.reshape(f, ())) for f in (fa, fb, fm))
    if not all(np.isfinite([fa, fb, fm])):
        stats["witness_nonfinite_in_cvxpy"] += 1
        return ""
    sign = 1.0 if question == "convex" else -1.0
    gap = sign * (fm - (t * fa + (1 - t) * fb))
    noise = 1e-9 * (1 + abs(fa) + abs(fb) + abs(fm))
    for label, f in (("f_a", fa), ("f_b", fb), ("f_at_t", fm)):
        lo, hi = _interval(w[label])
        if not lo - noise <= f <= hi + noise:
            return f"CVXPY's value {f!r} is outside the scalarised enclosure {label}=[{lo}, {hi}]"
    if not gap > -noise or gap < _interval(w["gap"])[0] - noise:
        return f"CVXPY's gap {gap!r} does not show the scalarised witness gap {w['gap']}"
    stats["witness_confirmed"] += 1
    return ""


def _entry_of(value: np.ndarray, entry: list[int] | None) -> float:
    if entry is None:  # a scalar, or an expression of shape (1,) or (1, 1) read as one
        return float(np.reshape(value, ()))
    return float(value[tuple(entry)])


def _det(m: list[list[Fraction]]) -> Fraction:
    m = [row[:] for row in m]
    n, det = len(m), Fraction(1)
    for c in range(n):
        pivot = next((r for r in range(c, n) if m[r][c] != 0), None)
        if pivot is None:
            return Fraction(0)
        if pivot != c:
            m[c], m[pivot] = m[pivot], m[c]
            det = -det
        det *= m[c][c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return det


def exactly_semidefinite(P: np.ndarray) -> bool:
    """Whether the symmetric part of the exact float64 matrix ``P`` is PSD or NSD (every
    principal minor, in exact rationals: independent of convexcheck's own PSD module)."""
    P = np.atleast_2d(np.asarray(P, dtype=float))
    n = P.shape[0]
    S = [[(Fraction(P[i, j]) + Fraction(P[j, i])) / 2 for j in range(n)] for i in range(n)]
    for sign in (1, -1):
        ok = True
        for mask in range(1, 2**n):
            idx = [i for i in range(n) if mask >> i & 1]
            minor = _det([[sign * S[i][j] for j in idx] for i in idx])
            if minor < 0:
                ok = False
                break
        if ok:
            return True
    return False


def _quad_form_matrices(expr: Any) -> list[np.ndarray]:
    out, stack = [], [expr]
    while stack:
        e = stack.pop()
        quad = type(e).__name__ in ("QuadForm", "SymbolicQuadForm") and len(e.args) > 1
        if quad and e.args[1].value is not None:
            out.append(np.asarray(e.args[1].value, dtype=float))
        stack.extend(getattr(e, "args", []))
    return out


def _domain_premise(verdict) -> bool:
    """Whether our not-proved reason is that the formula is undefined somewhere."""
    premises = ((verdict.evidence or {}).get("dcp") or {}).get("failed_premises") or []
    return any(" needs " in p or "defined" in p for p in premises)


def _witness_points(case: Case, w: dict[str, Any]) -> list[dict[str, np.ndarray]]:
    if "gap_lower_bound" in w:
        return [{n: decode_array(x) for n, x in w[s].items()} for s in ("a", "b")]
    out = []
    for side in ("a", "b"):
        point = {}
        for v in case_variables(case):
            x = _filler(v)
            for idx in np.ndindex(v.shape):
                key = v.name + "".join(f"_{i}" for i in idx)
                if key in w[side]:
                    x[idx] = float(Fraction(w[side][key]))
            point[v.name] = x
        out.append(point)
    return out


def _cvxpy_domain_holds(case: Case, point: dict[str, np.ndarray]) -> bool:
    try:
        for v in case.variables:
            if v.name in point:
                v.var.value = np.reshape(point[v.name], v.shape)
        # exactly: CVXPY's default tolerance (1e-8) takes x - 1e-150 >= 0 at x = 0 as true
        return all(bool(np.all(c.value(tolerance=0))) for c in case.expr.domain)
    except Exception:
        return False


def _where(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in tb if "/convexcheck/" in f.filename] or tb
    f = mine[-1]
    return f"{f.filename.rsplit('/', 2)[-2]}/{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"


# weaknesses with a strict-xfail regression (REGRESSION_BUGS): the random run counts them
# instead of failing on every example of the class; the text is from our summary
KNOWN_WEAKNESSES = {
    "geo_mean_of_one_entry": "geo_mean is not convex",
    "nsd_quad_form_of_a_positive_convex_argument": "quad_form is not monotone",
}


KNOWN_CRASHES = {
    "hstack_of_a_variable_and_data": "except for the concatenation axis must match exactly",
}


def judge(case: Case, stats: Counter) -> list[str]:
    """Every reason the answer for ``case`` is wrong (empty if none)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = cc.check(case.expr, seed=0, budget_s=BUDGET_S)
    except ConvexcheckInputError as exc:
        stats["input_error"] += 1
        if "\n" in str(exc):
            return [f"INPUT ERROR of several lines: {exc}"]
        return []
    except Exception as exc:  # anything else escaping is a bug
        stats["crash"] += 1
        message = f"CRASH: {type(exc).__name__}: {str(exc)[:300]} (at {_where(exc)})"
        known = [k for k, text in KNOWN_CRASHES.items() if text in message]
        if known:  # an engine bug with its strict-xfail regression below
            stats[f"known_crash_{known[0]}"] += 1
            return []
        return [message]
    problems = []
    dcp = case.expr.is_dcp()
    cvxpy_proves = set()
    if dcp:
        if case.expr.is_convex():
            cvxpy_proves.add("convex")
        if case.expr.is_concave():
            cvxpy_proves.add("concave")
    stats[f"curvature_{r.curvature}"] += 1
    stats["cvxpy_dcp"] += dcp
    for q in ("convex", "concave"):
        v = getattr(r, q)
        stats[f"{q}_{v.answer}"] += 1
        if v.answer == "yes":
            why = jensen_attack(case, q, stats)
            if why:
                problems.append("WRONG PROOF: " + why)
        elif v.answer == "no":
            why = replay_witness(case, q, v.witness, stats)
            if why:
                problems.append(f"BAD WITNESS ({q}): " + why)
            if q in cvxpy_proves:
                pts = _witness_points(case, v.witness)
                if all(_cvxpy_domain_holds(case, p) for p in pts):
                    problems.append(f"CVXPY's DCP proves {q}, we refute it inside its domain")
                else:  # our formula is defined where CVXPY's extended value is +-inf
                    stats[f"semantic_refutes_cvxpy_{q}_outside_its_domain"] += 1
                    SEMANTIC.append({"listing": case.listing(), "question": q})
        if q in cvxpy_proves and v.answer != "yes":
            if v.answer == "unknown" and _domain_premise(v):
                stats[f"weaker_than_cvxpy_{q}_by_domain"] += 1
            elif not all(exactly_semidefinite(P) for P in _quad_form_matrices(case.expr)):
                # CVXPY accepts a matrix PSD up to its tolerance; the exact one is not
                stats[f"cvxpy_{q}_rests_on_a_psd_tolerance"] += 1
            elif v.answer == "unknown":
                stats[f"weaker_than_cvxpy_{q}"] += 1
                known = [k for k, text in KNOWN_WEAKNESSES.items() if text in v.summary]
                if known:  # an engine bug with its strict-xfail regression below
                    stats[f"known_weakness_{known[0]}"] += 1
                else:
                    problems.append(
                        f"WEAKER: CVXPY's DCP proves {q}, we answer unknown: {v.summary}"
                    )
    return problems


# ---------------------------------------------------------------------------------------------
# the property, and its report
# ---------------------------------------------------------------------------------------------

STATS: Counter = Counter()
FAILURES: list[dict[str, Any]] = []
SEMANTIC: list[dict[str, Any]] = []  # refutations of CVXPY's claims outside CVXPY's domains
NAN_NOTES: list[str] = []  # a claim attacked where CVXPY's value is NaN at a domain point


@seed(SEED or 0)
@settings(
    max_examples=EXAMPLES,
    derandomize=SEED is None,  # the same examples on every run unless a seed is asked for
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(cases())
def _property(case: Case) -> None:
    start = time.monotonic()
    STATS["examples"] += 1
    try:
        problems = judge(case, STATS)
    except Exception as exc:  # the oracle's own failure: reported like the engine's
        problems = [f"ORACLE ERROR: {type(exc).__name__}: {exc} (at {_where(exc)})"]
    STATS["seconds"] += time.monotonic() - start
    if problems:
        FAILURES.append({"listing": case.listing(), "problems": problems})


@pytest.mark.slow  # 300 random CVXPY expressions, each answer attacked numerically
def test_no_wrong_answer_on_random_cvxpy_expressions():
    STATS.clear()
    FAILURES.clear()
    SEMANTIC.clear()
    NAN_NOTES.clear()
    _property()
    summary = dict(sorted(STATS.items()))
    print(json.dumps(summary, indent=1))
    if REPORT:
        with open(REPORT, "w") as fh:
            report = {"stats": summary, "failures": FAILURES, "semantic": SEMANTIC}
            json.dump({**report, "nan_at_domain_points": NAN_NOTES}, fh, indent=1)
    assert STATS["examples"] >= min(EXAMPLES, 20)
    text = "\n\n".join(f"{f['listing']}\n-> " + "\n-> ".join(f["problems"]) for f in FAILURES)
    assert not FAILURES, f"{len(FAILURES)} failing examples:\n\n{text}"


# ---------------------------------------------------------------------------------------------
# regressions: counterexamples found by long runs, minimised
# ---------------------------------------------------------------------------------------------


def _case(src: str) -> Case:
    """A case from a listing (variables ``x0``, ``x1``... with their attributes)."""
    env: dict[str, Any] = {"cp": cp, "np": np, "Fraction": Fraction}
    exec(src, env)
    variables = []
    for name, obj in env.items():
        if isinstance(obj, cp.Variable):
            variables.append(_var_of(name, obj))
    return Case(env["expr"], "expr", variables, src.splitlines())


def _var_of(name: str, var: Any) -> Var:
    shape = tuple(var.shape)
    attrs = var.attributes
    lo, hi = np.full(shape, -np.inf), np.full(shape, np.inf)
    kind = "real"
    lo_open = hi_open = False
    for k in ("nonneg", "pos", "nonpos", "neg"):
        if attrs.get(k):
            kind = k
    if kind in ("nonneg", "pos"):
        lo[...] = 0.0
        lo_open = kind == "pos"
    if kind in ("nonpos", "neg"):
        hi[...] = 0.0
        hi_open = kind == "neg"
    if attrs.get("bounds") is not None:
        kind = "bounds"
        b0, b1 = attrs["bounds"]
        if b0 is not None:
            lo[...] = b0
        if b1 is not None:
            hi[...] = b1
    if attrs.get("symmetric"):
        kind = "symmetric"
    if attrs.get("PSD"):
        kind = "psd"
    return Var(name, shape, kind, var, lo, hi, lo_open, hi_open)


REGRESSIONS: dict[str, str] = {
    # exponents were rounded by limit_denominator(10**6): x**0.9999999 was proved affine
    "power_near_one_pos": (
        "x0 = cp.Variable(2, pos=True, name='x0')\nexpr = cp.sum(cp.power(x0, 0.9999999))"
    ),
    "power_near_zero_pos": (
        "x0 = cp.Variable(2, pos=True, name='x0')\nexpr = cp.sum(cp.power(x0, 1e-07))"
    ),
    "power_near_one_real": "x0 = cp.Variable(2, name='x0')\nexpr = cp.power(x0, 1.0000001)",
    # the scalarised last stage ignored symmetric/PSD: witnesses outside the domain, so
    # "not convex" for functions that are convex (here: 0, and x**3 on x >= 0)
    "scalarised_witness_not_symmetric": (
        "x0 = cp.Variable((2, 2), symmetric=True, name='x0')\n"
        "expr = -cp.square(x0[0, 1] - x0[1, 0])"
    ),
    "scalarised_witness_not_psd": (
        "x0 = cp.Variable((2, 2), PSD=True, name='x0')\nexpr = cp.power(x0[0, 0], 3)"
    ),
    # a scalar argument CVXPY does not promote crashed the batched search (ValueError)
    "scalar_divisor": (
        "x0 = cp.Variable(3, name='x0')\nexpr = cp.neg((cp.multiply(x0[2:], cp.sum(x0)) + 1.0)"
        " / (cp.log_sum_exp(x0) - 1.5941445347840135))"
    ),
    "minimum_with_a_scalar": (
        "x0 = cp.Variable((2, 4), neg=True, name='x0')\n"
        "expr = cp.sum_largest(cp.minimum(cp.xexp(x0), cp.norm(x0, 'fro')), 2)"
    ),
    "one_entry_by_a_scalar": (
        "x0 = cp.Variable(1, name='x0')\nx1 = cp.Variable(name='x1')\nexpr = x0 / x1"
    ),
    # a constant part of hstack/vstack has batch axis 1 in the batched search: ValueError
    "hstack_of_a_variable_and_data": (
        "x0 = cp.Variable(3, name='x0')\nexpr = cp.sum_squares(cp.hstack([x0, np.ones(2)]))"
    ),
    "vstack_of_a_variable_and_data": (
        "x0 = cp.Variable((2, 2), name='x0')\n"
        "expr = cp.sum(cp.exp(cp.vstack([x0, np.ones((1, 2))])))"
    ),
    # strength: CVXPY proves these, we do not (WEAKER counts as a failure only here)
    "psd_diagonal_cubed": (
        "x0 = cp.Variable((2, 2), PSD=True, name='x0')\nexpr = cp.power(x0[0, 0], 3)"
    ),
    "geo_mean_of_one_entry": (
        "x0 = cp.Variable((1, 1), pos=True, name='x0')\nexpr = cp.geo_mean(cp.vec(x0, order='F'))"
    ),
    "nsd_quad_form_of_a_positive_convex_argument": (
        "x0 = cp.Variable((), bounds=[-0.3, 8.21], name='x0')\n"
        "expr = cp.quad_form(cp.hstack([cp.pnorm(x0, 1.5) + 1.17]), np.array([[-1.0]]))"
    ),
    # CVXPY's tolerance takes this Gram matrix (float A.T @ A) as PSD; the exact matrix has a
    # negative eigenvalue near -1e-18, so x' P x is not convex: unknown is right
    "gram_matrix_indefinite_by_rounding": (
        "x0 = cp.Variable(3, name='x0')\nD0 = np.array([[0.00019303461947191297, "
        "0.007918630980229458, -0.00570142866097988], [0.007918630980229458, "
        "0.3248366369337882, -0.2338829674693275], [-0.00570142866097988, "
        "-0.2338829674693275, 0.16839616057042334]])\nexpr = cp.quad_form(x0, D0)"
    ),
    # CVXPY's atom is +oo where the bare formula is defined and not convex: the function
    # judged is CVXPY's, so these are convex (on the set where they are finite)
    "inv_pos_of_a_real_variable": "x0 = cp.Variable(3, name='x0')\nexpr = cp.sum(cp.inv_pos(x0))",
    "cube_of_a_real_variable": "x0 = cp.Variable(3, name='x0')\nexpr = cp.sum(cp.power(x0, 3))",
    # (a 2000-example run) refuted at x0 = 0, where x0 - 1.3e-150 < 0 lies outside CVXPY's
    # domain only without its 1e-8 tolerance
    "inverse_just_left_of_zero": (
        "x0 = cp.Variable((), nonneg=True, name='x0')\n"
        "expr = cp.power(x0 - 1.3478713928788996e-150, -1) + cp.max(x0 - 1.6380408145515772)"
    ),
    # the scalarised stage read quad_over_lin(x, y) as x'x/y for y < 0, where the tensor rows
    # (as CVXPY) need y > 0: "not convex" for two entries, "unknown" for twenty
    # (a 1000-example run, seed 7) crashed the scalarised stage: vec of a (1, 1) matrix in the
    # scalar bridge, and the SOS rounding of a Gram matrix scaled by 1e300
    "vec_of_a_one_by_one_matrix": (
        "x0 = cp.Variable((1, 1), bounds=[np.array([[-1.1]]), np.array([[2.89]])], name='x0')\n"
        "expr = cp.max(cp.vec(x0, order='F'))"
    ),
    "sos_of_huge_coefficients": (
        "x0 = cp.Variable((), name='x0')\nD0 = np.array([[1.2967945326481105]])\n"
        "D3 = np.array([[5.902659883409595e+149], [-0.5289031261864201], [0.9482364200025531]])\n"
        "expr = cp.sum_squares(D3 @ cp.hstack([cp.hstack([x0]) @ (D0 @ cp.hstack([x0])) "
        "- 2.144874674465788e-150]))"
    ),
    "quad_over_lin_real_denominator": (
        "x0 = cp.Variable(2, name='x0')\nx1 = cp.Variable(name='x1')\n"
        "expr = cp.quad_over_lin(x0, x1)"
    ),
}
STRENGTH = {
    "psd_diagonal_cubed",
    "geo_mean_of_one_entry",
    "nsd_quad_form_of_a_positive_convex_argument",
    "gram_matrix_indefinite_by_rounding",
}
_CONCATENATE_BUG = (
    "BUG: the concatenate row's batched evaluation (convexcheck/tensor/atoms.py, "
    "np.concatenate of the parts) does not broadcast a constant part's batch axis of size 1 "
    "against the variable parts' (512): ValueError from the witness search for every "
    "hstack/vstack of a variable and data that DCP does not settle both ways"
)
REGRESSION_BUGS: dict[str, str] = {
    "nsd_quad_form_of_a_positive_convex_argument": (
        "BUG: weaker than CVXPY: quad_form(u, [[-1]]) = -u**2 is nonincreasing where u >= 0, "
        "but the quad_form row (convexcheck/tensor/atoms_matrix.py) declares no "
        "monotonicity, so -(|x| + 1.17)**2 is not proved concave"
    ),
}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            n,
            marks=[pytest.mark.xfail(strict=True, reason=REGRESSION_BUGS[n])]
            if n in REGRESSION_BUGS
            else [],
        )
        for n in sorted(REGRESSIONS)
    ],
)
def test_regression(name):
    stats: Counter = Counter()
    problems = judge(_case(REGRESSIONS[name]), stats)
    if name not in STRENGTH:  # soundness only; weakness is tested where it is the point
        problems = [p for p in problems if not p.startswith("WEAKER")]
    assert not problems, problems
    assert not any(k.startswith(("known_weakness", "known_crash")) for k in stats), stats


def test_the_oracle_catches_a_wrong_proof():
    """The attack is not toothless: it refutes a false claim of convexity."""
    case = _case(
        "x0 = cp.Variable(3, name='x0')\nexpr = cp.sum(cp.multiply(x0, x0)) - cp.sum(cp.exp(x0))"
    )
    assert jensen_attack(case, "convex", Counter())
    assert jensen_attack(case, "concave", Counter())
    case = _case("x0 = cp.Variable(3, pos=True, name='x0')\nexpr = cp.sum(cp.power(x0, 0.9999999))")
    assert jensen_attack(case, "convex", Counter())
    assert not jensen_attack(case, "concave", Counter())


def test_the_answer_does_not_depend_on_the_size():
    """Small expressions also go through the scalarised ladder; its refutations must hold for
    the tensor reading of the atoms (quad_over_lin needs y > 0 there)."""
    answers = []
    for n in (2, 20):
        x, y = cp.Variable(n, name="x"), cp.Variable(name="y")
        r = cc.check(cp.quad_over_lin(x, y), seed=0, budget_s=BUDGET_S)
        answers.append(r.convex.answer)
    # CVXPY's quad_over_lin is +inf for y <= 0: convex on the set where it is finite, for
    # every size (the scalar ladder's refutation at y < 0 is not about this function)
    assert answers == ["yes", "yes"], answers


def test_exact_semidefiniteness_of_the_oracle():
    assert exactly_semidefinite(np.array([[1.0, 2.0], [2.0, 4.0]]))  # singular PSD
    assert exactly_semidefinite(-np.eye(3))
    assert not exactly_semidefinite(np.array([[1.0, 2.0], [2.0, 4.0 - 2.0**-40]]))
    assert not exactly_semidefinite(np.diag([1.0, -1.0]))
