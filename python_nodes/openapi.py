"""OpenAPI 3.1 document generated from the routes and the same JSON Schemas the endpoints validate with."""
from __future__ import annotations

import copy
import re

from . import contracts

_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_STATUS_TEXT = {"200": "OK", "400": "Bad request", "401": "Unauthorized", "404": "Not found", "409": "Conflict",
                "413": "Payload too large", "415": "Unsupported media type", "422": "Validation failed"}


def build_spec(app) -> dict:
    """The document served at ``GET /openapi.json``; HTTP Request nodes in workflows are linted against it."""
    paths: dict = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        declared = getattr(view, "contract", {})
        path = _PARAM.sub(r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, declared)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Odoo Ops Kit workers", "version": "1"},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": {name: _localize(name, body) for name, body in contracts.schemas().items()},
                       "responses": {"Error": {"description": "Any error",
                                               "content": {"application/json": {"schema": _ref("error")}}}}},
    }


def _operation(rule, declared: dict) -> dict:
    op = {"operationId": rule.endpoint, "summary": declared.get("summary", ""),
          "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                         for name in sorted(rule.arguments)],
          "responses": {"200": {"description": "OK"}, "default": {"$ref": "#/components/responses/Error"}}}
    if declared.get("request"):
        op["requestBody"] = {"required": True,
                             "content": {"application/json": {"schema": _ref(declared["request"])}}}
    if declared.get("response"):
        op["responses"]["200"]["content"] = {"application/json": {"schema": _ref(declared["response"])}}
    return op


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _localize(own_name: str, schema: dict) -> dict:
    """Point references (``x.schema.json#/...`` and local ``#/...``) at the components so the document stands alone."""
    body = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                node["$ref"] = f"#/components/schemas/{own_name}{ref[1:]}"
            elif isinstance(ref, str) and contracts.SCHEMA_SUFFIX in ref:
                target, _, fragment = ref.partition("#")
                name = target.rsplit("/", 1)[-1][: -len(contracts.SCHEMA_SUFFIX)]
                node["$ref"] = f"#/components/schemas/{name}{fragment}"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body)
    return body
