"""The certificate document: one question about one function, with its proof or witness."""

from __future__ import annotations

from typing import Any

FORMAT = "convexcheck-certificate/1"


def document(result: Any, question: str) -> dict[str, Any]:
    """The self-contained JSON document of ``result``'s answer to ``question``.

    Only settled answers have documents: an ``unknown`` proves nothing and has nothing to check.
    """
    verdict = getattr(result, question)
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
    if verdict.answer == "yes":
        out["certificate"] = verdict.certificate
    else:
        out["witness"] = verdict.witness
    return out


def documents_of(result: Any) -> list[dict[str, Any]]:
    """Documents for every settled question of ``result``."""
    return [
        document(result, q) for q in ("convex", "concave") if getattr(result, q).answer != "unknown"
    ]
