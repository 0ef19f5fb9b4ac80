"""Carry out the follow-ups queued with each case change: announce it as an event, write it back to Odoo.

A follow-up row is written in the same transaction as the change, so nothing is lost when Odoo or the events
inbox is down: the row stays ``pending`` with a growing back-off and is retried right after the request, by the
background loop (``background.py``) and by ``POST /v1/exceptions/followups/run`` (called by the scheduled sweep).
Each action is safe to repeat: announcements carry an idempotency key, the Odoo activity id is stored as soon as
it exists so a retry never creates a second one, and closing skips an activity already marked done.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from .. import clock, logs
from ..errors import ApiError
from ..events import service as events
from ..events import types as event_types
from . import store
from .policy import Policy
from .service import ANNOUNCE_CLOSED, ANNOUNCE_ESCALATED, ANNOUNCE_OPENED, ODOO_CLOSE, ODOO_OPEN, backoff, present

PENDING = "pending"
DONE = "done"
FAILED = "failed"

MAX_ATTEMPTS = 20
LEASE = timedelta(minutes=5)
ORIGIN = "exceptions"
ACTIVITY_TYPE_NAMES = ("To-Do", "To Do", "Todo")
TODO_XMLID = ("mail", "mail_activity_data_todo")
EVENT_NAMESPACE = uuid.UUID("0b6b7c1e-2f0e-4c8e-9a57-6a4f1e0de6a1")

log = logs.get("exceptions.followups")


class NotYet(Exception):
    """The follow-up depends on another one that has not happened yet; try again later without blame."""


def run_due(db, config, policy: Policy, odoo_factory, *, case_id: int | None = None, limit: int = 50,
            now: datetime | None = None) -> dict:
    """Run the follow-ups that are due (all, or one case's); answer how many succeeded, wait, or failed."""
    now = now or clock.now()
    counts = {"done": 0, "retry": 0, "failed": 0}
    with db.transaction() as tx:
        due = store.due_followups(tx, clock.iso(now), limit, case_id=case_id)
    for row in due:
        with db.transaction() as tx:
            claimed = store.claim_followup(tx, row["id"], clock.iso(now), clock.iso(now + LEASE))
            case = store.get_case(tx, claimed["case_id"]) if claimed else None
        if not claimed:
            continue  # another process took it
        counts[_attempt(db, config, policy, odoo_factory, claimed, case, now)] += 1
    return counts


def _attempt(db, config, policy, odoo_factory, followup: dict, case: dict, now: datetime) -> str:
    try:
        ACTIONS[followup["action"]](db, config, policy, odoo_factory, case)
    except NotYet as exc:
        return _finish(db, followup, PENDING, now, str(exc), retry_in=backoff(1))
    except (ApiError, OSError, KeyError) as exc:
        retryable = getattr(exc, "retryable", True) and followup["attempts"] < MAX_ATTEMPTS
        log.warning("follow-up failed", extra={"fields": {"id": followup["id"], "action": followup["action"],
                                                          "case": case["id"], "error": str(exc)}})
        if retryable:
            return _finish(db, followup, PENDING, now, str(exc), retry_in=backoff(followup["attempts"]))
        return _finish(db, followup, FAILED, now, str(exc))
    return _finish(db, followup, DONE, now, None)


def _finish(db, followup: dict, status: str, now: datetime, error: str | None,
            retry_in: timedelta | None = None) -> str:
    with db.transaction() as tx:
        store.finish_followup(tx, followup["id"], status=status, now=clock.iso(now), error=error,
                              next_attempt_at=clock.iso(now + retry_in) if retry_in else None)
    return {DONE: "done", PENDING: "retry", FAILED: "failed"}[status]


def announce_opened(db, config, policy, odoo_factory, case: dict) -> None:
    """Record ``exception.opened`` in the events inbox; its outbox forwards it to n8n's routing workflow once."""
    _announce(db, config, policy, case, event_types.EXCEPTION_OPENED, "opened")


def announce_closed(db, config, policy, odoo_factory, case: dict) -> None:
    _announce(db, config, policy, case, event_types.EXCEPTION_RESOLVED, case["state"])


def announce_escalated(db, config, policy, odoo_factory, case: dict) -> None:
    """Record ``exception.escalated`` (its SLA breached); the outbox forwards it to n8n's escalation workflow."""
    _announce(db, config, policy, case, event_types.EXCEPTION_ESCALATED, "escalated")


def _announce(db, config, policy, case: dict, event_type: str, what: str) -> None:
    key = f"exception:{case['id']}:{what}"
    envelope = {
        "specversion": "1.0",
        "id": str(uuid.uuid5(EVENT_NAMESPACE, key)),
        "source": "kit/exceptions",
        "type": event_type,
        "subject": f"exception/{case['id']}",
        "time": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "datacontenttype": "application/json",
        "correlationid": case["correlation_id"],
        "idempotencykey": key,
        "data": _event_data(config, policy, case),
    }
    events.ingest(db, config, envelope, origin=ORIGIN)


def _event_data(config, policy, case: dict) -> dict:
    """The event's data: the fields its schema names, plus the whole case and a link for the notification."""
    data = {"exception_id": case["id"], "category": case["category"], "severity": case["severity"],
            "state": case["state"], "exception": present(policy, case), "link": record_link(config, case)}
    if case["record_model"] and case["record_id"]:
        data["record"] = {"model": case["record_model"], "id": case["record_id"]}
    if case["reason_code"]:
        data["reason_code"] = case["reason_code"]
    return data


def record_link(config, case: dict) -> str | None:
    """Where a person opens the record in Odoo's web client."""
    if not (case["record_model"] and case["record_id"]):
        return None
    base = getattr(config, "odoo_public_url", "") or config.odoo_url
    return f"{base.rstrip('/')}/web#id={case['record_id']}&model={case['record_model']}&view_type=form"


def odoo_open(db, config, policy: Policy, odoo_factory, case: dict) -> None:
    """A ``mail.activity`` for the owner team (deadline = SLA) plus a chatter note on the record."""
    odoo = odoo_factory()
    model, res_id = case["record_model"], case["record_id"]
    if not case["odoo_activity_id"]:
        team = policy.team(case["owner_team"])
        activity_id = odoo.create("mail.activity", {
            "res_model_id": _model_id(odoo, model),
            "res_id": res_id,
            "activity_type_id": _activity_type_id(odoo),
            "summary": f"[{case['severity']}] {case['title']}"[:200],
            "note": _note(case),
            "user_id": team["odoo_user_id"],
            "date_deadline": case["sla_due_at"][:10],
        })
        # Stored at once, so a failure of the chatter note below never leads to a second activity.
        with db.transaction() as tx:
            store.set_activity(tx, case["id"], activity_id)
    odoo.message_post(model, res_id, body=_note(case), message_type="comment", subtype_xmlid="mail.mt_note")


def odoo_close(db, config, policy, odoo_factory, case: dict) -> None:
    """Mark the case's activity done with the resolution as feedback."""
    if not case["odoo_activity_id"]:
        with db.transaction() as tx:
            waiting = [f for f in store.followups_for(tx, case["id"]) if f["action"] == ODOO_OPEN
                       and f["status"] == PENDING]
        if waiting:
            raise NotYet("the Odoo activity is not created yet")
        return  # the activity was never created (the open write-back failed for good): nothing to close
    odoo = odoo_factory()
    rows = odoo.read("mail.activity", [case["odoo_activity_id"]], ["id"])
    if not rows:
        return  # already done (Odoo deletes done activities) or removed by a person
    feedback = f"{case['state']}: {case['reason_code']}" + (f" - {case['resolution_note']}"
                                                           if case["resolution_note"] else "")
    odoo.call("mail.activity", "action_feedback", [case["odoo_activity_id"]], feedback=feedback)


def _model_id(odoo, model: str) -> int:
    rows = odoo.search_read("ir.model", [["model", "=", model]], ["id"], limit=1)
    if not rows:
        raise KeyError(f"Odoo has no model {model!r}")
    return rows[0]["id"]


def _activity_type_id(odoo) -> int:
    """Odoo's standard "To-Do" activity type, by its XML id (names are translated), else by name."""
    try:
        return odoo.call("ir.model.data", "check_object_reference", *TODO_XMLID)[1]
    except ApiError:
        pass  # the XML id was removed; fall back to a name
    rows = odoo.search_read("mail.activity.type", [["name", "in", list(ACTIVITY_TYPE_NAMES)]], ["id"], limit=1)
    if not rows:
        raise KeyError("Odoo has no To-Do mail.activity.type")
    return rows[0]["id"]


def _note(case: dict) -> str:
    return (f"<p>Exception #{case['id']} ({case['type']}, {case['severity']}): {case['title']}</p>"
            f"<p>Owner: {case['owner_team']}; resolve by {case['sla_due_at']} (UTC).</p>")


ACTIONS = {
    ANNOUNCE_OPENED: announce_opened,
    ANNOUNCE_CLOSED: announce_closed,
    ANNOUNCE_ESCALATED: announce_escalated,
    ODOO_OPEN: odoo_open,
    ODOO_CLOSE: odoo_close,
}
