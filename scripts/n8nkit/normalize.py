"""Turn a workflow as n8n exports it into the kit's reviewable file form, so export -> import -> export is a no-op."""
from __future__ import annotations

import json
import re
import uuid

# Only these top-level fields describe what a workflow does; everything else n8n returns (versionId,
# activeVersionId, updatedAt, createdAt, triggerCount, shared, pinData, staticData, active, tags, ...) is
# instance state that would make every export a diff.
KEPT_FIELDS = ("id", "name", "nodes", "connections", "settings", "meta")
# meta.instanceId names the n8n installation, not the workflow.
DROPPED_META = ("instanceId",)
# Stable node ids are derived from the workflow id and node name when a file has none.
NODE_ID_NAMESPACE = uuid.UUID("0d3c6a52-8d7b-4f0e-a1c4-6b5f8e9e2f10")
WEBHOOK_NODE_TYPES = ("n8n-nodes-base.webhook", "n8n-nodes-base.formTrigger")


def normalize(workflow: dict) -> dict:
    """The normalized workflow: volatile fields dropped, stable ids, nodes sorted by name."""
    if not isinstance(workflow, dict) or "nodes" not in workflow:
        raise ValueError("not an n8n workflow: it has no 'nodes'")
    out = {key: workflow[key] for key in KEPT_FIELDS if key in workflow}
    meta = {k: v for k, v in (out.get("meta") or {}).items() if k not in DROPPED_META}
    if meta:
        out["meta"] = meta
    else:
        out.pop("meta", None)
    out.setdefault("settings", {})
    out.setdefault("connections", {})
    workflow_id = out.get("id") or ""
    out["nodes"] = sorted((_node(n, workflow_id) for n in workflow["nodes"]), key=lambda n: n["name"])
    return out


def _node(node: dict, workflow_id: str) -> dict:
    node = dict(node)
    if not node.get("id"):
        node["id"] = str(uuid.uuid5(NODE_ID_NAMESPACE, f"{workflow_id}/{node['name']}"))
    if node.get("credentials"):
        # Credential ids differ per n8n instance; n8n resolves a null id by name and type when it saves.
        node["credentials"] = {kind: {"id": None, "name": ref.get("name") if isinstance(ref, dict) else ref}
                               for kind, ref in node["credentials"].items()}
    if not _is_trigger(node.get("type", "")):
        # n8n gives send-and-wait action nodes (email, Slack, Wait) a random webhookId on every save; their
        # resume URLs are per execution, so the id carries nothing worth keeping and would make every export a diff.
        node.pop("webhookId", None)
    elif node.get("type") in WEBHOOK_NODE_TYPES and not node.get("webhookId"):
        node["webhookId"] = str(uuid.uuid5(NODE_ID_NAMESPACE, f"{workflow_id}/{node['name']}/webhook"))
    return node


def _is_trigger(node_type: str) -> bool:
    return node_type in WEBHOOK_NODE_TYPES or node_type.endswith("Trigger") or node_type.endswith(".form")


def dumps(workflow: dict) -> str:
    """The byte form of a normalized workflow: sorted keys, 2-space indent, UTF-8 text, trailing newline."""
    return json.dumps(workflow, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def slug(name: str) -> str:
    """File name stem for a workflow name: 'Order confirmed' -> 'order-confirmed'."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not stem:
        raise ValueError(f"workflow name {name!r} gives an empty file name")
    return stem
