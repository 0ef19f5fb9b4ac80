"""JSON Schema contracts: load ``payload_schemas/``, validate bodies, and remember which route speaks which schema."""
from __future__ import annotations

import functools
import json
import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import jsonschema_rs
from flask import current_app, g, request
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from .errors import BadRequest, Unprocessable, UnsupportedMediaType

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "payload_schemas"
SCHEMA_SUFFIX = ".schema.json"
ID_BASE = "https://odoo-ops-kit.dev/schemas/"

format_checker = FormatChecker()


@format_checker.checks("date-time", raises=ValueError)
def _is_datetime(value) -> bool:
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("date-time needs a UTC offset or Z")
    return True


@format_checker.checks("date", raises=ValueError)
def _is_date(value) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


_ODOO_DATETIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@format_checker.checks("odoo-datetime", raises=ValueError)
def _is_odoo_datetime(value) -> bool:
    """Odoo's wire format for datetimes: ``YYYY-MM-DD HH:MM:SS`` in UTC, no offset (schemas allow ``false`` beside)."""
    if isinstance(value, str):
        if not _ODOO_DATETIME.fullmatch(value):
            raise ValueError(f"{value!r} is not YYYY-MM-DD HH:MM:SS")
        datetime.fromisoformat(value)
    return True


@lru_cache(maxsize=1)
def schemas() -> dict[str, dict]:
    """Every schema in ``payload_schemas/`` by name (file name without ``.schema.json``)."""
    found = {}
    for path in sorted(SCHEMA_DIR.glob("*" + SCHEMA_SUFFIX)):
        found[path.name[: -len(SCHEMA_SUFFIX)]] = json.loads(path.read_text())
    return found


@lru_cache(maxsize=1)
def _registry() -> Registry:
    resources = [(body.get("$id", ID_BASE + name + SCHEMA_SUFFIX), Resource.from_contents(body))
                 for name, body in schemas().items()]
    return Registry().with_resources(resources)


@lru_cache(maxsize=None)
def validator(name: str) -> Draft202012Validator:
    try:
        schema = schemas()[name]
    except KeyError:
        raise LookupError(f"no schema named {name!r} in {SCHEMA_DIR}") from None
    return Draft202012Validator(schema, registry=_registry(), format_checker=format_checker)


@lru_cache(maxsize=None)
def _fast_validator(name: str) -> jsonschema_rs.Validator:
    """The same schema compiled by jsonschema-rs: ~50x faster to say "valid", which is the hot path's answer.

    Formats are checked by the very functions ``format_checker`` uses, so both validators agree on them.
    """
    checks = {fmt: functools.partial(format_checker.conforms, format=fmt) for fmt in _formats_used()}
    return jsonschema_rs.validator_for(schemas()[name], registry=_fast_registry(), validate_formats=True,
                                       formats=checks)


@lru_cache(maxsize=1)
def _fast_registry() -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry([(body.get("$id", ID_BASE + name + SCHEMA_SUFFIX), body)
                                   for name, body in schemas().items()])


@lru_cache(maxsize=1)
def _formats_used() -> frozenset[str]:
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                found.add(node["format"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schemas())
    return frozenset(found)


def is_valid(name: str, instance) -> bool:
    """Whether ``instance`` meets schema ``name``, by the compiled validator (the detailed one decides otherwise)."""
    try:
        return _fast_validator(name).is_valid(instance)
    except (ValueError, TypeError):  # a value JSON cannot hold (e.g. a tuple): let the detailed check judge it
        return False


def problems(name: str, instance) -> list[dict]:
    """The validation errors of ``instance`` against schema ``name`` as ``[{path, message}]``, sorted.

    A valid instance is recognised by the compiled validator; only an invalid one is walked by ``jsonschema``,
    whose messages the error shape carries."""
    if is_valid(name, instance):
        return []
    found = []
    for error in validator(name).iter_errors(instance):
        found.append({"path": "/".join(str(p) for p in error.absolute_path), "message": error.message})
    return sorted(found, key=lambda p: (p["path"], p["message"]))


def validate(name: str, instance) -> None:
    """Raise ``Unprocessable`` naming every offending field when ``instance`` breaks schema ``name``."""
    found = problems(name, instance)
    if found:
        raise Unprocessable(f"request does not match the {name} contract", details=found)


def read_json(schema: str | None = None):
    """Parse the request body as JSON (415/400 otherwise) and validate it against ``schema``."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(f"send Content-Type: application/json, not {request.mimetype or 'nothing'!r}")
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not valid JSON: {exc}", code="invalid_json") from None
    if schema:
        validate(schema, body)
    return body


def contract(request: str | None = None, response: str | None = None, summary: str = ""):
    """Declare a route's request/response schemas; the request body is validated into ``flask.g.body``."""

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            if request:
                g.body = read_json(request)
            result = view(*args, **kwargs)
            if response and current_app.config.get("KIT_VALIDATE_RESPONSES"):
                _check_response(response, result)
            return result

        inner.contract = {"request": request, "response": response,
                          "summary": summary or _first_line(view.__doc__)}
        return inner

    return wrap


def _first_line(text: str | None) -> str:
    return (text or "").strip().split("\n", 1)[0]


def _check_response(name: str, result) -> None:
    body = result[0] if isinstance(result, tuple) else result
    if isinstance(body, dict):
        found = problems(name, body)
        if found:
            raise AssertionError(f"response breaks the {name} contract: {found}")
