"""Approval emails: text + HTML with the signed Approve/Reject links, sent over SMTP."""
from __future__ import annotations

import html
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid


def approval_email(approval, step, approver, approve_url: str, reject_url: str, ttl_hours: float) -> dict:
    """One approver's email as plain data (queued in the outbox, sent later)."""
    subject = approval.subject
    label = subject.get("name") or f"{subject['type']} {subject['id']}"
    requester = approval.requester.get("name") or approval.requester.get("email") or approval.requester.get("id")
    reasons = approval.context.get("reasons", [])
    lines = [f"Hello {approver.name},", "",
             f"{requester} asks you to approve {label} for {approval.amount:,.2f} {approval.currency} "
             f"(step {step.position + 1} of {len(approval.steps)}, role {step.role}).", ""]
    if reasons:
        lines.append("Why it needs approval:")
        lines += [f"  - {r.get('code')}: {r.get('message', '')}" for r in reasons]
        lines.append("")
    lines += [f"Approve: {approve_url}", f"Reject:  {reject_url}", "",
              f"Each link opens a confirmation page first; it works once and expires in {ttl_hours:g} hours."]
    reason_items = "".join(f"<li><code>{html.escape(str(r.get('code')))}</code> {html.escape(str(r.get('message', '')))}</li>"
                           for r in reasons)
    body_html = (
        f"<p>Hello {html.escape(approver.name)},</p>"
        f"<p>{html.escape(str(requester))} asks you to approve <b>{html.escape(label)}</b> for "
        f"<b>{approval.amount:,.2f} {html.escape(approval.currency)}</b> (step {step.position + 1} of "
        f"{len(approval.steps)}, role {html.escape(step.role)}).</p>"
        + (f"<p>Why it needs approval:</p><ul>{reason_items}</ul>" if reasons else "")
        + f'<p><a href="{html.escape(approve_url)}">Approve</a> &nbsp; <a href="{html.escape(reject_url)}">Reject</a></p>'
        f"<p>Each link opens a confirmation page first; it works once and expires in {ttl_hours:g} hours.</p>")
    return {"to": approver.email, "subject": f"Approval needed: {label} ({approval.amount:,.2f} {approval.currency})",
            "text": "\n".join(lines), "html": body_html}


def outcome_email(approval, to: str) -> dict:
    """The requester's notice that their request was decided."""
    label = approval.subject.get("name") or f"{approval.subject['type']} {approval.subject['id']}"
    decided = [s for s in approval.steps if s.decision]
    lines = [f"Your approval request for {label} is {approval.state}.", ""]
    lines += [f"Step {s.position + 1} ({s.role}): {s.decision} by {s.decided_by} at {s.decided_at}, "
              f"reason {s.reason_code}" + (f", comment: {s.comment}" if s.comment else "") for s in decided]
    text = "\n".join(lines)
    return {"to": to, "subject": f"Approval {approval.state}: {label}", "text": text,
            "html": "<pre>" + html.escape(text) + "</pre>"}


def send(settings, message: dict) -> str:
    """Send one queued email; returns its Message-ID."""
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = message["to"]
    mail["Subject"] = message["subject"]
    mail["Message-ID"] = make_msgid(domain="odoo-ops-kit")
    mail.set_content(message["text"])
    mail.add_alternative(message["html"], subtype="html")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(mail)
    return mail["Message-ID"]
