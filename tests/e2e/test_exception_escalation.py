"""Exception escalation through the real n8n: a case past its SLA is claimed once ("Escalate now", as the schedule
does), announced as an exception.escalated event, and its team lead hears once in the team channel and by email;
a redelivery is answered "already handled", a Slack refusal leaves the escalation pending for the outbox to
send again instead of losing it, and a run that takes over after a failed email does not alert Slack twice."""
from __future__ import annotations

import uuid

import pytest
import requests

from scripts.procs import wait_for

from .flows import (consumption_state, expire_claim, mail_server_down, outbox_delivery, outbox_state, report_shortage,
                    settled_runs, workers_database)

pytestmark = pytest.mark.e2e

WORKFLOW_ID = "odooOpsExcEscalt"
TRIGGER = "Exception escalated"
WEBHOOK_PATH = "kit/exception-escalated"
CONSUMER = "n8n.exception-escalation"
SLACK_CONSUMER = "n8n.exception-escalation.slack"  # the Slack alert's own claim
TEAM_CHANNEL = "#cs-exceptions"  # customer_service owns order_fulfillment (python_nodes/exceptions/teams.json)
LEAD_SLACK, LEAD_EMAIL = "U0CSLEAD", "cs-lead@example.com"


def breached_case(stack, title: str) -> dict:
    """A shortage case on a fresh Odoo order whose SLA has run out."""
    case = report_shortage(stack, title)
    with workers_database(stack) as db:  # time passes: the SLA was hours away
        db.execute("UPDATE exception_cases SET sla_due_at = '2020-01-01T00:00:00.000000Z' WHERE id = ?",
                   (case["id"],))
    return case


def escalate_now(stack) -> None:
    answer = requests.post(stack.n8n.webhook("kit/exception-escalation-now"), json={}, timeout=30,
                           headers={"X-Kit-Token": stack.env["KIT_N8N_TOKEN"]})
    assert answer.status_code == 200, answer.text


def escalated_event(stack, case: dict) -> dict:
    def find():
        items = stack.workers.get("/v1/events", params={"type": "exception.escalated",
                                                        "correlation_id": case["correlation_id"]}).json()["items"]
        return [i["event"] for i in items if i["event"]["data"]["exception_id"] == case["id"]] or None

    [event] = wait_for(find, 60, what="the exception.escalated event")
    return event


def alerts(slack, title: str) -> list[dict]:
    """Slack messages escalating the case (the team also heard of it when it opened, through exception routing)."""
    return [m for m in slack.messages() if title in m["text"] and "SLA breached" in m["text"]]


def lead_mails(mail, title: str) -> list[dict]:
    return [m for m in mail.messages() if m["subject"].startswith("SLA breached") and title in m["subject"]]


def finished_runs(stack, event_id: str, at_least: int, ran: str | None = None) -> list[dict] | None:
    return settled_runs(stack.n8n, WORKFLOW_ID, TRIGGER, event_id, at_least, ran=ran)


def test_a_breach_reaches_the_team_lead_once_and_a_redelivery_is_already_handled(stack, people):
    slack, mail, _ = people
    title = f"Shortage E2E escalation {uuid.uuid4().hex[:8]}"
    case = breached_case(stack, title)
    escalate_now(stack)
    event = escalated_event(stack, case)

    wait_for(lambda: consumption_state(stack.workers, event["id"], CONSUMER) == "done", 60,
             what="the escalation to be done")
    [alert] = wait_for(lambda: alerts(slack, title), 30, what="the Slack alert")
    [sent] = wait_for(lambda: lead_mails(mail, title), 30, what="the email to the lead")
    assert alert["posted_to"] == TEAM_CHANNEL and f"<@{LEAD_SLACK}>" in alert["text"]
    assert LEAD_EMAIL in sent["to"] and sent["subject"] == f"SLA breached: [high] {title}"
    assert wait_for(lambda: outbox_state(stack.workers, event["id"]) == "delivered", 30, what="the outbox delivery")
    assert stack.workers.get(f"/v1/exceptions/{case['id']}").json()["exception"]["escalated_at"]

    # Escalating again finds nothing new; the outbox sending the event again (a lost answer) tells nobody twice.
    escalate_now(stack)
    again = outbox_delivery(stack, WEBHOOK_PATH, event)
    assert again.status_code == 200 and again.json() == {"duplicate": True, "event_id": event["id"]}, again.text
    runs = wait_for(lambda: finished_runs(stack, event["id"], 2), 30, what="both runs to finish")
    assert sum("Escalation done" in r["nodes"] for r in runs) == 1, runs
    assert len(alerts(slack, title)) == 1 and len(lead_mails(mail, title)) == 1


def test_a_refused_slack_alert_leaves_the_escalation_pending_not_lost(stack, people):
    slack, mail, gate = people
    title = f"Shortage E2E escalation refused {uuid.uuid4().hex[:8]}"
    case = breached_case(stack, title)
    gate.refusing = "channel_not_found"
    try:
        escalate_now(stack)
        event = escalated_event(stack, case)
        runs = wait_for(lambda: finished_runs(stack, event["id"], 1), 60, what="the run to finish")
    finally:
        gate.refusing = None
    [run] = [r for r in runs if "Alert the team lead" in r["nodes"]]
    assert run["status"] == "error" and "Slack refused" in run["nodes"], run
    assert consumption_state(stack.workers, event["id"], CONSUMER) == "claimed"
    assert outbox_state(stack.workers, event["id"]) == "pending"  # sent again; a run after the lease tells the lead
    assert alerts(slack, title) == [] and lead_mails(mail, title) == []

    # Both leases run out; the next delivery takes the escalation over and the lead hears, once.
    expire_claim(stack, event["id"], CONSUMER)
    expire_claim(stack, event["id"], SLACK_CONSUMER)
    take_over(stack, event)
    assert len(alerts(slack, title)) == 1 and len(lead_mails(mail, title)) == 1


def test_a_failed_email_to_the_lead_is_sent_again_without_a_second_slack_alert(stack, people):
    slack, mail, _ = people
    title = f"Shortage E2E escalation mail down {uuid.uuid4().hex[:8]}"
    case = breached_case(stack, title)
    with mail_server_down(stack):
        escalate_now(stack)
        event = escalated_event(stack, case)
        runs = wait_for(lambda: finished_runs(stack, event["id"], 1), 60, what="the run to finish")
    [failed] = [r for r in runs if "Email the team lead" in r["nodes"]]
    assert failed["status"] == "error" and "Alert the team lead" in failed["nodes"], failed
    assert len(alerts(slack, title)) == 1 and lead_mails(mail, title) == []
    assert consumption_state(stack.workers, event["id"], SLACK_CONSUMER) == "done"

    expire_claim(stack, event["id"], CONSUMER)
    runs = take_over(stack, event)
    assert not any("Alert the team lead" in r["nodes"] for r in runs if "Escalation done" in r["nodes"]), runs
    assert len(alerts(slack, title)) == 1 and len(lead_mails(mail, title)) == 1


def take_over(stack, event: dict) -> list[dict]:
    """Deliver the event again as the outbox does once the failed run's lease ran out (the outbox's own retry may
    get there first); answer the event's runs once one of them finished the escalation."""
    again = outbox_delivery(stack, WEBHOOK_PATH, event)
    assert again.status_code in (200, 409), again.text
    wait_for(lambda: consumption_state(stack.workers, event["id"], CONSUMER) == "done", 60,
             what="the escalation to be done")
    runs = wait_for(lambda: finished_runs(stack, event["id"], 2, ran="Escalation done"), 60,
                    what="the takeover run to finish")
    [done] = [r for r in runs if "Escalation done" in r["nodes"]]
    assert done["status"] == "success", runs
    return runs
