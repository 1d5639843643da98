"""A tensor DCP derivation as a certificate document.

Every node of the tree appears once (post-order) with the rule the engine applied, the
curvature it concluded, a summary of its range (the smallest lower and largest upper end over
its entries) and, for a pattern, the atom it was read as. The PSD decisions about constant
matrices, and any assumption the user accepted with ``psd_tolerance``, are listed with the
matrix they concern. ``convexcheck proofs verify`` re-walks the document with its own copy of the
composition rule (:mod:`convexcheck.certificates.tensor_check`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from convexcheck.tensor.dcp import TensorAnalysis
from convexcheck.tensor.document import content_hash, encode_param, encode_tree, exact_float_text
from convexcheck.tensor.expr import postorder


def _range_summary(step) -> dict[str, str]:
    r = step.range
    lo = float(np.min(r.lo)) if r.lo.size else 0.0
    hi = float(np.max(r.hi)) if r.hi.size else 0.0
    return {
        "lo": exact_float_text(lo) if np.isfinite(lo) else "-inf",
        "hi": exact_float_text(hi) if np.isfinite(hi) else "inf",
    }


def derivation_document(analysis: TensorAnalysis) -> dict[str, Any]:
    index = {id(n): i for i, n in enumerate(postorder(analysis.root))}
    extra: dict[int, dict[str, Any]] = {}
    for node in postorder(analysis.root):
        step = analysis.steps[id(node)]
        entry: dict[str, Any] = {
            "rule": step.rule,
            "curvature": step.curvature,
            "range": _range_summary(step),
        }
        if step.restricted:
            entry["restricted"] = True  # finite only where its arguments are in its domain
        if step.as_atom is not None:
            atom = step.as_atom
            entry["as_atom"] = {
                "op": atom.op,
                "args": [index[id(a)] for a in atom.args],
                **({"params": encode_param(tuple(atom.params))} if atom.params else {}),
            }
        extra[id(node)] = entry
    doc = encode_tree(analysis.root, extra)
    decisions = []
    for (key, negate), d in analysis.psd.decisions.items():  # type: ignore[misc]
        matrix = _matrix_by_id(analysis, key)
        decisions.append(
            {
                "matrix": content_hash(matrix) if matrix is not None else None,
                "negated": bool(negate),
                "status": d.status,
                "method": d.method,
                "min_eigenvalue": d.min_eigenvalue,
                "reason": d.reason,
                "assumed": bool(d.assumed),
                "tolerance": d.tolerance,
            }
        )
    proves = [q for q in ("convex", "concave") if analysis.proves(q)]
    out = {
        "kind": "dcp-tensor",
        "format": 1,
        "proves": proves,
        **doc,
        "psd_decisions": decisions,
    }
    assumed = [d for d in decisions if d["assumed"]]
    if assumed:
        out["assumptions"] = [
            f"a constant matrix ({d['matrix']}) is taken as {'NSD' if d['negated'] else 'PSD'} "
            f"within psd_tolerance={d['tolerance']}: {d['reason']}"
            for d in assumed
        ]
    return out


def _matrix_by_id(analysis: TensorAnalysis, key: int) -> np.ndarray | None:
    for node in postorder(analysis.root):
        if node.op == "constant" and id(node.value) == key:
            return node.value
    return None
