"""Reading document files safely, and bounding the literals in them.

The checker reads files anyone can write: it must end, with a failure and a reason, whatever is
in them.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from convexcheck.certificates.context import CheckFailed

MAX_DOCUMENT_BYTES = 16 * 2**20
MAX_LITERAL_CHARS = 10_000  # a number written as text (witness coordinate, Gram entry...)
MAX_LITERAL_EXPONENT = 1000  # "1e100000000" would make a 332-megabit integer


class UnreadableDocument(Exception):
    """A document file that is refused before parsing (not a regular file, too large...)."""


def read_document(path: str | Path, *, follow_symlinks: bool = False) -> Any:
    """The JSON content of a document file, read safely.

    Opened with ``O_NOFOLLOW`` (a symbolic link is refused unless ``follow_symlinks``) and
    ``O_NONBLOCK`` (a FIFO cannot block the open), then refused unless it is a regular file of
    at most :data:`MAX_DOCUMENT_BYTES`: a link to ``/dev/zero`` or a named pipe ends with an
    error instead of a hang. Raises :class:`UnreadableDocument` with the reason.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                raise UnreadableDocument("a symbolic link (not followed)")
        except OSError as exc:
            raise UnreadableDocument(exc.strerror or str(exc)) from None
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnreadableDocument(exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableDocument(f"not a regular file ({_file_kind(info.st_mode)})")
        if info.st_size > MAX_DOCUMENT_BYTES:
            raise UnreadableDocument(
                f"{info.st_size:,} bytes, more than the limit of {MAX_DOCUMENT_BYTES:,}"
            )
        chunks = []
        size = 0
        while size <= MAX_DOCUMENT_BYTES:  # the file may grow while it is read
            chunk = os.read(fd, 2**20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise UnreadableDocument(f"more than the limit of {MAX_DOCUMENT_BYTES:,} bytes")
    except OSError as exc:
        raise UnreadableDocument(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    try:
        return json.loads(b"".join(chunks).decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # also int strings past 4300 digits
        raise UnreadableDocument(f"not JSON: {type(exc).__name__}: {exc}"[:300]) from None


def _file_kind(mode: int) -> str:
    for test, word in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return word
    return "not a plain file"


_NUMBER = re.compile(r"\s*[-+]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE]([-+]?\d+))?\s*(?:/.*)?", re.S)


def check_literals(doc: Any) -> None:
    """Every string that reads as a number must be of reasonable size: ``Fraction("1e100000000")``
    builds a 10**100000000 integer in one uninterruptible call, and everything after it crawls.
    (Expressions go through the parser, which has its own limits; this covers the values the
    checker converts with ``Fraction``: witness coordinates, ``t``, Gram entries, ends.)"""
    pending = [doc]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and item[:1].strip("+-.0123456789") == "":
            for part in item.split("/"):
                match = _NUMBER.fullmatch(part)
                if match is None:
                    continue
                if len(part) > MAX_LITERAL_CHARS:
                    raise CheckFailed(
                        f"a number written with {len(part):,} characters (limit "
                        f"{MAX_LITERAL_CHARS:,})"
                    )
                exponent = match.group(2)
                if exponent is not None and abs(int(exponent)) > MAX_LITERAL_EXPONENT:
                    raise CheckFailed(
                        f"the number {item[:40]!r} has a decimal exponent beyond "
                        f"±{MAX_LITERAL_EXPONENT}"
                    )
