"""Which documents are tensor documents, and which of the two tensor checks reads each.

Kept apart from both checks so that neither imports the other: the witness check uses the DCP
check's tree decoding (:func:`~.tensor_check.decode`), and this module is the only one that
needs both.
"""

from __future__ import annotations

from typing import Any

from convexcheck.certificates.tensor_check import check_tensor_dcp
from convexcheck.certificates.tensor_witness import check_tensor_witness

__all__ = ["check_tensor_document", "is_tensor_document"]


def is_tensor_document(doc: dict[str, Any]) -> bool:
    """A ``yes`` with a ``dcp-tensor`` certificate, or a ``no`` whose witness carries a tree."""
    if doc.get("answer") == "yes":
        cert = doc.get("certificate")
        return isinstance(cert, dict) and cert.get("kind") == "dcp-tensor"
    if doc.get("answer") == "no":
        w = doc.get("witness")
        return isinstance(w, dict) and ("tree" in w or w.get("kind") == "jensen-tensor")
    return False


def check_tensor_document(doc: dict[str, Any], question: str, trusted: list[str]) -> None:
    if doc["answer"] == "yes":
        check_tensor_dcp(doc, question, doc["certificate"], trusted)
    else:
        check_tensor_witness(doc, question, doc["witness"], trusted)
