"""Use cases of the approvals capability, each one transaction: state change + audit entry + queued deliveries."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from .. import clock
from ..audit import service as audit
from ..errors import ApiError, BadRequest, Conflict, Forbidden, NotFound
from . import mail, outbox, service, slack, store, tokens
from .directory import Directory
from .service import Approval

TOKEN_NOT_FOUND = "token_not_found"
TOKEN_USED = "token_used"
TOKEN_EXPIRED = "token_expired"
TOKEN_REVOKED = "token_revoked"
SLACK_USER_MISMATCH = "slack_user_mismatch"
IDEMPOTENCY_CONFLICT = "idempotency_conflict"


class Gone(ApiError):
    """A link or button that worked once, or could have, but no longer does (used, expired, superseded)."""

    status, code = 410, "gone"


@dataclass(frozen=True)
class Deps:
    """What the use cases need, injected so tests build their own."""

    db: object
    directory: Directory
    settings: object
    public_url: str
    slack_enabled: bool

    def link(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/a/{token}"


def _subject(approval: Approval) -> str:
    return f"approval:{approval.id}"


def _fingerprint(body: dict) -> str:
    """What makes two create requests "the same": everything but the callback URL, which names the waiting run."""
    same = {k: v for k, v in body.items() if k != "callback_url"}
    return hashlib.sha256(json.dumps(same, sort_keys=True, default=str).encode()).hexdigest()


def create(deps: Deps, body: dict, actor: str) -> tuple[Approval, bool]:
    """Create and notify; the same ``idempotency_key`` with the same body returns the first approval."""
    now = clock.now()
    key = body.get("idempotency_key")
    with deps.db.transaction() as tx:
        if key:
            found = store.by_request_key(tx, key)
            if found:
                approval, fingerprint = found
                if fingerprint != _fingerprint(body):
                    raise Conflict("this idempotency_key was used with a different request", code=IDEMPOTENCY_CONFLICT)
                if body.get("callback_url") and body["callback_url"] != approval.callback_url:
                    _rebind_callback(tx, deps, approval, body["callback_url"], actor)
                return approval, False
        approval = service.create(body, deps.directory, now, ttl_hours=deps.settings.approval_ttl_hours)
        store.insert(tx, approval, key, _fingerprint(body) if key else None)
        audit.record(tx, actor=actor, action=service.ACT_CREATED, subject=_subject(approval),
                     correlation_id=approval.correlation_id,
                     reason_codes=[r.get("code") for r in approval.context.get("reasons", []) if r.get("code")],
                     data={"amount": approval.amount, "currency": approval.currency, "requester": approval.requester,
                           "steps": [s.role for s in approval.steps],
                           "snapshot_digest": approval.context.get("snapshot_digest")})
        notify(tx, deps, approval, now)
    outbox.wake()
    return approval, True


def _rebind_callback(tx, deps: Deps, approval: Approval, url: str, actor: str) -> None:
    """A re-run of the waiting workflow asked again: resume the newest waiter (at once if the chain already ended)."""
    store.set_callback(tx, approval.id, url)
    approval.callback_url = url
    audit.record(tx, actor=actor, action="approval.callback_rebound", subject=_subject(approval),
                 correlation_id=approval.correlation_id, data={"state": approval.state})
    if approval.state in service.FINAL_STATES:
        outbox.enqueue(tx, approval.id, outbox.CALLBACK, {"url": url, "payload": approval.view()})


def notify(tx, deps: Deps, approval: Approval, now: datetime) -> list[dict]:
    """Mint per-approver links and button references for the current step and queue the Slack message and email."""
    step = approval.current
    expires = clock.iso(now + timedelta(hours=deps.settings.link_ttl_hours))
    sent = []
    for approver in service.eligible(approval, step, deps.directory):
        minted = {}
        for kind in (tokens.LINK, tokens.SLACK):
            for decision in service.DECISIONS:
                secret = tokens.mint()
                store.insert_token(tx, token_hash=tokens.digest(secret), kind=kind, approval_id=approval.id,
                                   position=step.position, approver_id=approver.id, decision=decision,
                                   created_at=clock.iso(now), expires_at=expires)
                minted[kind, decision] = secret
        channels = []
        if deps.slack_enabled and approver.slack_user_id:
            text, blocks = slack.approval_blocks(approval, step, approver, minted[tokens.SLACK, service.APPROVE],
                                                 minted[tokens.SLACK, service.REJECT])
            outbox.enqueue(tx, approval.id, outbox.SLACK_POST,
                           {"channel": approver.slack_user_id, "text": text, "blocks": blocks,
                            "position": step.position, "approver_id": approver.id})
            channels.append(service.CHANNEL_SLACK)
        if approver.email:
            message = mail.approval_email(approval, step, approver, deps.link(minted[tokens.LINK, service.APPROVE]),
                                          deps.link(minted[tokens.LINK, service.REJECT]), deps.settings.link_ttl_hours)
            outbox.enqueue(tx, approval.id, outbox.EMAIL, message)
            channels.append(service.CHANNEL_EMAIL)
        sent.append({"approver_id": approver.id, "channels": channels})
    audit.record(tx, actor="kit", action="approval.notified", subject=_subject(approval),
                 correlation_id=approval.correlation_id,
                 data={"step": step.position, "role": step.role, "recipients": sent})
    return sent


def get(deps: Deps, approval_id: str) -> Approval:
    with deps.db.transaction() as tx:
        return store.load(tx, approval_id)


def decide_api(deps: Deps, approval_id: str, body: dict) -> Approval:
    """A decision arriving through the authenticated API (n8n or an admin tool) on behalf of a named approver."""
    now = clock.now()
    with deps.db.transaction() as tx:
        approval = store.load(tx, approval_id, for_update=True)
        position = body.get("step", approval.current_step if approval.current_step is not None else -1)
        if not 0 <= position < len(approval.steps):
            raise Conflict(f"approval is already {approval.state}", code=service.APPROVAL_CLOSED)
        approver = deps.directory.approver(body["approver_id"])
        _apply(tx, deps, approval, position, approver, body["decision"], body.get("reason_code"), body.get("comment"),
               service.CHANNEL_API, now)
    outbox.wake()
    return approval


def inspect_link(deps: Deps, token: str) -> tuple[Approval, dict, object, ApiError | None]:
    """What a link would decide, read-only (GET must never change state: mail scanners prefetch links)."""
    now = clock.now()
    with deps.db.transaction() as tx:
        row = _live_token(tx, token, tokens.LINK, now)
        approval = store.load(tx, row["approval_id"])
    approver = deps.directory.approver(row["approver_id"])
    return approval, row, approver, service.refusal(approval, row["position"], approver, deps.directory)


def decide_link(deps: Deps, token: str, reason_code: str | None, comment: str | None) -> tuple[Approval, dict]:
    """Consume an email link: the token fixes approval, step, approver and decision; the form adds reason and comment."""
    now = clock.now()
    with deps.db.transaction() as tx:
        row = _live_token(tx, token, tokens.LINK, now)
        approval = store.load(tx, row["approval_id"], for_update=True)
        approver = deps.directory.approver(row["approver_id"])
        # Consume first: if the decision is refused the whole transaction, this included, rolls back.
        if not store.use_token(tx, row["token_hash"], clock.iso(now)):
            raise Gone("this link was already used", code=TOKEN_USED)
        _apply(tx, deps, approval, row["position"], approver, row["decision"], reason_code or None, comment,
               service.CHANNEL_EMAIL, now)
    outbox.wake()
    return approval, row


def slack_click(deps: Deps, click: dict, signature: str) -> Approval:
    """A verified block_actions click: replay guard, button reference, Slack user -> approver, then decide."""
    now = clock.now()
    with deps.db.transaction() as tx:
        if not store.first_sighting(tx, hashlib.sha256(signature.encode()).hexdigest(), clock.iso(now),
                                    clock.iso(now - timedelta(seconds=2 * slack.MAX_SKEW_SECONDS))):
            raise Conflict("this Slack request was already received", code=slack.REPLAYED)
        row = _live_token(tx, click["reference"], tokens.SLACK, now)
        if row["decision"] != click["decision"]:
            raise BadRequest("the button does not match its action", code=slack.BAD_PAYLOAD)
        approver = deps.directory.by_slack_user(click["user_id"])
        if approver is None:
            raise Forbidden("this Slack user is not a known approver", code=service.UNKNOWN_APPROVER)
        if approver.id != row["approver_id"]:
            raise Forbidden("this button was sent to another approver", code=SLACK_USER_MISMATCH)
        approval = store.load(tx, row["approval_id"], for_update=True)
        step = approval.step(row["position"])
        if not store.use_token(tx, row["token_hash"], clock.iso(now)):
            raise Gone("this button was already used", code=TOKEN_USED)
        _apply(tx, deps, approval, row["position"], approver, row["decision"], None, None, service.CHANNEL_SLACK, now)
        if click.get("response_url"):
            text, blocks = slack.outcome_blocks(approval, step, approver.name)
            outbox.enqueue(tx, approval.id, outbox.SLACK_RESPONSE,
                           {"url": click["response_url"],
                            "payload": {"replace_original": True, "text": text, "blocks": blocks}})
    outbox.wake()
    return approval


def slack_refusal_notice(deps: Deps, click: dict, err: ApiError) -> None:
    """Queue an ephemeral reply on the clicked message; the approval itself is untouched."""
    if not click.get("response_url"):
        return
    with deps.db.transaction() as tx:
        outbox.enqueue(tx, "-", outbox.SLACK_RESPONSE,
                       {"url": click["response_url"],
                        "payload": {"response_type": "ephemeral", "replace_original": False,
                                    "text": f"Not recorded: {err.message} ({err.code})"}})
    outbox.wake()


def escalate(deps: Deps, approval_id: str, actor: str, only_if_overdue: bool = False) -> tuple[Approval, dict | None]:
    """Overdue step: hand it to the escalation role (or remind), revoke the old links, notify again."""
    now = clock.now()
    with deps.db.transaction() as tx:
        approval = store.load(tx, approval_id, for_update=True)
        if only_if_overdue and not service.is_overdue(approval, now):
            return approval, None
        change = service.escalate(approval, deps.directory, now)
        store.revoke_step_tokens(tx, approval.id, change["step"], clock.iso(now))
        store.save(tx, approval)
        audit.record(tx, actor=actor, action=service.ACT_ESCALATED, subject=_subject(approval),
                     correlation_id=approval.correlation_id, reason_codes=["approval_overdue"], data=change)
        change["notified"] = notify(tx, deps, approval, now)
    outbox.wake()
    return approval, change


def cancel(deps: Deps, approval_id: str, actor: str, comment: str | None) -> Approval:
    now = clock.now()
    with deps.db.transaction() as tx:
        approval = store.load(tx, approval_id, for_update=True)
        _finish(tx, deps, approval, service.CANCELLED, now, actor, {"comment": comment})
    outbox.wake()
    return approval


def overdue(deps: Deps) -> list[Approval]:
    now = clock.now()
    with deps.db.transaction() as tx:
        return [a for a in store.pending(tx) if service.is_overdue(a, now)]


def expire_due(deps: Deps) -> list[str]:
    """Close approvals past their lifetime (called by the background loop and the overdue listing).

    One transaction per approval: several worker processes sweep at once, and losing a race on one
    approval (a retryable 409) must not undo the others."""
    now = clock.now()
    with deps.db.transaction() as tx:
        due = [a.id for a in store.pending(tx) if service.is_expired(a, now)]
    expired = []
    for approval_id in due:
        try:
            with deps.db.transaction() as tx:
                approval = store.load(tx, approval_id, for_update=True)
                if service.is_expired(approval, now):
                    _finish(tx, deps, approval, service.EXPIRED, now, "kit", {})
                    expired.append(approval.id)
        except Conflict:
            continue  # another process expired or decided it first
    if expired:
        outbox.wake()
    return expired


def _finish(tx, deps: Deps, approval: Approval, state: str, now: datetime, actor: str, data: dict) -> None:
    service.finish(approval, state, now)
    for step in approval.steps:
        store.revoke_step_tokens(tx, approval.id, step.position, clock.iso(now))
    store.save(tx, approval)
    audit.record(tx, actor=actor, action=service.ACT_FINISHED, subject=_subject(approval),
                 correlation_id=approval.correlation_id, reason_codes=[f"approval_{state}"],
                 data={"state": state, **data})
    _completed(tx, deps, approval)


def _apply(tx, deps: Deps, approval: Approval, position: int, approver, decision: str, reason_code, comment,
           channel: str, now: datetime) -> None:
    before = {s.position: s.state for s in approval.steps}
    happened = service.decide(approval, position, approver, deps.directory, decision=decision,
                              reason_code=reason_code, comment=comment, channel=channel, now=now)
    step = approval.step(position)
    store.save(tx, approval)
    # The step is decided: every other link and button for it stops working.
    store.revoke_step_tokens(tx, approval.id, position, clock.iso(now))
    for action in happened:
        data = {"step": position, "role": step.role, "decision": decision, "channel": channel, "comment": step.comment,
                "approver": approver.public(), "state": approval.state,
                "snapshot_digest": approval.context.get("snapshot_digest")}
        if action == service.ACT_STEP_ACTIVATED:
            data = {"step": approval.current_step, "role": approval.current.role}
        audit.record(tx, actor=f"approver:{approver.id}", action=action, subject=_subject(approval),
                     correlation_id=approval.correlation_id, reason_codes=[step.reason_code], data=data)
    _update_other_messages(tx, deps, approval, step, approver)
    if approval.state in service.FINAL_STATES:
        _completed(tx, deps, approval)
    elif before.get(approval.current_step) == service.STEP_WAITING:
        notify(tx, deps, approval, now)


def _update_other_messages(tx, deps: Deps, approval: Approval, step, approver) -> None:
    """Other approvers of the step see it was decided (their buttons would only answer 409 now)."""
    text, blocks = slack.outcome_blocks(approval, step, approver.name)
    for message in store.messages(tx, approval.id, step.position):
        if message["approver_id"] != approver.id:
            outbox.enqueue(tx, approval.id, outbox.SLACK_UPDATE,
                           {"channel": message["channel"], "ts": message["ts"], "text": text, "blocks": blocks})


def _completed(tx, deps: Deps, approval: Approval) -> None:
    """The chain ended: resume whoever waits (callback) and tell the requester."""
    if approval.callback_url:
        outbox.enqueue(tx, approval.id, outbox.CALLBACK, {"url": approval.callback_url, "payload": approval.view()})
    if approval.requester.get("email") and approval.state in (service.REJECTED, service.APPROVED):
        outbox.enqueue(tx, approval.id, outbox.EMAIL, mail.outcome_email(approval, approval.requester["email"]))


def _live_token(tx, token: str, kind: str, now: datetime) -> dict:
    """The stored row for a presented token, or the 4xx that says why it cannot act."""
    if not tokens.well_formed(token):
        raise NotFound("unknown link", code=TOKEN_NOT_FOUND)
    row = store.token(tx, tokens.digest(token), kind)
    if row is None:
        raise NotFound("unknown link", code=TOKEN_NOT_FOUND)
    if row["used_at"]:
        raise Gone("this link was already used", code=TOKEN_USED)
    if row["revoked_at"]:
        raise Gone("this link was replaced (the step was decided, escalated or closed)", code=TOKEN_REVOKED)
    if clock.parse(row["expires_at"]) <= now:
        raise Gone("this link has expired", code=TOKEN_EXPIRED)
    return row
