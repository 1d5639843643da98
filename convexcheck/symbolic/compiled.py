"""A scalar expression compiled into a few batched NumPy calls, for the witness search.

:func:`convexcheck.symbolic.evaluate.evaluate` interprets the tree node by node: one Python
dispatch and one NumPy call per node per batch of points. For a 2,000-term sum that is 13,000
calls per batch, and the Jensen search evaluates dozens of batches, so the *search* for the
question DCP did not settle cost more than everything else in the check together.

:class:`Program` compiles the tree once. Nodes are scheduled by *level* (a leaf has level 0,
any other node one more than its highest child) and the nodes of one level that do the same
thing (all the ``exp`` nodes, all the squares, all the sums...) form one *group*: one NumPy call
gathers the group's arguments from a value table (one row per node, one column per point) and
writes the group's results into a contiguous block of rows. A sum of ``N`` similar terms then
costs a handful of calls whatever ``N`` is; the work per point is still one operation per node,
but done by NumPy's loops instead of Python's. n-ary sums, products, ``Max`` and ``Min`` use
``ufunc.reduce`` over the argument axis of a block of equal arities, which adds row by row,
left to right, as the interpreter does.

Why not :class:`convexcheck.tensor.evaluate.Program`: it is the same idea (compile once, flat
instruction list, batch axis) for the shape-aware tree, but it still issues one NumPy call per
node, which is exactly what is slow for a wide scalar tree; a scalar tree translated into the
tensor tree would have one node per scalar node and gain nothing. What wins here is grouping
like nodes across the tree, which needs every node to be a scalar.

Semantics are :mod:`convexcheck.symbolic.evaluate`'s exactly (SymPy's on the reals: NaN where a
power or ``log`` is undefined, the first ``Piecewise`` piece whose condition holds, NaN where none
does); conditions are kept as 0.0/1.0 rows. ``tests/symbolic/test_compiled.py`` checks agreement
with the interpreter on random trees, undefined points included. Like the interpreter this is a
*search* tool: exact re-verification of a witness never uses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from convexcheck.symbolic.evaluate import _CONSTANTS, _UNARY, to_float
from convexcheck.symbolic.ir import Node, postorder

#: Entries of the value table held at once (rows x points): batches are cut into chunks of
#: points so that the table stays in the processor's cache (4 MB; a 6,700-node sum runs about
#: four times faster than with a table ten times larger) and a 70,000-node tree at 12,000
#: points never needs 6 GB.
TABLE_ENTRIES = 1 << 19

_REDUCE = {
    "add": np.add,
    "mul": np.multiply,
    "Max": np.maximum,
    "Min": np.minimum,
    "And": np.minimum,  # on 0.0/1.0 rows
    "Or": np.maximum,
}
_RELATION = {"<": np.less, "<=": np.less_equal}


def _group_key(node: Node) -> tuple:
    """What a node does, as far as one NumPy call can do it for many nodes at once."""
    op = node.op
    if op == "pow":
        exponent = node.args[1]
        if exponent.op == "num":
            p = exponent.value
            if isinstance(p, int):
                return ("pow_int", p)
            return ("pow_frac", to_float(p))
        return ("pow_var",)
    if op == "Piecewise":
        return ("Piecewise", len(node.args) // 2)
    if op in _REDUCE:
        return (op, len(node.args))
    return (op,)


class Program:
    """``root`` compiled for batched float64 evaluation over the variables ``names``."""

    def __init__(self, root: Node, names: Sequence[str]) -> None:
        self.root = root
        self.names = list(names)
        order = list(postorder(root))
        slot: dict[int, int] = {}
        var_index = {name: i for i, name in enumerate(self.names)}
        nv = len(self.names)
        constants: list[float] = []
        const_nodes: list[Node] = []
        level: dict[int, int] = {}
        groups: dict[tuple, list[Node]] = {}
        for node in order:
            op = node.op
            if op == "var":
                if node.value not in var_index:
                    raise KeyError(node.value)
                slot[id(node)] = var_index[node.value]  # type: ignore[index]
                level[id(node)] = 0
            elif op in ("num", "const", "True", "False"):
                const_nodes.append(node)
                level[id(node)] = 0
            else:
                lv = 1 + max(level[id(a)] for a in node.args)
                level[id(node)] = lv
                groups.setdefault((lv, *_group_key(node)), []).append(node)
        for node in const_nodes:
            slot[id(node)] = nv + len(constants)
            constants.append(_constant_value(node))
        next_slot = nv + len(constants)
        self.code: list[tuple] = []
        for key in sorted(groups, key=lambda k: k[0]):
            nodes = groups[key]
            start = next_slot
            for node in nodes:
                slot[id(node)] = next_slot
                next_slot += 1
            self.code.append(_instruction(key[1:], nodes, slot, start, next_slot))
        self.used = {n.value for n in order if n.op == "var"}
        self.n_vars = nv
        self.n_slots = next_slot
        self.constants = np.array(constants, dtype=np.float64)[:, None]
        self.root_slot = slot[id(root)]
        self.evaluations = 0  # points evaluated

    def run(self, points: np.ndarray) -> np.ndarray:
        """``f`` at the columns of ``points`` (shape ``(len(names), B)``); shape ``(B,)``."""
        points = np.asarray(points, dtype=np.float64)
        batch = points.shape[1]
        out = np.empty(batch)
        chunk = max(1, min(batch, TABLE_ENTRIES // max(self.n_slots, 1)))
        whole = np.empty((self.n_slots, chunk))
        nv, nc = self.n_vars, len(self.constants)
        with np.errstate(all="ignore"):
            for lo in range(0, batch, chunk):
                hi = min(batch, lo + chunk)
                table = whole[:, : hi - lo]
                table[:nv] = points[:, lo:hi]
                table[nv : nv + nc] = self.constants
                for ins in self.code:
                    ins[0](table, *ins[1:])
                out[lo:hi] = table[self.root_slot]
        self.evaluations += batch
        return out

    def __call__(self, env: Mapping[str, Any]) -> np.ndarray:
        """Like :func:`~convexcheck.symbolic.evaluate.evaluate`: ``env`` maps names to arrays
        (all broadcastable); the result has their broadcast shape."""
        shape: tuple[int, ...] = ()
        for v in env.values():
            shape = np.broadcast_shapes(shape, np.shape(v))
        size = int(np.prod(shape, dtype=np.int64))
        points = np.empty((self.n_vars, size))
        for i, name in enumerate(self.names):
            if name in env:
                points[i] = np.broadcast_to(np.asarray(env[name], dtype=float), shape).ravel()
            elif name in self.used:
                raise KeyError(name)
            else:
                points[i] = np.nan  # a name the tree does not read
        return self.run(points).reshape(shape)


def _constant_value(node: Node) -> float:
    if node.op == "num":
        return to_float(node.value)
    if node.op == "const":
        return float(_CONSTANTS[node.value])  # type: ignore[index]
    return 1.0 if node.op == "True" else 0.0


def _rows(indices: list[int]) -> Any:
    """A slice when the rows are consecutive (a view, no copy), else an index array."""
    if indices and indices == list(range(indices[0], indices[0] + len(indices))):
        return slice(indices[0], indices[0] + len(indices))
    return np.array(indices, dtype=np.intp)


def _instruction(key: tuple, nodes: list[Node], slot: dict[int, int], start: int, stop: int):
    kind = key[0]
    out = slice(start, stop)
    if kind in _REDUCE:
        if key[1] == 2:
            left = _rows([slot[id(n.args[0])] for n in nodes])
            right = _rows([slot[id(n.args[1])] for n in nodes])
            return (_binary, _REDUCE[kind], left, right, out)
        indices = [slot[id(a)] for node in nodes for a in node.args]
        return (_reduce, _REDUCE[kind], _rows(indices), (len(nodes), key[1]), out)
    if kind in _UNARY:
        return (_unary, _UNARY[kind], _rows([slot[id(n.args[0])] for n in nodes]), out)
    if kind == "Not":
        return (_not, _rows([slot[id(n.args[0])] for n in nodes]), out)
    if kind in _RELATION:
        left = _rows([slot[id(n.args[0])] for n in nodes])
        right = _rows([slot[id(n.args[1])] for n in nodes])
        return (_binary, _RELATION[kind], left, right, out)
    if kind == "pow_int":
        base = _rows([slot[id(n.args[0])] for n in nodes])
        p = key[1]
        if p < 0 or p > 2**62:  # as the interpreter: NumPy cannot raise to such a Python int
            return (_pow_float, to_float(p), base, out)
        return (_pow_int, p, base, out)
    if kind == "pow_frac":
        return (_pow_frac, key[1], _rows([slot[id(n.args[0])] for n in nodes]), out)
    if kind == "pow_var":
        base = _rows([slot[id(n.args[0])] for n in nodes])
        exponent = _rows([slot[id(n.args[1])] for n in nodes])
        return (_pow_var, base, exponent, out)
    if kind == "Piecewise":
        pieces = key[1]
        values = np.array([[slot[id(a)] for a in n.args[0::2]] for n in nodes], dtype=np.intp)
        conditions = np.array([[slot[id(a)] for a in n.args[1::2]] for n in nodes], dtype=np.intp)
        return (_piecewise, pieces, values, conditions, out)
    raise ValueError(f"cannot compile {kind!r}")  # pragma: no cover - every IR op is above


def _reduce(table, ufunc, rows, shape, out) -> None:
    # (nodes, arity, points), reduced over the arity axis: row by row, left to right
    block = table[rows].reshape(shape + (table.shape[1],))
    ufunc.reduce(block, axis=1, out=table[out])


def _binary(table, fn, left, right, out) -> None:
    fn(table[left], table[right], out=table[out])


def _unary(table, fn, rows, out) -> None:
    fn(table[rows], out=table[out])


def _not(table, rows, out) -> None:
    np.subtract(1.0, table[rows], out=table[out])


def _pow_int(table, p, rows, out) -> None:
    if p == 2:  # what ``x ** 2`` does for an array
        np.square(table[rows], out=table[out])
    else:
        table[out] = table[rows] ** p


def _pow_float(table, p, rows, out) -> None:
    np.power(table[rows], p, out=table[out])


def _pow_frac(table, q, rows, out) -> None:
    base = table[rows]
    table[out] = np.where(base >= 0, np.power(np.abs(base), q), np.nan)


def _pow_var(table, base_rows, exponent_rows, out) -> None:
    base = table[base_rows]
    table[out] = np.where(base > 0, np.power(np.abs(base), table[exponent_rows]), np.nan)


def _piecewise(table, pieces, values, conditions, out) -> None:
    # the first piece whose condition holds: fill from the last piece backwards
    result = np.full((values.shape[0], table.shape[1]), np.nan)
    for j in range(pieces - 1, -1, -1):
        result = np.where(table[conditions[:, j]] != 0, table[values[:, j]], result)
    table[out] = result
