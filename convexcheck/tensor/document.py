"""Tensor trees as JSON and back: the shared format of tensor certificates.

A tensor certificate lists the nodes of the tree in post-order (children first), each with its
operation, its parameters, its shape and its arguments' indices; variables with their shape and
domain; constants by a SHA-256 content hash, with the data itself (float64 values written
exactly, as decimals when short and as C99 hex floats otherwise) when it is at most
:data:`MAX_STORED_ENTRIES` entries. This module only encodes and decodes; it proves nothing, so
both the prover (which writes documents) and the checker (which reads them) may use it.
"""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.errors import ConvexcheckInputError
from convexcheck.tensor.expr import TExpr, constant, postorder, variable

MAX_STORED_ENTRIES = 200_000


def content_hash(value: np.ndarray) -> str:
    arr = np.ascontiguousarray(np.asarray(value, dtype="<f8"))
    h = hashlib.sha256()
    h.update(repr(arr.shape).encode())
    h.update(arr.tobytes())
    return "sha256:" + h.hexdigest()


def exact_float_text(x: float) -> str:
    """A float64 as an exact string: an integer, a short exact decimal, or a hex float
    (``inf``/``-inf`` for the infinite bounds of a domain)."""
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    if x == 0 and math.copysign(1.0, x) < 0:
        return "-0"  # the sign of zero is part of the data (and of its hash)
    if x == int(x) and abs(x) < 2**53:
        return str(int(x))
    text = repr(x)
    if "e" not in text and "inf" not in text and len(text) < 24 and Fraction(text) == Fraction(x):
        return text
    return x.hex()


def parse_float_text(text: str) -> float:
    t = str(text).strip()
    if t in ("inf", "oo"):
        return float("inf")
    if t in ("-inf", "-oo"):
        return float("-inf")
    if "0x" in t.lower():
        return float.fromhex(t)
    q = Fraction(t)
    f = float(q)
    if Fraction(f) != q:
        raise ConvexcheckInputError(f"{t!r} is not exactly a float64")
    return -0.0 if f == 0 and t.startswith("-") else f


def encode_values(arr: np.ndarray) -> Any:
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 0:
        return exact_float_text(float(a))
    return [encode_values(x) for x in a]


def decode_values(data: Any, shape: tuple[int, ...]) -> np.ndarray:
    def walk(v: Any) -> Any:
        if isinstance(v, list):
            return [walk(x) for x in v]
        return parse_float_text(v)

    arr = np.array(walk(data), dtype=np.float64)
    if arr.shape != tuple(shape):
        raise ConvexcheckInputError(f"constant data has shape {arr.shape}, expected {tuple(shape)}")
    return arr


def encode_param(p: Any) -> Any:
    if isinstance(p, bool) or p is None:
        return p
    if isinstance(p, (int, np.integer)):
        return int(p)
    if isinstance(p, Fraction):
        return {"fraction": str(p)}
    if isinstance(p, (float, np.floating)):
        return (
            {"float": exact_float_text(float(p))}
            if np.isfinite(p)
            else {"float": "inf" if p > 0 else "-inf"}
        )
    if isinstance(p, str):
        return {"str": p}
    if isinstance(p, slice):
        return {"slice": [encode_param(p.start), encode_param(p.stop), encode_param(p.step)]}
    if isinstance(p, np.ndarray):
        return {"array": p.tolist(), "dtype": str(p.dtype)}
    if isinstance(p, (tuple, list)):
        return {"tuple": [encode_param(x) for x in p]}
    raise ConvexcheckInputError(f"cannot encode parameter {p!r}")


def decode_param(p: Any) -> Any:
    if p is None or isinstance(p, (bool, int)):
        return p
    if not isinstance(p, dict) or len(p) not in (1, 2):
        raise ConvexcheckInputError(f"malformed parameter {p!r}")
    if "fraction" in p:
        return Fraction(p["fraction"])
    if "float" in p:
        return parse_float_text(p["float"])
    if "str" in p:
        return str(p["str"])
    if "slice" in p:
        return slice(*(decode_param(x) for x in p["slice"]))
    if "array" in p:
        dtype = str(p.get("dtype", "int64"))
        if dtype not in ("int64", "int32", "bool", "float64"):
            raise ConvexcheckInputError(f"unsupported index dtype {dtype}")
        return np.array(p["array"], dtype=dtype)
    if "tuple" in p:
        return tuple(decode_param(x) for x in p["tuple"])
    raise ConvexcheckInputError(f"malformed parameter {p!r}")


def _domain(info) -> dict[str, Any]:
    def same(a: np.ndarray) -> Any:
        flat = np.ravel(a)
        if flat.size and np.all(flat == flat[0]):
            return exact_float_text(float(flat[0])) if a.dtype != bool else bool(flat[0])
        return encode_values(a) if a.dtype != bool else a.tolist()

    return {
        "lo": same(info.lo),
        "hi": same(info.hi),
        "lo_open": same(info.lo_open),
        "hi_open": same(info.hi_open),
        "symmetric": info.symmetric,
        "psd": info.psd,
        "nsd": info.nsd,
    }


def encode_tree(root: TExpr, extra: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """``{"variables", "constants", "nodes", "root"}``; ``extra[id(node)]`` adds fields."""
    index: dict[int, int] = {}
    nodes: list[dict[str, Any]] = []
    variables: dict[str, Any] = {}
    constants: dict[str, Any] = {}
    for node in postorder(root):
        entry: dict[str, Any] = {"op": node.op, "shape": list(node.shape)}
        if node.op == "variable":
            info = node.variable
            entry["name"] = info.name  # type: ignore[union-attr]
            variables[info.name] = {"shape": list(info.shape), "domain": _domain(info)}  # type: ignore[union-attr]
        elif node.op == "constant":
            key = content_hash(node.value)  # type: ignore[arg-type]
            entry["ref"] = key
            if key not in constants:
                c: dict[str, Any] = {"shape": list(node.shape)}
                if node.size <= MAX_STORED_ENTRIES:
                    c["data"] = encode_values(node.value)  # type: ignore[arg-type]
                else:
                    c["stored"] = False
                constants[key] = c
        else:
            entry["args"] = [index[id(a)] for a in node.args]
            if node.params:
                entry["params"] = encode_param(tuple(node.params))
        if extra and id(node) in extra:
            entry.update(extra[id(node)])
        index[id(node)] = len(nodes)
        nodes.append(entry)
    return {"variables": variables, "constants": constants, "nodes": nodes, "root": index[id(root)]}


def decode_tree(
    doc: dict[str, Any], data: dict[str, np.ndarray] | None = None
) -> tuple[list[TExpr], TExpr]:
    """Rebuild every node (in document order) and the root; shapes are recomputed by the
    atom table's rules and compared with the stored ones."""
    from convexcheck.tensor import atoms_nonlinear  # noqa: F401
    from convexcheck.tensor.atoms import make

    variables: dict[str, TExpr] = {}
    for name, v in doc.get("variables", {}).items():
        d = v["domain"]
        shape = tuple(int(s) for s in v["shape"])

        def arr(x, dtype=float, shape=shape):
            if isinstance(x, list):
                return (
                    decode_values(x, shape)
                    if dtype is float
                    else np.array(x, dtype=bool).reshape(shape)
                )
            return parse_float_text(x) if dtype is float else bool(x)

        variables[name] = variable(
            name,
            shape,
            lo=arr(d["lo"]),
            hi=arr(d["hi"]),
            lo_open=arr(d["lo_open"], bool),
            hi_open=arr(d["hi_open"], bool),
            symmetric=bool(d.get("symmetric")),
            psd=bool(d.get("psd")),
            nsd=bool(d.get("nsd")),
        )
    built: list[TExpr] = []
    consts: dict[str, TExpr] = {}
    for entry in doc["nodes"]:
        op = entry["op"]
        if op == "variable":
            node = variables[entry["name"]]
        elif op == "constant":
            ref = entry["ref"]
            if ref not in consts:
                c = doc["constants"][ref]
                shape = tuple(int(s) for s in c["shape"])
                if "data" in c:
                    value = decode_values(c["data"], shape)
                elif data is not None and ref in data:
                    value = np.asarray(data[ref], dtype=np.float64)
                else:
                    raise ConvexcheckInputError(
                        f"constant {ref} is referenced by hash only; its data is needed"
                    )
                if content_hash(value) != ref:
                    raise ConvexcheckInputError(f"constant data does not match its hash {ref}")
                consts[ref] = constant(value)
            node = consts[ref]
        else:
            args = [built[int(i)] for i in entry["args"]]
            params = decode_param(entry["params"]) if "params" in entry else ()
            node = make(op, args, tuple(params))
        if list(node.shape) != list(entry["shape"]):
            raise ConvexcheckInputError(
                f"node {len(built)} ({op}) has shape {list(node.shape)}, "
                f"the document says {entry['shape']}"
            )
        built.append(node)
    return built, built[int(doc["root"])]
