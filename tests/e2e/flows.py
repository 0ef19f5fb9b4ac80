"""Helpers the end-to-end tests share: Odoo RPC on the simulator, provisioning, and reading n8n's executions."""
from __future__ import annotations

import io
import json
import sqlite3
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from scripts import provision_odoo
from scripts.procs import free_port

ORDER_WORKFLOW_ID = "odooOpsOrderConf"
OUTBOX_TRIGGER = "Workers outbox webhook"
DIRECT_TRIGGER = "Odoo webhook (direct)"
HANDOVER_NODE = "Hand over for release"


def rpc(sim, model: str, method: str, *args, **kwargs):
    """``object.execute_kw`` on the simulator, as any Odoo client does."""
    answer = requests.post(sim.url + "/jsonrpc", timeout=30, json={
        "jsonrpc": "2.0", "method": "call", "id": 1,
        "params": {"service": "object", "method": "execute_kw",
                   "args": [sim.db, sim.uid, sim.password, model, method, list(args), kwargs]}}).json()
    if "error" in answer:
        raise RuntimeError(answer["error"]["data"]["message"])
    return answer["result"]


def provision(stack, target: str) -> str:
    """Point the simulator's "sale order confirmed" automation at n8n (direct) or at the workers' inbox."""
    out = io.StringIO()
    code = provision_odoo.main(["--target", target, "--only", "sale-order-confirmed", "--odoo-url", stack.sim.url,
                                "--db", stack.sim.db, "--user", stack.sim.login, "--password", stack.sim.password,
                                "--workers-url", stack.workers.url, "--n8n-url", stack.n8n.url,
                                "--secret=" + stack.env["KIT_WEBHOOK_SECRET"]], out=out)
    assert code == 0, out.getvalue()
    return out.getvalue()


def draft_orders(sim, count: int) -> list[int]:
    created = sim.control("POST", "bulk/sale.order", json={"count": count, "state": "draft"})
    return list(range(created["first_id"], created["last_id"] + 1))


def report_shortage(stack, title: str) -> dict:
    """Report a high-severity stock shortage on a fresh Odoo order; answer the exception case it opened."""
    [order] = draft_orders(stack.sim, 1)
    answer = stack.workers.post("/v1/exceptions", json={
        "type": "stock.shortage.detected", "severity": "high", "title": title,
        "record": {"model": "sale.order", "id": order, "name": f"S{order:05d}"}})
    assert answer.status_code == 201, answer.text
    return answer.json()["exception"]


def last_webhook_seq(sim) -> int:
    entries = sim.control("GET", "webhooks")["webhooks"]
    return max((e["seq"] for e in entries), default=0)


def webhooks_since(sim, seq: int) -> list[dict]:
    return sim.control("GET", f"webhooks?since={seq}")["webhooks"]


def events_of(workers, order_id: int) -> list[dict]:
    answer = workers.get("/v1/events", params={"correlation_id": f"sale.order:{order_id}"})
    answer.raise_for_status()
    return answer.json()["items"]


def order_runs(n8n) -> list[dict]:
    """What each finished run of the order-confirmed workflow did per event it handed over (a run from the outbox
    may take a batch): its trigger, the event, whether it handed the order over (decided it, or started its
    approvals) or stopped at the effect-once gate (a redelivery, or a 409 while another run held the event). A run
    that handed nothing over (it failed before, or found no new event) counts once, without an event."""
    runs = []
    for execution in n8n.api.executions(ORDER_WORKFLOW_ID, include_data=True):
        run_data = _run_data(execution)
        trigger = OUTBOX_TRIGGER if OUTBOX_TRIGGER in run_data else DIRECT_TRIGGER if DIRECT_TRIGGER in run_data else ""
        answer = _first_output(run_data.get(HANDOVER_NODE))
        items = (answer.get("body") or {}).get("items") if isinstance(answer.get("body"), dict) else None
        run = {"id": execution["id"], "status": execution["status"], "trigger": trigger,
               "started_at": execution.get("startedAt"), "stopped_at": execution.get("stoppedAt")}
        for item in items or [{}]:
            runs.append({**run, "event_id": item.get("event_id"),
                         "handed_over": item.get("handover") in ("done", "needs_approval"),
                         "stopped_at_gate": item.get("handover") == "redelivery" or item.get("status") == 409})
    return runs


def _first_output(node_runs: list | None) -> dict:
    """The first item a node put out in its first run; empty when it never ran or put out nothing. When n8n recovers
    a run it abandoned at a stop, a node that was still running has a "crashed" run without data, and one that had
    finished has artificial items without its answer."""
    main = ((node_runs or [{}])[0].get("data") or {}).get("main") or [[]]
    return (main[0] or [{}])[0].get("json") or {}


def _run_data(execution: dict) -> dict:
    """Node name -> its runs, for an execution read with its data (empty for one n8n recovered without data)."""
    return ((execution.get("data") or {}).get("resultData") or {}).get("runData") or {}


# -- Outbox-fed workflows other than order-confirmed, and the stand-ins for the people they notify ---------------

def outbox_delivery(stack, path: str, envelope: dict | list[dict]) -> requests.Response:
    """POST a recorded event (or, to a webhook that takes batches, a list of them) to an n8n workflow's outbox
    webhook exactly as the workers' outbox does."""
    headers = {"X-Kit-Token": stack.env["KIT_N8N_TOKEN"]}
    if isinstance(envelope, dict):
        headers.update({"X-Kit-Event-Id": envelope["id"], "X-Correlation-Id": envelope["correlationid"]})
    return requests.post(stack.n8n.webhook(path), json=envelope, timeout=60, headers=headers)


def consumption_state(workers, event_id: str, consumer: str) -> str | None:
    """``claimed``/``done`` for that consumer of the event, None while it never claimed it."""
    answer = workers.get(f"/v1/events/{event_id}/consumptions")
    answer.raise_for_status()
    return next((i["state"] for i in answer.json()["items"] if i["consumer"] == consumer), None)


def workers_database(stack) -> sqlite3.Connection:
    """The workers' SQLite file, for a test that makes time pass: a running process has no clock to move, so a
    deadline moves into the past where the workers keep it. Use it as ``with workers_database(stack) as db:``."""
    return sqlite3.connect(stack.env["KIT_DATABASE_URL"].removeprefix("sqlite:///"), timeout=30)


def expire_claim(stack, event_id: str, consumer: str) -> None:
    """Time passes until the consumer's lease on the event has run out."""
    with workers_database(stack) as db:
        moved = db.execute("UPDATE event_consumptions SET lease_until = '2020-01-01T00:00:00.000000Z' "
                           "WHERE event_id = ? AND consumer = ? AND completed_at IS NULL", (event_id, consumer))
        assert moved.rowcount == 1, f"{consumer} holds no running claim on event {event_id}"


def outbox_row(workers, event_id: str) -> dict | None:
    """The event's outbox row (state, attempts, ...), None while it has none."""
    rows = workers.get("/v1/outbox", params={"limit": 1000}).json()["items"]
    return next((row for row in rows if row["event_id"] == event_id), None)


def outbox_state(workers, event_id: str) -> str | None:
    """``pending``/``delivered``/``dead`` for the event's outbox row, None while it has none."""
    row = outbox_row(workers, event_id)
    return row["state"] if row else None


def workflow_runs(n8n, workflow_id: str, trigger: str) -> list[dict]:
    """Each run of a workflow started by its outbox webhook ``trigger``: status, event id, the nodes it ran."""
    runs = []
    for execution in n8n.api.executions(workflow_id, include_data=True):
        run_data = _run_data(execution)
        event_id = None
        if trigger in run_data:
            item = run_data[trigger][0]["data"]["main"][0][0]["json"]
            event_id = (item.get("body") or {}).get("id")
        runs.append({"id": execution["id"], "status": execution["status"], "event_id": event_id,
                     "nodes": set(run_data)})
    return runs


def any_running(runs: list[dict]) -> bool:
    """Whether any of these n8n executions is still going."""
    return any(r.get("status") in ("new", "running") for r in runs)


def settled_runs(n8n, workflow_id: str, trigger: str, event_id: str, at_least: int,
                 waiting: int = 0, ran: str | None = None) -> list[dict] | None:
    """The event's runs once ``at_least`` exist and none is still running (``waiting`` of them parked in a Wait),
    and one of them ran the node ``ran`` when given.

    A run still going has no data yet, so no event id: while any run of the workflow goes on, wait. n8n also marks
    a run finished a moment before it stores the run's data, which ``ran`` waits out."""
    every = workflow_runs(n8n, workflow_id, trigger)
    if any_running(every):
        return None
    runs = [r for r in every if r["event_id"] == event_id]
    parked = [r for r in runs if r["status"] == "waiting"]
    if len(runs) < at_least or len(parked) != waiting or (ran and not any(ran in r["nodes"] for r in runs)):
        return None
    return runs


@contextmanager
def mail_server_down(stack):
    """n8n's mail goes to a port nothing listens on (a mail server that is down), then back to the session's sink."""
    from scripts.n8nkit import credentials

    def point_at(port: int) -> None:
        rendered = credentials.render({**stack.n8n.environ, "KIT_SMTP_PORT": str(port),
                                       "KIT_N8N_API_KEY": stack.n8n.api.api_key})
        smtp = next(c for c in rendered if c["type"] == "smtp")
        stack.n8n.api.upsert_credential(smtp["name"], smtp["type"], smtp["data"])

    point_at(free_port())
    try:
        yield
    finally:
        point_at(stack.mail.smtp_port)


class SlackGate:
    """A pass-through to the Slack stub that can hold calls, to keep one run of the workflow mid-notification, or
    refuse them the way Slack does (HTTP 200 with ``ok: false``)."""

    def __init__(self, target: str):
        self.target = target
        self.open = threading.Event()
        self.open.set()
        self.held = threading.Event()
        self.refusing: str | None = None  # a Slack error code to answer with instead of passing the call on

    @contextmanager
    def serving(self):
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not gate.open.is_set():
                    gate.held.set()
                    gate.open.wait(30)
                if gate.refusing:
                    self._answer(200, "application/json", json.dumps({"ok": False, "error": gate.refusing}).encode())
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                answer = requests.post(gate.target + self.path, data=body, headers=headers, timeout=10)
                self._answer(answer.status_code, answer.headers.get("Content-Type", "application/json"),
                             answer.content)

            def _answer(self, status: int, content_type: str, content: bytes):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            self.open.set()
            server.shutdown()
            server.server_close()
