"""Exception routing through the real n8n: an opened exception reaches its owner team once (Slack and email as the
team's settings say), its consumption ends done, a redelivery after a lost answer is answered "already handled"
and notifies nobody, a delivery while another run holds the event gets a 409 the outbox retries, and a run that
takes the event over after the email failed sends the email without posting to Slack again."""
from __future__ import annotations

import uuid

import pytest

from scripts.procs import wait_for

from .flows import (consumption_state, expire_claim, mail_server_down, outbox_delivery, outbox_state, report_shortage,
                    settled_runs)

pytestmark = pytest.mark.e2e

WORKFLOW_ID = "odooOpsExcRoutng"
TRIGGER = "Exception opened"
WEBHOOK_PATH = "kit/exception-opened"
CONSUMER = "n8n.exception-routing"
SLACK_CONSUMER = "n8n.exception-routing.slack"  # the Slack post's own claim
TEAM_CHANNEL = "#cs-exceptions"  # customer_service, owner of order_fulfillment (python_nodes/exceptions/teams.json)
TEAM_EMAIL = "customer-service@example.com"


def open_exception(stack, title: str) -> tuple[dict, dict]:
    """Report a high-severity shortage on a fresh Odoo order; answer the case and its exception.opened event."""
    case = report_shortage(stack, title)
    assert case["owner"]["channels"] == ["slack", "email"], case["owner"]
    events = stack.workers.get("/v1/events", params={"correlation_id": case["correlation_id"]}).json()["items"]
    [opened] = [e["event"] for e in events if e["event"]["type"] == "exception.opened"
                and e["event"]["data"]["exception_id"] == case["id"]]
    return case, opened


def slack_about(slack, title: str) -> list[dict]:
    return [m for m in slack.messages() if title in m["text"]]


def mail_about(mail, title: str) -> list[dict]:
    return [m for m in mail.messages() if title in m["subject"]]


def finished_runs(stack, event_id: str, at_least: int, ran: str | None = None) -> list[dict] | None:
    return settled_runs(stack.n8n, WORKFLOW_ID, TRIGGER, event_id, at_least, ran=ran)


def test_opened_exception_notifies_its_team_once_and_a_redelivery_is_already_handled(stack, people):
    slack, mail, _ = people
    title = f"Shortage E2E {uuid.uuid4().hex[:8]}"
    case, event = open_exception(stack, title)

    wait_for(lambda: consumption_state(stack.workers, event["id"], CONSUMER) == "done", 60,
             what="the notification to be done")
    slack.wait_for(lambda ms: any(title in m["text"] for m in ms))
    mail.wait_for(lambda ms: any(title in m["subject"] for m in ms))
    posted, [sent] = slack_about(slack, title), mail_about(mail, title)
    assert len(posted) == 1 and posted[0]["posted_to"] == TEAM_CHANNEL, posted
    assert "Customer service" in posted[0]["text"] and f"id={case['record']['id']}" in posted[0]["text"]
    assert TEAM_EMAIL in sent["to"] and sent["subject"] == f"[high] {title}"
    # The outbox had its JSON 2xx, given at the end of the run (after the notifications).
    assert wait_for(lambda: outbox_state(stack.workers, event["id"]) == "delivered", 30,
                    what="the outbox delivery")
    runs = wait_for(lambda: finished_runs(stack, event["id"], 1), 30, what="the run to finish")
    [first] = [r for r in runs if "Notification done" in r["nodes"]]
    assert first["status"] == "success" and "Answer notified" in first["nodes"], first

    # The outbox sends the event again (its answer was lost): stopped at the claim, nobody hears twice.
    again = outbox_delivery(stack, WEBHOOK_PATH, event)
    assert again.status_code == 200, again.text
    assert again.json() == {"duplicate": True, "event_id": event["id"]}
    later = wait_for(lambda: finished_runs(stack, event["id"], len(runs) + 1), 30,
                     what="the redelivery's run to finish")
    [redelivery] = [r for r in later if r["id"] not in {run["id"] for run in runs}]
    assert redelivery["status"] == "success" and "Already handled (redelivery)" in redelivery["nodes"]
    assert not {"Post to team channel", "Email the team"} & redelivery["nodes"], redelivery
    assert len(slack_about(slack, title)) == 1 and len(mail_about(mail, title)) == 1
    assert consumption_state(stack.workers, event["id"], CONSUMER) == "done"


def test_a_delivery_while_another_run_holds_the_event_gets_409_and_the_team_hears_once(stack, people):
    slack, mail, gate = people
    title = f"Shortage E2E busy {uuid.uuid4().hex[:8]}"
    gate.held.clear()
    gate.open.clear()  # the first run will stop at its Slack call, holding the event's lease
    try:
        _, event = open_exception(stack, title)
        assert gate.held.wait(60), "the outbox's run never reached Slack"
        assert consumption_state(stack.workers, event["id"], CONSUMER) == "claimed"
        busy = outbox_delivery(stack, WEBHOOK_PATH, event)
        assert busy.status_code == 409, busy.text
        assert busy.json() == {"in_progress": True, "event_id": event["id"]}
        assert slack_about(slack, title) == [] and mail_about(mail, title) == []
    finally:
        gate.open.set()
    wait_for(lambda: consumption_state(stack.workers, event["id"], CONSUMER) == "done", 60,
             what="the first run to finish its notification")
    wait_for(lambda: outbox_state(stack.workers, event["id"]) == "delivered", 60,
             what="the outbox delivery")
    runs = wait_for(lambda: finished_runs(stack, event["id"], 2), 60, what="both runs to finish")
    assert len(slack_about(slack, title)) == 1 and len(mail_about(mail, title)) == 1
    notifying = [r for r in runs if "Notification done" in r["nodes"]]
    assert len(notifying) == 1, runs
    assert all(r["status"] == "success" for r in runs), runs


def test_a_message_slack_refuses_is_not_taken_for_sent(stack, people):
    slack, mail, gate = people
    title = f"Shortage E2E refused {uuid.uuid4().hex[:8]}"
    gate.refusing = "channel_not_found"  # Slack answers HTTP 200 {"ok": false}
    try:
        _, event = open_exception(stack, title)
        runs = wait_for(lambda: finished_runs(stack, event["id"], 1), 60, what="the run to finish")
    finally:
        gate.refusing = None
    [run] = [r for r in runs if "Post to team channel" in r["nodes"]]
    assert run["status"] == "error" and "Slack refused" in run["nodes"], run
    assert not any("Notification done" in r["nodes"] for r in runs), runs
    # Not done and not answered: the outbox sends it again (answered "in progress" while the failed run's claim
    # lasts), and the run that takes the event over after the lease notifies the team.
    assert consumption_state(stack.workers, event["id"], CONSUMER) == "claimed"
    assert outbox_state(stack.workers, event["id"]) == "pending"
    assert slack_about(slack, title) == [] and mail_about(mail, title) == []

    def letter():
        items = stack.desk.get("/v1/dead-letters").json()["items"]
        return next((i for i in items if i["failed_node"] == "Slack refused" and event["id"] in i["error_message"]), None)

    found = wait_for(letter, 60, what="the dead letter")
    assert "channel_not_found" in found["error_message"], found


def test_a_failed_email_is_sent_again_without_posting_to_slack_again(stack, people):
    slack, mail, _ = people
    title = f"Shortage E2E mail down {uuid.uuid4().hex[:8]}"
    with mail_server_down(stack):
        _, event = open_exception(stack, title)
        runs = wait_for(lambda: finished_runs(stack, event["id"], 1), 60, what="the run to finish")
        [failed] = [r for r in runs if "Email the team" in r["nodes"]]
        assert failed["status"] == "error" and "Post to team channel" in failed["nodes"], failed
        assert len(slack_about(slack, title)) == 1 and mail_about(mail, title) == []
        # The channel heard and that is recorded; the event as a whole is not done, so it is delivered again.
        assert consumption_state(stack.workers, event["id"], SLACK_CONSUMER) == "done"
        assert consumption_state(stack.workers, event["id"], CONSUMER) == "claimed"

    # The failed run's lease runs out; the next delivery takes the event over and sends only the email.
    expire_claim(stack, event["id"], CONSUMER)
    again = outbox_delivery(stack, WEBHOOK_PATH, event)
    assert again.status_code in (200, 409), again.text  # 409: the outbox's own retry took it over first
    wait_for(lambda: consumption_state(stack.workers, event["id"], CONSUMER) == "done", 60,
             what="the notification to be done")
    mail.wait_for(lambda ms: any(title in m["subject"] for m in ms))
    runs = wait_for(lambda: finished_runs(stack, event["id"], len(runs) + 1, ran="Notification done"), 60,
                    what="the takeover run to finish")
    [takeover] = [r for r in runs if "Notification done" in r["nodes"]]
    assert takeover["status"] == "success" and "Post to team channel" not in takeover["nodes"], takeover
    assert len(slack_about(slack, title)) == 1 and len(mail_about(mail, title)) == 1
