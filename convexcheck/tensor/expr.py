"""The shape-aware expression tree: one node per operation, constants kept as float64 arrays.

Why a second tree next to :mod:`convexcheck.symbolic.ir`: a CVXPY problem has vectors and matrices
with float data, and expanding ``A @ x`` for a 2,000 x 10,000 ``A`` into twenty million scalar
nodes (every float an exact fraction) is what made the scalar bridge take minutes where CVXPY
takes a millisecond. Here ``A @ x`` is *one* node holding ``A`` as a NumPy array; every float64
is a dyadic rational, so the array *is* the exact data, nothing is rounded by keeping it.

Nodes are immutable and compared by identity (CVXPY's trees are DAGs already; a shared
subexpression stays shared). ``op`` names a row of :mod:`convexcheck.tensor.atoms`, whose shape
rule has already been applied when the node was built, so every node knows its ``shape``.
Shapes follow NumPy (and CVXPY): ``()`` scalar, ``(n,)`` vector, ``(m, n)`` matrix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from convexcheck.errors import ConvexcheckInputError

Shape = tuple[int, ...]

# Entries a single constant may hold: about 800 MB of float64. Beyond that the user gets a
# one-line error instead of an out-of-memory kill.
MAX_CONSTANT_ENTRIES = 10**8 - 1


@dataclass(frozen=True)
class VariableInfo:
    """A variable: its name, shape and elementwise domain (closed/open bounds per entry).

    ``symmetric``/``psd``/``nsd`` are the matrix attributes CVXPY offers; they restrict the
    domain to a set that is still convex, so convexity on it is a meaningful question.
    """

    name: str
    shape: Shape
    lo: np.ndarray
    hi: np.ndarray
    lo_open: np.ndarray
    hi_open: np.ndarray
    symmetric: bool = False
    psd: bool = False
    nsd: bool = False

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    def domain_word(self) -> str:
        """A short description for reports: ``real``, ``positive``, ``[0, 1]``, ``PSD``..."""
        if self.psd:
            return "PSD"
        if self.nsd:
            return "NSD"
        words = []
        lo, hi = np.unique(self.lo), np.unique(self.hi)
        lo_open, hi_open = np.unique(self.lo_open), np.unique(self.hi_open)
        if len(lo) == 1 and len(hi) == 1 and len(lo_open) == 1 and len(hi_open) == 1:
            a, b, ao, bo = float(lo[0]), float(hi[0]), bool(lo_open[0]), bool(hi_open[0])
            named = {
                (-np.inf, np.inf): "real",
                (0.0, np.inf, False): "nonnegative",
                (0.0, np.inf, True): "positive",
                (-np.inf, 0.0, False): "nonpositive",
                (-np.inf, 0.0, True): "negative",
            }
            key = (a, b) if (a, b) == (-np.inf, np.inf) else (a, b, ao if a == 0 else bo)
            word = named.get(key)  # type: ignore[call-overload]
            if word is None:
                left = "(" if ao else "["
                right = ")" if bo else "]"
                word = f"{left}{_num(a)}, {_num(b)}{right}"
            words.append(word)
        else:
            words.append("bounded entrywise")
        if self.symmetric:
            words.append("symmetric")
        return " ".join(words)


def _num(v: float) -> str:
    if v == np.inf:
        return "oo"
    if v == -np.inf:
        return "-oo"
    return repr(int(v)) if v == int(v) and abs(v) < 2**53 else repr(v)


class TExpr:
    """A node: ``op`` (an atom name, ``"variable"`` or ``"constant"``), its ``args``, ``shape``,
    hashable atom parameters ``params`` (axis, exponent, index key...), and for a constant its
    ``value`` (a read-only float64 array) or for a variable its :class:`VariableInfo`."""

    __slots__ = ("args", "op", "params", "shape", "value", "variable")

    def __init__(
        self,
        op: str,
        args: tuple[TExpr, ...],
        shape: Shape,
        params: tuple = (),
        value: np.ndarray | None = None,
        variable: VariableInfo | None = None,
    ) -> None:
        self.op = op
        self.args = args
        self.shape = tuple(int(s) for s in shape)
        self.params = params
        self.value = value
        self.variable = variable

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def is_constant(self) -> bool:
        return self.op == "constant"

    def __repr__(self) -> str:
        if self.op == "variable":
            return f"TExpr(variable {self.variable.name}, shape={self.shape})"  # type: ignore[union-attr]
        return f"TExpr({self.op}, shape={self.shape}, args={len(self.args)})"


def constant(value: Any, *, owned: bool = False) -> TExpr:
    """A constant node; rejects what is not real, finite data (one-line errors).

    The data is copied (the user's array may change after the check starts) unless ``owned``
    says the caller's array is private already (CVXPY keeps its own copy in a ``Constant``);
    either way the node holds a read-only array.
    """
    arr = np.asarray(value)
    if arr.dtype == object:
        raise ConvexcheckInputError("constant data must be numeric, got an object array")
    if np.iscomplexobj(arr):
        if np.any(np.imag(arr) != 0):
            raise ConvexcheckInputError(
                "complex data is not supported (convexity is for real functions)"
            )
        arr = np.real(arr)
    if arr.size > MAX_CONSTANT_ENTRIES:
        raise ConvexcheckInputError(
            f"a constant with {arr.size:,} entries is too large (at most {MAX_CONSTANT_ENTRIES:,})"
        )
    if owned and arr.dtype == np.float64:
        arr = arr.view()
    else:
        arr = np.array(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ConvexcheckInputError("constant data contains NaN or inf")
    arr.setflags(write=False)
    return TExpr("constant", (), arr.shape, value=arr)


def variable(
    name: str,
    shape: Shape = (),
    *,
    lo: Any = -np.inf,
    hi: Any = np.inf,
    lo_open: Any = False,
    hi_open: Any = False,
    symmetric: bool = False,
    psd: bool = False,
    nsd: bool = False,
) -> TExpr:
    """A variable with elementwise bounds (broadcast to ``shape``)."""
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ConvexcheckInputError(f"{name}: a shape cannot have negative entries, got {shape}")
    entries = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if entries > MAX_CONSTANT_ENTRIES:
        raise ConvexcheckInputError(
            f"a variable with {entries:,} entries is too large (at most {MAX_CONSTANT_ENTRIES:,})"
        )
    arrays = []
    for a, dtype in ((lo, float), (hi, float), (lo_open, bool), (hi_open, bool)):
        try:
            b = np.array(np.broadcast_to(np.asarray(a, dtype=dtype), shape))
        except (TypeError, ValueError):
            raise ConvexcheckInputError(
                f"the bounds of {name} do not fit its shape {shape}: {np.shape(a)}"
            ) from None
        b.setflags(write=False)
        arrays.append(b)
    lo_a, hi_a, lo_o, hi_o = arrays
    if np.any(np.isnan(lo_a)) or np.any(np.isnan(hi_a)):
        raise ConvexcheckInputError(f"the bounds of {name} contain NaN")
    if np.any(lo_a > hi_a) or np.any((lo_a == hi_a) & (lo_o | hi_o)):
        raise ConvexcheckInputError(f"the bounds of {name} describe an empty set")
    if (symmetric or psd or nsd) and (len(shape) != 2 or shape[0] != shape[1]):
        raise ConvexcheckInputError(f"{name}: symmetric/PSD attributes need a square matrix")
    info = VariableInfo(name, shape, lo_a, hi_a, lo_o, hi_o, symmetric or psd or nsd, psd, nsd)
    return TExpr("variable", (), shape, variable=info)


def broadcast_shapes(*shapes: Shape) -> Shape:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ConvexcheckInputError(
            "shapes " + ", ".join(str(s) for s in shapes) + " cannot be broadcast together"
        ) from None


def matmul_shape(a: Shape, b: Shape) -> Shape:
    """NumPy's ``@`` shape rule for 1-D and 2-D operands (a scalar operand is a scaling)."""
    if not a or not b:
        return broadcast_shapes(a, b)
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if len(a) > 2 or len(b) > 2 or inner_a != inner_b:
        raise ConvexcheckInputError(f"shapes {a} and {b} are not aligned for a matrix product")
    if len(a) == 1 and len(b) == 1:
        return ()
    if len(a) == 1:
        return (b[1],)
    if len(b) == 1:
        return (a[0],)
    return (a[0], b[1])


def reduced_shape(shape: Shape, axis: int | None, keepdims: bool = False) -> Shape:
    if axis is None:
        return tuple(1 for _ in shape) if keepdims else ()
    if not -len(shape) <= axis < len(shape):
        raise ConvexcheckInputError(f"axis {axis} is out of range for shape {shape}")
    axis %= len(shape)
    if keepdims:
        return tuple(1 if i == axis else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i != axis)


def postorder(root: TExpr) -> Iterator[TExpr]:
    """Every distinct node once, children before parents, without recursion (deep trees)."""
    seen: set[int] = set()
    stack: list[tuple[TExpr, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in seen:
            continue
        if expanded:
            seen.add(id(node))
            yield node
            continue
        stack.append((node, True))
        for child in reversed(node.args):
            if id(child) not in seen:
                stack.append((child, False))


def variables_of(root: TExpr) -> list[VariableInfo]:
    """The distinct variables, in order of first appearance; two with one name are an error."""
    out: dict[str, VariableInfo] = {}
    for node in postorder(root):
        if node.op == "variable":
            info = node.variable
            assert info is not None
            known = out.get(info.name)
            if known is not None and known is not info:
                raise ConvexcheckInputError(f"two different variables are both named {info.name!r}")
            out[info.name] = info
    return list(out.values())


def tree_size(root: TExpr) -> int:
    return sum(1 for _ in postorder(root))


def short_text(root: TExpr, limit: int = 2000) -> str:
    """A compact functional spelling for reports: ``add(pnorm(matmul(A[200x1000], x)), ...)``.

    Constants are shown by shape only (a scalar by its value): printing a data matrix, as
    CVXPY's ``str`` does, costs more than the whole DCP analysis.
    """
    text: dict[int, str] = {}
    for node in postorder(root):
        if node.op == "variable":
            text[id(node)] = node.variable.name  # type: ignore[union-attr]
        elif node.op == "constant":
            if node.size == 1:
                text[id(node)] = _num(float(np.ravel(node.value)[0]))  # type: ignore[arg-type]
            else:
                text[id(node)] = "const[" + "x".join(str(s) for s in node.shape) + "]"
        else:
            inner = ", ".join(text[id(a)] for a in node.args)
            text[id(node)] = f"{node.op}({inner[:limit]})"
    out = text[id(root)]
    return out if len(out) <= limit else out[:limit] + " ..."
