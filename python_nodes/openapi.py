"""OpenAPI 3.1 document generated from the routes and the same JSON Schemas the endpoints validate with."""
from __future__ import annotations

import copy
import re

from . import contracts
from .app import OPEN_PATHS, WEBHOOK
from .store.database import MAX_ROW_ID

_PARAM = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")
_PATH_TYPES = {"int": {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID}}  # app.RowIdConverter
_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted"}
SECURITY_SCHEMES = {
    "apiToken": {"type": "apiKey", "in": "header", "name": "X-Kit-Token",
                 "description": "KIT_API_TOKEN: every /v1 call but the inbox"},
    "webhookSecret": {"type": "apiKey", "in": "header", "name": "X-Kit-Token",
                      "description": "KIT_WEBHOOK_SECRET, for POST /v1/events; Odoo, which cannot send headers, "
                                     "puts it in the URL as ?token="},
}


def build_spec(app) -> dict:
    """The document served at ``GET /openapi.json``; HTTP Request nodes in workflows are linted against it."""
    paths: dict = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        declared = getattr(view, "contract", {})
        path = _PARAM.sub(r"{\2}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, method, declared, view.__doc__)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Odoo Ops Kit workers", "version": "1"},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": {name: _localize(name, body) for name, body in contracts.schemas().items()},
                       "responses": {"Error": {"description": "Any error",
                                               "content": {"application/json": {"schema": _ref("error")}}}},
                       "securitySchemes": SECURITY_SCHEMES},
    }


def _operation(rule, method: str, declared: dict, doc: str | None) -> dict:
    path_types = {name: _PATH_TYPES.get(converter, {"type": "string"}) for converter, name in _PARAM.findall(rule.rule)}
    parameters = [{"name": name, "in": "path", "required": True, "schema": path_types[name]}
                  for name in sorted(rule.arguments)]
    parameters += [{"name": name, "in": "query", "required": False, "schema": schema}
                   for name, schema in sorted(declared.get("query", {}).items())]
    media = declared.get("media_type", "application/json")
    responses = {}
    for status in declared.get("statuses", (200,)):
        answer = {"description": _STATUS_TEXT.get(status, "OK")}
        if declared.get("response"):
            answer["content"] = {media: {"schema": _ref(declared["response"])}}
        elif media != "application/json":
            answer["content"] = {media: {"schema": {"type": "string"}}}
        responses[str(status)] = answer
    responses["default"] = ({"description": "Any error, as a page", "content": {media: {"schema": {"type": "string"}}}}
                            if media == "text/html" else {"$ref": "#/components/responses/Error"})
    op = {"operationId": rule.endpoint, "summary": declared.get("summary") or contracts.first_line(doc),
          "parameters": parameters, "responses": responses, "security": _security(method, rule.rule)}
    if declared.get("request"):
        op["requestBody"] = {"required": not declared.get("optional_body"),
                             "content": {"application/json": {"schema": _ref(declared["request"])}}}
    elif declared.get("form"):
        op["requestBody"] = {"required": False, "content": {"application/x-www-form-urlencoded": {"schema": {
            "type": "object", "properties": declared["form"]}}}}
    return op


def _security(method: str, path: str) -> list:
    if (method, path) == WEBHOOK:
        return [{"webhookSecret": []}]
    return [] if path.startswith(OPEN_PATHS) or not path.startswith("/v1/") else [{"apiToken": []}]


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
