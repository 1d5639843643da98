"""The certificate document: one question about one function, with its proof or witness."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from convexcheck.result import CheckResult, Verdict

from convexcheck.schemas import FORMATS

FORMAT = FORMATS["certificate"]


def document(result: CheckResult, question: str) -> dict[str, Any]:
    """The self-contained JSON document of ``result``'s answer to ``question``.

    Only settled answers have documents: an ``unknown`` proves nothing and has nothing to check.
    A tensor result's ``yes`` carries its ``dcp-tensor`` certificate (which holds the tree); its
    ``no`` gets the tree added to the witness (``kind: "jensen-tensor"``); an answer the tensor
    ladder settled on the scalarised form is a scalar document about that form
    (``scalarised_from`` keeps the original text).
    """
    verdict = _verdict(result, question)
    if verdict.answer not in ("yes", "no"):
        raise ValueError(f"the {question} question is not settled ({verdict.answer})")
    out: dict[str, Any] = {
        "format": FORMAT,
        "expression": result.expression,
        "variables": dict(result.variables),
        "question": question,
        "answer": verdict.answer,
        "method": verdict.method,
        "summary": verdict.summary,
    }
    scalarised = result.scalarised
    if scalarised and question in scalarised.get("questions", ()):
        # settled on the scalarised form: a scalar document about that form
        out["expression"] = scalarised["expression"]
        out["variables"] = dict(scalarised["variables"])
        out["scalarised_from"] = result.expression
    if verdict.answer == "yes":
        out["certificate"] = verdict.certificate
    elif result.tree is not None and "scalarised_from" not in out:
        from convexcheck.tensor.document import encode_tree

        # a tensor witness carries the tree it refutes (the expression text is CVXPY's print)
        tree = encode_tree(result.tree)
        out["witness"] = {**verdict.witness, "kind": "jensen-tensor", "tree": tree}
    else:
        out["witness"] = verdict.witness
    return out


def documents_of(result: CheckResult) -> list[dict[str, Any]]:
    """Documents for every settled question of ``result``."""
    return [
        document(result, q)
        for q in ("convex", "concave")
        if _verdict(result, q).answer != "unknown"
    ]


def _verdict(result: CheckResult, question: str) -> Verdict:
    if question == "convex":
        return result.convex
    if question == "concave":
        return result.concave
    raise ValueError(f"question must be 'convex' or 'concave', got {question!r}")
