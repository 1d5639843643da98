"""The independent certificate checker.

It calls no prover code. Its own small trusted base reads the document's expression strings
(:mod:`~convexcheck.certificates.trusted_reader`), decides PSD-ness by a checked exact LDLᵀ
(:mod:`~convexcheck.certificates.exact_linalg`) and re-derives sign proofs
(:mod:`~convexcheck.certificates.sign_check`); beyond it, it trusts the atom table (the *rule
table*), the interval arithmetic and SymPy's exact arithmetic and differentiation (the full
list is in ``docs/certificates.md``, "What the checker trusts"). It trusts nothing the provers
computed. Every claim in a document is re-derived from the expression text:

``jensen-witness`` (a ``no``)
    the points are re-read as exact rationals, checked to lie in the domains and to be points
    where every subexpression is defined on the reals (no ``log`` of a nonpositive number, no
    fractional power of a negative one, no complex branch), and the gap
    ``f(t*a + (1-t)*b) - t*f(a) - (1-t)*f(b)`` is recomputed with SymPy — exactly when it is
    rational, otherwise with ``evalf(strict=True)``, which raises rather than return digits it
    cannot guarantee — and must have the refuting sign.
``hessian``
    the Hessian is recomputed with SymPy's differentiation of the checker's own reading of the
    expression (not the prover's), the stored
    matrix must equal ``±H`` identically, the factorisation is multiplied back (``ldl``) or every
    principal minor recomputed (``principal-minors``), and every sign condition is re-proved from
    its expression: enclosures re-evaluated, polynomial root counts redone, bisections rerun,
    factorisations re-multiplied.
``sos``
    ``yᵀHy`` is recomputed, the Gram matrix expanded against the monomial basis must equal it
    exactly, and the Gram matrix must be PSD by the checker's exact rational LDLᵀ.
``dcp``
    the derivation is re-walked: the root must be the document's expression; every composition
    step's conclusion must follow from its atom's curvature and monotonicity and its children's
    curvatures (the DCP composition rule, written again here); for atoms of the rule table
    (elementary functions, powers, ``Max``/``Min``) curvature and monotonicity are re-read from the
    table on the child's claimed range, and each claimed range must contain a fresh enclosure of
    the child's expression. Quadratic-form steps are re-derived (the matrix of the quadratic part
    computed from the text and decided by the checker's LDLᵀ; the document's factorisation
    multiplied back), pattern steps re-read from the table's n-ary rows
    (:mod:`~convexcheck.certificates.pattern_check`); what cannot be re-derived (rewrite
    identities) is listed in the report as ``trusted`` steps rather than
    passed silently.
``dcp-tensor`` and tensor witnesses (vector and matrix expressions)
    recognised by the certificate's kind or by a witness that carries its ``tree``; dispatched by
    :mod:`~convexcheck.certificates.tensor_documents` to
    :mod:`~convexcheck.certificates.tensor_check` (the DCP re-walk with the checker's own
    composition rule and pattern matchers) and :mod:`~convexcheck.certificates.tensor_witness`
    (the points read exactly, the function re-evaluated in mpmath interval arithmetic by
    :mod:`~convexcheck.certificates.tensor_eval`).

The checks live one kind per module (:mod:`~convexcheck.certificates.witness_check`,
:mod:`~convexcheck.certificates.hessian_check`, :mod:`~convexcheck.certificates.dcp_check`);
this module dispatches a document to them under a time budget, and reads directories.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convexcheck.budget import BudgetSpent, time_limit
from convexcheck.certificates.context import CheckFailed, Context, Report, require
from convexcheck.certificates.dcp_check import check_dcp
from convexcheck.certificates.documents import FORMAT
from convexcheck.certificates.hessian_check import check_hessian, check_sos
from convexcheck.certificates.reading import UnreadableDocument, check_literals, read_document
from convexcheck.certificates.tensor_documents import check_tensor_document, is_tensor_document
from convexcheck.certificates.witness_check import check_witness

__all__ = [
    "CHECK_BUDGET_S",
    "Report",
    "UnreadableDocument",
    "read_document",
    "verify_directory",
    "verify_document",
]

CHECK_BUDGET_S = 60.0  # wall-clock seconds per document; past it the document fails

CHECKS = {"hessian": check_hessian, "sos": check_sos, "dcp": check_dcp}


def verify_document(
    doc: dict[str, Any], name: str = "<document>", *, budget_s: float | None = CHECK_BUDGET_S
) -> Report:
    """Re-check one certificate document; never raises on a bad document, reports it.

    ``budget_s`` caps the wall-clock time spent on it (``None``: no cap); a document whose check
    runs out of time fails with that reason, it never passes.
    """
    try:
        with time_limit(budget_s if budget_s is not None else float("inf")):
            return _verify(doc, name)
    except BudgetSpent:
        return Report(
            name,
            False,
            [f"the checker's time budget of {budget_s:g} s ran out (not verified)"],
        )


def _verify(doc: dict[str, Any], name: str) -> Report:
    try:
        require(isinstance(doc, dict), "the document is not a JSON object")
        check_literals(doc)
        require(doc.get("format") == FORMAT, f"not a {FORMAT} document")
        question = doc["question"]
        require(question in ("convex", "concave"), f"bad question {question!r}")
        if is_tensor_document(doc):
            trusted: list[str] = []
            check_tensor_document(doc, question, trusted)
            return Report(name, True, trusted=trusted)
        ctx = Context(doc)
        if doc["answer"] == "no":
            check_witness(ctx, question, doc["witness"])
        elif doc["answer"] == "yes":
            cert = doc["certificate"]
            kind = cert.get("kind")
            require(kind in CHECKS, f"unknown certificate kind {kind!r}")
            CHECKS[kind](ctx, question, cert)
        else:
            raise CheckFailed(f"answer {doc['answer']!r} has nothing to check")
    except CheckFailed as exc:
        return Report(name, False, [str(exc)])
    except Exception as exc:  # a malformed document is a failure, not a crash
        return Report(name, False, [f"malformed document: {type(exc).__name__}: {exc}"])
    return Report(name, True, trusted=ctx.trusted)


def verify_directory(
    directory: str | Path, *, budget_s: float | None = CHECK_BUDGET_S
) -> list[Report]:
    """Check every ``*.json`` document under ``directory`` (sorted, recursively; links to
    directories are not entered, and a document that is a link, a FIFO or a device is refused
    unread); ``budget_s`` caps each document's check."""
    reports = []
    for path in sorted(Path(directory).rglob("*.json")):
        try:
            doc = read_document(path)
        except UnreadableDocument as exc:
            reports.append(Report(str(path), False, [f"refused: {exc}"]))
            continue
        reports.append(verify_document(doc, str(path), budget_s=budget_s))
    return reports
