"""Normalize Odoo webhooks and canonical envelopes into one event, claim its key, record it once."""
from __future__ import annotations

import hmac
import re
import uuid

from .. import clock, contracts, metrics
from ..errors import ApiError, Conflict, Unauthorized, Unprocessable
from ..idempotency import service as idempotency
from ..outbox import service as outbox
from . import mapping, store, types

# Event ids derive from the idempotency key, so a webhook and a sweep reporting one change give one id.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c1e0a-7f57-4a35-9d8e-3c1f6b0b2a11")

ORIGIN_WEBHOOK = "odoo_webhook"
ORIGIN_ENVELOPE = "envelope"
ORIGIN_SWEEP = "sweep"

ODOO_DATETIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")  # UTC, as Odoo sends it


def authenticate(config, presented: str | None) -> None:
    """Constant-time check of the shared webhook secret; a wrong or missing one writes nothing."""
    expected = config.webhook_secret
    if not expected:
        return  # development without a secret configured: open, as the README says
    if not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Unauthorized("missing or wrong webhook token", code="bad_webhook_token")


def consumption_busy(event_id: str, consumer: str, lease_seconds: int | None) -> Conflict:
    """The retryable 409 for a claim while another caller's lease on the event runs."""
    return Conflict(f"{consumer} is handling event {event_id} right now; retry after its lease",
                    code="consumption_in_progress", retryable=True, details=[{"lease_seconds": lease_seconds}])


def is_odoo_webhook(body) -> bool:
    return isinstance(body, dict) and "specversion" not in body


def normalize(body: dict, *, type_hint: str | None = None, source: str = "odoo") -> dict:
    """The canonical CloudEvents envelope for an Odoo webhook body or an envelope (validated either way)."""
    if not is_odoo_webhook(body):
        return _check_envelope(body)
    contracts.validate("odoo-webhook", body)
    rule = _rule_for(body, type_hint)
    model, record_id = body["_model"], body["_id"]
    key = _render_key(rule["key"], body)
    values = {k: v for k, v in body.items() if not k.startswith("_")}
    envelope = {
        "specversion": "1.0",
        "id": str(uuid.uuid5(EVENT_ID_NAMESPACE, key)),
        "source": f"{source}/{model}",
        "type": rule["type"],
        "subject": f"{model}/{record_id}",
        "time": _event_time(values),
        "datacontenttype": "application/json",
        "dataschema": types.data_schema_uri(rule["type"]),
        "correlationid": f"{model}:{record_id}",
        "idempotencykey": key,
        "data": {"record": {"model": model, "id": record_id}, "action": body.get("_action", ""), "values": values},
    }
    if type_hint and not _rules_agree(body, type_hint):
        # The sender alone chose the type, so check the record fits it (e.g. a late picking has a scheduled date).
        _check_data(envelope)
    # Otherwise built here from a validated body by tested rules, so not validated again on this hot path; outside
    # production every response is checked against its contract (KIT_VALIDATE_RESPONSES).
    return envelope


def ingest(db, config, body: dict, *, type_hint: str | None = None, origin: str = ORIGIN_WEBHOOK,
           handled_by: str | None = None) -> tuple[int, dict]:
    """Record the event once: ``(201, {event, duplicate: false})`` first, ``(200, {.., duplicate: true})`` after.

    Everything (the event row, which is the claim of its key, and its outbox row) commits in one transaction,
    so a rejected or failed request leaves nothing behind. ``handled_by``: the consumer that handles a new event
    itself, so the outbox forwards it only if that consumer has not finished it after the hand-off time.
    """
    envelope = normalize(body, type_hint=type_hint)
    with db.autocommit() as tx:  # _record's one write is atomic alone
        status, response = _record(tx, config, envelope, origin, handled_by)
    _count(envelope, status)
    return status, response


def ingest_many(db, config, items: list[tuple[dict, str | None]], *, origin: str) -> list[tuple[int, dict]]:
    """Record many ``(body, type_hint)`` in one transaction (sweeps); per item the answer ``ingest`` would give.

    An item that fails validation or conflicts gets its error as ``(status, error body)`` and does not stop
    the others; a database failure rolls the whole batch back.
    """
    results = []
    with db.transaction(batch=True) as tx:
        for body, type_hint in items:
            try:
                envelope = normalize(body, type_hint=type_hint)
                results.append((*_record(tx, config, envelope, origin), envelope))
            except ApiError as error:
                results.append((error.status, error.to_dict(), None))
    for status, _, envelope in results:
        if envelope is not None:
            _count(envelope, status)
    return [(status, response) for status, response, _ in results]


def _record(tx, config, envelope: dict, origin: str, handled_by: str | None = None) -> tuple[int, dict]:
    """The event's row is its idempotency claim: unique by key (and by id, derived from the key), kept as long as
    the event, so a report of it any time later is a duplicate and never a second event."""
    # The event's row is also its entry in the object's timeline; its outbox row is written with it.
    if store.insert(tx, envelope, origin, clock.iso(), forward=outbox.pending_row(config, envelope, handled_by)):
        return 201, {"event": envelope, "duplicate": False}
    recorded = store.by_key(tx, envelope["idempotencykey"])
    if recorded is None:  # a client-built envelope reusing another event's id
        raise Conflict(f"event id {envelope['id']!r} already names another event", code="event_id_conflict",
                       details=[{"path": "id", "message": "already used"}])
    if recorded["origin"] != origin or _same_request(recorded["event"], envelope):
        # A sweep and a late webhook see one business event at different moments, so their values may differ:
        # that is the same event. Only a different body from the same origin is refused.
        return 200, {"event": recorded["event"], "duplicate": True}
    raise Conflict(f"idempotency key {envelope['idempotencykey']!r} was already used for a different event",
                   code="idempotency_conflict", details=[{"key": envelope["idempotencykey"]}])


def _same_request(recorded: dict, envelope: dict) -> bool:
    return idempotency.fingerprint(_identity(recorded)) == idempotency.fingerprint(_identity(envelope))


def _count(envelope: dict, status: int) -> None:
    metrics.EVENTS.labels(envelope["type"], "new" if status == 201 else "duplicate").inc()
    if status == 201:
        outbox.wake()


def _identity(envelope: dict) -> dict:
    """What makes two reports the same request: the business content, not when it was received."""
    return {k: envelope[k] for k in ("type", "subject", "idempotencykey", "data")}


def _rule_for(body: dict, type_hint: str | None) -> dict:
    if type_hint:
        hinted = mapping.HINTED.get(type_hint)
        if hinted is None:
            raise Unprocessable(f"event type {type_hint!r} cannot come from an Odoo webhook",
                                code="unknown_event_type", details=[{"path": "type", "message": "unknown"}])
        if hinted["model"] not in (None, body["_model"]):
            raise Unprocessable(f"event type {type_hint!r} does not apply to model {body['_model']!r}",
                                code="model_type_mismatch", details=[{"path": "_model", "message": "mismatch"}])
        return {"type": type_hint, "key": hinted["key"]}
    for rule in mapping.RULES:
        if mapping.matches(rule, body):
            return rule
    if body["_model"] not in mapping.WATCHED_MODELS:
        raise Unprocessable(f"no event is defined for model {body['_model']!r}", code="unknown_model",
                            details=[{"path": "_model", "message": f"one of {mapping.WATCHED_MODELS}"}])
    raise Unprocessable("the record's state maps to no event", code="unmapped_state",
                        details=[{"path": "state", "message": "no rule matches"}])


def _rules_agree(body: dict, type_hint: str) -> bool:
    """The mapping rules alone would give this type, so the record is known to fit it."""
    return any(rule["type"] == type_hint for rule in mapping.RULES if mapping.matches(rule, body))


def _render_key(template: str, body: dict) -> str:
    try:
        return template.format_map(_NoFalse(body))
    except KeyError as missing:
        name = missing.args[0]
        raise Unprocessable(f"webhook lacks field {name!r}, needed to identify the event; add it to the "
                            f"automation rule's fields", code="missing_field",
                            details=[{"path": name, "message": "required"}]) from None


class _NoFalse(dict):
    """Template values: Odoo's ``false`` for an empty field cannot identify an event."""

    def __getitem__(self, name):
        value = super().__getitem__(name)
        if value is False or value is None:
            raise KeyError(name)
        return value


def _event_time(values: dict) -> str:
    written = values.get("write_date")
    if isinstance(written, str) and ODOO_DATETIME.fullmatch(written):  # the webhook schema checked it is a date
        return written.replace(" ", "T") + "Z"
    return clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_envelope(envelope: dict) -> dict:
    contracts.validate("event-envelope", envelope)
    if envelope["type"] not in types.ALL:
        raise Unprocessable(f"unknown event type {envelope['type']!r}", code="unknown_event_type",
                            details=[{"path": "type", "message": "unknown"}])
    expected = types.data_schema_uri(envelope["type"])
    if envelope.get("dataschema", expected) != expected:
        raise Unprocessable(f"unknown schema version {envelope['dataschema']!r} for {envelope['type']}",
                            code="unknown_schema_version", details=[{"path": "dataschema", "message": expected}])
    _check_data(envelope)
    return envelope


def _check_data(envelope: dict) -> None:
    found = contracts.problems(types.data_schema(envelope["type"]), envelope["data"])
    if found:
        raise Unprocessable(f"data does not match {types.data_schema(envelope['type'])}",
                            details=[{**p, "path": "data/" + p["path"] if p["path"] else "data"} for p in found])
