"""What each kind of node costs the pinned n8n: CPU ms per run of Webhook -> [nodes] -> Respond, one n8n, one run.

Each variant adds nodes between the same Webhook and Respond to Webhook nodes (the kit's node versions) and is
posted ``--runs`` times by ``--clients`` connections; its cost is the CPU time n8n's processes used from the first
post until n8n went idle again, divided by the runs (n8n runs executions on one thread, so this is what bounds its
throughput). The HTTP Request nodes call a local server in this process, outside the measured CPU.
Why it matters: bench/e2e.py's ratio is bare Webhook -> Respond against the kit's order flow, and these figures
say what each step of a workflow costs against that baseline (e.g. a second execution, a credentialed call).
Usage: .venv/bin/python bench/n8n_nodes.py [--runs 200] [--clients 8]
"""
from __future__ import annotations

import argparse
import json
import secrets
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.e2e import cpu_seconds, post_all  # noqa: E402
from scripts.n8nkit import paths, sync  # noqa: E402
from tests.harness.n8n import n8n_server  # noqa: E402

WARM_UP = 10
BARE = "bare Webhook -> Respond"
IDLE_CPU_SECONDS = 0.05  # n8n counts as idle once it uses less than this over one poll
IDLE_POLL_SECONDS = 1.5


def kit_node_versions() -> dict[str, float]:
    """The typeVersion of each node type as the kit's workflows use it."""
    versions = {}
    for path in sorted(paths.WORKFLOWS_DIR.glob("*.json")):
        for node in json.loads(path.read_text())["nodes"]:
            versions.setdefault(node["type"], node["typeVersion"])
    return versions


VERSIONS = kit_node_versions()


def node(name: str, node_type: str, parameters: dict, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "name": name, "type": f"n8n-nodes-base.{node_type}",
            "typeVersion": VERSIONS[f"n8n-nodes-base.{node_type}"], "position": [0, 0], "parameters": parameters,
            **extra}


def set_node(name: str) -> dict:
    return node(name, "set", {"assignments": {"assignments": [
        {"id": str(uuid.uuid4()), "name": "order_id", "type": "number", "value": "={{ $json.body.id }}"}]},
        "options": {}})


def http_node(name: str, url: str, credential: dict | None = None) -> dict:
    parameters = {"method": "POST", "url": url, "sendBody": True, "specifyBody": "json",
                  "jsonBody": "={{ JSON.stringify({ id: $json.body?.id ?? 0 }) }}", "options": {"timeout": 10000}}
    if not credential:
        return node(name, "httpRequest", parameters)
    parameters.update(authentication="genericCredentialType", genericAuthType="httpHeaderAuth")
    return node(name, "httpRequest", parameters, credentials={"httpHeaderAuth": credential})


def execute_node(name: str, workflow_id: str) -> dict:
    return node(name, "executeWorkflow", {"mode": "once", "options": {"waitForSubWorkflow": False},
                                          "workflowId": {"__rl": True, "mode": "id", "value": workflow_id}})


def chain(api, name: str, middle: list[dict]) -> str:
    """Create and activate Webhook -> middle... -> Respond; returns its webhook path."""
    path = "bench/nodes-" + secrets.token_hex(4)
    nodes = [node("Webhook", "webhook", {"httpMethod": "POST", "path": path, "responseMode": "responseNode",
                                         "options": {}}, webhookId=str(uuid.uuid4())),
             *middle,
             node("Respond", "respondToWebhook", {"respondWith": "json", "options": {},
                                                  "responseBody": "={{ JSON.stringify({ ok: true }) }}"})]
    for index, item in enumerate(nodes):
        item["position"] = [index * 240, 0]
    connections = {a["name"]: {"main": [[{"node": b["name"], "type": "main", "index": 0}]]}
                   for a, b in zip(nodes, nodes[1:])}
    created = api.public("POST", "/workflows", json={"name": f"Bench: {name}", "nodes": nodes,
                                                     "connections": connections,
                                                     "settings": {"executionOrder": "v1"}})
    api.activate(created["id"])
    sync.wait_for_webhooks(api.base_url, [path])
    return path


def sub_workflow(api) -> str:
    """A sub-workflow as the kit's order-release starts: Execute Workflow Trigger (passthrough) -> Set."""
    trigger = node("Called", "executeWorkflowTrigger", {"inputSource": "passthrough"})
    step = set_node("Step")
    created = api.public("POST", "/workflows", json={
        "name": "Bench: sub-workflow", "nodes": [trigger, {**step, "position": [240, 0]}],
        "connections": {"Called": {"main": [[{"node": "Step", "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"}})
    api.activate(created["id"])
    return created["id"]


class Target(BaseHTTPRequestHandler):
    """What the HTTP Request nodes call: reads the body, answers a small JSON object."""

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def wait_idle(pid: int) -> float:
    """n8n's CPU seconds once it has stopped working (every run of the last posts finished)."""
    last = cpu_seconds(pid)
    while True:
        time.sleep(IDLE_POLL_SECONDS)
        now = cpu_seconds(pid)
        if now - last < IDLE_CPU_SECONDS:
            return now
        last = now


def post_many(url: str, count: int, clients: int) -> None:
    post_all(url, [{"id": index} for index in range(count)], lambda _: {}, clients)


def cost(n8n, pid: int, path: str, runs: int, clients: int) -> tuple[float, float]:
    """``(CPU ms per run, runs per second until idle)``."""
    before = wait_idle(pid)
    started = time.monotonic()
    post_many(n8n.webhook(path), runs, clients)
    after = wait_idle(pid)
    busy = time.monotonic() - started - IDLE_POLL_SECONDS  # the last poll only confirmed idleness
    return (after - before) / runs * 1000, runs / busy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    if not paths.installed():
        raise SystemExit("the pinned n8n is not installed: run scripts/install_n8n.sh")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{server.server_port}/call"
    with n8n_server(bootstrap_kit=False) as n8n:
        api = n8n.api
        credential = {"id": api.upsert_credential("Bench header", "httpHeaderAuth",
                                                  {"name": "X-Kit-Token", "value": secrets.token_urlsafe(18)}),
                      "name": "Bench header"}
        sub = sub_workflow(api)
        variants = {
            BARE: [],
            "+ 1 Set": [set_node("Set 1")],
            "+ 3 Set": [set_node(f"Set {i}") for i in (1, 2, 3)],
            "+ 1 HTTP Request": [http_node("Call 1", target)],
            "+ 1 HTTP Request, header credential": [http_node("Call 1", target, credential)],
            "+ 3 HTTP Request, header credential": [http_node(f"Call {i}", target, credential) for i in (1, 2, 3)],
            "+ Execute Workflow (no wait) -> Set": [execute_node("Start sub", sub)],
        }
        paths_by_name = {name: chain(api, name, middle) for name, middle in variants.items()}
        print(f"n8n {paths.pinned_version()} ({n8n.settings.expression_engine} expressions, successes saved), "
              f"{args.runs} runs per variant, {args.clients} clients")
        print(f"{'variant':<40} {'CPU ms/run':>10} {'added ms':>9} {'runs/s':>7}")
        for path in paths_by_name.values():  # warm every path up first, so the first variant pays no start-up
            post_many(n8n.webhook(path), WARM_UP, args.clients)
        bare = None
        # The bare chain again at the end: how far the baseline drifted during the run (a shared machine).
        for name, path in [*paths_by_name.items(), ("bare again (drift)", paths_by_name[BARE])]:
            per_run, rate = cost(n8n, n8n.proc.pid, path, args.runs, args.clients)
            bare = per_run if bare is None else bare
            print(f"{name:<40} {per_run:>10.1f} {per_run - bare:>9.1f} {rate:>7.1f}", flush=True)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
