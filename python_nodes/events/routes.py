"""HTTP: the durable inbox for Odoo webhooks and canonical events, and the event log."""
from datetime import timedelta

from flask import Blueprint, current_app, g, request

from .. import clock
from ..contracts import contract, read_json
from ..errors import Conflict, NotFound
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
    """A workflow claims an event before its effect; ``first`` is false on a redelivery, so effects happen once.

    With ``lease_seconds`` the claim must be finished with ``.../done`` after the effect: a redelivery while the
    lease runs gets a retryable 409, and one after the lease expired (the first run died) takes over."""
    now = clock.now()
    lease = g.body.get("lease_seconds")
    with _db().transaction() as tx:
        _require_event(tx, event_id)
        state = store.consume(tx, event_id, g.body["consumer"], clock.iso(now),
                              lease_until=clock.iso(now + timedelta(seconds=lease)) if lease else None)
    if state == store.BUSY:
        raise Conflict(f"{g.body['consumer']} is handling event {event_id} right now; retry after its lease",
                       code="consumption_in_progress", retryable=True, details=[{"lease_seconds": lease}])
    return _consumption(event_id, g.body["consumer"], state)


@bp.get("/v1/events/<event_id>/consumptions")
@contract(response="event-consumption-list")
def consumptions(event_id: str):
    """Which workflows claimed the event, and whether their effect is done: is this event handled?"""
    with _db().transaction() as tx:
        _require_event(tx, event_id)
        return {"event_id": event_id, "items": store.consumptions(tx, event_id)}


@bp.post("/v1/events/<event_id>/consumptions/<consumer>/done")
@contract(response="event-consumption")
def consumption_done(event_id: str, consumer: str):
    """The consumer's effect happened: later deliveries of the event are redeliveries."""
    with _db().transaction() as tx:
        _require_event(tx, event_id)
        if not store.finish_consumption(tx, event_id, consumer, clock.iso()):
            raise NotFound(f"{consumer} never claimed event {event_id}")
    return _consumption(event_id, consumer, store.DONE)


def _require_event(tx, event_id: str) -> None:
    if store.get(tx, event_id) is None:
        raise NotFound(f"no event {event_id}")


def _consumption(event_id: str, consumer: str, state: str) -> dict:
    return {"event_id": event_id, "consumer": consumer, "first": state == store.CLAIMED, "state": state}
