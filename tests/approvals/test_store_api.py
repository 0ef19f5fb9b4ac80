"""The approvals API on both store backends: concurrent decisions, overdue listing, escalation, idempotent create,
the durable outbox. Driven through the Flask app; delivery is run by hand so each step is observable."""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from python_nodes import clock
from python_nodes.app import create_app
from python_nodes.approvals.outbox import LEASE_SECONDS, Deliverer
from python_nodes.config import Config

BODY = {"subject": {"type": "sale.order", "id": 7, "name": "S00007"}, "amount": 5000, "currency": "EUR",
        "requester": {"id": "sam.sales", "email": "sam.sales@example.com"}, "steps": [{"role": "finance"}],
        "context": {"reasons": [{"code": "credit_limit_exceeded", "message": "over"}]}}


@pytest.fixture
def approvals_app(database_url):
    app = create_app(Config(database_url=database_url, outbox_enabled=False, slack_bot_token="xoxb-x"))
    yield app
    app.extensions["kit.db"].close()


def queued(app, kind: str) -> list[dict]:
    with app.extensions["kit.db"].transaction() as tx:
        rows = tx.fetchall("SELECT body FROM approval_outbox WHERE kind = ? ORDER BY id", (kind,))
    return [json.loads(r["body"]) for r in rows]


def approve_links(app) -> dict:
    """Approver email -> approve link token, read from the queued emails."""
    return {m["to"]: re.search(r"Approve: \S+/a/(\S+)", m["text"]).group(1) for m in queued(app, "email")}


def test_concurrent_decisions_on_one_step_yield_exactly_one(approvals_app):
    client = approvals_app.test_client()
    approval = client.post("/v1/approvals", json=BODY).get_json()
    links = approve_links(approvals_app)
    assert set(links) == {"anna.berg@example.com", "ben.okafor@example.com", "erin.walsh@example.com"}
    statuses = []
    barrier = threading.Barrier(len(links))

    def press(token):
        own = approvals_app.test_client()
        barrier.wait()
        statuses.append(own.post(f"/a/{token}", data={}).status_code)

    threads = [threading.Thread(target=press, args=(t,)) for t in links.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses)[0] == 200 and statuses.count(200) == 1
    assert all(s in (409, 410) for s in statuses if s != 200), statuses
    final = client.get(f"/v1/approvals/{approval['id']}").get_json()
    assert final["state"] == "approved" and len(final["decisions"]) == 1


def test_overdue_listing_and_escalation_renotify(approvals_app):
    client = approvals_app.test_client()
    approval = client.post("/v1/approvals", json={**BODY, "steps": [{"role": "finance", "sla_minutes": 0.002}]}
                           ).get_json()
    time.sleep(0.2)
    overdue = client.get("/v1/approvals?overdue=true").get_json()["approvals"]
    assert [a["id"] for a in overdue] == [approval["id"]]
    old_links = approve_links(approvals_app)
    answer = client.post(f"/v1/approvals/{approval['id']}/escalate")
    assert answer.status_code == 200, answer.get_json()
    escalation = answer.get_json()["escalation"]
    assert (escalation["from_role"], escalation["to_role"], escalation["reminder_only"]) == ("finance", "director", False)
    assert escalation["notified"] == [{"approver_id": "erin.walsh", "channels": ["slack", "email"]}]
    assert client.get("/v1/approvals?overdue=true").get_json()["approvals"] == []
    # The finance links are revoked; Erin's new director link works.
    assert client.post(f"/a/{old_links['anna.berg@example.com']}").status_code == 410
    new_link = [m for m in queued(approvals_app, "email") if m["to"] == "erin.walsh@example.com"][-1]
    token = re.search(r"Approve: \S+/a/(\S+)", new_link["text"]).group(1)
    assert client.post(f"/a/{token}").status_code == 200
    timeline = client.get(f"/v1/timeline/{approval['correlation_id']}").get_json()["entries"]
    assert [e["action"] for e in timeline] == ["approval.created", "approval.notified", "approval.escalated",
                                               "approval.notified", "approval.step_approved", "approval.finished"]
    assert timeline[-2]["actor"] == "approver:erin.walsh" and timeline[-2]["data"]["role"] == "director"


def test_create_is_idempotent_by_key(approvals_app):
    client = approvals_app.test_client()
    body = {**BODY, "idempotency_key": "sale.order:7:sha256:aa"}
    first = client.post("/v1/approvals", json=body)
    again = client.post("/v1/approvals", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert len(queued(approvals_app, "email")) == 3  # notified once
    other = client.post("/v1/approvals", json={**body, "amount": 6000})
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "idempotency_conflict"


def test_bad_requests_name_the_fields(approvals_app):
    client = approvals_app.test_client()
    answer = client.post("/v1/approvals", json={**BODY, "steps": []})
    assert answer.status_code == 422 and answer.get_json()["error"]["details"][0]["path"] == "steps"
    answer = client.post("/v1/approvals", json={**BODY, "steps": [{"role": "janitor"}]})
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "unknown_role"
    assert client.get("/v1/approvals/apr_0000000000000000").status_code == 404


def test_cancel_closes_links_and_calls_back(approvals_app):
    client = approvals_app.test_client()
    approval = client.post("/v1/approvals", json={**BODY, "callback_url": "http://127.0.0.1:9/resume"}).get_json()
    links = approve_links(approvals_app)
    assert client.post(f"/v1/approvals/{approval['id']}/cancel", json={"comment": "order cancelled"}).status_code == 200
    assert client.post(f"/a/{links['anna.berg@example.com']}").status_code == 410
    assert [c["payload"]["outcome"] for c in queued(approvals_app, "callback")] == ["cancelled"]


def test_outbox_retries_then_delivers_and_scrubs_tokens(approvals_app, monkeypatch):
    client = approvals_app.test_client()
    client.post("/v1/approvals", json=BODY)
    config = approvals_app.extensions["kit.config"]
    deps = approvals_app.extensions["kit.approvals"]
    sent = []

    class FlakySession:
        fail = True

        def post(self, url, json=None, headers=None, timeout=None):
            if self.fail:
                import requests
                raise requests.ConnectionError("down")
            sent.append((url, json))
            return type("R", (), {"status_code": 200, "raise_for_status": lambda s: None,
                                  "json": lambda s: {"ok": True, "ts": "1.1", "channel": "D1"}})()

    session = FlakySession()
    deliverer = Deliverer(deps.db, replace(config, outbox_backoff_base=0.0),
                          replace(deps.settings, smtp_host="localhost"), session=session)
    monkeypatch.setattr("python_nodes.approvals.mail.send", lambda settings, message: sent.append(message["to"]))
    assert deliverer.run_once() == 3  # emails succeed through the patched sender; Slack posts fail
    session.fail = False
    assert deliverer.run_once() == 3
    with deps.db.transaction() as tx:
        rows = tx.fetchall("SELECT kind, state, attempts, body FROM approval_outbox ORDER BY id")
    assert {r["state"] for r in rows} == {"delivered"}
    assert max(r["attempts"] for r in rows if r["kind"] == "slack.post") == 2
    assert all(json.loads(r["body"]) == {"redacted": True} for r in rows)


def test_production_refuses_to_start_without_an_approvers_file(sqlite_url):
    from python_nodes.config import ConfigError

    secrets = {"webhook_secret": "w", "api_token": "a", "n8n_token": "n", "slack_signing_secret": "s"}
    with pytest.raises(ConfigError, match="KIT_APPROVERS_FILE"):
        create_app(Config(env="production", database_url=sqlite_url, outbox_enabled=False, **secrets))


def test_escalation_only_if_overdue_skips_a_fresh_step(approvals_app):
    client = approvals_app.test_client()
    approval = client.post("/v1/approvals", json=BODY).get_json()
    answer = client.post(f"/v1/approvals/{approval['id']}/escalate", json={"only_if_overdue": True})
    assert answer.status_code == 200 and answer.get_json()["escalation"] is None
    assert answer.get_json()["approval"]["steps"][0]["escalations"] == 0
    actions = [e["action"] for e in client.get(f"/v1/timeline/{approval['correlation_id']}").get_json()["entries"]]
    assert "approval.escalated" not in actions


def test_a_rerun_with_a_new_callback_url_rebinds_and_resumes_at_once_when_finished(approvals_app):
    client = approvals_app.test_client()
    body = {**BODY, "idempotency_key": "release:sale.order:7:sha256:bb", "callback_url": "http://n8n/webhook-waiting/1"}
    first = client.post("/v1/approvals", json=body).get_json()
    token = approve_links(approvals_app)["anna.berg@example.com"]
    assert client.post(f"/a/{token}").status_code == 200
    again = client.post("/v1/approvals", json={**body, "callback_url": "http://n8n/webhook-waiting/2"})
    assert again.status_code == 200 and again.get_json()["id"] == first["id"]
    assert again.get_json()["callback_url"] == "http://n8n/webhook-waiting/2"
    assert [(c["url"], c["payload"]["outcome"]) for c in queued(approvals_app, "callback")] == [
        ("http://n8n/webhook-waiting/1", "approved"), ("http://n8n/webhook-waiting/2", "approved")]


def test_dead_delivery_is_listed_and_can_be_retried(approvals_app):
    client = approvals_app.test_client()
    approval = client.post("/v1/approvals", json=BODY).get_json()
    deps = approvals_app.extensions["kit.approvals"]
    with deps.db.transaction() as tx:
        tx.execute("UPDATE approval_outbox SET state = 'dead', attempts = 20, last_error = 'smtp down' "
                   "WHERE kind = 'email'")
    listed = client.get(f"/v1/approvals/{approval['id']}/deliveries").get_json()["deliveries"]
    dead = [d for d in listed if d["state"] == "dead"]
    assert len(dead) == 3 and all(d["last_error"] == "smtp down" and "body" not in d for d in dead)
    again = client.post(f"/v1/approvals/deliveries/{dead[0]['id']}/retry")
    assert again.status_code == 200 and again.get_json()["deliveries"][0]["state"] == "pending"
    assert client.post(f"/v1/approvals/deliveries/{dead[0]['id']}/retry").status_code == 409
    assert client.get("/v1/approvals/apr_0000000000000000/deliveries").status_code == 404


def test_expired_approval_closes_and_calls_back(approvals_app):
    client = approvals_app.test_client()
    approval = client.post("/v1/approvals", json={**BODY, "callback_url": "http://n8n/webhook-waiting/9"}).get_json()
    token = approve_links(approvals_app)["anna.berg@example.com"]
    deps = approvals_app.extensions["kit.approvals"]
    with deps.db.transaction() as tx:  # its lifetime (KIT_APPROVAL_TTL_HOURS) has passed
        tx.execute("UPDATE approvals SET expires_at = ? WHERE id = ?", ("2000-01-01T00:00:00.000000Z", approval["id"]))
    from python_nodes.approvals import actions

    assert actions.expire_due(deps) == [approval["id"]]
    assert actions.expire_due(deps) == []
    assert client.get(f"/v1/approvals/{approval['id']}").get_json()["state"] == "expired"
    assert client.post(f"/a/{token}").status_code == 410
    assert [c["payload"]["outcome"] for c in queued(approvals_app, "callback")] == ["expired"]


def test_an_item_whose_batch_lease_ran_out_is_sent_only_by_the_process_that_took_it_over(approvals_app, monkeypatch):
    approvals_app.test_client().post("/v1/approvals", json=BODY)
    config = approvals_app.extensions["kit.config"]
    deps = approvals_app.extensions["kit.approvals"]
    sent = []
    monkeypatch.setattr("python_nodes.approvals.mail.send", lambda settings, message: sent.append(message["to"]))
    first, second = (Deliverer(deps.db, config, replace(deps.settings, smtp_host="localhost")) for _ in range(2))
    batch = [row for row in first._claim(50) if row["kind"] == "email"]  # then busy with the rows before these
    later = clock.now() + timedelta(seconds=LEASE_SECONDS + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    taken_over = [row for row in second._claim(50) if row["kind"] == "email"]
    assert len(batch) == len(taken_over) > 0
    assert sum(first._deliver(row) for row in batch) == 0 and sent == []
    assert sum(second._deliver(row) for row in taken_over) == len(taken_over)
    assert sorted(sent) == sorted(json.loads(row["body"])["to"] for row in taken_over)  # each email once
