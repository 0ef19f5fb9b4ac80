"""HTTP: the error workflow records dead letters here; operators list and replay them."""
from flask import Blueprint, current_app, g

from ..audit import service as audit_log
from ..contracts import contract, limit_parameter
from ..errors import Conflict, NotFound
from . import service, store

bp = Blueprint("deadletters", __name__)


def _db():
    return current_app.extensions["kit.db"]


@bp.post("/v1/dead-letters")
@contract(request="dead-letter-report", response="dead-letter", statuses=(201, 200))
def report():
    """Record a failed n8n execution (sent by the error workflow); the same execution twice is one letter."""
    letter, created = service.record(_db(), g.body, g.correlation_id)
    return letter, 201 if created else 200


@bp.get("/v1/dead-letters")
@contract(response="dead-letter-list", query={"state": {"enum": list(service.STATES)}, "limit": limit_parameter()})
def listing():
    """Dead letters, oldest first, optionally by state (open, replayed, replay_failed, settled)."""
    with _db().transaction() as tx:
        return {"items": store.listing(tx, g.query.get("state"), g.query["limit"])}


@bp.get("/v1/dead-letters/<int:letter_id>")
@contract(response="dead-letter")
def one(letter_id: int):
    """One dead letter."""
    return _letter(letter_id)


@bp.post("/v1/dead-letters/<int:letter_id>/replay")
@contract(response="dead-letter")
def replay(letter_id: int):
    """Send the failed execution's webhook request to n8n again; answers the letter with the replay outcome."""
    letter = _letter(letter_id)
    if letter["state"] == service.REPLAYED:
        raise Conflict("this dead letter was replayed successfully already", code="already_replayed")
    if letter["state"] == service.SETTLED:
        raise Conflict("the outbox delivered this event to the workflow since: nothing left to replay",
                       code="already_settled")
    try:
        updated = service.replay(_db(), current_app.extensions["kit.config"], letter)
    except service.NotReplayable as exc:
        raise Conflict(str(exc), code="not_replayable") from None
    with _db().transaction() as tx:
        audit_log.record(tx, actor="operator", action="dead_letter.replayed", subject=f"n8n/{letter['workflow_id']}",
                         correlation_id=g.correlation_id,
                         data={"letter": letter_id, "state": updated["state"], "status": updated["last_replay_status"]})
    return updated


def _letter(letter_id: int) -> dict:
    with _db().transaction() as tx:
        letter = store.get(tx, letter_id)
    if letter is None:
        raise NotFound(f"no dead letter {letter_id}")
    return letter
