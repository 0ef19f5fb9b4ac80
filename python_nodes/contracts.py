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
    return jsonschema_rs.validator_for(schemas()[name], registry=_fast_registry(), validate_formats=True,
                                       formats=_format_checks())


def _format_checks() -> dict:
    return {fmt: functools.partial(format_checker.conforms, format=fmt) for fmt in _formats_used()}


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
        # The inbox keeps an event's numbers as sent; a schema's body reads 55.0 as 55 (see _json_number).
        body = json.loads(raw, parse_float=_json_number if schema else float)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not valid JSON: {exc}", code="invalid_json") from None
    if b"\\u0000" in raw and _ESCAPED_NUL.search(raw):
        raise Unprocessable("strings must not contain the NUL character (\\u0000)", code="nul_character",
                            details=[{"path": path, "message": "contains \\u0000"} for path in _nul_paths(body)])
    if schema:
        validate(schema, body)
    return body


# JSON can hold NUL only as the escape \u0000 (a backslash not itself escaped); PostgreSQL text cannot hold it at all,
# so both stores refuse it alike. Odoo, on PostgreSQL, never sends one.
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _nul_paths(value, path: str = "") -> list[str]:
    """Where a parsed body holds NUL, as slash-separated paths (a key holding it is named too)."""
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    pairs = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    found = []
    for key, item in pairs:
        where = f"{path}/{key}" if path else str(key)
        found += ([where] if "\x00" in str(key) else []) + _nul_paths(item, where)
    return found


def _json_number(text: str) -> int | float:
    """A JSON number written with a fraction or exponent, as an int when it is whole: JSON Schema's "integer" takes
    ``55.0``, so an order id written so must name order 55 in Odoo calls, keys and subjects, not ``55.0``."""
    value = float(text)
    return int(value) if value.is_integer() and abs(value) <= 2**53 else value


def contract(request: str | None = None, response: str | None = None, summary: str = "", *,
             query: dict | None = None, statuses: tuple[int, ...] = (200,), optional_body: bool = False,
             validate_request: bool = True, media_type: str = "application/json", form: dict | None = None):
    """Declare a route's contract, which ``/openapi.json`` publishes and requests are held to.

    ``query``: the query parameters as ``{name: JSON Schema}``; they are checked (an unknown one too) and land in
    ``flask.g.query`` with their defaults. ``request``: the JSON body's schema; the body is validated into
    ``flask.g.body`` (``{}`` when ``optional_body`` and none was sent), unless ``validate_request`` is false
    because the view picks the schema itself. ``statuses``: the success codes, each answering ``response``.
    ``media_type`` of the answers, errors included (``text/html`` for the link pages); ``form``: the fields of a
    form-encoded body as ``{name: JSON Schema}``, which the view reads itself."""
    declared_query = _Query(query) if query is not None else None

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            if declared_query is not None:
                g.query = declared_query.read()
            if request and validate_request:
                g.body = {} if optional_body and not _has_body() else read_json(request)
            result = view(*args, **kwargs)
            if response and current_app.config.get("KIT_VALIDATE_RESPONSES"):
                _check_response(response, result)
            return result

        inner.contract = {"request": request, "response": response, "query": query or {}, "statuses": statuses,
                          "optional_body": optional_body, "media_type": media_type, "form": form or {},
                          "summary": summary or first_line(view.__doc__)}
        return inner

    return wrap


def _has_body() -> bool:
    return bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"


class _Query:
    """A route's query parameters: their schemas, compiled (a fast "valid", as for bodies) and for jsonschema's
    worded errors."""

    def __init__(self, properties: dict):
        self.properties = properties
        schema = {"type": "object", "properties": properties, "additionalProperties": False}
        Draft202012Validator.check_schema(schema)
        self.detailed = Draft202012Validator(schema, format_checker=format_checker)
        self.fast = jsonschema_rs.validator_for(schema, validate_formats=True, formats=_format_checks())
        self.defaults = {name: schema["default"] for name, schema in properties.items() if "default" in schema}

    def read(self) -> dict:
        """The query string as declared values: numbers and booleans parsed, repeated names as arrays, defaults
        filled in; anything else (an unknown name, a bad value, a single value given twice) is a 400."""
        values, found = {}, []
        for name in request.args:
            schema = self.properties.get(name)
            raw = request.args.getlist(name)
            if schema is None:
                found.append({"path": name, "message": f"unknown query parameter; known: {sorted(self.properties)}"})
            elif schema.get("type") == "array":
                values[name] = [_parse_query_value(schema.get("items", {}), item) for item in raw]
            elif len(raw) > 1:
                found.append({"path": name, "message": "given more than once"})
            else:
                values[name] = _parse_query_value(schema, raw[0])
        if not self.fast.is_valid(values):
            found += [{"path": "/".join(str(p) for p in error.absolute_path), "message": error.message}
                      for error in self.detailed.iter_errors(values)]
        if found:
            raise BadRequest("query parameters do not match the contract", code="invalid_query",
                             details=sorted(found, key=lambda p: (p["path"], p["message"])))
        return {**self.defaults, **values}


def limit_parameter(default: int = 100, maximum: int = 1000) -> dict:
    """The ``limit`` query parameter of a listing."""
    return {"type": "integer", "minimum": 1, "maximum": maximum, "default": default,
            "description": "at most this many items"}


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_INTEGER = re.compile(r"-?[0-9]{1,18}")


def _parse_query_value(schema: dict, raw: str):
    """A query string value as the type its schema names; left a string when it does not parse, so the schema
    check reports it (e.g. ``'ten' is not of type 'integer'``)."""
    kind = schema.get("type")
    if kind == "integer" and _INTEGER.fullmatch(raw):
        return int(raw)
    if kind == "boolean":
        return _BOOLEANS.get(raw.lower(), raw)
    return raw


def first_line(text: str | None) -> str:
    return (text or "").strip().split("\n", 1)[0]


def _check_response(name: str, result) -> None:
    body = result[0] if isinstance(result, tuple) else result
    if isinstance(body, dict):
        found = problems(name, body)
        if found:
            raise AssertionError(f"response breaks the {name} contract: {found}")
