"""Translate a scalar CVXPY expression into the IR, with domains from the variables' attributes.

Every CVXPY sub-expression becomes a NumPy object array of IR nodes with the same shape, so
vector and matrix variables, indexing, broadcasting, constant matrix products and reductions
translate elementwise; entry ``i`` of a vector variable ``x`` is the scalar variable ``x_i``
(``x_i_j`` for matrices). Sign attributes (``nonneg``, ``pos``, ``neg``, ``nonpos``) and
``bounds`` become domains.

The translation is of the *mathematical formula* each atom denotes: CVXPY's implicit domain
restrictions (``power(x, 3)`` is ``+inf`` for ``x < 0``) are not imported, so give the variable a
sign attribute if that restriction matters to you.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.errors import ConvexcheckInputError
from convexcheck.symbolic import ir
from convexcheck.symbolic.atoms import UNARY_ATOMS
from convexcheck.symbolic.interval import INF, NEGATIVE, NONNEG, NONPOS, POSITIVE, Interval
from convexcheck.symbolic.ir import UNARY_FUNCTIONS, Node

#: CVXPY atom name -> the IR function, for every function of the grammar whose row names a
#: CVXPY atom of one argument (``exp``, ``log``, ``abs``).
_CVXPY_FUNCTIONS = {
    UNARY_ATOMS[name].cvxpy_name: name
    for name in UNARY_FUNCTIONS
    if (UNARY_ATOMS[name].cvxpy_name or "").isidentifier()
}


def _q(value: Any) -> Fraction:
    f = float(value)
    if not np.isfinite(f):
        raise ConvexcheckInputError(f"the CVXPY constant {value} is not finite")
    return Fraction(repr(f))


def _num_array(value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = ir.num(_q(arr[idx]))
    return out


def _elementwise(fn, *arrays: np.ndarray) -> np.ndarray:
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype=object) for a in arrays])
    out = np.empty(arrays[0].shape, dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = fn(*(a[idx] for a in arrays))
    return out


def _all(arr: np.ndarray) -> list[Node]:
    return [arr[idx] for idx in np.ndindex(arr.shape)]


def _scalar(node: Node) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = node
    return out


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a2 = a if a.ndim == 2 else a.reshape((1, -1)) if a.ndim == 1 else a.reshape((1, 1))
    b2 = b if b.ndim == 2 else b.reshape((-1, 1)) if b.ndim == 1 else b.reshape((1, 1))
    rows, inner = a2.shape
    inner_b, cols = b2.shape
    if inner != inner_b:
        raise ConvexcheckInputError("incompatible shapes in a CVXPY matrix product")
    out = np.empty((rows, cols), dtype=object)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = ir.add(*(ir.mul(a2[i, k], b2[k, j]) for k in range(inner)))
    shape = (
        (rows, cols)
        if a.ndim == 2 and b.ndim == 2
        else (rows,)
        if a.ndim == 2
        else (cols,)
        if b.ndim == 2
        else ()
    )
    return out.reshape(shape)


def _clean_name(name: str, used: set[str]) -> str:
    base = name if name.isidentifier() and not name.startswith("_") else "var"
    candidate, k = base, 1
    while candidate in used:
        candidate = f"{base}{k}"
        k += 1
    used.add(candidate)
    return candidate


class _Translator:
    def __init__(self) -> None:
        self.domains: dict[str, Interval] = {}
        self.names: dict[int, str] = {}
        self.used: set[str] = set()

    def variable(self, var: Any) -> np.ndarray:
        base = self.names.get(var.id)
        if base is None:
            base = self.names[var.id] = _clean_name(var.name(), self.used)
        domain = self._domain(var)
        out = np.empty(var.shape, dtype=object)
        for idx in np.ndindex(var.shape):
            name = base if not idx else base + "".join(f"_{i}" for i in idx)
            out[idx] = ir.var(name)
            dom = domain(idx) if callable(domain) else domain
            if dom is not None:
                self.domains[name] = dom
        return out

    @staticmethod
    def _domain(var: Any):
        attrs = var.attributes
        bounds = attrs.get("bounds")
        if bounds is not None:
            lo_arr = np.broadcast_to(np.asarray(bounds[0], dtype=float), var.shape)
            hi_arr = np.broadcast_to(np.asarray(bounds[1], dtype=float), var.shape)

            def at(idx):
                lo, hi = float(lo_arr[idx]), float(hi_arr[idx])
                return Interval(-INF if lo == -np.inf else _q(lo), INF if hi == np.inf else _q(hi))

            return at
        if attrs.get("pos"):
            return POSITIVE
        if attrs.get("nonneg"):
            return NONNEG
        if attrs.get("neg"):
            return NEGATIVE
        if attrs.get("nonpos"):
            return NONPOS
        return None

    def translate(self, expr: Any) -> np.ndarray:
        name = type(expr).__name__
        args = [self.translate(a) for a in expr.args] if name not in ("Variable",) else []
        if name == "Variable":
            return self.variable(expr)
        if name in ("Constant", "Parameter", "CallbackParam"):
            if expr.value is None:
                raise ConvexcheckInputError("a CVXPY Parameter without a value cannot be checked")
            return _num_array(expr.value)
        if name == "AddExpression":
            out = args[0]
            for a in args[1:]:
                out = _elementwise(ir.add, out, a)
            return out
        if name == "NegExpression":
            return _elementwise(ir.neg, args[0])
        if name == "multiply":
            return _elementwise(ir.mul, args[0], args[1])
        if name == "MulExpression":
            return _matmul(args[0], args[1])
        if name == "DivExpression":
            return _elementwise(ir.div, args[0], args[1])
        if name in ("index", "special_index"):
            from convexcheck.tensor.cvxpy_bridge import _numpy_key

            # CVXPY's negative-step slices end at -1 ("before entry 0"), not NumPy's last entry
            key = _numpy_key(expr.key) if name == "index" else expr.key
            return np.asarray(args[0][key]).reshape(expr.shape)
        if name in ("reshape", "promote", "broadcast_to", "vec"):
            order = getattr(expr, "order", "F")
            if args[0].size == 1:  # a single entry: broadcast (a (1, 1) operand has 2 axes)
                return np.broadcast_to(np.asarray(args[0]).reshape(()), expr.shape)
            return np.reshape(args[0], expr.shape, order=order)
        if name in ("Hstack", "Vstack"):
            parts = [np.atleast_1d(a) for a in args]
            return np.concatenate(parts, axis=0 if name == "Vstack" or parts[0].ndim == 1 else 1)
        if name in ("Sum", "sum"):
            self._no_axis(expr)
            return _scalar(ir.add(*_all(args[0])))
        if name in ("Power", "PowerApprox", "power"):
            p = Fraction(repr(float(getattr(expr, "_p_orig", None) or expr.p.value)))
            return _elementwise(lambda u: ir.power(u, ir.num(p)), args[0])
        if name in _CVXPY_FUNCTIONS:
            fn = _CVXPY_FUNCTIONS[name]
            return _elementwise(lambda u: ir.func(fn, u), args[0])
        if name in ("maximum", "minimum"):
            fn = "Max" if name == "maximum" else "Min"
            return _elementwise(lambda *us: ir.func(fn, *us), *args)
        if name in ("max", "min"):
            self._no_axis(expr)
            return _scalar(ir.func("Max" if name == "max" else "Min", *_all(args[0])))
        if name == "quad_over_lin":
            squares = ir.add(*(ir.power(u, ir.num(2)) for u in _all(args[0])))
            return _scalar(ir.div(squares, _all(args[1])[0]))
        if name == "logistic":
            return _elementwise(
                lambda u: ir.func("log", ir.add(ir.ONE, ir.func("exp", u))), args[0]
            )
        if name == "log_sum_exp":
            self._no_axis(expr)
            return _scalar(ir.func("log", ir.add(*(ir.func("exp", u) for u in _all(args[0])))))
        if name == "entr":
            return _elementwise(lambda u: ir.neg(ir.mul(u, ir.func("log", u))), args[0])
        if name == "rel_entr":
            return _elementwise(lambda u, v: ir.mul(u, ir.func("log", ir.div(u, v))), *args)
        if name == "kl_div":
            return _elementwise(
                lambda u, v: ir.add(ir.mul(u, ir.func("log", ir.div(u, v))), ir.neg(u), v), *args
            )
        if name in ("Pnorm", "PnormApprox", "pnorm", "norm1", "norm_inf"):
            self._no_axis(expr)
            entries = _all(args[0])
            p = {"norm1": 1, "norm_inf": "inf"}.get(name, getattr(expr, "p", 2))
            if p == "inf" or p == np.inf:
                return _scalar(ir.func("Max", *(ir.func("Abs", u) for u in entries)))
            p = Fraction(repr(float(p)))
            if p == 1:
                return _scalar(ir.add(*(ir.func("Abs", u) for u in entries)))
            if p == 2:
                return _scalar(ir.sqrt(ir.add(*(ir.power(u, ir.num(2)) for u in entries))))
            inner = ir.add(*(ir.power(ir.func("Abs", u), ir.num(p)) for u in entries))
            return _scalar(ir.power(inner, ir.num(1 / p)))
        if name == "huber":
            m = ir.num(_q(expr.M.value))
            return _elementwise(
                lambda u: ir.piecewise(
                    [
                        (ir.power(u, ir.num(2)), ir.relation("<=", ir.func("Abs", u), m)),
                        (
                            ir.sub(ir.mul(ir.num(2), m, ir.func("Abs", u)), ir.power(m, ir.num(2))),
                            ir.TRUE,
                        ),
                    ]
                ),
                args[0],
            )
        if name in ("geo_mean", "GeoMeanApprox", "GeoMean"):
            weights = [Fraction(w) for w in expr.w]
            entries = _all(args[0])
            return _scalar(
                ir.mul(*(ir.power(u, ir.num(w)) for u, w in zip(entries, weights) if w != 0))
            )
        if name in ("QuadForm", "quad_form"):
            x, p = args
            xs, ps = _all(x), np.asarray(p).reshape((len(_all(x)), -1))
            terms = [
                ir.mul(ps[i, j], xs[i], xs[j])
                for i in range(len(xs))
                for j in range(len(xs))
                if not ir.is_num(ps[i, j], 0)
            ]
            return _scalar(ir.add(*terms))
        if name == "xexp":
            return _elementwise(lambda u: ir.mul(u, ir.func("exp", u)), args[0])
        raise ConvexcheckInputError(f"CVXPY atom {name} is not supported")

    @staticmethod
    def _no_axis(expr: Any) -> None:
        if getattr(expr, "axis", None) is not None:
            raise ConvexcheckInputError(
                f"CVXPY {type(expr).__name__} with axis={expr.axis} is not supported (scalar "
                "reductions only)"
            )


def from_cvxpy(expr: Any) -> tuple[Node, dict[str, Interval]]:
    """``(node, domains)`` for a scalar CVXPY expression."""
    if getattr(expr, "shape", None) not in ((), (1,), (1, 1)):
        raise ConvexcheckInputError(
            f"expected a scalar CVXPY expression, got shape {getattr(expr, 'shape', None)}"
        )
    t = _Translator()
    arr = t.translate(expr)
    (node,) = _all(np.asarray(arr))
    return node, t.domains
