"""CVXPY expression -> tensor tree, node for node, without scalarising.

Each CVXPY atom becomes one node of :mod:`convexcheck.tensor.expr` (or a short fixed spelling of
it, e.g. ``entr(u)`` is ``-(u log u)``), constants keep their float64 data as arrays, and
variables carry their shape and the domain their attributes declare (``nonneg``, ``pos``,
``bounds``, ``symmetric``, ``PSD``...). Anything not listed here is a one-line input error that
names the CVXPY class, never a silent approximation.

As in the scalar bridge, the function judged is the formula each atom denotes on the variables'
domain; CVXPY's implicit domains (``log`` is ``-inf`` for ``x <= 0``) are not imported, so a
``log`` of a possibly nonpositive argument is "not proved" rather than proved on a set the
user did not declare. The matrix atoms ``log_det``, ``tr_inv`` and ``matrix_frac`` are the
exception CVXPY's own definition makes: they are taken on the PSD cone, as declared by the
variable's ``PSD=True`` attribute.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.errors import ConvexcheckInputError
from convexcheck.tensor import atoms_nonlinear  # noqa: F401  (registers the nonlinear rows)
from convexcheck.tensor.atoms import ROWS, make
from convexcheck.tensor.expr import MAX_CONSTANT_ENTRIES, TExpr, constant, variable

# operations whose float evaluation of constants is exact (data movement and negation), so a
# constant subtree made of them is folded into one constant node
_EXACT_FOLDS = frozenset(
    {"neg", "transpose", "reshape", "promote", "index", "concatenate", "diag_vec", "diag_mat"}
)

_UNSUPPORTED_ATTRIBUTES = ("complex", "imag", "hermitian", "boolean", "integer", "diag", "sparsity")


def _fold(node: TExpr) -> TExpr:
    if node.op in _EXACT_FOLDS and node.args and all(a.op == "constant" for a in node.args):
        row = ROWS[node.op]
        value = row.numpy(node, [np.asarray(a.value)[None] for a in node.args])[0]
        return constant(np.asarray(value))
    return node


def _p_value(expr: Any) -> Fraction:
    raw = getattr(expr, "_p_orig", None)
    if raw is None:
        raw = expr.p.value if hasattr(expr.p, "value") else expr.p
    if isinstance(raw, Fraction):
        return raw
    value = float(np.asarray(raw))
    if not np.isfinite(value):
        raise ConvexcheckInputError(f"the exponent {raw!r} is not finite")
    # the exact value of the float64 CVXPY evaluates with: rounding it to a nearby simple
    # fraction would judge another function (x**0.9999999 read as the affine x**1)
    return Fraction(value)


class TensorTranslator:
    """Translates one CVXPY expression; shared subexpressions and variables translate once."""

    def __init__(self) -> None:
        self.memo: dict[int, TExpr] = {}
        self.variables: dict[int, TExpr] = {}
        self.originals: dict[str, Any] = {}  # tree variable name -> the user's CVXPY variable
        self.names: set[str] = set()
        self.notes: list[str] = []

    def translate(self, root: Any) -> TExpr:
        # iterative post-order: CVXPY trees of long sums are deep
        stack: list[tuple[Any, bool]] = [(root, False)]
        while stack:
            expr, expanded = stack.pop()
            if id(expr) in self.memo:
                continue
            if expanded or not getattr(expr, "args", None):
                self.memo[id(expr)] = self._node(expr)
                continue
            stack.append((expr, True))
            stack.extend((a, False) for a in reversed(expr.args) if id(a) not in self.memo)
        return self.memo[id(root)]

    # ---- leaves ---------------------------------------------------------------------------
    def _variable(self, var: Any) -> TExpr:
        hit = self.variables.get(var.id)
        if hit is not None:
            return hit
        attrs = var.attributes
        for a in _UNSUPPORTED_ATTRIBUTES:
            if attrs.get(a):
                raise ConvexcheckInputError(
                    f"CVXPY variable {var.name()} with {a}=True is not supported"
                )
        name = var.name()
        base = name if name.isidentifier() else "var"
        candidate, k = base, 1
        while candidate in self.names:
            candidate = f"{base}_{k}"
            k += 1
        self.names.add(candidate)
        shape = tuple(var.shape)
        lo: Any = -np.inf
        hi: Any = np.inf
        lo_open = hi_open = False
        bounds = attrs.get("bounds")
        if bounds is not None:
            lo = _bound_array(bounds[0], shape, -np.inf, name)
            hi = _bound_array(bounds[1], shape, np.inf, name)
        if attrs.get("pos"):
            lo, lo_open = np.maximum(lo, 0.0), True
        elif attrs.get("nonneg"):
            lo = np.maximum(lo, 0.0)
        if attrs.get("neg"):
            hi, hi_open = np.minimum(hi, 0.0), True
        elif attrs.get("nonpos"):
            hi = np.minimum(hi, 0.0)
        node = variable(
            candidate,
            shape,
            lo=lo,
            hi=hi,
            lo_open=lo_open,
            hi_open=hi_open,
            symmetric=bool(attrs.get("symmetric")),
            psd=bool(attrs.get("PSD")),
            nsd=bool(attrs.get("NSD")),
        )
        self.variables[var.id] = node
        self.originals[candidate] = var
        return node

    @staticmethod
    def _constant(expr: Any) -> TExpr:
        value = expr.value
        if value is None:
            raise ConvexcheckInputError(
                f"the CVXPY Parameter {expr.name()} has no value; set .value before checking"
            )
        if hasattr(value, "toarray"):  # a SciPy sparse matrix, made dense: check the size first
            entries = int(np.prod(value.shape, dtype=np.int64))
            if entries > MAX_CONSTANT_ENTRIES:
                raise ConvexcheckInputError(
                    f"a sparse constant with {entries:,} entries is too large "
                    f"(at most {MAX_CONSTANT_ENTRIES:,})"
                )
            value = value.toarray()
        # CVXPY's Constant holds its own copy of the data; a Parameter's value may change
        owned = type(expr).__name__ == "Constant"
        return constant(np.asarray(value).reshape(expr.shape), owned=owned)

    # ---- one CVXPY node -------------------------------------------------------------------
    def _node(self, expr: Any) -> TExpr:
        name = type(expr).__name__
        if name == "Variable":
            return self._variable(expr)
        if name in ("Constant", "Parameter", "CallbackParam"):
            return self._constant(expr)
        args = [self.memo[id(a)] for a in expr.args]
        out = self._atom(name, expr, args)
        if tuple(out.shape) != tuple(expr.shape):
            out = make("reshape", [out], (tuple(expr.shape), "C"))
        return _fold(out)

    def _atom(self, name: str, expr: Any, args: list[TExpr]) -> TExpr:
        if name in _BROADCASTING and len({a.shape for a in args}) > 1:
            args = _promoted(args)
        simple = {
            "AddExpression": "add",
            "NegExpression": "neg",
            "exp": "exp",
            "log": "log",
            "abs": "abs",
            "logistic": "logistic",
            "maximum": "maximum",
            "minimum": "minimum",
            "kl_div": "kl_div",
            "rel_entr": "rel_entr",
            "Trace": "trace",
            "lambda_max": "lambda_max",
            "log_det": "log_det",
            "tr_inv": "tr_inv",
            "normNuc": "normNuc",
            "sigma_max": "sigma_max",
            "MatrixFrac": "matrix_frac",
            "kron": "kron",
        }
        if name in simple:
            return make(simple[name], args)
        if name == "xexp":  # CVXPY's xexp is defined on x >= 0
            return make("xexp", args, ("cvxpy",))
        if name == "multiply":
            return make("multiply", args)
        if name == "MulExpression":
            a, b = args
            if not a.shape or not b.shape:  # a scaling
                return make("multiply", _promoted(args) if a.shape != b.shape else args)
            return make("matmul", args)
        if name == "DivExpression":
            return make("divide", args)
        if name == "index":
            return make("index", args, (_numpy_key(expr.key),))
        if name == "special_index":
            return make("index", args, (expr.key,))
        if name == "reshape":
            return make("reshape", args, (tuple(expr.shape), getattr(expr, "order", "F")))
        if name == "vec":
            return make("reshape", args, ((args[0].size,), "F"))
        if name in ("Promote", "promote", "broadcast_to"):
            return make("promote", args, (tuple(expr.shape),))
        if name == "transpose":
            return make("transpose", args)
        if name in ("Hstack", "Vstack", "Concatenate", "concatenate"):
            return self._stack(name, expr, args)
        if name in ("Sum", "sum"):
            return make(
                "sum", args, (getattr(expr, "axis", None), bool(getattr(expr, "keepdims", False)))
            )
        if name == "cumsum":
            axis = getattr(expr, "axis", 0)
            arg = args[0]
            if axis is None:  # CVXPY flattens in C order first
                arg = make("reshape", [arg], ((arg.size,), "C"))
                axis = 0
            return make("cumsum", [arg], (axis,))
        if name in ("diag_vec", "diag_mat"):
            if getattr(expr, "k", 0):
                raise ConvexcheckInputError(f"CVXPY {name} with an offset k is not supported")
            arg = args[0]
            if name == "diag_vec" and len(arg.shape) != 1:
                arg = make("reshape", [arg], ((arg.size,), "F"))
            return make(name, [arg])
        if name in ("conv", "convolve"):
            if args[0].op != "constant":
                raise ConvexcheckInputError("convolve needs a constant first argument")
            return make("conv", args)
        if name in ("Power", "PowerApprox", "power"):
            p = _p_value(expr)
            if p == 1:
                return args[0]
            if p == 0:
                return constant(np.ones(expr.shape))
            # CVXPY's power is defined on x >= 0 (x > 0 for p < 0) wherever its own .domain
            # says so (every p but the powers of two)
            if getattr(expr, "domain", None):
                return make("power", args, (p, "cvxpy"))
            return make("power", args, (p,))
        if name == "huber":
            m = float(np.asarray(expr.M.value))
            if not m > 0:
                raise ConvexcheckInputError(f"huber needs M > 0, got {m}")
            return make("huber", args, (m,))
        if name == "entr":
            return make("neg", [make("xlogx", args)])
        if name == "log1p":
            one = constant(np.ones(args[0].shape))
            return make("log", [make("add", [one, args[0]])])
        if name in ("max", "min", "log_sum_exp"):
            return make(
                name, args, (getattr(expr, "axis", None), bool(getattr(expr, "keepdims", False)))
            )
        if name == "lambda_sum_largest":
            k = expr.k
            if int(k) != k or k < 1:
                raise ConvexcheckInputError(
                    f"lambda_sum_largest needs a positive integer k, got {k}"
                )
            return make("lambda_sum_largest", args, (min(int(k), args[0].shape[0]),))
        if name == "sum_largest":
            k = expr.k
            if int(k) != k or k < 1:
                raise ConvexcheckInputError(f"sum_largest needs a positive integer k, got {k}")
            return make("sum_largest", args, (min(int(k), args[0].size),))
        if name in ("norm1", "norm_inf", "Pnorm", "PnormApprox", "pnorm"):
            p: Any = {"norm1": Fraction(1), "norm_inf": np.inf}.get(name)
            if p is None:
                raw = expr.p
                p = (
                    np.inf
                    if raw in ("inf", np.inf)
                    else Fraction(raw)
                    if isinstance(raw, Fraction)
                    else Fraction(float(raw))
                )
            return make(
                "pnorm",
                args,
                (getattr(expr, "axis", None), bool(getattr(expr, "keepdims", False)), p),
            )
        if name == "quad_over_lin":
            if getattr(expr, "axis", None) is not None:
                raise ConvexcheckInputError("quad_over_lin with an axis is not supported")
            return make("quad_over_lin", args)
        if name in ("geo_mean", "GeoMean", "GeoMeanApprox"):
            if getattr(expr, "axis", None) is not None:
                raise ConvexcheckInputError("geo_mean with an axis is not supported")
            return make("geo_mean", args, (tuple(Fraction(w) for w in expr.w),))
        if name in ("QuadForm", "quad_form", "SymbolicQuadForm"):
            x, p = args
            if x.size != x.shape[0] if x.shape else False:
                x = make("reshape", [x], ((x.size,), "F"))
            return make("quad_form", [x, p])
        if name == "psd_wrap":
            self.notes.append(
                "psd_wrap: the wrapped matrix is checked for PSD-ness like any other; the wrapper "
                "is not taken as proof"
            )
            return args[0]
        raise ConvexcheckInputError(f"the CVXPY atom {name} is not supported by convexcheck")

    @staticmethod
    def _stack(name: str, expr: Any, args: list[TExpr]) -> TExpr:
        if name == "Vstack":
            parts = [
                a if len(a.shape) >= 2 else make("reshape", [a], ((1, a.size), "C")) for a in args
            ]
            return make("concatenate", parts, (0,))
        if name == "Hstack":
            axis = 0 if len(args[0].shape) <= 1 else 1
            parts = [a if a.shape else make("reshape", [a], ((1,), "C")) for a in args]
            return make("concatenate", parts, (axis,))
        axis = getattr(expr, "axis", 0)
        return make("concatenate", args, (axis if axis is not None else 0,))


# elementwise atoms of several arguments that CVXPY lets broadcast without a Promote node
# (maximum(x, t), multiply(y, t), y / t for a scalar t; t * y is a MulExpression): their
# arguments are promoted to the common shape here, which the batched evaluation of these rows
# needs (it raised ValueError, or paired the wrong batch entries when a side had 512 entries)
_BROADCASTING = frozenset(
    {
        "AddExpression",
        "multiply",
        "DivExpression",
        "maximum",
        "minimum",
        "kl_div",
        "rel_entr",
    }
)


def _promoted(args: list[TExpr]) -> list[TExpr]:
    try:
        shape = tuple(np.broadcast_shapes(*(a.shape for a in args)))
    except ValueError:
        return args  # a matrix product, or a misfit make() will name
    return [a if a.shape == shape else _fold(make("promote", [a], (shape,))) for a in args]


def _numpy_key(key: Any) -> Any:
    """CVXPY's normalised basic-index key as NumPy reads it.

    CVXPY writes a negative-step slice with absolute ends in ``[-1, dim - 1]``, where ``-1``
    means "before entry 0" (``x[::-1]`` is ``slice(n - 1, -1, -1)``); NumPy would read that
    ``-1`` as the last entry.
    """

    def one(k: Any) -> Any:
        if not isinstance(k, slice) or k.step is None or k.step > 0:
            return k
        start = None if k.start is None else int(k.start)
        stop = None if k.stop is None else int(k.stop)
        if start is not None and start < 0:
            return slice(0, 0, 1)  # starts before entry 0: empty
        return slice(start, None if stop is None or stop < 0 else stop, int(k.step))

    return tuple(one(k) for k in key) if isinstance(key, tuple) else one(key)


def _bound_array(value: Any, shape: tuple[int, ...], default: float, name: str) -> np.ndarray:
    if value is None:
        return np.full(shape, default)
    arr = np.asarray(getattr(value, "value", value), dtype=float)
    if np.any(np.isnan(arr)):
        raise ConvexcheckInputError(f"the bounds of {name} contain NaN")
    try:
        return np.broadcast_to(arr, shape).astype(float)
    except ValueError:
        raise ConvexcheckInputError(
            f"the bounds of {name} have shape {arr.shape}, not that of the variable {shape}"
        ) from None


def from_cvxpy_tensor(expr: Any) -> tuple[TExpr, list[str]]:
    """``(tree, notes)`` for any CVXPY expression; raises a one-line input error."""
    t = TensorTranslator()
    return t.translate(expr), t.notes


def translate_with_variables(expr: Any) -> tuple[TExpr, list[str], dict[str, Any]]:
    """``(tree, notes, {tree variable name: the user's CVXPY variable})``."""
    t = TensorTranslator()
    return t.translate(expr), t.notes, t.originals
