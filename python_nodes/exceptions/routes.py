"""HTTP: report exception signals, move cases along their lifecycle, list them, escalate SLA breaches."""
from flask import Blueprint, current_app, g, request

from ..contracts import contract
from ..errors import BadRequest
from . import followups, lifecycle, service
from .policy import SEVERITIES, default_policy

bp = Blueprint("exceptions", __name__)

LIST_FILTERS = ("state", "category", "severity", "owner_team", "type", "correlation_key", "correlation_id",
                "record_model")
BOOLEAN_FILTERS = ("active", "breached", "escalated")


def _ctx():
    app = current_app
    return app.extensions["kit.db"], app.extensions["kit.config"], app.extensions["kit.odoo"]


@bp.post("/v1/exceptions")
@contract(request="exception-report", response="exception-report-result")
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


@bp.get("/v1/exceptions")
@contract(response="exception-list")
def listing():
    """Cases filtered by state, category, severity, owner team, type, key, record; active/breached/escalated."""
    db, _, _ = _ctx()
    filters = {}
    for name in LIST_FILTERS:
        values = request.args.getlist(name)
        if values:
            filters[name] = values
    if request.args.get("record_id"):
        filters["record_id"] = _int(request.args["record_id"], "record_id")
    for name in BOOLEAN_FILTERS:
        if name in request.args:
            filters[name] = _bool(request.args[name], name)
    _check_enum(filters.get("state"), lifecycle.STATES, "state")
    _check_enum(filters.get("severity"), SEVERITIES, "severity")
    return service.listing(db, default_policy(), filters, limit=_int(request.args.get("limit", "100"), "limit"),
                           offset=_int(request.args.get("offset", "0"), "offset"))


@bp.post("/v1/exceptions/escalations")
@contract(response="exception-list")
def escalate():
    """Claim the active cases past their SLA that were not escalated yet (each exactly once) and announce each as an
    ``exception.escalated`` event, which the outbox takes to n8n's escalation workflow."""
    db, config, odoo = _ctx()
    policy = default_policy()
    result = service.escalate_breached(db, policy, limit=_int(request.args.get("limit", "100"), "limit"))
    for case in result["escalated"]:
        followups.run_due(db, config, policy, odoo, case_id=case["id"])
    return result


@bp.post("/v1/exceptions/followups/run")
@contract(response="exception-followups-run")
def run_followups():
    """Retry the due follow-ups (Odoo write-backs, announcements) now; the scheduled sweep calls this."""
    db, config, odoo = _ctx()
    limit = _int(request.args.get("limit", "200"), "limit")
    return followups.run_due(db, config, default_policy(), odoo, limit=limit)


def _int(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer", details=[{"path": name, "message": "integer"}]) from None
    if value < 0:
        raise BadRequest(f"{name} must not be negative", details=[{"path": name, "message": ">= 0"}])
    return value


def _bool(raw: str, name: str) -> bool:
    if raw.lower() in ("1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    raise BadRequest(f"{name} must be true or false", details=[{"path": name, "message": "boolean"}])


def _check_enum(values, allowed, name: str) -> None:
    for value in values or ():
        if value not in allowed:
            raise BadRequest(f"unknown {name} {value!r}", details=[{"path": name, "message": f"one of {list(allowed)}"}])
