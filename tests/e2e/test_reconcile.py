"""Acceptance (issue 6): with the Odoo simulator dropping 30 % of its webhooks, one run of the scheduled
reconciliation workflow in the real n8n leaves every confirmed order with exactly one event, and a second run
changes nothing."""
from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter

import pytest
import requests

from tests.harness.n8n import n8n_server
from tests.harness.odoo_sim import odoo_sim_server
from scripts.procs import ROOT
from tests.harness.workers import workers_server

from .flows import any_running

pytestmark = pytest.mark.e2e

WORKFLOW_ID = "odooOpsReconSchd"
ORDERS = 40
DROP_RATE = 0.3
API_TOKEN = "e2e-api-token-reconcile"
N8N_TOKEN = "e2e-n8n-token-reconcile"
WEBHOOK_SECRET = "e2e-webhook-secret-reconcile"


def _confirmed_events(workers_url: str) -> Counter:
    items = requests.get(workers_url + "/v1/events", params={"type": "sale.order.confirmed", "limit": 1000},
                         headers={"X-Kit-Token": API_TOKEN}, timeout=10).json()["items"]
    return Counter(item["event"]["data"]["record"]["id"] for item in items)


def _finished_runs(n8n) -> list[dict] | None:
    """The workflow's runs once none is running; the schedule (every 5 minutes) may have started some of them."""
    runs = n8n.api.executions(workflow_id=WORKFLOW_ID)
    return None if any_running(runs) else runs


def _execution(n8n, run: dict) -> dict:
    return n8n.api.public("GET", f"/executions/{run['id']}", params={"includeData": "true"})


def _run_scheduled_workflow(n8n, before: int) -> dict:
    """Fire the workflow's run-now trigger (same chain as the schedule) and wait until it and any run the schedule
    started meanwhile have finished; answer the run-now execution (told apart from the schedule's by its mode)."""
    answer = requests.post(n8n.webhook("kit/reconcile-now"), json={}, headers={"X-Kit-Token": N8N_TOKEN}, timeout=30)
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        runs = [r for r in _finished_runs(n8n) or [] if r.get("mode") == "webhook"]
        if len(runs) > before:
            return _execution(n8n, max(runs, key=lambda r: int(r["id"])))
        time.sleep(1)
    raise AssertionError("the reconciliation workflow did not finish within 180 s")


def _ingested_by_all_runs(n8n) -> int:
    """Events recovered by every finished run: the run-now one and any the schedule started beside it (a run the
    schedule starts after those finds nothing left to recover)."""
    finished = [r for r in n8n.api.executions(workflow_id=WORKFLOW_ID) if r.get("stoppedAt")]
    return sum(_node_output(_execution(n8n, run), "Report sweep counts")["missed_events"]["ingested"]
               for run in finished)


def _node_output(execution: dict, node: str) -> dict:
    run = execution["data"]["resultData"]["runData"][node][0]
    assert run.get("error") is None, run.get("error")
    return run["data"]["main"][0][0]["json"]


def test_scheduled_sweep_recovers_dropped_webhooks(tmp_path):
    with odoo_sim_server() as sim:
        workers_env = {"KIT_API_TOKEN": API_TOKEN, "KIT_WEBHOOK_SECRET": WEBHOOK_SECRET, "KIT_N8N_TOKEN": N8N_TOKEN,
                       "KIT_ODOO_URL": sim.url, "KIT_ODOO_DB": sim.db, "KIT_ODOO_USER": sim.login,
                       "KIT_ODOO_PASSWORD": sim.password, "KIT_N8N_WEBHOOK_BASE": ""}
        with workers_server(workers_env) as workers_url:
            provision = subprocess.run(
                [sys.executable, "-m", "scripts.provision_odoo", "--target", "inbox", "--only", "sale-order-confirmed",
                 "--odoo-url", sim.url, "--db", sim.db, "--user", sim.login, "--password", sim.password,
                 "--workers-url", workers_url, "--secret=" + WEBHOOK_SECRET],
                cwd=ROOT, capture_output=True, text=True, timeout=120)
            assert provision.returncode == 0, provision.stdout + provision.stderr
            sim.control("POST", "config", json={"webhook_drop_rate": DROP_RATE, "seed": 6})

            import odoorpc

            odoo = odoorpc.ODOO(sim.host, port=sim.port, timeout=30)
            odoo.login(sim.db, sim.login, sim.password)
            partner = odoo.env["res.partner"].search([("customer_rank", ">", 0)], limit=1)[0]
            product = odoo.env["product.product"].search([("sale_ok", "=", True)], limit=1)[0]
            orders = []
            for n in range(ORDERS):
                order = odoo.env["sale.order"].create({"partner_id": partner, "order_line": [
                    (0, 0, {"product_id": product, "product_uom_qty": 1 + n % 3})]})
                odoo.execute_kw("sale.order", "action_confirm", [[order]])
                orders.append(order)
            confirmed = set(odoo.env["sale.order"].search([("state", "=", "sale")]))
            dropped = sum(1 for e in sim.control("GET", "webhooks")["webhooks"] if e.get("dropped"))
            assert dropped > 0, "the simulator should have dropped some webhooks"
            before = _confirmed_events(workers_url)
            assert set(before) < confirmed, "some confirmed orders must be missing their event"
            assert all(count == 1 for count in before.values())

            n8n_env = {"KIT_API_TOKEN": API_TOKEN, "KIT_N8N_TOKEN": N8N_TOKEN, "KIT_ODOO_URL": sim.url,
                       "KIT_ODOO_DB": sim.db, "KIT_ODOO_USER": sim.login, "KIT_ODOO_PASSWORD": sim.password,
                       # Notification credentials exist but are unused here (no exception reaches a person).
                       "KIT_SLACK_BOT_TOKEN": "xoxb-unused", "KIT_SMTP_HOST": "127.0.0.1", "KIT_SMTP_PORT": "9"}
            with n8n_server(n8n_env, workers_url=workers_url) as n8n:
                first = _run_scheduled_workflow(n8n, before=0)
                after = _confirmed_events(workers_url)
                assert set(after) == confirmed
                assert all(count == 1 for count in after.values()), after
                _node_output(first, "Report sweep counts")  # the run-now run reached its report without an error
                assert _ingested_by_all_runs(n8n) == len(confirmed) - len(before)

                second = _run_scheduled_workflow(n8n, before=1)
                assert _confirmed_events(workers_url) == after
                again = _node_output(second, "Report sweep counts")
                assert again["missed_events"]["ingested"] == 0
                assert again["missed_events"]["raced"] == 0
