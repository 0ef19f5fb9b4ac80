"""Exception cases over the Flask app: dedup, lifecycle, reason codes, filters, escalation, Odoo write-back queue."""
from __future__ import annotations

from datetime import timedelta

import pytest

from python_nodes import clock
from python_nodes.exceptions import followups

SHORTAGE = {
    "type": "stock.shortage.detected",
    "record": {"model": "sale.order", "id": 42, "name": "S00042"},
    "context": {"order_value": 30000, "customer_tier": "B"},
    "details": {"product_id": 7, "missing_qty": 3},
    "source": "n8n",
}


def _report(api, body=SHORTAGE):
    return api.post("/v1/exceptions", json=body)


def test_first_report_opens_a_case_repeats_increment_it(api):
    first = _report(api)
    assert first.status_code == 201, first.json
    case = first.json["exception"]
    assert first.json["outcome"] == "new" and first.json["notify"] is True
    assert case["category"] == "order_fulfillment" and case["owner"]["team"] == "customer_service"
    assert case["severity"] == "high" and "large_order" in case["severity_reasons"]
    assert case["correlation_key"] == "stock.shortage.detected:sale.order:42"
    for n in range(2, 5):
        again = _report(api)
        assert again.status_code == 200
        assert again.json["outcome"] == "repeat" and again.json["notify"] is False
        assert again.json["exception"]["id"] == case["id"]
        assert again.json["exception"]["occurrence_count"] == n
    assert again.json["exception"]["last_seen_at"] >= case["last_seen_at"]


def test_new_case_is_written_back_to_odoo_and_announced(api, odoo):
    case = _report(api).json["exception"]
    [(_, _, activity)] = odoo.named("create", "mail.activity")
    assert activity["res_model_id"] == 7 and activity["res_id"] == 42 and activity["activity_type_id"] == 4
    assert activity["date_deadline"] == case["sla_due_at"][:10] and activity["user_id"] == 2
    assert len(odoo.named("message_post", "sale.order")) == 1
    assert case["odoo_activity_id"] == 101
    assert {f["action"]: f["status"] for f in case["followups"]} == {"announce_opened": "done", "odoo_open": "done"}
    events = api.get("/v1/events", query_string={"type": "exception.opened"}).json["items"]
    assert [e["event"]["data"]["exception_id"] for e in events] == [case["id"]]
    _report(api)
    assert len(odoo.named("create", "mail.activity")) == 1, "a repeat must not write to Odoo again"


def test_resolve_needs_a_known_reason_and_marks_the_activity_done(api, odoo):
    case_id = _report(api).json["exception"]["id"]
    missing = api.patch(f"/v1/exceptions/{case_id}", json={"state": "resolved"})
    assert missing.status_code == 422
    unknown = api.patch(f"/v1/exceptions/{case_id}", json={"state": "resolved", "reason_code": "magic"})
    assert unknown.status_code == 422 and unknown.json["error"]["code"] == "unknown_reason_code"
    wrong_list = api.patch(f"/v1/exceptions/{case_id}", json={"state": "resolved", "reason_code": "duplicate"})
    assert wrong_list.status_code == 422, "dismiss reasons do not resolve"
    assert api.get(f"/v1/exceptions/{case_id}").json["exception"]["state"] == "open"
    done = api.patch(f"/v1/exceptions/{case_id}",
                     json={"state": "resolved", "reason_code": "stock_replenished", "actor": "jane"})
    assert done.status_code == 200, done.json
    assert done.json["exception"]["state"] == "resolved" and done.json["exception"]["reason_code"] == "stock_replenished"
    [feedback] = [c for c in odoo.named("call", "mail.activity") if c[2] == "action_feedback"]
    assert feedback[3] == ([101],)
    timeline = api.get("/v1/timeline/sale.order:42").json
    actions = [entry["action"] for entry in timeline.get("entries", timeline.get("items", []))]
    assert "exception.opened" in actions and "exception.resolved" in actions


@pytest.mark.parametrize("path, expected", [
    (["acknowledged", "in_progress", "resolved"], [200, 200, 200]),
    (["dismissed", "acknowledged"], [200, 409]),
    (["resolved", "resolved"], [200, 409]),
    (["in_progress", "acknowledged", "dismissed"], [200, 200, 200]),
])
def test_lifecycle(api, path, expected):
    case_id = _report(api).json["exception"]["id"]
    reasons = {"resolved": "order_rescheduled", "dismissed": "false_positive"}
    got = []
    for state in path:
        body = {"state": state, **({"reason_code": reasons[state]} if state in reasons else {})}
        got.append(api.patch(f"/v1/exceptions/{case_id}", json=body).status_code)
    assert got == expected


def test_a_closed_case_frees_its_key(api):
    first = _report(api).json["exception"]
    api.patch(f"/v1/exceptions/{first['id']}", json={"state": "dismissed", "reason_code": "duplicate"})
    second = _report(api)
    assert second.json["outcome"] == "new" and second.json["exception"]["id"] != first["id"]


def test_unknown_type_and_unknown_case(api):
    bad = api.post("/v1/exceptions", json={"type": "weather.bad", "correlation_key": "x"})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "unknown_exception_type"
    assert api.patch("/v1/exceptions/999", json={"state": "acknowledged"}).status_code == 404


def test_filters(api):
    _report(api)
    _report(api, {"type": "masterdata.missing", "record": {"model": "product.product", "id": 5}})
    assert api.get("/v1/exceptions?category=master_data_quality").json["count"] == 1
    assert api.get("/v1/exceptions?severity=high&severity=low").json["count"] == 2
    assert api.get("/v1/exceptions?state=resolved").json["count"] == 0
    assert api.get("/v1/exceptions?record_model=sale.order&record_id=42").json["count"] == 1
    assert api.get("/v1/exceptions?state=bogus").status_code == 400
    assert api.get("/v1/exceptions?active=maybe").status_code == 400


def test_sla_breaches_are_escalated_once(api, monkeypatch):
    case = _report(api).json["exception"]
    assert api.post("/v1/exceptions/escalations").json["count"] == 0
    later = clock.parse(case["sla_due_at"]) + timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert api.get("/v1/exceptions?breached=true").json["count"] == 1
    first = api.post("/v1/exceptions/escalations").json
    assert [c["id"] for c in first["escalated"]] == [case["id"]]
    assert first["escalated"][0]["owner"]["lead"]["email"] == "cs-lead@example.com"
    assert api.post("/v1/exceptions/escalations").json["count"] == 0
    # Announced once, in the claim's transaction: the outbox carries it to n8n until the team lead has heard.
    [escalated] = [e["event"] for e in api.get("/v1/events", query_string={"type": "exception.escalated"}).json["items"]]
    assert escalated["data"]["exception_id"] == case["id"] and escalated["subject"] == f"exception/{case['id']}"
    assert escalated["data"]["exception"]["owner"]["lead"]["email"] == "cs-lead@example.com"
    assert {f["action"]: f["status"] for f in api.get(f"/v1/exceptions/{case['id']}").json["exception"]["followups"]
            }["announce_escalated"] == "done"


def test_write_back_failure_keeps_the_case_and_retries(api, odoo, monkeypatch):
    odoo.down = True
    created = _report(api)
    assert created.status_code == 201
    case = created.json["exception"]
    assert case["odoo_activity_id"] is None
    pending = {f["action"]: f for f in case["followups"]}["odoo_open"]
    assert pending["status"] == "pending" and "unreachable" in pending["last_error"]
    odoo.down = False
    assert api.post("/v1/exceptions/followups/run").json["done"] == 0, "not due before its back-off"
    later = clock.now() + followups.backoff(1) + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert api.post("/v1/exceptions/followups/run").json == {"done": 1, "retry": 0, "failed": 0}
    case = api.get(f"/v1/exceptions/{case['id']}").json["exception"]
    assert case["odoo_activity_id"] == 101
    assert len(odoo.named("create", "mail.activity")) == 1
