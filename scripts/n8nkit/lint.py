"""Offline checks of workflow files: structure for the pinned n8n, webhooks, worker calls, credentials, secrets, names."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import catalog
from .normalize import dumps, normalize

# Rule codes, shared by the CLI output and the tests.
STRUCTURE = "structure"
UNKNOWN_NODE_TYPE = "unknown-node-type"
DUPLICATE_WEBHOOK_PATH = "duplicate-webhook-path"
UNKNOWN_WORKER_PATH = "unknown-worker-path"
CREDENTIAL_NOT_BY_NAME = "credential-not-by-name"
UNKNOWN_CREDENTIAL = "unknown-credential"
LITERAL_SECRET = "literal-secret"
NO_ERROR_WORKFLOW = "no-error-workflow"
NODE_NAME = "node-name"
NOT_NORMALIZED = "not-normalized"

WEBHOOK_TYPE = "n8n-nodes-base.webhook"
HTTP_REQUEST_TYPE = "n8n-nodes-base.httpRequest"
ERROR_TRIGGER_TYPE = "n8n-nodes-base.errorTrigger"
# Workflows reach the workers through this one environment variable, so the linter can tell a worker call.
WORKERS_URL = re.compile(r"^=\{\{\s*\$env\.(?:KIT_WORKERS_URL|KIT_DEAD_LETTERS_URL)\s*\}\}(?P<path>/[^?#]*)(?:[?#].*)?$")
EXPRESSION = re.compile(r"\{\{.*?\}\}")
SENSITIVE_NAME = re.compile(r"(authorization|token|secret|passw|api[-_]?key|apikey|signature|cookie)", re.I)
# Shapes of real secrets; a match anywhere in a node's parameters is a leak (credentials hold secrets).
SECRET_SHAPES = [
    re.compile(r"xox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bBearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"[?&](?:token|secret|key|api_key|apikey|password)=(?!\{\{)[^&\s{}]{4,}", re.I),
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\."),  # a JWT
]
# Long random-looking literals (hex or base64-ish) are treated as secrets too; uuids are ids, not secrets.
HIGH_ENTROPY = re.compile(r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_+/=-]*\d)(?=[A-Za-z0-9_+/=-]*[A-Za-z])[A-Za-z0-9_+/=-]{32,}")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# Names n8n gives a node by default ("HTTP Request1"): they say nothing about what the node is for.
DEFAULT_NAMES = {"Webhook", "HTTP Request", "Code", "If", "IF", "Switch", "Set", "Edit Fields", "Merge",
                 "Respond to Webhook", "No Operation, do nothing", "Sticky Note", "Error Trigger", "Odoo",
                 "Stop and Error", "Function", "Wait"}
MIN_NAME_LENGTH = 3


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: which file and node break which rule, and how."""

    file: str
    rule: str
    node: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.node}]" if self.node else "")
        return f"{where}: {self.rule}: {self.message}"


def lint_files(paths: list[Path], *, openapi: dict | None, credential_templates: list[dict],
               node_versions: dict | None = None, known_workflows: list[dict] | None = None) -> list[Problem]:
    """Every problem in these workflow files, sorted; empty means they are fit to import."""
    node_versions = catalog.node_versions() if node_versions is None else node_versions
    loaded, problems = [], []
    for path in paths:
        try:
            loaded.append((path.name, json.loads(path.read_text()), path.read_text()))
        except ValueError as exc:
            problems.append(Problem(path.name, STRUCTURE, "", f"not JSON: {exc}"))
    workflows = [w for _, w, _ in loaded] + list(known_workflows or [])
    error_workflow_ids = {w.get("id") for w in workflows if isinstance(w, dict) and
                          any(n.get("type") == ERROR_TRIGGER_TYPE for n in w.get("nodes", []) if isinstance(n, dict))}
    seen_paths: dict[str, str] = {}
    for name, workflow, text in loaded:
        problems += lint_workflow(name, workflow, openapi=openapi, credential_templates=credential_templates,
                                  node_versions=node_versions, error_workflow_ids=error_workflow_ids)
        if not problems_of(problems, name, STRUCTURE):
            problems += _normalized(name, workflow, text)
            problems += _webhook_paths(name, workflow, seen_paths)
    return sorted(problems)


def problems_of(problems: list[Problem], file: str, rule: str) -> list[Problem]:
    return [p for p in problems if p.file == file and p.rule == rule]


def lint_workflow(file: str, workflow, *, openapi: dict | None, credential_templates: list[dict],
                  node_versions: dict | None, error_workflow_ids: set) -> list[Problem]:
    found = _structure(file, workflow)
    if found:
        return found
    for node in workflow["nodes"]:
        found += _node_type(file, node, node_versions)
        found += _credentials(file, node, credential_templates)
        found += _secrets(file, node)
        if node["type"] == HTTP_REQUEST_TYPE and openapi is not None:
            found += _worker_call(file, node, openapi)
    found += _names(file, workflow, node_versions)
    found += _error_workflow(file, workflow, error_workflow_ids)
    return found


def _structure(file: str, workflow) -> list[Problem]:
    def bad(message, node=""):
        return [Problem(file, STRUCTURE, node, message)]

    if not isinstance(workflow, dict):
        return bad("a workflow file holds one JSON object")
    for key, kind in (("id", str), ("name", str), ("nodes", list), ("connections", dict), ("settings", dict)):
        if not isinstance(workflow.get(key), kind):
            return bad(f"'{key}' must be a {kind.__name__}")
    names = set()
    for node in workflow["nodes"]:
        if not isinstance(node, dict):
            return bad("every node is an object")
        label = str(node.get("name", "?"))
        for key, kind in (("id", str), ("name", str), ("type", str), ("typeVersion", (int, float)),
                          ("parameters", dict), ("position", list)):
            if not isinstance(node.get(key), kind):
                return bad(f"node field '{key}' is missing or has the wrong type", label)
        if len(node["position"]) != 2 or not all(isinstance(v, (int, float)) for v in node["position"]):
            return bad("position must be [x, y]", label)
        names.add(node["name"])
    for source, outputs in workflow["connections"].items():
        if source not in names:
            return bad(f"connection from unknown node {source!r}")
        if not isinstance(outputs, dict):
            return bad("connections map output type -> list of outputs", source)
        for branches in outputs.values():
            for branch in branches or []:
                for link in branch or []:
                    if not isinstance(link, dict) or link.get("node") not in names:
                        return bad(f"connection to unknown node {link!r}", source)
    return []


def _node_type(file: str, node: dict, node_versions: dict | None) -> list[Problem]:
    if node_versions is None:  # n8n not installed here: structure is all we can check offline
        return []
    versions = node_versions.get(node["type"])
    if versions is None:
        return [Problem(file, UNKNOWN_NODE_TYPE, node["name"], f"node type {node['type']!r} is not in the pinned n8n")]
    if node["typeVersion"] not in versions:
        return [Problem(file, UNKNOWN_NODE_TYPE, node["name"],
                        f"{node['type']} has no typeVersion {node['typeVersion']} (known: {sorted(versions)})")]
    return []


def _credentials(file: str, node: dict, templates: list[dict]) -> list[Problem]:
    found = []
    known = {(t["type"], t["name"]) for t in templates}
    for kind, ref in (node.get("credentials") or {}).items():
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str) or ref.get("id") is not None:
            found.append(Problem(file, CREDENTIAL_NOT_BY_NAME, node["name"],
                                 f"{kind} credential must be {{'id': null, 'name': ...}} (ids differ per n8n instance)"))
        elif (kind, ref["name"]) not in known:
            found.append(Problem(file, UNKNOWN_CREDENTIAL, node["name"],
                                 f"no {kind} credential named {ref['name']!r} in n8n/credentials.example/"))
    return found


def _secrets(file: str, node: dict) -> list[Problem]:
    found = []
    for where, value in _strings(node.get("parameters", {}), ""):
        for shape in SECRET_SHAPES:
            if shape.search(value):
                found.append(Problem(file, LITERAL_SECRET, node["name"], f"{where} holds what looks like a secret"))
                break
        else:
            literal = EXPRESSION.sub("", value)
            if any(not UUID.match(m) for m in HIGH_ENTROPY.findall(literal)):
                found.append(Problem(file, LITERAL_SECRET, node["name"], f"{where} holds a long random literal"))
    for where, pair in _name_value_pairs(node.get("parameters", {}), ""):
        name, value = pair.get("name"), pair.get("value")
        if isinstance(name, str) and SENSITIVE_NAME.search(name) and isinstance(value, str) and value \
                and not value.startswith("="):
            found.append(Problem(file, LITERAL_SECRET, node["name"],
                                 f"{where} sends {name!r} as a literal; use a credential"))
    return found


def _strings(value, where: str):
    if isinstance(value, str):
        yield where or "parameters", value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")


def _name_value_pairs(value, where: str):
    if isinstance(value, dict):
        if "name" in value and "value" in value:
            yield where, value
        for key, item in value.items():
            yield from _name_value_pairs(item, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _name_value_pairs(item, f"{where}[{index}]")


def _worker_call(file: str, node: dict, openapi: dict) -> list[Problem]:
    match = WORKERS_URL.match(str(node["parameters"].get("url", "")))
    if not match:
        return []
    method = str(node["parameters"].get("method", "GET")).lower()
    path = match.group("path").rstrip("/") or "/"
    for template, operations in openapi.get("paths", {}).items():
        if _path_matches(template, path) and method in operations:
            return _unknown_query(file, node, method, path, operations[method])
    return [Problem(file, UNKNOWN_WORKER_PATH, node["name"],
                    f"{method.upper()} {path} is not an operation of the workers' /openapi.json")]


def _unknown_query(file: str, node: dict, method: str, path: str, operation: dict) -> list[Problem]:
    """The workers refuse a query parameter they do not declare (400), so a misspelt one fails here first."""
    known = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    given = [p.get("name") for p in node["parameters"].get("queryParameters", {}).get("parameters", [])]
    return [Problem(file, UNKNOWN_WORKER_PATH, node["name"], f"{method.upper()} {path} takes no query parameter "
                                                             f"{name!r} (it takes {sorted(known)})")
            for name in given if name not in known]


def _path_matches(template: str, path: str) -> bool:
    """'/v1/events/{event_id}' matches '/v1/events/{{ $json.id }}' and '/v1/events/abc', not '/v1/events'."""
    wanted, given = template.strip("/").split("/"), _segments(path)
    if len(wanted) != len(given):
        return False
    return all(w == g or (w.startswith("{") and w.endswith("}") and g) for w, g in zip(wanted, given))


def _segments(path: str) -> list[str]:
    # Expressions may contain '/', so replace them by a placeholder before splitting.
    return EXPRESSION.sub("{expr}", path).strip("/").split("/")


def _names(file: str, workflow: dict, node_versions: dict | None) -> list[Problem]:
    found, seen, ids = [], set(), {}
    defaults = set(DEFAULT_NAMES)
    for node in workflow["nodes"]:
        name = node["name"]
        if name in seen:
            found.append(Problem(file, NODE_NAME, name, "node names must be unique"))
        seen.add(name)
        node_id = node.get("id")
        if node_id and node_id in ids:  # a node copied in the file; n8n refuses to import the workflow
            found.append(Problem(file, NODE_NAME, name, f"node id {node_id} is {ids[node_id]!r}'s already: "
                                                        "delete it and normalize gives the node its own"))
        ids.setdefault(node_id, name)
        stem = re.sub(r"\d+$", "", name).strip()
        if len(name.strip()) < MIN_NAME_LENGTH or stem in defaults:
            found.append(Problem(file, NODE_NAME, name, "give the node a name that says what it does"))
    return found


def _error_workflow(file: str, workflow: dict, error_workflow_ids: set) -> list[Problem]:
    target = workflow["settings"].get("errorWorkflow")
    if not target:
        return [Problem(file, NO_ERROR_WORKFLOW, "", "settings.errorWorkflow is not set")]
    if target not in error_workflow_ids:
        return [Problem(file, NO_ERROR_WORKFLOW, "",
                        f"settings.errorWorkflow {target!r} is not a known workflow with an Error Trigger")]
    return []


def _normalized(file: str, workflow: dict, text: str) -> list[Problem]:
    if dumps(normalize(workflow)) != text:
        return [Problem(file, NOT_NORMALIZED, "", "run scripts/workflows.py normalize (file differs from its normal form)")]
    return []


def _webhook_paths(file: str, workflow: dict, seen: dict[str, str]) -> list[Problem]:
    found = []
    for node in workflow["nodes"]:
        if node["type"] != WEBHOOK_TYPE:
            continue
        path = str(node["parameters"].get("path", "")).strip("/")
        if path in seen:
            found.append(Problem(file, DUPLICATE_WEBHOOK_PATH, node["name"],
                                 f"webhook path {path!r} is also used by {seen[path]}"))
        seen.setdefault(path, f"{file} [{node['name']}]")
    return found
