"""Push workflow files into a running n8n and pull them back out, normalized."""
from __future__ import annotations

import json
import time
from pathlib import Path

import requests

from .api import N8nApi
from .normalize import dumps, normalize, slug

WEBHOOK_TYPE = "n8n-nodes-base.webhook"
EXECUTE_WORKFLOW_TYPE = "n8n-nodes-base.executeWorkflow"


def read_files(folder: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


def import_workflows(api: N8nApi, workflows: list[dict], *, activate: bool = True, log=print) -> list[str]:
    """Create or update each workflow under its own id, then publish it; returns the ids."""
    ids = []
    for workflow in workflows:
        if api.workflow_exists(workflow["id"]):
            api.update_workflow(workflow)
            log(f"updated  {workflow['name']} ({workflow['id']})")
        else:
            api.create_workflow(workflow)
            log(f"created  {workflow['name']} ({workflow['id']})")
        ids.append(workflow["id"])
    if activate:
        for workflow in publish_order(workflows):
            api.activate(workflow["id"])
            log(f"active   {workflow['name']}")
    return ids


def sub_workflow_ids(workflow: dict) -> set[str]:
    """Ids of the workflows this one starts with Execute Workflow nodes."""
    found = set()
    for node in workflow["nodes"]:
        if node["type"] == EXECUTE_WORKFLOW_TYPE:
            target = node["parameters"].get("workflowId")
            found.add(target.get("value") if isinstance(target, dict) else target)
    return found


def publish_order(workflows: list[dict]) -> list[dict]:
    """Sub-workflows before the workflows that call them: n8n refuses to publish a caller first."""
    by_id = {w["id"]: w for w in workflows}
    ordered: list[dict] = []

    def visit(workflow: dict, path: tuple) -> None:
        if workflow in ordered:
            return
        if workflow["id"] in path:
            raise ValueError(f"workflows call each other in a cycle: {' -> '.join(path + (workflow['id'],))}")
        for sub_id in sorted(sub_workflow_ids(workflow)):
            if sub_id in by_id:
                visit(by_id[sub_id], path + (workflow["id"],))
        ordered.append(workflow)

    for workflow in workflows:
        visit(workflow, ())
    return ordered


def export_workflows(api: N8nApi, folder: Path, *, only_ids: set[str] | None = None, log=print) -> list[Path]:
    """Write every workflow (or ``only_ids``) normalized to ``folder/<slug>.json``; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for summary in api.workflows():
        if only_ids is not None and summary["id"] not in only_ids:
            continue
        if summary.get("isArchived"):
            continue
        workflow = normalize(api.workflow(summary["id"]))
        path = folder / f"{slug(workflow['name'])}.json"
        path.write_text(dumps(workflow))
        written.append(path)
        log(f"exported {workflow['name']} -> {path}")
    return written


def webhook_paths(workflows: list[dict]) -> list[str]:
    return sorted({str(n["parameters"].get("path", "")).strip("/") for w in workflows for n in w["nodes"]
                   if n["type"] == WEBHOOK_TYPE})


def webhook_registered(base_url: str, path: str) -> bool:
    """Whether n8n serves this production webhook now (a CORS preflight answers only for registered ones)."""
    try:
        answer = requests.options(f"{base_url}/webhook/{path}", timeout=5,
                                  headers={"Origin": base_url, "Access-Control-Request-Method": "POST"})
    except requests.RequestException:
        return False
    return answer.status_code < 300


def wait_for_webhooks(base_url: str, paths: list[str], timeout: float = 60.0) -> None:
    """Block until n8n has every production webhook registered (a CORS preflight answers only for those)."""
    deadline = time.monotonic() + timeout
    pending = list(paths)
    while pending and time.monotonic() < deadline:
        pending = [path for path in pending if not webhook_registered(base_url, path)]
        if pending:
            time.sleep(0.5)
    if pending:
        raise TimeoutError(f"n8n webhooks not answering after {timeout:.0f} s: {pending}")
