"""Write a release outcome back to Odoo: confirm the order or keep it on hold, with a chatter note saying why."""
from __future__ import annotations

from html import escape

from ..errors import Conflict, Unprocessable
from . import reasons as R
from .odoo_snapshot import read_snapshot
from .service import order_digest

# Outcomes written back to Odoo.
RELEASED = "released"
HELD = "held"
STALE = "stale"  # the order changed after it was evaluated: nothing confirmed, evaluate again
OUTCOMES = (RELEASED, HELD, STALE)

# Approval states (the approvals capability's names) and what they mean for the order.
APPROVAL_APPROVED = "approved"
APPROVAL_PENDING = "pending"
CONFIRMABLE_STATES = ("draft", "sent")
NOTE_SUBTYPE = "mail.mt_note"


def plan(decision: dict, approval: dict | None) -> str:
    """Which outcome the decision and the finished approval call for (before checking the order is unchanged)."""
    if decision["decision"] == R.RELEASE:
        return RELEASED
    if decision["decision"] == R.HOLD:
        return HELD
    if approval is None:
        raise Unprocessable("an approve decision needs the approval that settled it",
                            details=[{"path": "approval_id", "message": "required when decision is approve"}])
    check_binding(decision, approval)
    if approval["state"] == APPROVAL_PENDING:
        raise Conflict(f"approval {approval['id']} is still pending", code="approval_pending", retryable=True)
    return RELEASED if approval["state"] == APPROVAL_APPROVED else HELD


def check_binding(decision: dict, approval: dict) -> None:
    """The approval must be for this order and for the snapshot that was evaluated (what you see is what you sign)."""
    subject = approval.get("subject") or {}
    if subject.get("type") != "sale.order" or str(subject.get("id")) != str(decision["order_id"]):
        raise Conflict(f"approval {approval['id']} is for {subject.get('type')} {subject.get('id')}, "
                       f"not sale.order {decision['order_id']}", code="approval_mismatch")
    bound = (approval.get("context") or {}).get("snapshot_digest")
    if bound != decision["snapshot_digest"]:
        raise Conflict(f"approval {approval['id']} was granted for snapshot {bound}, not "
                       f"{decision['snapshot_digest']}", code="approval_mismatch")


def apply(odoo, decision: dict, approval: dict | None, names: dict[str, str], current: dict | None = None) -> dict:
    """Re-read the order (unless ``current`` was read for this decision in the same request), confirm it when
    released and unchanged, and post the note; returns what was done."""
    outcome = plan(decision, approval)
    order_id = decision["order_id"]
    current = current or read_snapshot(odoo, order_id)
    state = current["order"]["state"]
    changed = order_digest(current) != decision["order_digest"] or state == "cancel"
    if outcome == RELEASED and changed:
        outcome = STALE
    confirmed = False
    if outcome == RELEASED and state in CONFIRMABLE_STATES:
        odoo.call("sale.order", "action_confirm", [order_id])
        confirmed = True
    body = note(outcome, decision, approval, names)
    message_id = odoo.message_post("sale.order", order_id, body, message_type="comment", subtype_xmlid=NOTE_SUBTYPE)
    return {"order_id": order_id, "outcome": outcome, "confirmed": confirmed, "order_state": state,
            "message_id": message_id if isinstance(message_id, int) else None,
            "approval_id": approval["id"] if approval else None, "note": body}


VERDICTS = {"approve": "approved", "reject": "rejected"}
HEADLINES = {
    RELEASED: "Order released",
    HELD: "Order kept on hold",
    STALE: "Order not released: it changed after it was evaluated; the release check must run again",
}


def note(outcome: str, decision: dict, approval: dict | None, names: dict[str, str]) -> str:
    """The chatter note: outcome, policy version, each reason with its numbers, and who approved what, when, why."""
    policy = decision["policy"]
    parts = [f"<p><b>{escape(HEADLINES[outcome])}</b> by the release policy {escape(policy['version'])} "
             f"(decision: {escape(decision['decision'])}).</p>"]
    if decision["reasons"]:
        items = "".join(f"<li><code>{escape(r['code'])}</code>: {escape(r['message'])}</li>"
                        for r in decision["reasons"])
        parts.append(f"<p>Reasons:</p><ul>{items}</ul>")
    else:
        parts.append("<p>Within policy: no approval needed.</p>")
    if approval:
        rows = []
        for d in approval.get("decisions", []):
            who = names.get(d.get("approver_id") or "", d.get("approver_id") or "unknown")
            why = f" ({escape(d['reason_code'])})" if d.get("reason_code") else ""
            comment = f": {escape(d['comment'])}" if d.get("comment") else ""
            verdict = VERDICTS.get(d.get("decision"), d.get("decision") or "")
            rows.append(f"<li>{escape(d.get('role') or '')}: <b>{escape(verdict)}</b> by "
                        f"{escape(who)} at {escape(d.get('decided_at') or '')} via {escape(d.get('channel') or '')}"
                        f"{why}{comment}</li>")
        parts.append(f"<p>Approval {escape(approval['id'])}: {escape(approval['state'])}.</p>"
                     + (f"<ul>{''.join(rows)}</ul>" if rows else ""))
    return "".join(parts)
