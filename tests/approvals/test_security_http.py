"""Every security case of issue 4 over real gunicorn, the Slack stand-in and the SMTP sink: each answered 4xx with
nothing changed (the approval and its audit trail are compared before and after)."""
from __future__ import annotations

import time

import requests

from python_nodes.approvals import slack as slack_mod
from tests.harness.receiver import receiver

from .conftest import approval_stack

ANNA, BEN, ERIN = "U01FINANNA", "U01FINBEN", "U01DIRERIN"


def _button_values(message: dict) -> list[str]:
    return [e["value"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_over_limit_approval_gets_a_slack_message_and_an_email(stack):
    approval = stack.create()
    message = stack.slack_message(approval, ANNA)
    mail = stack.mail_for(approval, "anna.berg@example.com")
    links = stack.links(approval, "anna.berg@example.com")
    assert set(links) == {"Approve", "Reject"} and all(u.startswith(stack.url + "/a/") for u in links.values())
    assert "credit_limit_exceeded" in message["blocks"][2]["text"]["text"] and "20,000.00 EUR" in mail["text"]
    assert "<a href=" in mail["html"]
    # Buttons carry their own references, never the email tokens.
    assert not {u.rsplit("/", 1)[1] for u in links.values()} & set(_button_values(message))
    # Ben's limit (10,000) does not cover 20,000 and Sam is the requester: neither is asked.
    assert not [m for m in stack.mail.messages() if approval["subject"]["name"] in m["subject"]
                and ("ben.okafor" in m["to"] or "sam.sales" in m["to"])]


def test_get_on_a_link_shows_the_request_and_changes_nothing(stack):
    approval = stack.create()
    url = stack.links(approval, "anna.berg@example.com")["Approve"]
    before = stack.state(approval)
    for _ in range(2):  # a mail scanner and then the person
        page = requests.get(url, timeout=10)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        for shown in (approval["subject"]["name"], "20,000.00 EUR", "Sam Sales", "credit_limit_exceeded",
                      "<form method=post"):
            assert shown in page.text
    assert stack.state(approval) == before


def test_link_approves_once_and_a_reused_link_is_refused(stack):
    approval = stack.create(steps=("finance",))
    url = stack.links(approval, "anna.berg@example.com")["Approve"]
    done = requests.post(url, data={"reason_code": "payment_assured", "comment": "prepayment received"}, timeout=10)
    assert done.status_code == 200, done.text
    after = stack.state(approval)
    assert after[0]["state"] == "approved"
    assert after[0]["decisions"][0] | {"decided_at": None} == {
        "step": 0, "role": "finance", "approver_id": "anna.berg", "decision": "approve",
        "reason_code": "payment_assured", "comment": "prepayment received", "channel": "email", "decided_at": None}
    again = requests.post(url, data={}, timeout=10)
    assert again.status_code == 410 and "token_used" in again.text
    assert stack.state(approval) == after


def test_tampered_token_is_refused(stack):
    approval = stack.create()
    url = stack.links(approval, "anna.berg@example.com")["Approve"]
    before = stack.state(approval)
    flipped = url[:-1] + ("A" if url[-1] != "A" else "B")
    for method in (requests.get, requests.post):
        for bad in (flipped, url + "x", url[:-5]):
            answer = method(bad, timeout=10)
            assert answer.status_code == 404, (bad, answer.status_code)
    assert stack.state(approval) == before


def test_forged_slack_signature_is_refused(stack):
    approval = stack.create()
    stack.slack_message(approval, ANNA)
    before = stack.state(approval)
    sent = stack.slack.click("approval.approve", ANNA, signing_secret="not-the-secret")
    assert sent["status"] == 401 and slack_mod.BAD_SIGNATURE in sent["body"]
    assert stack.state(approval) == before


def test_slack_timestamp_301_seconds_old_is_refused(stack):
    approval = stack.create()
    stack.slack_message(approval, ANNA)
    before = stack.state(approval)
    sent = stack.slack.click("approval.approve", ANNA, timestamp=int(time.time()) - 301)
    assert sent["status"] == 401 and slack_mod.STALE_TIMESTAMP in sent["body"]
    assert stack.state(approval) == before


def test_slack_click_approves_fast_and_a_replay_is_refused(stack):
    approval = stack.create(steps=("finance",))
    message = stack.slack_message(approval, ANNA)
    started = time.monotonic()
    sent = stack.slack.click("approval.approve", ANNA, ts=message["ts"])
    assert sent["status"] == 200 and time.monotonic() - started < 3.0
    after = stack.state(approval)
    assert after[0]["state"] == "approved"
    assert (after[0]["decisions"][0]["approver_id"], after[0]["decisions"][0]["channel"]) == ("anna.berg", "slack")
    # The original message is updated through response_url, after the ack.
    responses = stack.slack.wait_for(lambda rs: any(r["id"] == sent["response_url"].rsplit("/", 1)[1] for r in rs),
                                     what="responses")
    update = [r for r in responses if r["id"] == sent["response_url"].rsplit("/", 1)[1]][0]["body"]
    assert update["replace_original"] is True and "Anna Berg" in update["text"]
    replay = requests.post(sent["url"], data=sent["request"]["body"].encode(), headers=sent["request"]["headers"],
                           timeout=10)
    assert replay.status_code == 409 and slack_mod.REPLAYED in replay.text
    assert stack.state(approval) == after


def test_slack_click_by_another_user_is_refused(stack):
    approval = stack.create()
    message = stack.slack_message(approval, ERIN)
    before = stack.state(approval)
    sent = stack.slack.click("approval.approve", ANNA, ts=message["ts"])  # Anna presses Erin's button
    assert sent["status"] == 403 and "slack_user_mismatch" in sent["body"]
    unknown = stack.slack.click("approval.approve", "U0STRANGER", ts=message["ts"])
    assert unknown["status"] == 403 and "unknown_approver" in unknown["body"]
    assert stack.state(approval) == before
    # Anna is told privately why nothing happened.
    rid = sent["response_url"].rsplit("/", 1)[1]
    notice = stack.slack.wait_for(lambda rs: any(r["id"] == rid for r in rs), what="responses")
    body = [r for r in notice if r["id"] == rid][0]["body"]
    assert body["response_type"] == "ephemeral" and "slack_user_mismatch" in body["text"]


def test_requester_cannot_approve_their_own_order(stack):
    approval = stack.create(steps=("finance",), requester={"id": "someone", "email": "Erin.Walsh@example.com"})
    stack.slack_message(approval, ANNA)
    assert not [m for m in stack.slack.messages() if approval["subject"]["name"] in m["text"]
                and m["posted_to"] == ERIN]
    before = stack.state(approval)
    answer = requests.post(f"{stack.url}/v1/approvals/{approval['id']}/decisions", headers=stack.headers,
                           json={"approver_id": "erin.walsh", "decision": "approve"}, timeout=10)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "sod_requester_cannot_approve"
    assert stack.state(approval) == before


def test_one_person_cannot_approve_both_steps(stack):
    approval = stack.create()  # finance, then director; Erin holds both roles
    message = stack.slack_message(approval, ERIN)
    assert stack.slack.click("approval.approve", ERIN, ts=message["ts"])["status"] == 200
    before = stack.state(approval)
    assert before[0]["current_step"] == 1 and before[0]["state"] == "pending"
    answer = requests.post(f"{stack.url}/v1/approvals/{approval['id']}/decisions", headers=stack.headers,
                           json={"approver_id": "erin.walsh", "decision": "approve"}, timeout=10)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "sod_one_step_per_person"
    # Her step-0 links are spent too.
    link = stack.links(approval, "erin.walsh@example.com")["Approve"]
    assert requests.post(link, timeout=10).status_code == 410
    assert stack.state(approval) == before


def test_approver_beyond_authority_limit_is_refused(stack):
    approval = stack.create(steps=("finance",))
    before = stack.state(approval)
    answer = requests.post(f"{stack.url}/v1/approvals/{approval['id']}/decisions", headers=stack.headers,
                           json={"approver_id": "ben.okafor", "decision": "approve"}, timeout=10)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "authority_limit_exceeded"
    assert stack.state(approval) == before


def test_api_needs_the_kit_token(stack):
    answer = requests.post(stack.url + "/v1/approvals", json={}, timeout=10)
    assert answer.status_code == 401


def test_two_step_chain_calls_back_once_when_finished(stack):
    with receiver() as waiting:
        approval = stack.create(callback_url=waiting.url + "/webhook-waiting/42")
        stack.slack.click("approval.approve", ANNA, ts=stack.slack_message(approval, ANNA)["ts"])
        assert stack.get(approval["id"])["state"] == "pending"
        time.sleep(0.5)
        assert waiting.bodies() == []  # not before the last step
        link = stack.links(approval, "erin.walsh@example.com", role="director")  # she had a finance one too
        assert requests.post(link["Approve"], data={"reason_code": "customer_priority"}, timeout=10).status_code == 200
        deadline = time.monotonic() + 10
        while not waiting.bodies() and time.monotonic() < deadline:
            time.sleep(0.1)
        (body,) = waiting.bodies()
        assert body["id"] == approval["id"] and body["outcome"] == "approved"
        assert [(d["approver_id"], d["channel"], d["reason_code"]) for d in body["decisions"]] == [
            ("anna.berg", "slack", "risk_accepted"), ("erin.walsh", "email", "customer_priority")]
        assert waiting.received[0]["path"] == "/webhook-waiting/42"


def test_callback_survives_an_outage(stack):
    with receiver() as waiting:
        waiting.refuse_with = 503
        approval = stack.create(steps=("finance",), callback_url=waiting.url + "/resume")
        stack.slack.click("approval.approve", ANNA, ts=stack.slack_message(approval, ANNA)["ts"])
        deadline = time.monotonic() + 10
        while len(waiting.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(waiting.received) >= 2 and waiting.bodies() == []
        waiting.refuse_with = None
        deadline = time.monotonic() + 10
        while not waiting.bodies() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [b["outcome"] for b in waiting.bodies()] == ["approved"]


def test_expired_link_is_refused():
    with approval_stack(KIT_LINK_TTL_HOURS="0.0005") as stack:  # 1.8 s
        approval = stack.create()
        url = stack.links(approval, "anna.berg@example.com")["Approve"]
        time.sleep(2.0)
        before = stack.state(approval)
        for method in (requests.get, requests.post):
            answer = method(url, timeout=10)
            assert answer.status_code == 410 and "token_expired" in answer.text
        assert stack.state(approval) == before


def test_decisions_and_deliveries_are_counted(stack):
    approval = stack.create(steps=("finance",))
    assert stack.slack.click("approval.approve", ANNA, ts=stack.slack_message(approval, ANNA)["ts"])["status"] == 200
    text = requests.get(stack.url + "/metrics", timeout=10).text
    assert 'kit_approval_decisions_total{channel="slack",decision="approve"}' in text
    assert 'kit_approval_deliveries_total{kind="email",result="delivered"}' in text
