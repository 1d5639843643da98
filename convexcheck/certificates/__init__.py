"""Certificates as data: every ``yes`` and ``no`` as a JSON document anyone can re-check.

:func:`document` turns a verdict into a self-contained document (expression, domains,
question, answer and the proof or witness); :func:`verify_document` re-checks one without
trusting anything the provers computed (see :mod:`.checker`); :func:`verify_directory` is what
``convexcheck proofs verify DIR`` runs.
"""

from __future__ import annotations

from convexcheck.certificates.checker import Report, verify_directory, verify_document
from convexcheck.certificates.documents import FORMAT, document, documents_of

__all__ = ["FORMAT", "Report", "document", "documents_of", "verify_directory", "verify_document"]
