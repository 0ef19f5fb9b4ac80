"""HTTP for approvals: the /v1 API n8n calls, the email link pages under /a/, and Slack interactivity."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, g, request
from prometheus_client import Counter

from ..config import ConfigError
from ..contracts import contract, limit_parameter
from ..errors import ApiError, Conflict, NotFound
from . import actions, directory, outbox, pages, service, slack, store
from .settings import ApprovalSettings

bp = Blueprint("approvals", __name__)
DECISIONS = Counter("kit_approval_decisions_total", "Approval decisions recorded", ["channel", "decision"])

EXTENSION = "kit.approvals"
MAX_LIST = 500


@bp.record_once
def _setup(state) -> None:
    """Load the approvers file and settings at start, so a broken file stops the workers instead of a request."""
    app = state.app
    config = app.extensions["kit.config"]
    if config.production and not config.approvers_file:
        # The bundled example names fictional people: never let it decide real orders.
        raise ConfigError("production mode needs KIT_APPROVERS_FILE (who may approve what)")
    app.extensions[EXTENSION] = actions.Deps(
        db=app.extensions["kit.db"], directory=directory.load(config.approvers_file or None),
        settings=ApprovalSettings.from_config(config), public_url=config.public_url,
        slack_enabled=bool(config.slack_bot_token))


def _deps() -> actions.Deps:
    return current_app.extensions[EXTENSION]


def _actor() -> str:
    return "api:" + (request.headers.get("X-Kit-Actor") or "n8n")[:64]


@bp.post("/v1/approvals")
@contract(request="approval-create", response="approval-record", statuses=(201, 200))
def create():
    """Create an approval chain and notify the first step's approvers by Slack and email."""
    approval, created = actions.create(_deps(), g.body, _actor())
    return approval.view(), 201 if created else 200


@bp.get("/v1/approvals")
@contract(response="approval-list", query={
    "overdue": {"type": "boolean", "description": "only the pending ones whose current step is past its SLA"},
    "state": {"enum": [service.PENDING, *service.FINAL_STATES]}, "subject_type": {"type": "string"},
    "subject_id": {"type": "string"}, "limit": limit_parameter(maximum=MAX_LIST)})
def listing():
    """List approvals; ``?overdue=true`` gives the pending ones whose current step is past its SLA."""
    deps, query = _deps(), g.query
    if query.get("overdue"):
        actions.expire_due(deps)
        found = actions.overdue(deps)[:query["limit"]]
    else:
        with deps.db.transaction() as tx:
            found = store.listing(tx, state=query.get("state"), subject_type=query.get("subject_type"),
                                  subject_id=query.get("subject_id"), limit=query["limit"])
    return {"approvals": [a.view() for a in found]}


@bp.get("/v1/approvals/<approval_id>")
@contract(response="approval-record")
def show(approval_id: str):
    """One approval with its steps and decisions."""
    return actions.get(_deps(), approval_id).view()


@bp.post("/v1/approvals/<approval_id>/decisions")
@contract(request="approval-decision", response="approval-record")
def decide(approval_id: str):
    """Record a decision on behalf of a named approver (channel ``api``); the same rules as links and buttons."""
    approval = actions.decide_api(_deps(), approval_id, g.body)
    DECISIONS.labels("api", g.body["decision"]).inc()
    return approval.view()


@bp.post("/v1/approvals/<approval_id>/escalate")
@contract(request="approval-escalate-request", optional_body=True, response="approval-escalation")
def escalate(approval_id: str):
    """Move an overdue step to its escalation role (or remind the same role) and notify again.

    With ``{"only_if_overdue": true}`` a step that is no longer overdue (another run escalated it a moment ago)
    is left alone and ``escalation`` is null, so overlapping scheduled runs never escalate twice."""
    only_if_overdue = g.body.get("only_if_overdue", False)
    approval, change = actions.escalate(_deps(), approval_id, _actor(), only_if_overdue=only_if_overdue)
    return {"approval": approval.view(), "escalation": change}


@bp.post("/v1/approvals/<approval_id>/cancel")
@contract(request="approval-cancel-request", optional_body=True, response="approval-record")
def cancel(approval_id: str):
    """Withdraw a pending approval (e.g. the order was cancelled in Odoo); its links stop working."""
    return actions.cancel(_deps(), approval_id, _actor(), g.body.get("comment")).view()


@bp.get("/v1/approvals/<approval_id>/deliveries")
@contract(response="approval-deliveries")
def deliveries(approval_id: str):
    """Where each Slack message, email and callback of an approval stands (pending, delivered, dead)."""
    with _deps().db.transaction() as tx:
        store.load(tx, approval_id)
        return {"deliveries": outbox.listing(tx, approval_id)}


@bp.post("/v1/approvals/deliveries/<int:delivery_id>/retry")
@contract(response="approval-deliveries")
def retry_delivery(delivery_id: int):
    """Queue a dead delivery again (e.g. the callback target was down longer than the retry budget)."""
    with _deps().db.transaction() as tx:
        row = outbox.retry(tx, delivery_id)
        if row is None and not outbox.exists(tx, delivery_id):
            raise NotFound(f"no delivery {delivery_id}")
        if row is None:
            raise Conflict("only a dead delivery can be retried", code="delivery_not_dead")
        found = [d for d in outbox.listing(tx, row["approval_id"]) if d["id"] == delivery_id]
    outbox.wake()
    return {"deliveries": found}


@bp.get("/a/<token>")
@contract(media_type="text/html")
def link_page(token: str):
    """Show what the link would decide; never changes anything (mail scanners prefetch links)."""
    try:
        approval, row, approver, refusal = actions.inspect_link(_deps(), token)
    except ApiError as err:
        return _html(pages.error(err), err.status)
    return _html(pages.confirm(approval, row, approver, refusal), refusal.status if refusal else 200)


@bp.post("/a/<token>")
@contract(media_type="text/html", form={"reason_code": {"type": "string"},
                                        "comment": {"type": "string", "description": "kept up to 2,000 characters"}})
def link_decide(token: str):
    """Record the decision the link is bound to; the token itself is the secret, so no separate CSRF token."""
    reason = request.form.get("reason_code") or None
    comment = (request.form.get("comment") or "").strip()[:2000] or None
    try:
        approval, row = actions.decide_link(_deps(), token, reason, comment)
    except ApiError as err:
        return _html(pages.error(err), err.status)
    DECISIONS.labels("email", row["decision"]).inc()
    return _html(pages.done(approval, row), 200)


@bp.post("/v1/slack/interactions")
@contract(media_type="text/plain", form={"payload": {"type": "string", "description": "slack-block-actions JSON"}},
          summary="Slack block_actions, signed with X-Slack-Signature v0; answered with an empty 200")
def slack_interactions():
    """Slack block_actions: verify the signature and window, refuse replays, decide, ack at once."""
    raw = request.get_data(cache=True)
    signature = request.headers.get("X-Slack-Signature", "")
    slack.verify(current_app.extensions["kit.config"].slack_signing_secret,
                 request.headers.get("X-Slack-Request-Timestamp"), signature, raw, time.time())
    click = slack.parse_interaction(raw)
    try:
        actions.slack_click(_deps(), click, signature)
        DECISIONS.labels("slack", click["decision"]).inc()
    except ApiError as err:
        # Authentic but refused: tell the person why, privately (a replay gets nothing: it is not a person).
        if err.code != slack.REPLAYED:
            actions.slack_refusal_notice(_deps(), click, err)
        raise
    # The message itself is updated through response_url by the outbox, right after this ack.
    return "", 200, {"Content-Type": "text/plain"}


def _html(body: str, status: int):
    return body, status, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                          "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
