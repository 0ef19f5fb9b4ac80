"""Stock shortage through the real n8n: a shortage whose optimal plan meets the promise is applied once and customer
service is emailed once; one that needs ops gets exactly one approval and the outbox its answer before the run waits;
a redelivery of either changes nothing and is answered 200; the approval decided later resumes the run, which
applies the approved plan once."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from scripts.procs import wait_for

from .conftest import WEBHOOK_SECRET
from .flows import consumption_state, outbox_delivery, outbox_state, rpc, settled_runs, workflow_runs

pytestmark = pytest.mark.e2e

WORKFLOW_ID = "odooOpsStockShrt"
TRIGGER = "Kit shortage webhook"
WEBHOOK_PATH = "kit/stock-shortage"
CONSUMER = "n8n.stock-shortage"
CUSTOMER_SERVICE = "customer-service@example.com"
OPS_APPROVER = "dev.patel"  # holds the "ops" role in python_nodes/approvals/approvers.example.json
WH_STOCK = 6  # the simulator's WH/Stock: Odoo warehouse 1, "AMS" in the example network
PICKING_FIELDS = ["name", "state", "origin", "sale_id", "partner_id", "scheduled_date", "location_id", "write_date"]
PLAN_NOTE = "Fulfillment plan applied"
EFFECT_NODES = {"Plan fulfillment", "Apply plan in Odoo", "Ask ops to decide", "Tell customer service (applied)"}
GATE_NODES = {"Already handled (redelivery)", "Answer in progress"}


@pytest.fixture
def mail(stack):
    """The session's mail sink, where n8n's SMTP credential points."""
    return stack.mail


def shortage(stack, *, promised: date) -> tuple[int, dict]:
    """A sale order for 4 units of a fresh product stocked in WH, and the webhook Odoo's "delivery waiting for
    stock" automation posts to the workers' inbox for its delivery; answers the order id and the recorded event."""
    sim = stack.sim
    product = rpc(sim, "product.product", "create", {"name": "Shortage crate", "default_code": "E2E-SHORT"})
    rpc(sim, "stock.quant", "create", {"product_id": product, "location_id": WH_STOCK, "quantity": 10.0})
    [partner] = rpc(sim, "res.partner", "search", [("customer_rank", ">", 0)], limit=1)
    order = rpc(sim, "sale.order", "create", {"partner_id": partner, "commitment_date": f"{promised} 12:00:00",
                                             "order_line": [(0, 0, {"product_id": product, "product_uom_qty": 4.0})]})
    [delivery_type] = rpc(sim, "stock.picking.type", "search", [("code", "=", "outgoing"), ("warehouse_id", "=", 1)])
    picking = rpc(sim, "stock.picking", "create", {"picking_type_id": delivery_type, "origin": f"S{order:05d}",
                                                   "sale_id": order, "partner_id": partner, "state": "confirmed"})
    [values] = rpc(sim, "stock.picking", "read", [picking], PICKING_FIELDS, load=None)
    body = {"_action": "Ops Kit: delivery waiting for stock(#7)", "_id": picking, "_model": "stock.picking",
            **{k: v for k, v in values.items() if k != "id"}}
    answer = stack.workers.post("/v1/events", params={"token": WEBHOOK_SECRET}, json=body)
    assert answer.status_code == 201, answer.text
    event = answer.json()["event"]
    assert event["type"] == "stock.shortage.detected"
    return order, event


def plan_notes(stack, order: int) -> list[str]:
    rows = rpc(stack.sim, "mail.message", "search_read", [("model", "=", "sale.order"), ("res_id", "=", order)],
               fields=["body"])
    return [r["body"] for r in rows if PLAN_NOTE in (r["body"] or "")]


def mail_about(mail, order: int) -> list[dict]:
    return [m for m in mail.messages() if m["subject"].startswith(f"Order {order}:")]


def approvals_of(stack, order: int) -> list[dict]:
    answer = stack.workers.get("/v1/approvals", params={"subject_type": "sale.order", "subject_id": str(order)})
    answer.raise_for_status()
    return answer.json()["approvals"]


def runs_of(stack, event_id: str) -> list[dict]:
    return [r for r in workflow_runs(stack.n8n, WORKFLOW_ID, TRIGGER) if r["event_id"] == event_id]


def settled(stack, event_id: str, at_least: int, waiting: int = 0) -> list[dict] | None:
    return settled_runs(stack.n8n, WORKFLOW_ID, TRIGGER, event_id, at_least, waiting)


def the_one_that_acted(runs: list[dict], node: str) -> dict:
    """The single run that went through ``node``; any other run (an outbox retry) stopped at the claim."""
    [acted] = [r for r in runs if node in r["nodes"]]
    others = [r for r in runs if r is not acted]
    assert all(r["nodes"] & GATE_NODES and not r["nodes"] & EFFECT_NODES for r in others), others
    return acted


def redeliver_and_expect_nothing(stack, event: dict, waiting: int = 0) -> dict:
    """The outbox sends the event again after a lost answer: 200 from the claim, no second run of the effect."""
    before = {r["id"] for r in runs_of(stack, event["id"])}
    again = outbox_delivery(stack, WEBHOOK_PATH, event)
    assert again.status_code == 200, again.text
    assert again.json() == {"duplicate": True, "event_id": event["id"]}
    runs = wait_for(lambda: settled(stack, event["id"], len(before) + 1, waiting), 60,
                    what="the redelivery's run to finish")
    [redelivery] = [r for r in runs if r["id"] not in before]
    assert redelivery["status"] == "success" and "Already handled (redelivery)" in redelivery["nodes"], redelivery
    assert not EFFECT_NODES & redelivery["nodes"], redelivery
    return redelivery


def test_shortage_within_policy_is_applied_and_told_once_and_a_redelivery_changes_nothing(stack, mail):
    order, event = shortage(stack, promised=date.today() + timedelta(days=10))

    wait_for(lambda: consumption_state(stack.workers, event["id"], CONSUMER) == "done", 60,
             what="the shortage to be handled")
    wait_for(lambda: outbox_state(stack.workers, event["id"]) == "delivered", 30,
             what="the outbox delivery")
    runs = wait_for(lambda: settled(stack, event["id"], 1), 60, what="the run to finish")
    first = the_one_that_acted(runs, "Apply plan in Odoo")
    assert first["status"] == "success" and "Answer handled" in first["nodes"], first
    [note] = plan_notes(stack, order)
    [told] = mail_about(mail, order)
    assert CUSTOMER_SERVICE in told["to"] and told["subject"] == f"Order {order}: shortage re-planned"
    assert "Plan applied" in told["text"] and "Revised promise" in told["text"], told["text"]
    assert approvals_of(stack, order) == []

    redeliver_and_expect_nothing(stack, event)
    assert plan_notes(stack, order) == [note]
    assert len(mail_about(mail, order)) == 1
    assert approvals_of(stack, order) == []
    assert consumption_state(stack.workers, event["id"], CONSUMER) == "done"


def test_shortage_needing_ops_asks_once_answers_before_waiting_and_resumes_on_the_decision(stack, mail):
    # Promised for yesterday: whatever the planner picks is late or backordered, so ops decide.
    order, event = shortage(stack, promised=date.today() - timedelta(days=1))

    # The hand-off is durable (approval asked, claim done) and the outbox has its answer while the run waits.
    wait_for(lambda: consumption_state(stack.workers, event["id"], CONSUMER) == "done", 60,
             what="the approval hand-off to be done")
    wait_for(lambda: outbox_state(stack.workers, event["id"]) == "delivered", 30,
             what="the outbox delivery")
    runs = wait_for(lambda: settled(stack, event["id"], 1, waiting=1), 60, what="the run to wait for ops")
    first = the_one_that_acted(runs, "Ask ops to decide")
    assert first["status"] == "waiting" and "Answer waiting for ops" in first["nodes"], first
    [approval] = approvals_of(stack, order)
    assert approval["state"] == "pending" and [s["role"] for s in approval["steps"]] == ["ops"]
    reasons = {r["code"] for r in approval["context"]["reasons"]}
    assert reasons and reasons <= {"late_shipment", "backorder"}, approval["context"]
    assert plan_notes(stack, order) == [] and mail_about(mail, order) == []

    redeliver_and_expect_nothing(stack, event, waiting=1)
    assert len(approvals_of(stack, order)) == 1

    decided = stack.workers.post(f"/v1/approvals/{approval['id']}/decisions",
                                 json={"approver_id": OPS_APPROVER, "decision": "approve",
                                       "reason_code": "customer_priority"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "approved"
    resumed = wait_for(lambda: settled(stack, event["id"], 2, waiting=0), 90, what="the run to resume")
    [applied] = [r for r in resumed if r["id"] == first["id"]]
    assert applied["status"] == "success" and "Apply approved plan in Odoo" in applied["nodes"], applied
    assert len(plan_notes(stack, order)) == 1
    mail.wait_for(lambda ms: any(m["subject"].startswith(f"Order {order}:") for m in ms))
    [told] = mail_about(mail, order)
    assert told["subject"] == f"Order {order}: shortage re-planned after ops approval"
    assert len(approvals_of(stack, order)) == 1
