"""The PSD context: what the matrix rows decided about constant matrices during one analysis.

A constant matrix's PSD-ness is a data-dependent fact (decided by :mod:`convexcheck.tensor.psd`,
exactly or with the user's tolerance). The decision is memoised per matrix in a context
variable, so that the certificate and ``explain()`` can state each decision (and any assumption)
once, and the rows of :mod:`.atoms_matrix` (and the engine) read the same decision.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field

import numpy as np


# ---- the PSD context: data-dependent facts and the user's tolerance ----------------------------
@dataclass
class PSDContext:
    """What the matrix rows decided about constant matrices during one analysis, so that the
    certificate and ``explain()`` can state each decision (and any assumption) once."""

    tolerance: float | None = None
    decisions: dict[int, object] = field(default_factory=dict)


PSD_CONTEXT: contextvars.ContextVar[PSDContext] = contextvars.ContextVar("psd_context")


def psd_decision(matrix: np.ndarray, *, negate: bool = False):
    """The (memoised) PSD decision for the symmetric part of ``matrix`` (or of ``-matrix``)."""
    from convexcheck.tensor.psd import decide_nsd, decide_psd

    try:
        ctx = PSD_CONTEXT.get()
    except LookupError:
        ctx = PSDContext()
    key = (id(matrix), negate)
    hit = ctx.decisions.get(key)  # type: ignore[call-overload]
    if hit is None:
        decide = decide_nsd if negate else decide_psd
        hit = ctx.decisions[key] = decide(matrix, tolerance=ctx.tolerance)  # type: ignore[index]
    return hit


__all__ = ["PSD_CONTEXT", "PSDContext", "psd_decision"]
