"""The JSON Schemas of every document convexcheck writes, and the format names that version them.

Tools that consume ``--json`` (CI dashboards, notebooks, other checkers) need a contract they
can validate against, and a way to tell which revision of it a document follows. Each document
therefore carries ``"format": "convexcheck-NAME/N"``; the schema of that name is shipped with the
package (``convexcheck schema NAME`` prints it). A change that could break a consumer (a field
renamed, removed or retyped) bumps ``N``; adding fields does not, since every schema allows
properties it does not name.

The schemas live as JSON files beside this module. Definitions used by several of them
(verdicts, witnesses, exact numbers, certificates) are written once in ``common.json`` and
bundled into each schema's ``$defs`` when it is loaded, so a printed schema is self-contained.

Validation needs the ``jsonschema`` package, which is not a dependency of the base install (it is
in the ``test`` extra): nothing here imports it until :func:`validate` is called. Setting the
environment variable ``CONVEXCHECK_VALIDATE_JSON=1`` makes the command line validate every JSON
document before it writes it (the test suite does, so every JSON any test makes the CLI emit is
checked against its schema).
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from convexcheck.errors import ConvexcheckError, MissingDependencyError

#: The format name of each document kind; the number after the slash is its revision.
FORMATS: dict[str, str] = {
    "expr": "convexcheck-expr/1",
    "model": "convexcheck-model/1",
    "certificate": "convexcheck-certificate/1",
    "proofs": "convexcheck-proofs/1",
    "explain": "convexcheck-explain/1",
}

SCHEMA_NAMES: tuple[str, ...] = tuple(FORMATS)

VALIDATE_ENV = "CONVEXCHECK_VALIDATE_JSON"


class SchemaViolation(ConvexcheckError):
    """A document does not follow its schema: a bug in convexcheck when the document is its own."""


def _read(filename: str) -> dict[str, Any]:
    text = (Path(__file__).parent / filename).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _bundled(name: str) -> dict[str, Any]:
    if name not in FORMATS:
        raise ValueError(f"unknown schema {name!r}; schemas are {', '.join(SCHEMA_NAMES)}")
    schema = _read(f"{name}.json")
    common = _read("common.json")["$defs"]
    common["reason_kind"] = {"enum": _reason_kinds()}
    own = schema.get("$defs", {})
    clash = set(own) & set(common)
    if clash:  # a schema must not silently shadow a shared definition
        raise ValueError(f"schema {name!r} redefines shared definitions {sorted(clash)}")
    schema["$defs"] = {**common, **own}
    schema["$id"] = f"urn:convexcheck:schema:{FORMATS[name]}"
    return schema


def _reason_kinds() -> list[str]:
    """The model reasons' kinds, read from their one definition (no torch needed)."""
    from convexcheck.numeric.reason_types import ReasonKind

    return [kind.value for kind in ReasonKind]


def schema(name: str) -> dict[str, Any]:
    """The self-contained JSON Schema (draft 2020-12) of the documents called ``name``."""
    return copy.deepcopy(_bundled(name))


def schema_text(name: str) -> str:
    """:func:`schema` as indented JSON, as ``convexcheck schema NAME`` prints it."""
    return json.dumps(_bundled(name), indent=2) + "\n"


def problems(document: Any, name: str) -> list[str]:
    """Every way ``document`` breaks the schema ``name``, one line each (empty when it follows
    it); each line starts with the JSON path of the offending value."""
    try:
        import jsonschema
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(
            "validating JSON against convexcheck's schemas needs jsonschema: pip install jsonschema"
        ) from exc
    validator_class = jsonschema.validators.validator_for(_bundled(name))
    validator = validator_class(_bundled(name), format_checker=validator_class.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{e.json_path}: {e.message[:300]}" for e in errors]


def validate(document: Any, name: str) -> None:
    """Raise :class:`SchemaViolation` unless ``document`` follows the schema ``name``."""
    found = problems(document, name)
    if found:
        shown = "; ".join(found[:3]) + (f" (and {len(found) - 3} more)" if len(found) > 3 else "")
        raise SchemaViolation(f"the {name} JSON does not follow its schema: {shown}")


def validation_requested() -> bool:
    """Whether ``CONVEXCHECK_VALIDATE_JSON`` asks the command line to validate what it writes."""
    return os.environ.get(VALIDATE_ENV, "").strip().lower() not in ("", "0", "false", "no")
