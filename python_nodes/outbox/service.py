"""Forward recorded events to n8n until it accepts: durable, retried with exponential backoff, never dropped."""
from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests

from .. import clock, logs, metrics
from ..deadletters import service as dead_letters
from ..errors import Conflict, NotFound
from ..events import store as events_store
from ..store import leases
from . import targets

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"  # gave up after max attempts; listed and retried by hand (POST /v1/outbox/<id>/retry)
STATES = (PENDING, DELIVERED, DEAD)

LEASE_SECONDS = 30

log = logs.get("outbox")
_wakeup = threading.Event()


def pending_row(config, envelope: dict, handled_by: str | None = None) -> dict | None:
    """The outbox row that forwards a new event to its n8n workflow, written with the event (``events.store``);
    None when no workflow takes the event type or n8n is not configured. An event its workflow handles itself
    (``handled_by``, the consumer it claims the event as) is due only after the hand-off time, and then sent only
    if that consumer has not finished it."""
    route = targets.ROUTES.get(envelope["type"])
    if not route or not config.n8n_webhook_base:
        return None
    now = clock.now()
    due = now + timedelta(seconds=config.outbox_handoff_seconds) if handled_by else now
    return {"target": route, "state": PENDING, "next_attempt_at": clock.iso(due), "created_at": clock.iso(now),
            "unless_done_by": handled_by}


def wake() -> None:
    """Tell this process's dispatcher there is new work (other processes find it on their next poll)."""
    _wakeup.set()


def backoff(attempts: int, base: float, cap: float, rng=random.random) -> float:
    """Seconds before the next try: exponential, capped, with full jitter so retries of a burst spread out."""
    return min(cap, base * (2 ** max(0, attempts - 1))) * (0.5 + rng() / 2)


def claim_due(db, limit: int) -> list[dict]:
    """Lease up to ``limit`` due rows so no other process sends them at the same time."""
    now = clock.now()
    lease = clock.iso(now + timedelta(seconds=LEASE_SECONDS))
    skip_locked = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgresql" else ""
    with db.transaction() as tx:
        return tx.fetchall(
            "UPDATE outbox SET locked_until = ? WHERE id IN ("
            "SELECT id FROM outbox WHERE state = ? AND next_attempt_at <= ? "
            "AND (locked_until IS NULL OR locked_until < ?) ORDER BY id LIMIT ?" + skip_locked + ") "
            "RETURNING id, event_id, target, attempts, locked_until, unless_done_by",
            (lease, PENDING, clock.iso(now), clock.iso(now), limit))


def deliver(db, config, row: dict, session: requests.Session) -> bool:
    """POST one event to its n8n webhook; record success, the next retry, or give up after max attempts. An event
    that the consumer which recorded it has finished is not sent (it counts as delivered)."""
    if row["unless_done_by"] and _finished_by(db, row["event_id"], row["unless_done_by"]):
        _delivered(db, row)
        metrics.OUTBOX.labels("handled").inc()
        return True
    if not leases.start_attempt(db, "outbox", row, LEASE_SECONDS):
        return False  # taken over by another process after this batch's lease ran out: it sends the event
    with db.transaction() as tx:
        envelope = json.loads(tx.fetchone("SELECT envelope FROM events WHERE id = ?", (row["event_id"],))["envelope"])
    url = config.n8n_webhook_base.rstrip("/") + "/" + row["target"]
    error = None
    try:
        answer = session.post(url, json=envelope, timeout=config.outbox_timeout,
                              headers={"X-Kit-Token": config.n8n_token, "X-Kit-Event-Id": envelope["id"],
                                       "X-Correlation-Id": envelope["correlationid"]})
        if _accepted(answer):
            _delivered(db, row)
            metrics.OUTBOX.labels("delivered").inc()
            return True
        error = f"HTTP {answer.status_code} {answer.headers.get('Content-Type', '')}: {answer.text[:200]}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    if row["attempts"] >= config.outbox_max_attempts:
        _mark(db, row["id"], state=DEAD, locked_until=None, last_error=error)
        metrics.OUTBOX.labels("dead").inc()
        log.error("outbox gave up", extra={"fields": {"event_id": row["event_id"], "error": error}})
        return False
    delay = backoff(row["attempts"], config.outbox_backoff_base, config.outbox_backoff_max)
    _mark(db, row["id"], next_attempt_at=clock.iso(clock.now() + timedelta(seconds=delay)), locked_until=None,
          last_error=error)
    metrics.OUTBOX.labels("retry").inc()
    return False


def _finished_by(db, event_id: str, consumer: str) -> bool:
    with db.transaction() as tx:
        return any(c["consumer"] == consumer and c["state"] == events_store.DONE
                   for c in events_store.consumptions(tx, event_id))


def _accepted(answer: requests.Response) -> bool:
    """A JSON 2xx from the workflow. n8n answers any path with a text 200 "n8n is starting up" while it migrates:
    counting that as delivered would lose the event."""
    return 200 <= answer.status_code < 300 and answer.headers.get("Content-Type", "").startswith("application/json")


def _delivered(db, row: dict) -> None:
    """The row is done, and so are the dead letters of runs that failed on its event in its webhook's workflow."""
    with db.transaction() as tx:
        _set(tx, row["id"], state=DELIVERED, delivered_at=clock.iso(), locked_until=None, last_error=None)
        dead_letters.settle(tx, row["event_id"], row["target"])


def _mark(db, row_id: int, **values) -> None:
    with db.transaction() as tx:
        _set(tx, row_id, **values)


def _set(tx, row_id: int, **values) -> None:
    columns = ", ".join(f"{name} = ?" for name in values)
    tx.execute(f"UPDATE outbox SET {columns} WHERE id = ?", (*values.values(), row_id))


def retry(db, row_id: int) -> dict:
    """Put a dead or waiting row back in line now. A row being sent right now (its lease runs) is left alone: a
    second send beside it could reach n8n twice."""
    now = clock.iso()
    with db.transaction() as tx:
        row = tx.fetchone("UPDATE outbox SET state = ?, attempts = 0, next_attempt_at = ?, locked_until = NULL "
                          "WHERE id = ? AND (state = ? OR (state = ? AND (locked_until IS NULL OR locked_until < ?))) "
                          "RETURNING id, event_id, target, state, attempts", (PENDING, now, row_id, DEAD, PENDING, now))
        current = row or tx.fetchone("SELECT state FROM outbox WHERE id = ?", (row_id,))
    if row is not None:
        wake()
        return row
    if current is None or current["state"] == DELIVERED:
        raise NotFound(f"no undelivered outbox row {row_id}")
    raise Conflict(f"outbox row {row_id} is being sent right now; retry after its lease", code="outbox_in_flight",
                   retryable=True, details=[{"lease_seconds": LEASE_SECONDS}])


def listing(db, state: str | None, limit: int) -> list[dict]:
    where, params = ("WHERE state = ?", (state,)) if state else ("", ())
    with db.transaction() as tx:
        return tx.fetchall("SELECT id, event_id, target, state, attempts, next_attempt_at, last_error, created_at, "
                           f"delivered_at FROM outbox {where} ORDER BY id LIMIT ?", (*params, limit))


def backlog(db) -> dict:
    with db.transaction() as tx:
        rows = tx.fetchall("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
    return {row["state"]: row["n"] for row in rows}


def run_dispatcher(db, config, stop: threading.Event) -> None:
    """Loop until ``stop``: keep up to ``outbox_concurrency`` deliveries in flight, claiming due rows as slots free
    up (a slow delivery holds its slot only); sleep until woken or the poll interval passes when none is due."""
    local = threading.local()
    slots = threading.Semaphore(config.outbox_concurrency)

    def send(row: dict) -> None:
        try:
            if not hasattr(local, "session"):  # a requests.Session is not shared between threads
                local.session = requests.Session()
            deliver(db, config, row, local.session)
        except Exception:  # the row stays leased and comes back after its lease
            log.exception("outbox delivery failed", extra={"fields": {"event_id": row["event_id"]}})
        finally:
            slots.release()
            _wakeup.set()  # a free slot: look for more work now

    with ThreadPoolExecutor(max_workers=config.outbox_concurrency, thread_name_prefix="outbox") as pool:
        while not stop.is_set():
            free = 0
            while slots.acquire(blocking=False):
                free += 1
            rows = []
            try:
                rows = claim_due(db, min(free, config.outbox_batch)) if free else []
            except Exception:  # keep the loop alive
                log.exception("outbox round failed")
            for row in rows:
                pool.submit(send, row)
            for _ in range(free - len(rows)):
                slots.release()
            if not rows:
                _wakeup.wait(config.outbox_poll_seconds)
                _wakeup.clear()
