"""HTTP: the durable inbox for Odoo webhooks and canonical events, and the event log."""
from flask import Blueprint, current_app, request

from .. import clock
from ..contracts import contract, read_json
from ..errors import NotFound
from . import service, store

bp = Blueprint("events", __name__)


def _db():
    return current_app.extensions["kit.db"]


@bp.post("/v1/events")
@contract(response="event-accepted")
def accept():
    """Take an Odoo webhook body or a CloudEvents envelope; record it once and ack fast."""
    config = current_app.extensions["kit.config"]
    service.authenticate(config, request.args.get("token") or request.headers.get("X-Kit-Token"))
    body = read_json()
    status, response = service.ingest(_db(), config, body, type_hint=request.args.get("type"))
    return response, status


@bp.get("/v1/events")
@contract(response="event-list")
def listing():
    """Recorded events, oldest first, filtered by type or correlation id."""
    limit = min(request.args.get("limit", 100, type=int), 1000)
    with _db().transaction() as tx:
        items = store.listing(tx, event_type=request.args.get("type"),
                              correlation_id=request.args.get("correlation_id"),
                              limit=limit, after=request.args.get("after"))
    return {"items": items}


@bp.get("/v1/events/<event_id>")
@contract(response="event-envelope")
def one(event_id: str):
    """One recorded event."""
    with _db().transaction() as tx:
        event = store.get(tx, event_id)
    if event is None:
        raise NotFound(f"no event {event_id}")
    return event


@bp.post("/v1/events/<event_id>/consumptions")
@contract(request="event-consumption-request", response="event-consumption")
def consume(event_id: str):
    """A workflow marks an event as handled; ``first`` is false on a redelivery, so effects happen once."""
    from flask import g

    with _db().transaction() as tx:
        if store.get(tx, event_id) is None:
            raise NotFound(f"no event {event_id}")
        first = store.consume(tx, event_id, g.body["consumer"], clock.iso())
    return {"event_id": event_id, "consumer": g.body["consumer"], "first": first}
