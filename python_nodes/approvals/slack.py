"""Slack: verify interaction signatures, read block_actions payloads, build Block Kit messages, call the Web API."""
from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qs

import requests

from ..errors import BadRequest, Unauthorized

VERSION = "v0"
MAX_SKEW_SECONDS = 300  # Slack's own advice: older requests may be replays
ACTION_APPROVE = "approval.approve"
ACTION_REJECT = "approval.reject"
ACTIONS = {ACTION_APPROVE: "approve", ACTION_REJECT: "reject"}

BAD_SIGNATURE = "slack_bad_signature"
STALE_TIMESTAMP = "slack_stale_timestamp"
REPLAYED = "slack_replayed"
BAD_PAYLOAD = "slack_bad_payload"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v0=`` + hex HMAC-SHA256 over ``v0:{timestamp}:{raw body}``, exactly as Slack computes it."""
    base = f"{VERSION}:{timestamp}:".encode() + body
    return VERSION + "=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str | None, presented: str | None, body: bytes, now: float) -> None:
    """Fail closed: no secret, a stale or missing timestamp, or a wrong signature are all 401."""
    if not secret:
        raise Unauthorized("Slack signing secret is not configured", code=BAD_SIGNATURE)
    try:
        ts = int(timestamp or "")
    except ValueError:
        raise Unauthorized("missing or malformed X-Slack-Request-Timestamp", code=STALE_TIMESTAMP) from None
    if abs(now - ts) > MAX_SKEW_SECONDS:
        raise Unauthorized("request timestamp is more than 300 s off", code=STALE_TIMESTAMP)
    expected = signature(secret, str(ts), body)
    if not hmac.compare_digest(expected.encode(), (presented or "").encode()):
        raise Unauthorized("X-Slack-Signature does not match", code=BAD_SIGNATURE)


def parse_interaction(body: bytes) -> dict:
    """The ``payload`` JSON of a form-encoded interaction, with the one action we act on."""
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=True)
        payload = json.loads(form["payload"][0])
    except (UnicodeDecodeError, ValueError, KeyError, IndexError):
        raise BadRequest("expected a form field 'payload' holding JSON", code=BAD_PAYLOAD) from None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        raise BadRequest("only block_actions interactions are handled", code=BAD_PAYLOAD)
    actions = payload.get("actions") or []
    user = payload.get("user") or {}
    if len(actions) != 1 or not isinstance(actions[0], dict) or not user.get("id"):
        raise BadRequest("expected exactly one action and a user", code=BAD_PAYLOAD)
    action = actions[0]
    if action.get("action_id") not in ACTIONS or not isinstance(action.get("value"), str):
        raise BadRequest("unknown action", code=BAD_PAYLOAD)
    return {"user_id": user["id"], "action_id": action["action_id"], "decision": ACTIONS[action["action_id"]],
            "reference": action["value"], "response_url": payload.get("response_url"),
            "message_ts": (payload.get("container") or {}).get("message_ts")}


def approval_blocks(approval, step, approver, approve_ref: str, reject_ref: str) -> tuple[str, list]:
    """The message one approver gets: what is asked, why, and Approve/Reject buttons carrying opaque references."""
    subject = approval.subject
    text = (f"Approval needed ({step.role}): {subject.get('name') or subject['type'] + ' ' + str(subject['id'])} "
            f"for {approval.amount:,.2f} {approval.currency}")
    reasons = "\n".join(f"• `{r.get('code')}` {r.get('message', '')}" for r in approval.context.get("reasons", []))
    requester = approval.requester.get("name") or approval.requester.get("email") or approval.requester.get("id")
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_escape(text)}*"}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Requested by*\n{_escape(str(requester))}"},
            {"type": "mrkdwn", "text": f"*Step*\n{step.position + 1} of {len(approval.steps)} ({step.role})"},
        ]},
    ]
    if reasons:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Reasons*\n" + _escape(reasons)}})
    blocks.append({"type": "actions", "block_id": f"approval:{approval.id}:{step.position}", "elements": [
        {"type": "button", "action_id": ACTION_APPROVE, "style": "primary", "value": approve_ref,
         "text": {"type": "plain_text", "text": "Approve"}},
        {"type": "button", "action_id": ACTION_REJECT, "style": "danger", "value": reject_ref,
         "text": {"type": "plain_text", "text": "Reject"},
         "confirm": {"title": {"type": "plain_text", "text": "Reject?"},
                     "text": {"type": "plain_text", "text": "The order stays on hold."},
                     "confirm": {"type": "plain_text", "text": "Reject"},
                     "deny": {"type": "plain_text", "text": "Cancel"}}},
    ]})
    return text, blocks


def outcome_blocks(approval, step, approver_name: str) -> tuple[str, list]:
    """What a decided message turns into: no buttons, who decided and why."""
    verb = "Approved" if step.decision == "approve" else "Rejected"
    text = (f"{verb} by {approver_name} ({step.reason_code}) — step {step.position + 1} of {len(approval.steps)} "
            f"for {approval.subject.get('name') or approval.subject['id']}")
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": _escape(text)}}]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class WebApi:
    """The few Slack Web API methods the kit calls; Slack answers HTTP 200 with ``ok: false`` on errors."""

    def __init__(self, base_url: str, bot_token: str, timeout: float = 10.0, session=None):
        self.base_url = base_url.rstrip("/")
        self.bot_token = bot_token
        self.timeout = timeout
        self.session = session or requests.Session()

    def call(self, method: str, body: dict) -> dict:
        answer = self.session.post(f"{self.base_url}/{method}", json=body, timeout=self.timeout,
                                   headers={"Authorization": f"Bearer {self.bot_token}",
                                            "Content-Type": "application/json; charset=utf-8"})
        answer.raise_for_status()
        data = answer.json()
        if not data.get("ok"):
            raise SlackError(f"{method}: {data.get('error', 'unknown_error')}")
        return data


class SlackError(RuntimeError):
    """Slack refused a call (``ok: false``)."""
