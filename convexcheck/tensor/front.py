"""The CVXPY entry point of :func:`convexcheck.check`: translate node for node, then check.

Kept apart from :mod:`convexcheck.tensor.check` so that the ladder itself does not know about
CVXPY (a torch graph will feed the same ladder).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.errors import ConvexcheckInputError
from convexcheck.progress import ProgressSink
from convexcheck.result import CheckResult, Verdict
from convexcheck.tensor.atoms import make
from convexcheck.tensor.check import check_tensor
from convexcheck.tensor.cvxpy_bridge import translate_with_variables
from convexcheck.tensor.expr import short_text

TENSOR_STAGES = ("dcp", "witness", "hessian", "sos")
# a budget above this (about 30 years) is no limit: setitimer overflows on 1e300 seconds
FOREVER_S = 1e9


def check_cvxpy(
    expression: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    scalar_check: Callable[..., CheckResult],
    seed: int = 0,
    budget_s: float | None = None,
    stages: Sequence[str] | None = None,
    psd_tolerance: float | None = None,
    progress: ProgressSink | None = None,
) -> CheckResult:
    """Check a CVXPY expression with the tensor engine, node for node.

    ``scalar_check`` is the scalar pipeline (:func:`convexcheck.symbolic.check.check`), which the
    tensor check falls back on for a verdict it cannot reach itself (called with
    ``_scalarise=True``). The caller hands it in rather than this module importing it: the
    scalar pipeline is the one that dispatches CVXPY input here, and an import back would close
    a cycle between the two front ends.
    """
    if variables:
        raise ConvexcheckInputError(
            "for a CVXPY expression, give domains as variable attributes (nonneg=True, "
            "bounds=[lo, hi], PSD=True), not as variables=..."
        )
    if budget_s is not None and budget_s > FOREVER_S:
        budget_s = math.inf  # the same in practice, and the interval timer cannot hold it
    root, notes, originals = translate_with_variables(expression)
    if root.shape in ((1,), (1, 1)):
        root = make("reshape", [root], ((), "C"))
    text = short_text(root)

    faithful = _scalar_bridge_reads_the_domain(originals.values())
    restricted = _has_cvxpy_domains(root)

    def scalar_fallback(seconds: float) -> CheckResult | None:
        if restricted:
            # the scalar bridge reads power(x, 3) and xexp as bare formulas on every real x,
            # CVXPY (and the tensor rows) on x >= 0: neither its proofs nor its witnesses
            # would be about the same function
            return None
        wanted = [s for s in ("dcp", "witness", "hessian", "sos") if stages is None or s in stages]
        result = scalar_check(
            expression,
            seed=seed,
            budget_s=seconds,
            stages=wanted,
            progress=progress or False,
            _scalarise=True,
        )
        if not faithful:
            return _withdraw_refutations(
                result,
                lambda w: (
                    "it treats the matrix entries as independent, so its points may "
                    "leave the symmetric/PSD domain"
                ),
            )
        return _withdraw_refutations(result, lambda w: _undefined_at(root, originals, w))

    result = check_tensor(
        root,
        text=text,
        notes=notes,
        seed=seed,
        budget_s=budget_s,
        stages=stages,
        psd_tolerance=psd_tolerance,
        scalar_fallback=scalar_fallback,
        progress=progress,
    )
    if result.derivation is not None and not hasattr(result.derivation, "derivation_lines"):
        result.cvxpy_entries = _scalar_entries(originals.values())
    else:
        result.cvxpy_entries = dict(originals)  # to_cvxpy() speaks about the user's variables
    return result


def _scalar_entries(variables: Any) -> dict[str, Any]:
    """The scalar bridge's name of every variable entry, mapped to that entry of the user's
    variable (``x_2`` -> ``x[2]``), named the way the bridge names them."""
    import numpy as np

    from convexcheck.symbolic.cvxpy_bridge import _Translator

    t = _Translator()
    out: dict[str, Any] = {}
    for var in variables:
        nodes = t.variable(var)
        for idx in np.ndindex(var.shape):
            node = nodes[idx] if idx else nodes[()]
            out[str(node.value)] = var[idx] if idx else var
    return out


def _has_cvxpy_domains(root: Any) -> bool:
    """Whether an atom in the tree is CVXPY's restriction of a formula the scalar bridge reads
    on a larger set: an integer power (x**3, x**-1, x**6 are defined for x < 0 too) or xexp.
    A fractional power (sqrt) is undefined below 0 in both readings."""
    from fractions import Fraction as _F

    from convexcheck.tensor.expr import postorder

    for n in postorder(root):
        if not (n.params and isinstance(n.params[-1], str) and n.params[-1] == "cvxpy"):
            continue
        if n.op == "xexp" or (n.op == "power" and _F(n.params[0]).denominator == 1):
            return True
    return False


def _text_of(expression: Any) -> str:
    """CVXPY's printed form, cut at 2,000 characters; CVXPY prints recursively, so a very deep
    tree (a chain of thousands of negations) gets a short description instead."""
    try:
        text = str(expression)
    except RecursionError:
        shape = getattr(expression, "shape", "?")
        return f"<a CVXPY {type(expression).__name__} of shape {shape}, too deep to print>"
    return text[:2000] + " ..." if len(text) > 2000 else text


# The attributes the scalar bridge turns into domains of the scalarised entries. A variable with
# any other (symmetric, PSD, NSD) is scalarised on a larger set: a proof there still holds on
# the declared domain (a convex subset), a witness there may lie outside it.
_SCALAR_BRIDGE_ATTRIBUTES = frozenset({"nonneg", "pos", "nonpos", "neg", "bounds"})


def _scalar_bridge_reads_the_domain(variables: Any) -> bool:
    for var in variables:
        for key, value in var.attributes.items():
            if key in _SCALAR_BRIDGE_ATTRIBUTES or value is None or value is False:
                continue
            return False
    return True


def _withdraw_refutations(result: CheckResult, objection: Any) -> CheckResult:
    """``result`` with each refutation whose witness ``objection(witness)`` objects to (a
    reason, or ``None``) turned into ``unknown``."""
    verdicts = {}
    for q in ("convex", "concave"):
        v = getattr(result, q)
        why = objection(v.witness) if v.answer == "no" else None
        if why:
            v = Verdict.unknown(
                q,  # type: ignore[arg-type]
                "none",
                f"not settled: the scalarised check found a witness, withdrawn because {why}",
                evidence={"scalarised_witness_withdrawn": v.witness},
            )
        verdicts[q] = v
    return CheckResult(
        expression=result.expression,
        variables=result.variables,
        convex=verdicts["convex"],
        concave=verdicts["concave"],
        derivation=result.derivation,
        stages=result.stages,
    )


def _undefined_at(root: Any, originals: dict[str, Any], w: dict[str, Any]) -> str | None:
    """Why the scalar ladder's witness is not a witness for the tensor reading, or ``None``.

    The scalar bridge reads some atoms as bare formulas (``quad_over_lin(x, y)`` as
    ``x @ x / y`` for any ``y != 0``) where the tensor rows keep CVXPY's domain (``y > 0``);
    a witness there would make the answer depend on the size of the expression. So the
    tensor tree must be defined at both points and at the point between them (evaluated at
    the points rounded to float64; the ladder's points are rationals far from any boundary).
    """
    from convexcheck.tensor.evaluate import enclose_at
    from convexcheck.tensor.expr import variables_of

    cvxpy_vars = list(originals.values())
    names = [v.name() for v in cvxpy_vars]
    infos = {i.name: i for i in variables_of(root)}
    if len(set(names)) != len(names) or any(
        not n.isidentifier() or n.startswith("_") or n not in infos for n in names
    ):
        return "its variable names cannot be matched with the tensor variables"
    try:
        t = Fraction(str(w["t"]))
        points = [_point(infos[n], w[side], n) for side in ("a", "b") for n in names]
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return "it could not be read"
    k = len(names)
    a = dict(zip(names, points[:k]))
    b = dict(zip(names, points[k:]))
    between = {n: float(t) * a[n] + float(1 - t) * b[n] for n in names}
    for label, point in (("a", a), ("b", b), ("the point between", between)):
        enclosure = enclose_at(root, point)
        if enclosure.value is None:
            return f"the function is not defined at {label} ({enclosure.undefined})"
    return None


def _point(info: Any, values: dict[str, Any], base: str) -> np.ndarray:
    """One variable's entries from a scalar witness (``x``, ``x_0``, ``x_0_1``...); an entry the
    witness does not name gets a point of its domain."""
    out = np.empty(info.shape, dtype=np.float64)
    for idx in np.ndindex(*info.shape):
        key = base + "".join(f"_{i}" for i in idx)
        if key in values:
            out[idx] = float(Fraction(str(values[key])))
            continue
        lo, hi = float(info.lo[idx]), float(info.hi[idx])
        if math.isinf(lo) and math.isinf(hi):
            out[idx] = 0.0
        elif math.isinf(hi):
            out[idx] = lo + 1.0
        elif math.isinf(lo):
            out[idx] = hi - 1.0
        else:
            out[idx] = lo / 2 + hi / 2
    return out
