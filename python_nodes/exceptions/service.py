"""Open, deduplicate, move and list exception cases; plain functions over the database, policy and Odoo client."""
from __future__ import annotations

from datetime import datetime, timedelta

from .. import clock
from ..audit import service as audit_log
from ..errors import Conflict, NotFound, Unprocessable
from . import lifecycle, store
from .policy import Policy, assess_severity, facts_from_context, sla_due

# What a report did: opened a case, or counted one more occurrence of an active case (callers notify only on NEW).
NEW = "new"
REPEAT = "repeat"

# Follow-up actions queued with each change and carried out after the commit (see ``followups.py``).
ANNOUNCE_OPENED = "announce_opened"
ANNOUNCE_CLOSED = "announce_closed"
ANNOUNCE_ESCALATED = "announce_escalated"
ODOO_OPEN = "odoo_open"
ODOO_CLOSE = "odoo_close"

# Reason codes / error codes this module answers with.
UNKNOWN_TYPE = "unknown_exception_type"
CORRELATION_KEY_REQUIRED = "correlation_key_required"
INVALID_TRANSITION = "invalid_transition"
REASON_CODE_REQUIRED = "reason_code_required"
UNKNOWN_REASON_CODE = "unknown_reason_code"
STATE_CHANGED = "state_changed_concurrently"

MAX_LIST = 500


def build_case(policy: Policy, body: dict, now: datetime) -> dict:
    """The case a report would open: category, owner, severity with reasons, SLA deadline, correlation key."""
    event_type = body["type"]
    info = policy.type_info(event_type)
    if info is None:
        raise Unprocessable(f"exception type {event_type!r} is not in the taxonomy", code=UNKNOWN_TYPE,
                            details=[{"path": "type", "message": f"one of {sorted(policy.taxonomy['types'])}"}])
    record = body.get("record") or {}
    model, record_id = record.get("model"), record.get("id")
    key = body.get("correlation_key") or (f"{event_type}:{model}:{record_id}" if model and record_id else None)
    if not key:
        raise Unprocessable("give a correlation_key or the Odoo record the exception is about",
                            code=CORRELATION_KEY_REQUIRED, details=[{"path": "correlation_key", "message": "required"}])
    context = body.get("context") or {}
    severity, reasons = assess_severity(policy, event_type, facts_from_context(context, now), body.get("severity"))
    category = info["category"]
    return {
        "correlation_key": key,
        "correlation_id": body.get("correlation_id") or (f"{model}:{record_id}" if model and record_id else key),
        "type": event_type,
        "category": category,
        "severity": severity,
        "severity_reasons": reasons,
        "owner_team": policy.category(category)["owner_team"],
        "state": lifecycle.OPEN,
        "title": body.get("title") or f"{event_type} on {record.get('name') or key}",
        "record_model": model,
        "record_id": record_id,
        "record_name": record.get("name"),
        "context": context,
        "details": body.get("details") or {},
        "source": body.get("source") or "api",
        "now": clock.iso(now),
        "sla_due_at": clock.iso(sla_due(policy, category, severity, now)),
    }


def report(db, policy: Policy, body: dict, *, actor: str = "api", now: datetime | None = None) -> dict:
    """Open a case or count a repeat of the active one with the same correlation key, in one atomic statement."""
    now = now or clock.now()
    case = build_case(policy, body, now)
    with db.transaction() as tx:
        stored = store.upsert_case(tx, case)
        outcome = NEW if stored["occurrence_count"] == 1 else REPEAT
        if outcome == NEW:
            audit_log.record(tx, actor=actor, action="exception.opened", subject=f"exception:{stored['id']}",
                             correlation_id=stored["correlation_id"], reason_codes=stored["severity_reasons"],
                             data={"type": stored["type"], "severity": stored["severity"],
                                   "owner_team": stored["owner_team"], "sla_due_at": stored["sla_due_at"],
                                   "correlation_key": stored["correlation_key"]})
            store.add_followup(tx, stored["id"], ANNOUNCE_OPENED, case["now"])
            if stored["record_model"] and stored["record_id"]:
                store.add_followup(tx, stored["id"], ODOO_OPEN, case["now"])
    return {"outcome": outcome, "notify": outcome == NEW, "exception": present(policy, stored)}


def transition(db, policy: Policy, case_id: int, body: dict, *, actor: str = "api",
               now: datetime | None = None) -> dict:
    """Move a case along its lifecycle; closing needs a reason code from the taxonomy's list for that action."""
    now = now or clock.now()
    target = body["state"]
    reason = body.get("reason_code")
    with db.transaction() as tx:
        case = store.get_case(tx, case_id)
        if case is None:
            raise NotFound(f"no exception case {case_id}", code="exception_not_found")
        check_transition(policy, case["state"], target, reason)
        moved = store.move_case(tx, case_id, from_state=case["state"], to_state=target, now=clock.iso(now),
                                active=target in lifecycle.ACTIVE_STATES,
                                reason_code=reason if lifecycle.needs_reason(target) else None,
                                note=body.get("note"), assignee=body.get("assignee"))
        if moved is None:
            raise Conflict(f"exception {case_id} changed state meanwhile; read it and retry", code=STATE_CHANGED,
                           retryable=True)
        audit_log.record(tx, actor=body.get("actor") or actor, action=f"exception.{target}",
                         subject=f"exception:{case_id}", correlation_id=moved["correlation_id"],
                         reason_codes=[reason] if reason else [],
                         data={"from": case["state"], "to": target, "note": body.get("note"),
                               "assignee": body.get("assignee")})
        if target in lifecycle.TERMINAL_STATES:
            store.add_followup(tx, case_id, ANNOUNCE_CLOSED, clock.iso(now))
            if moved["record_model"] and moved["record_id"]:
                store.add_followup(tx, case_id, ODOO_CLOSE, clock.iso(now))
    return {"exception": present(policy, moved)}


def check_transition(policy: Policy, current: str, target: str, reason: str | None) -> None:
    """Refuse transitions the lifecycle does not allow, and closings without a known reason code."""
    if not lifecycle.can_move(current, target):
        allowed = list(lifecycle.TRANSITIONS.get(current, ()))
        raise Conflict(f"cannot move an exception from {current!r} to {target!r}", code=INVALID_TRANSITION,
                       details=[{"path": "state", "message": f"allowed from {current!r}: {allowed}"}])
    if lifecycle.needs_reason(target):
        codes = policy.reason_codes(lifecycle.REASON_LIST_FOR[target])
        if not reason:
            raise Unprocessable(f"moving to {target!r} needs a reason_code", code=REASON_CODE_REQUIRED,
                                details=[{"path": "reason_code", "message": f"one of {codes}"}])
        if reason not in codes:
            raise Unprocessable(f"reason code {reason!r} is not valid for {target!r}", code=UNKNOWN_REASON_CODE,
                                details=[{"path": "reason_code", "message": f"one of {codes}"}])


def get(db, policy: Policy, case_id: int) -> dict:
    with db.transaction() as tx:
        case = store.get_case(tx, case_id)
        if case is None:
            raise NotFound(f"no exception case {case_id}", code="exception_not_found")
        followups = store.followups_for(tx, case_id)
    return {"exception": {**present(policy, case), "followups": followups}}


def listing(db, policy: Policy, filters: dict, *, limit: int = 100, offset: int = 0,
            now: datetime | None = None) -> dict:
    """Cases matching the filters; ``breached=true`` means active and past the SLA deadline now."""
    filters = dict(filters)
    if filters.pop("breached", None):
        filters["breached_before"] = clock.iso(now or clock.now())
    with db.transaction() as tx:
        cases = store.list_cases(tx, filters, min(limit, MAX_LIST), offset)
    return {"exceptions": [present(policy, case) for case in cases], "count": len(cases)}


def escalate_breached(db, policy: Policy, *, limit: int = 100, actor: str = "sla_watch",
                      now: datetime | None = None) -> dict:
    """Claim every active case past its SLA that was not escalated yet, once, and say who to escalate to.

    Each claim queues an ``exception.escalated`` announcement in the same transaction: the outbox takes it to n8n's
    escalation workflow until it is handled, so a claimed breach is never lost to a failed notification."""
    now = now or clock.now()
    with db.transaction() as tx:
        claimed = store.claim_breached(tx, clock.iso(now), min(limit, MAX_LIST))
        for case in claimed:
            audit_log.record(tx, actor=actor, action="exception.escalated", subject=f"exception:{case['id']}",
                             correlation_id=case["correlation_id"], reason_codes=["sla_breached"],
                             data={"sla_due_at": case["sla_due_at"], "owner_team": case["owner_team"]})
            store.add_followup(tx, case["id"], ANNOUNCE_ESCALATED, clock.iso(now))
    return {"escalated": [present(policy, case) for case in claimed], "count": len(claimed)}


def present(policy: Policy, case: dict) -> dict:
    """The public shape of a case, with where its team wants to hear about it (n8n routes on this)."""
    team = policy.team(case["owner_team"])
    record = None
    if case["record_model"] and case["record_id"]:
        record = {"model": case["record_model"], "id": case["record_id"], "name": case["record_name"]}
    return {
        "id": case["id"],
        "type": case["type"],
        "category": case["category"],
        "severity": case["severity"],
        "severity_reasons": case["severity_reasons"],
        "state": case["state"],
        "title": case["title"],
        "correlation_key": case["correlation_key"],
        "correlation_id": case["correlation_id"],
        "record": record,
        "context": case["context"],
        "details": case["details"],
        "source": case["source"],
        "occurrence_count": case["occurrence_count"],
        "first_seen_at": case["first_seen_at"],
        "last_seen_at": case["last_seen_at"],
        "sla_due_at": case["sla_due_at"],
        "updated_at": case["updated_at"],
        "closed_at": case["closed_at"],
        "reason_code": case["reason_code"],
        "resolution_note": case["resolution_note"],
        "assignee": case["assignee"],
        "escalated_at": case["escalated_at"],
        "odoo_activity_id": case["odoo_activity_id"],
        "owner": {
            "team": case["owner_team"],
            "label": team["label"],
            "slack_channel": team["slack_channel"],
            "email": team["email"],
            "channels": team["notify"][case["severity"]],
            "lead": team["lead"],
        },
    }


def backoff(attempts: int, base: float = 30.0, cap: float = 3600.0) -> timedelta:
    """Delay before retrying a follow-up after ``attempts`` failures: doubling, capped."""
    return timedelta(seconds=min(cap, base * (2 ** max(0, attempts - 1))))
