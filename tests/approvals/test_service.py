"""Pure logic of approval chains: transitions, segregation of duties, authority limits, escalation, tokens, Slack."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from python_nodes.approvals import directory as directory_mod
from python_nodes.approvals import service as svc
from python_nodes.approvals import slack, tokens
from python_nodes.errors import ApiError

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
DIRECTORY = directory_mod.load()


def body(amount=20000.0, steps=("finance", "director"), requester=None, **extra):
    return {"subject": {"type": "sale.order", "id": 42, "name": "S00042"}, "amount": amount, "currency": "EUR",
            "requester": requester or {"id": "sam.sales", "email": "sam.sales@example.com"},
            "steps": [{"role": r} for r in steps], "context": {"reasons": [{"code": "credit_limit_exceeded"}]},
            **extra}


def new(**kw):
    return svc.create(body(**kw), DIRECTORY, NOW, ttl_hours=168)


def person(approver_id):
    return DIRECTORY.approver(approver_id)


def refused(approval, position, approver_id):
    problem = svc.refusal(approval, position, person(approver_id), DIRECTORY)
    return problem.code if problem else None


def test_create_activates_first_step_only():
    approval = new()
    assert approval.state == svc.PENDING and approval.current_step == 0
    assert [s.state for s in approval.steps] == [svc.STEP_PENDING, svc.STEP_WAITING]
    assert approval.steps[0].due_at == svc.iso(NOW + timedelta(minutes=240))
    assert approval.correlation_id == "sale.order:42"


def test_two_step_chain_finishes_only_after_both():
    approval = new()
    assert svc.decide(approval, 0, person("anna.berg"), DIRECTORY, decision=svc.APPROVE, reason_code=None,
                      comment=None, channel=svc.CHANNEL_SLACK, now=NOW) == [svc.ACT_STEP_APPROVED,
                                                                           svc.ACT_STEP_ACTIVATED]
    assert approval.state == svc.PENDING and approval.current_step == 1
    svc.decide(approval, 1, person("erin.walsh"), DIRECTORY, decision=svc.APPROVE, reason_code="customer_priority",
               comment="key account", channel=svc.CHANNEL_EMAIL, now=NOW)
    assert approval.state == svc.APPROVED and approval.current_step is None
    view = approval.view()
    assert view["outcome"] == svc.APPROVED
    assert [(d["approver_id"], d["reason_code"], d["channel"]) for d in view["decisions"]] == [
        ("anna.berg", "risk_accepted", "slack"), ("erin.walsh", "customer_priority", "email")]


def test_rejection_ends_the_chain_and_skips_later_steps():
    approval = new()
    svc.decide(approval, 0, person("anna.berg"), DIRECTORY, decision=svc.REJECT, reason_code=None, comment=None,
               channel=svc.CHANNEL_API, now=NOW)
    assert approval.state == svc.REJECTED
    assert [s.state for s in approval.steps] == [svc.STEP_REJECTED, svc.STEP_SKIPPED]
    assert approval.steps[0].reason_code == svc.REJECT_REASONS[0]


def test_requester_never_approves_even_under_another_identity():
    by_email = new(steps=("finance",), requester={"email": "ERIN.WALSH@example.com"})
    assert refused(by_email, 0, "erin.walsh") == svc.REQUESTER_CANNOT_APPROVE
    by_slack = new(steps=("finance",), requester={"id": "someone", "slack_user_id": "U01FINANNA"})
    assert refused(by_slack, 0, "anna.berg") == svc.REQUESTER_CANNOT_APPROVE
    assert "anna.berg" not in [a.id for a in svc.eligible(by_slack, by_slack.steps[0], DIRECTORY)]


def test_one_person_never_decides_two_steps():
    approval = new()
    svc.decide(approval, 0, person("erin.walsh"), DIRECTORY, decision=svc.APPROVE, reason_code=None, comment=None,
               channel=svc.CHANNEL_API, now=NOW)
    assert refused(approval, 1, "erin.walsh") == svc.ONE_STEP_PER_PERSON
    assert svc.eligible(approval, approval.steps[1], DIRECTORY) == []


@pytest.mark.parametrize("amount, allowed", [(9999.99, True), (10000.0, True), (10000.01, False)])
def test_authority_limit_boundary(amount, allowed):
    approval = new(amount=amount, steps=("finance",))
    assert refused(approval, 0, "ben.okafor") == (None if allowed else svc.AUTHORITY_LIMIT_EXCEEDED)


def test_other_currency_fails_closed():
    with pytest.raises(ApiError) as err:
        svc.create({**body(amount=1.0, steps=("finance",)), "currency": "USD"}, DIRECTORY, NOW, ttl_hours=1)
    assert err.value.code == svc.NO_ELIGIBLE_APPROVER


def test_only_the_current_steps_role_decides():
    approval = new()
    assert refused(approval, 0, "carla.mendes") == svc.ROLE_NOT_ON_STEP
    assert refused(approval, 1, "erin.walsh") == svc.STEP_NOT_CURRENT


def test_closed_approval_refuses_everything():
    approval = new()
    svc.finish(approval, svc.CANCELLED, NOW)
    assert refused(approval, 0, "anna.berg") == svc.APPROVAL_CLOSED
    with pytest.raises(ApiError) as err:
        svc.finish(approval, svc.APPROVED, NOW)
    assert err.value.code == svc.ILLEGAL_TRANSITION


def test_unknown_role_and_unsatisfiable_chain_are_refused_at_creation():
    with pytest.raises(ApiError) as err:
        new(steps=("janitor",))
    assert err.value.code == svc.UNKNOWN_ROLE
    with pytest.raises(ApiError) as err:
        new(amount=2_000_000, steps=("finance",))
    assert err.value.code == svc.NO_ELIGIBLE_APPROVER
    with pytest.raises(ApiError) as err:  # only Erin covers 60,000 for finance and she is the only director
        new(amount=60_000, steps=("finance", "director"))
    assert err.value.code == svc.NO_ELIGIBLE_APPROVER


def test_reason_code_must_fit_the_decision():
    approval = new()
    with pytest.raises(ApiError) as err:
        svc.decide(approval, 0, person("anna.berg"), DIRECTORY, decision=svc.APPROVE, reason_code="risk_too_high",
                   comment=None, channel=svc.CHANNEL_API, now=NOW)
    assert err.value.code == svc.INVALID_REASON and approval.steps[0].state == svc.STEP_PENDING


def test_overdue_and_escalation_to_the_next_role():
    approval = new(steps=("finance",))
    due = svc.parse_time(approval.steps[0].due_at)
    assert not svc.is_overdue(approval, due - timedelta(seconds=1))
    assert svc.is_overdue(approval, due)
    change = svc.escalate(approval, DIRECTORY, due)
    assert change == {"step": 0, "from_role": "finance", "to_role": "director", "escalations": 1,
                      "reminder_only": False}
    assert not svc.is_overdue(approval, due + timedelta(minutes=1))
    assert refused(approval, 0, "anna.berg") == svc.ROLE_NOT_ON_STEP
    again = svc.escalate(approval, DIRECTORY, due)  # the director role has nowhere further to go: remind
    assert again["reminder_only"] and again["escalations"] == 2


def test_expiry():
    approval = new()
    assert not svc.is_expired(approval, NOW + timedelta(hours=167))
    assert svc.is_expired(approval, NOW + timedelta(hours=168))


def test_tokens_are_long_random_and_stored_hashed():
    minted = {tokens.mint() for _ in range(200)}
    assert len(minted) == 200
    sample = next(iter(minted))
    assert tokens.well_formed(sample) and len(sample) == 43  # 32 bytes = 256 bits
    assert tokens.digest(sample) != sample and len(tokens.digest(sample)) == 64
    assert not tokens.well_formed(sample[:-1]) and not tokens.well_formed(sample[:-1] + "!")


def _slack_body(action_id="approval.approve", value="ref"):
    payload = {"type": "block_actions", "user": {"id": "U01FINANNA"}, "response_url": "http://x/response/1",
               "container": {"message_ts": "1.000001"}, "actions": [{"action_id": action_id, "value": value}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_slack_signature_window_boundaries():
    raw = _slack_body()
    ts = 1_700_000_000
    good = slack.signature("s3cret", str(ts), raw)
    slack.verify("s3cret", str(ts), good, raw, now=ts + 300)
    slack.verify("s3cret", str(ts), good, raw, now=ts - 300)
    for now in (ts + 301, ts - 301):
        with pytest.raises(ApiError) as err:
            slack.verify("s3cret", str(ts), good, raw, now=now)
        assert err.value.code == slack.STALE_TIMESTAMP
    for secret, presented, data in (("s3cret", good[:-1] + "0", raw), ("other", good, raw),
                                    ("s3cret", good, raw + b"x"), ("", good, raw)):
        with pytest.raises(ApiError) as err:
            slack.verify(secret, str(ts), presented, data, now=ts)
        assert err.value.status == 401


def test_slack_payload_parsing():
    click = slack.parse_interaction(_slack_body())
    assert click == {"user_id": "U01FINANNA", "action_id": "approval.approve", "decision": "approve",
                     "reference": "ref", "response_url": "http://x/response/1", "message_ts": "1.000001"}
    for raw in (b"payload=notjson", b"nothing=1", _slack_body(action_id="other")):
        with pytest.raises(ApiError) as err:
            slack.parse_interaction(raw)
        assert err.value.status == 400


def test_directory_rejects_ambiguous_slack_users():
    doc = json.loads(directory_mod.EXAMPLE_FILE.read_text())
    doc["approvers"][1]["slack_user_id"] = doc["approvers"][0]["slack_user_id"]
    with pytest.raises(ValueError):
        directory_mod.parse(doc)
