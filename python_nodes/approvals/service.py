"""Approval chains as plain data: states, transitions and segregation of duties, with no Flask and no SQL."""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from .. import clock
from ..errors import ApiError, Conflict, Forbidden, Unprocessable
from .directory import Approver, Directory

# Approval states; only PENDING moves, the others are final.
PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
EXPIRED = "expired"
CANCELLED = "cancelled"
FINAL_STATES = (APPROVED, REJECTED, EXPIRED, CANCELLED)
TRANSITIONS = {PENDING: frozenset(FINAL_STATES)}

# Step states: a chain activates its steps one at a time.
STEP_WAITING = "waiting"    # an earlier step is still open
STEP_PENDING = "pending"    # the current step, notified and awaiting a decision
STEP_APPROVED = "approved"
STEP_REJECTED = "rejected"
STEP_SKIPPED = "skipped"    # never reached: the chain ended before it (rejected, expired, cancelled)
STEP_EXPIRED = "expired"
STEP_CANCELLED = "cancelled"

# Decisions and the channels they arrive through.
APPROVE = "approve"
REJECT = "reject"
DECISIONS = (APPROVE, REJECT)
CHANNEL_SLACK = "slack"
CHANNEL_EMAIL = "email"
CHANNEL_API = "api"
CHANNELS = (CHANNEL_SLACK, CHANNEL_EMAIL, CHANNEL_API)

# Reason codes an approver gives with a decision (the first of each is the default for a one-click button).
APPROVE_REASONS = ("risk_accepted", "customer_priority", "payment_assured", "pricing_justified", "stock_confirmed")
REJECT_REASONS = ("risk_too_high", "pricing_unacceptable", "data_incorrect", "customer_on_hold", "other")
REASONS = {APPROVE: APPROVE_REASONS, REJECT: REJECT_REASONS}

# Why a decision is refused; each is a 4xx with nothing changed.
REQUESTER_CANNOT_APPROVE = "sod_requester_cannot_approve"
ONE_STEP_PER_PERSON = "sod_one_step_per_person"
AUTHORITY_LIMIT_EXCEEDED = "authority_limit_exceeded"
ROLE_NOT_ON_STEP = "role_not_on_current_step"
UNKNOWN_APPROVER = "unknown_approver"
APPROVAL_CLOSED = "approval_closed"
STEP_NOT_CURRENT = "step_not_current"
INVALID_REASON = "invalid_reason_code"
ILLEGAL_TRANSITION = "illegal_transition"
NO_ELIGIBLE_APPROVER = "no_eligible_approver"
UNKNOWN_ROLE = "unknown_role"

# Audit actions, one per state change.
ACT_CREATED = "approval.created"
ACT_STEP_APPROVED = "approval.step_approved"
ACT_STEP_ACTIVATED = "approval.step_activated"
ACT_ESCALATED = "approval.escalated"
ACT_FINISHED = "approval.finished"


@dataclass
class Step:
    """One link of the chain: a role to decide, then who decided what, how and why."""

    position: int
    role: str
    original_role: str
    state: str = STEP_WAITING
    sla_minutes: float = 240
    activated_at: str | None = None
    due_at: str | None = None
    escalations: int = 0
    decided_by: str | None = None
    decision: str | None = None
    reason_code: str | None = None
    comment: str | None = None
    channel: str | None = None
    decided_at: str | None = None


@dataclass
class Approval:
    """A request for people to approve a business object; ``steps`` run in order."""

    id: str
    subject: dict
    amount: float
    currency: str
    requester: dict
    context: dict
    correlation_id: str
    created_at: str
    expires_at: str
    state: str = PENDING
    current_step: int | None = 0
    callback_url: str | None = None
    updated_at: str | None = None
    closed_at: str | None = None
    version: int = 0
    steps: list[Step] = field(default_factory=list)

    def step(self, position: int) -> Step:
        return self.steps[position]

    @property
    def current(self) -> Step | None:
        return self.steps[self.current_step] if self.current_step is not None else None

    def view(self) -> dict:
        """The public representation (API answers, callbacks); never includes any token."""
        data = asdict(self)
        data.pop("version")
        data["outcome"] = self.state if self.state in FINAL_STATES else None
        data["decisions"] = [
            {"step": s.position, "role": s.role, "approver_id": s.decided_by, "decision": s.decision,
             "reason_code": s.reason_code, "comment": s.comment, "channel": s.channel, "decided_at": s.decided_at}
            for s in self.steps if s.decision]
        return data


def new_id() -> str:
    return "apr_" + secrets.token_hex(8)


def iso(moment: datetime) -> str:
    return clock.iso(moment)


def parse_time(text: str) -> datetime:
    return clock.parse(text)


def create(body: dict, directory: Directory, now: datetime, *, ttl_hours: float, approval_id: str | None = None) -> Approval:
    """Build a pending approval from a validated create request, refusing chains nobody could complete."""
    subject = body["subject"]
    steps = []
    for position, spec in enumerate(body["steps"]):
        if spec["role"] not in directory.roles:
            raise Unprocessable(f"unknown role {spec['role']!r}", code=UNKNOWN_ROLE,
                                details=[{"path": f"steps/{position}/role", "message": "not in the approvers file"}])
        sla = float(spec.get("sla_minutes") or directory.role(spec["role"]).sla_minutes)
        steps.append(Step(position=position, role=spec["role"], original_role=spec["role"], sla_minutes=sla))
    approval = Approval(
        id=approval_id or new_id(), subject=dict(subject), amount=float(body["amount"]),
        currency=body.get("currency") or directory.currency, requester=dict(body["requester"]),
        context=dict(body.get("context") or {}),
        correlation_id=body.get("correlation_id") or f"{subject['type']}:{subject['id']}",
        created_at=iso(now), updated_at=iso(now), expires_at=iso(now + timedelta(hours=ttl_hours)),
        callback_url=body.get("callback_url"), steps=steps)
    missing = [{"path": f"steps/{s.position}/role", "message": f"nobody holding {s.role!r} may approve this amount"}
               for s in steps if not eligible(approval, s, directory)]
    if missing:
        raise Unprocessable("some steps have no eligible approver", code=NO_ELIGIBLE_APPROVER, details=missing)
    if not _distinct_people(approval, directory):
        raise Unprocessable("the chain needs one different person per step and the approvers file has too few",
                            code=NO_ELIGIBLE_APPROVER, details=[{"path": "steps", "message": "not satisfiable"}])
    activate(approval, 0, now)
    return approval


def _distinct_people(approval: Approval, directory: Directory) -> bool:
    """Can every step get its own person? (Chains are short: a plain backtracking search is enough.)"""
    candidates = [[a.id for a in eligible(approval, s, directory)] for s in approval.steps]

    def assign(position: int, taken: frozenset) -> bool:
        if position == len(candidates):
            return True
        return any(assign(position + 1, taken | {who}) for who in candidates[position] if who not in taken)

    return assign(0, frozenset())


def activate(approval: Approval, position: int, now: datetime) -> Step:
    """Make ``position`` the current step and start its SLA clock."""
    step = approval.step(position)
    step.state = STEP_PENDING
    step.activated_at = iso(now)
    step.due_at = iso(now + timedelta(minutes=step.sla_minutes))
    approval.current_step = position
    approval.updated_at = iso(now)
    return step


def is_requester(approver: Approver, requester: dict) -> bool:
    """The same person under any identity we know: id, email (case-insensitive) or Slack user id."""
    if requester.get("id") and requester["id"] == approver.id:
        return True
    if requester.get("email") and requester["email"].strip().lower() == approver.email.strip().lower():
        return True
    return bool(requester.get("slack_user_id")) and requester["slack_user_id"] == approver.slack_user_id


def covers(approver: Approver, approval: Approval, directory: Directory) -> bool:
    """Limits are in the directory's currency; another currency fails closed rather than guessing a rate."""
    return approval.currency == directory.currency and approver.limit >= approval.amount


def refusal(approval: Approval, position: int, approver: Approver | None, directory: Directory) -> ApiError | None:
    """Why ``approver`` may not decide step ``position`` now, or None when they may."""
    if approver is None:
        return Forbidden("the deciding person is not a known approver", code=UNKNOWN_APPROVER)
    if approval.state != PENDING:
        return Conflict(f"approval is already {approval.state}", code=APPROVAL_CLOSED)
    if approval.current_step != position:
        return Conflict("this step is not the one awaiting a decision", code=STEP_NOT_CURRENT)
    step = approval.step(position)
    if is_requester(approver, approval.requester):
        return Forbidden("the requester cannot approve their own request", code=REQUESTER_CANNOT_APPROVE)
    if any(s.decided_by == approver.id for s in approval.steps if s.position != position):
        return Forbidden("one person cannot decide two steps of one chain", code=ONE_STEP_PER_PERSON)
    if step.role not in approver.roles:
        return Forbidden(f"this step needs the role {step.role!r}", code=ROLE_NOT_ON_STEP)
    if not covers(approver, approval, directory):
        return Forbidden(f"authority limit {approver.limit:g} {directory.currency} does not cover "
                         f"{approval.amount:g} {approval.currency}", code=AUTHORITY_LIMIT_EXCEEDED,
                         details=[{"limit": approver.limit, "amount": approval.amount,
                                   "currency": approval.currency}])
    return None


def eligible(approval: Approval, step: Step, directory: Directory) -> list[Approver]:
    """Everyone who could decide ``step`` (ignoring whether it is current): the people to notify."""
    return [a for a in directory.holders(step.role)
            if not is_requester(a, approval.requester) and covers(a, approval, directory)
            and not any(s.decided_by == a.id for s in approval.steps if s.position != step.position)]


def reason_for(decision: str, reason_code: str | None) -> str:
    """The given reason code if it fits the decision, the decision's default when none is given."""
    if decision not in DECISIONS:
        raise Unprocessable(f"decision must be one of {DECISIONS}", code=INVALID_REASON)
    if reason_code is None:
        return REASONS[decision][0]
    if reason_code not in REASONS[decision]:
        raise Unprocessable(f"reason code {reason_code!r} does not fit {decision!r}", code=INVALID_REASON,
                            details=[{"path": "reason_code", "message": f"one of {list(REASONS[decision])}"}])
    return reason_code


def decide(approval: Approval, position: int, approver: Approver | None, directory: Directory, *, decision: str,
           reason_code: str | None, comment: str | None, channel: str, now: datetime) -> list[str]:
    """Record one decision and move the chain on; returns the audit actions that happened, in order."""
    problem = refusal(approval, position, approver, directory)
    if problem:
        raise problem
    reason = reason_for(decision, reason_code)
    step = approval.step(position)
    step.decided_by, step.decision, step.reason_code = approver.id, decision, reason
    step.comment, step.channel, step.decided_at = (comment or None), channel, iso(now)
    approval.updated_at = iso(now)
    if decision == REJECT:
        step.state = STEP_REJECTED
        finish(approval, REJECTED, now)
        return ["approval.step_rejected", ACT_FINISHED]
    step.state = STEP_APPROVED
    if position + 1 < len(approval.steps):
        activate(approval, position + 1, now)
        return [ACT_STEP_APPROVED, ACT_STEP_ACTIVATED]
    finish(approval, APPROVED, now)
    return [ACT_STEP_APPROVED, ACT_FINISHED]


def finish(approval: Approval, state: str, now: datetime) -> None:
    """Close the approval in ``state``; open steps are closed with it so no token can act on them."""
    if state not in TRANSITIONS.get(approval.state, ()):
        raise Conflict(f"cannot go from {approval.state} to {state}", code=ILLEGAL_TRANSITION)
    approval.state = state
    approval.closed_at = approval.updated_at = iso(now)
    for step in approval.steps:
        if step.state == STEP_PENDING:
            step.state = {EXPIRED: STEP_EXPIRED, CANCELLED: STEP_CANCELLED}.get(state, STEP_SKIPPED)
        elif step.state == STEP_WAITING:
            step.state = STEP_SKIPPED
    approval.current_step = None


def is_overdue(approval: Approval, now: datetime) -> bool:
    step = approval.current
    return approval.state == PENDING and step is not None and parse_time(step.due_at) <= now


def is_expired(approval: Approval, now: datetime) -> bool:
    return approval.state == PENDING and parse_time(approval.expires_at) <= now


def escalate(approval: Approval, directory: Directory, now: datetime) -> dict:
    """Hand the current step to the role's escalation role (or remind the same role) and restart its SLA."""
    if approval.state != PENDING:
        raise Conflict(f"approval is already {approval.state}", code=APPROVAL_CLOSED)
    step = approval.current
    target = directory.role(step.role).escalate_to
    before = step.role
    if target and eligible(approval, _with_role(step, target), directory):
        step.role = target
        step.sla_minutes = directory.role(target).sla_minutes
    step.escalations += 1
    step.activated_at = iso(now)
    step.due_at = iso(now + timedelta(minutes=step.sla_minutes))
    approval.updated_at = iso(now)
    return {"step": step.position, "from_role": before, "to_role": step.role, "escalations": step.escalations,
            "reminder_only": step.role == before}


def _with_role(step: Step, role: str) -> Step:
    return Step(position=step.position, role=role, original_role=step.original_role)
