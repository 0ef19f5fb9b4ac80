"""Record failed executions and replay their webhook request to n8n once the cause is fixed."""
from __future__ import annotations

from urllib.parse import quote

import requests

from .. import clock
from ..audit import service as audit_log
from ..errors import ApiError
from ..events import service as events
from ..outbox import store as outbox_store
from . import store

OPEN = "open"
REPLAYED = "replayed"
REPLAY_FAILED = "replay_failed"
SETTLED = "settled"  # the outbox delivered the failed run's event to its workflow later: nothing left to do
STATES = (OPEN, REPLAYED, REPLAY_FAILED, SETTLED)
UNSETTLED = (OPEN, REPLAY_FAILED)

# How the original request authenticated; secrets are never stored in the letter, the workers add them back.
AUTH_NONE = "none"
AUTH_ODOO_TOKEN = "odoo-token"  # ?token= on the direct Odoo webhook (KIT_WEBHOOK_SECRET)
AUTH_KIT_HEADER = "kit-header"  # X-Kit-Token on the outbox webhooks (KIT_N8N_TOKEN)

REPLAY_TIMEOUT = 30.0


class NotReplayable(Exception):
    """The letter has no request to replay, or n8n's webhook base URL is not configured."""


def record(db, letter: dict, correlation_id: str) -> tuple[dict, bool]:
    """Store the letter (idempotent per execution) with its audit entry; returns ``(letter, created)``. A letter
    whose events the outbox has delivered to its workflow since is settled at once."""
    event_ids = [event["id"] for event in carried_events(letter.get("request"))]
    with db.transaction() as tx:
        stored, created = store.insert(tx, letter, OPEN, clock.iso(), event_ids)
        if created:
            audit_log.record(tx, actor="n8n", action="dead_letter.recorded", subject=f"n8n/{stored['workflow_id']}",
                             correlation_id=correlation_id,
                             data={"execution_id": stored["execution_id"], "failed_node": stored["failed_node"]})
            delivered = [outbox_store.delivered_to(tx, event_id, webhook_paths(stored)) for event_id in event_ids]
            if event_ids and all(delivered):
                settle(tx, event_ids[-1], delivered[-1])
                stored = store.get(tx, stored["id"])
        return stored, created


def carried_events(request: dict | None) -> list[dict]:
    """The events a failed run was started with: the envelope the outbox sent (with X-Kit-Token) or each of its
    batch (a JSON array), or the event Odoo's webhook body is recorded as (the direct path, ``?token=``); none
    when the request carries neither."""
    body = (request or {}).get("body")
    if request and request.get("auth") == AUTH_KIT_HEADER:
        envelopes = body if isinstance(body, list) else [body]
        if all(isinstance(e, dict) and "specversion" in e and isinstance(e.get("id"), str) for e in envelopes):
            return envelopes
        return []
    if request and request.get("auth") == AUTH_ODOO_TOKEN and isinstance(body, dict):
        try:  # the id POST /v1/events gives this body, derived from its idempotency key
            return [events.normalize(body, type_hint=(request.get("query") or {}).get("type"))]
        except ApiError:  # not an event the inbox would record: the letter needs someone
            return []
    return []


def webhook_paths(letter: dict) -> set[str]:
    """The webhooks of the letter's workflow: the failed run's own and the others the error workflow reported."""
    own = (letter.get("request") or {}).get("webhook_path")
    return set(letter.get("workflow_paths") or ()) | ({own} if own else set())


def settle(tx, event_id: str, webhook_path: str) -> int:
    """Mark the unsettled letters of runs that failed on this event in the workflow behind this webhook settled:
    the outbox has delivered the event there since (n8n accepted it, so a run handled it), or its consumer
    finished it; a run on a batch, once every event of it is. Returns how many; each gets an audit entry on the
    event's timeline."""
    settled = 0
    for letter in store.unsettled_of_event(tx, event_id, UNSETTLED):
        paths = webhook_paths(letter)
        others = [e for e in letter["event_ids"] if e != event_id]
        if webhook_path not in paths or not all(outbox_store.delivered_to(tx, e, paths) for e in others):
            continue
        store.record_settled(tx, letter["id"], state=SETTLED, at=clock.iso())
        event = next(e for e in carried_events(letter["request"]) if e["id"] == event_id)
        audit_log.record(tx, actor="outbox", action="dead_letter.settled", subject=f"n8n/{letter['workflow_id']}",
                         correlation_id=event["correlationid"],
                         data={"letter": letter["id"], "execution_id": letter["execution_id"],
                               "event_id": event_id, "webhook_path": webhook_path})
        settled += 1
    return settled


def replay(db, config, letter: dict, session=requests) -> dict:
    """POST the failed execution's webhook request to n8n again; the letter records the outcome."""
    request = letter.get("request")
    if not request or not request.get("webhook_path"):
        raise NotReplayable("this dead letter holds no webhook request to replay")
    if not config.n8n_webhook_base:
        raise NotReplayable("KIT_N8N_WEBHOOK_BASE is not set, so the workers cannot reach n8n")
    url, params, headers = target(config, request)
    status, error = None, None
    try:
        answer = session.request(request.get("method", "POST"), url, params=params, headers=headers,
                                 json=request.get("body"), timeout=REPLAY_TIMEOUT)
        status = answer.status_code
        if status >= 300:
            error = answer.text[:500]
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    state = REPLAYED if status is not None and status < 300 else REPLAY_FAILED
    with db.transaction() as tx:
        store.record_replay(tx, letter["id"], state=state, status=status, error=error, at=clock.iso())
        return store.get(tx, letter["id"])


def target(config, request: dict) -> tuple[str, dict, dict]:
    """URL, query and headers for the replay: always n8n's configured base (never a stored host), secrets re-added."""
    path = "/".join(quote(part, safe="") for part in request["webhook_path"].strip("/").split("/"))
    url = config.n8n_webhook_base.rstrip("/") + "/" + path
    params = dict(request.get("query") or {})
    headers = {"X-Kit-Replay": "dead-letter"}
    auth = request.get("auth", AUTH_NONE)
    if auth == AUTH_ODOO_TOKEN:
        params["token"] = config.webhook_secret
    elif auth == AUTH_KIT_HEADER:
        headers["X-Kit-Token"] = config.n8n_token
    return url, params, headers
