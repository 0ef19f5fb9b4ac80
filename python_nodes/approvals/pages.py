"""HTML for email links: a confirmation page showing exactly what is decided, and result/error pages."""
from __future__ import annotations

from html import escape

from . import service

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}"
          "table{border-collapse:collapse}td,th{padding:.3rem .6rem;text-align:left;vertical-align:top}"
          "th{color:#555;font-weight:600}button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}"
          ".approve{background:#2e7d32;color:#fff}.reject{background:#c62828;color:#fff}.note{color:#555}")


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=robots content=noindex>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>{body}</body></html>")


def _summary(approval, step) -> str:
    subject = approval.subject
    requester = approval.requester
    who = requester.get("name") or requester.get("email") or requester.get("id")
    reasons = "".join(f"<li><code>{escape(str(r.get('code')))}</code> {escape(str(r.get('message', '')))}</li>"
                      for r in approval.context.get("reasons", []))
    rows = [("Subject", f"{escape(str(subject.get('name') or ''))} ({escape(subject['type'])} #{escape(str(subject['id']))})"),
            ("Amount", f"{approval.amount:,.2f} {escape(approval.currency)}"),
            ("Requested by", escape(str(who))),
            ("Step", f"{step.position + 1} of {len(approval.steps)} — role {escape(step.role)}"),
            ("Reasons", f"<ul>{reasons}</ul>" if reasons else "—")]
    digest = approval.context.get("snapshot_digest")
    if digest:
        rows.append(("Snapshot", f"<code>{escape(str(digest))}</code>"))
    return "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def confirm(approval, row: dict, approver, refusal) -> str:
    """The GET page: what you see is what you sign; the form posts back to the same link."""
    step = approval.step(row["position"])
    decision = row["decision"]
    verb = "Approve" if decision == service.APPROVE else "Reject"
    head = f"<h1>{verb} {escape(str(approval.subject.get('name') or approval.subject['id']))}?</h1>"
    who = f"<p class=note>Signed in by this link as <b>{escape(approver.name if approver else row['approver_id'])}</b>.</p>"
    if refusal is not None:
        return _page("Cannot decide", head + _summary(approval, step) + f"<p><b>{escape(refusal.message)}</b></p>")
    options = "".join(f"<option value='{code}'>{code.replace('_', ' ')}</option>" for code in service.REASONS[decision])
    form = (f"<form method=post><p><label>Reason <select name=reason_code>{options}</select></label></p>"
            f"<p><label>Comment<br><textarea name=comment rows=3 cols=50 maxlength=2000></textarea></label></p>"
            f"<button type=submit class={decision}>{verb}</button></form>"
            f"<p class=note>To decide the other way, use the other link in the email. This link works once.</p>")
    return _page(f"{verb} approval", head + who + _summary(approval, step) + form)


def done(approval, row: dict) -> str:
    step = approval.step(row["position"])
    verb = "approved" if row["decision"] == service.APPROVE else "rejected"
    return _page("Recorded", f"<h1>You {verb} step {step.position + 1}.</h1>" + _summary(approval, step)
                 + f"<p>The request is now <b>{escape(approval.state)}</b>. You can close this page.</p>")


def error(err) -> str:
    return _page("Link not usable", f"<h1>This link cannot be used</h1><p>{escape(err.message)}</p>"
                 f"<p class=note>Code: <code>{escape(err.code)}</code></p>")
