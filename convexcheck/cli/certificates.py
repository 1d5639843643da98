"""``convexcheck expr --certificates DIR``: write each settled answer as a document, safely.

A certificate directory is something users point at shared or version-controlled places, so
writing is careful: each file is created fresh and renamed into place (a link there is
replaced, never followed), special files are refused, and a directory holding another
function's certificates is refused rather than silently mixed.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

from convexcheck.cli.common import check_against_schema
from convexcheck.errors import ConvexcheckInputError


def refuse_special_files(target: Path) -> list[Path]:
    """The regular files among ``target/{convex,concave}.json`` (links are skipped: they are
    replaced, not followed); raises if one is a FIFO, device or directory. Run before the check
    too, so that a bad destination is reported before any work is done."""
    regular = []
    for question in ("convex", "concave"):
        existing = target / f"{question}.json"
        try:
            mode = os.lstat(existing).st_mode
        except OSError:
            continue
        if stat.S_ISLNK(mode):
            continue
        if not stat.S_ISREG(mode):
            raise ConvexcheckInputError(
                f"{existing} exists and is not a regular file; refusing to replace it"
            )
        regular.append(existing)
    return regular


def write_certificates(result: Any, directory: str) -> None:
    """Write one document per settled question into ``directory``.

    Each file is written to a fresh temporary file in the same directory (created with
    ``O_EXCL``, so never through a link) and renamed over ``QUESTION.json``: a symbolic link
    there is replaced, never followed, and its target is left alone; a FIFO or device there is
    refused (reading it could block, replacing it is not ours to do). A leftover regular
    document about another function is refused too: one directory holds one function.
    """
    from convexcheck.certificates import documents_of
    from convexcheck.certificates.checker import UnreadableDocument, read_document

    target = Path(directory)
    for existing in refuse_special_files(target):
        try:
            previous = read_document(existing).get("expression")
        except (UnreadableDocument, AttributeError):
            continue
        if previous != result.expression:
            raise ConvexcheckInputError(
                f"{existing} holds a certificate for a different function ({previous!r}); "
                "write each function's certificates to its own directory"
            )
    try:
        target.mkdir(parents=True, exist_ok=True)
        for doc in documents_of(result):
            path = target / f"{doc['question']}.json"
            text = json.dumps(doc, indent=2)
            check_against_schema(text, "certificate")
            fd, temporary = tempfile.mkstemp(
                prefix=f".{doc['question']}.", suffix=".tmp", dir=target
            )
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(temporary, 0o666 & ~umask)  # as a plain open() would have made it
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
            print(f"wrote {path}", file=sys.stderr)
    except OSError as exc:
        raise ConvexcheckInputError(f"cannot write certificates to {directory}: {exc}") from exc
