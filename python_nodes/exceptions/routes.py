"""HTTP: report exception signals, move cases along their lifecycle, list them, escalate SLA breaches."""
from flask import Blueprint, current_app, g

from ..contracts import contract, limit_parameter
from . import followups, lifecycle, service
from .policy import SEVERITIES, default_policy

bp = Blueprint("exceptions", __name__)

LIST_FILTERS = ("state", "category", "severity", "owner_team", "type", "correlation_key", "correlation_id",
                "record_model")
BOOLEAN_FILTERS = ("active", "breached", "escalated")
ODOO_MAX_ID = 2**31 - 1  # Odoo's ids are PostgreSQL integers


def _ctx():
    app = current_app
    return app.extensions["kit.db"], app.extensions["kit.config"], app.extensions["kit.odoo"]


@bp.post("/v1/exceptions")
@contract(request="exception-report", response="exception-report-result", statuses=(201, 200))
def report():
    """Open a case, or count a repeat of the active case with the same correlation key (``outcome`` says which)."""
    db, config, odoo = _ctx()
    policy = default_policy()
    result = service.report(db, policy, g.body, actor=g.body.get("source") or "api")
    if result["outcome"] == service.NEW:
        # Announce and write back now; whatever fails stays queued and is retried (followups.py).
        followups.run_due(db, config, policy, odoo, case_id=result["exception"]["id"])
        fresh = service.get(db, policy, result["exception"]["id"])["exception"]
        # Keep this report's own counts (later repeats may have landed meanwhile); add what the follow-ups did.
        result["exception"].update(odoo_activity_id=fresh["odoo_activity_id"], followups=fresh["followups"])
    return result, 201 if result["outcome"] == service.NEW else 200


@bp.patch("/v1/exceptions/<int:case_id>")
@contract(request="exception-transition", response="exception-one")
def move(case_id: int):
    """Acknowledge, start, resolve or dismiss a case (resolve/dismiss need a reason code)."""
    db, config, odoo = _ctx()
    policy = default_policy()
    result = service.transition(db, policy, case_id, g.body)
    if g.body["state"] in lifecycle.TERMINAL_STATES:
        followups.run_due(db, config, policy, odoo, case_id=case_id)
    return result


@bp.get("/v1/exceptions/<int:case_id>")
@contract(response="exception-one")
def one(case_id: int):
    """One case with its follow-ups (announcements and Odoo write-backs, with their status)."""
    db, _, _ = _ctx()
    return service.get(db, default_policy(), case_id)


def _any_of(item: dict) -> dict:
    """A filter that may be given more than once (``?state=open&state=acknowledged``)."""
    return {"type": "array", "items": item}


LIST_QUERY = {
    **{name: _any_of({"type": "string"}) for name in LIST_FILTERS},
    "state": _any_of({"enum": list(lifecycle.STATES)}), "severity": _any_of({"enum": list(SEVERITIES)}),
    "record_id": {"type": "integer", "minimum": 1, "maximum": ODOO_MAX_ID},
    **{name: {"type": "boolean"} for name in BOOLEAN_FILTERS},
    "limit": limit_parameter(maximum=service.MAX_LIST),
    "offset": {"type": "integer", "minimum": 0, "maximum": ODOO_MAX_ID, "default": 0},
}


@bp.get("/v1/exceptions")
@contract(response="exception-list", query=LIST_QUERY)
def listing():
    """Cases filtered by state, category, severity, owner team, type, key, record; active/breached/escalated."""
    db, _, _ = _ctx()
    filters = {name: value for name, value in g.query.items() if name not in ("limit", "offset")}
    return service.listing(db, default_policy(), filters, limit=g.query["limit"], offset=g.query["offset"])


@bp.post("/v1/exceptions/escalations")
@contract(response="exception-list", query={"limit": limit_parameter(maximum=service.MAX_LIST)})
def escalate():
    """Claim the active cases past their SLA that were not escalated yet (each exactly once) and announce each as an
    ``exception.escalated`` event, which the outbox takes to n8n's escalation workflow."""
    db, config, odoo = _ctx()
    policy = default_policy()
    result = service.escalate_breached(db, policy, limit=g.query["limit"])
    for case in result["escalated"]:
        followups.run_due(db, config, policy, odoo, case_id=case["id"])
    return result


@bp.post("/v1/exceptions/followups/run")
@contract(response="exception-followups-run", query={"limit": limit_parameter(default=200)})
def run_followups():
    """Retry the due follow-ups (Odoo write-backs, announcements) now; the scheduled sweep calls this."""
    db, config, odoo = _ctx()
    return followups.run_due(db, config, default_policy(), odoo, limit=g.query["limit"])

