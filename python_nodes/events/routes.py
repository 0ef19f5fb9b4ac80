"""HTTP: the durable inbox for Odoo webhooks and canonical events, and the event log."""
from datetime import timedelta

from flask import Blueprint, current_app, g, request

from .. import clock
from ..contracts import contract, limit_parameter, read_json
from ..errors import BadRequest, NotFound
from . import service, store

bp = Blueprint("events", __name__)


def _db():
    return current_app.extensions["kit.db"]


# The body is an Odoo webhook or an envelope; ingest validates it against the one its shape says it is.
@bp.post("/v1/events")
@contract(request="event-request", validate_request=False, response="event-accepted", statuses=(201, 200), query={
    "token": {"type": "string", "description": "the webhook secret (Odoo cannot send headers); or X-Kit-Token"},
    "type": {"type": "string", "description": "the event type, when the automation rule says it (Odoo webhooks)"},
    "handled_by": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,99}$",
                   "description": "the consumer that handles the new event itself (n8n's direct path): the outbox "
                   "forwards it only if that consumer has not finished it KIT_OUTBOX_HANDOFF_SECONDS later"}})
def accept():
    """Take an Odoo webhook body or a CloudEvents envelope; record it once (201) or say it is a duplicate (200)."""
    config = current_app.extensions["kit.config"]
    service.authenticate(config, g.query.get("token") or request.headers.get("X-Kit-Token"))
    body = read_json()
    status, response = service.ingest(_db(), config, body, type_hint=g.query.get("type"),
                                      handled_by=g.query.get("handled_by"))
    return response, status


@bp.get("/v1/events")
@contract(response="event-list", query={
    "type": {"type": "string"}, "correlation_id": {"type": "string"}, "limit": limit_parameter(),
    "after": {"type": "string", "format": "date-time", "description": "received after this time"},
    "after_id": {"type": "string", "description": "with after: also those received at that time whose id sorts "
                 "after this one; the last item's received_at and event id give the next page"}})
def listing():
    """Recorded events, oldest first (by time received, then id), filtered by type or correlation id."""
    after = g.query.get("after")
    if "after_id" in g.query and after is None:
        raise BadRequest("after_id pages within after; give both", code="invalid_query",
                         details=[{"path": "after_id", "message": "only with after"}])
    with _db().transaction() as tx:
        items = store.listing(tx, event_type=g.query.get("type"), correlation_id=g.query.get("correlation_id"),
                              limit=g.query["limit"], after=clock.iso(clock.parse(after)) if after else None,
                              after_id=g.query.get("after_id"))
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
        raise service.consumption_busy(event_id, g.body["consumer"], lease)
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
