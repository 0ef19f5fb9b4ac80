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


def parcels(rows: list[dict], events_per_post: int) -> list[list[dict]]:
    """Claimed rows grouped into posts, in claim order: up to ``events_per_post`` rows of one webhook that takes
    batches (``targets.BATCHED``) per post, any other row alone."""
    found, filling = [], {}
    for row in rows:
        if row["target"] not in targets.BATCHED:
            found.append([row])
            continue
        parcel = filling.get(row["target"])
        if parcel is None or len(parcel) >= events_per_post:
            parcel = filling[row["target"]] = []
            found.append(parcel)
        parcel.append(row)
    return found


def deliver(db, config, parcel: list[dict], session: requests.Session) -> int:
    """POST a parcel of rows (one target) to its n8n webhook and record per row its delivery, its next retry, or
    giving up after max attempts; returns how many rows are delivered. An event that the consumer which recorded
    it has finished is not sent (it counts as delivered)."""
    delivered, sending = 0, []
    # Leased for as long as the post may take, so no other process sends these events while n8n works on them.
    lease = LEASE_SECONDS + config.outbox_timeout * len(parcel)
    for row in parcel:
        if row["unless_done_by"] and _finished_by(db, row["event_id"], row["unless_done_by"]):
            _delivered(db, row)
            metrics.OUTBOX.labels("handled").inc()
            delivered += 1
        elif leases.start_attempt(db, "outbox", row, lease):
            sending.append(row)
        # else: taken over by another process after this claim's lease ran out: it sends the event
    refused = _post(db, config, sending, session) if sending else {}
    for row in sending:
        if row["event_id"] in refused:
            _retry_later(db, config, row, refused[row["event_id"]])
        else:
            _delivered(db, row)
            metrics.OUTBOX.labels("delivered").inc()
            delivered += 1
    return delivered


def _post(db, config, rows: list[dict], session: requests.Session) -> dict[str, str]:
    """POST the rows' envelopes: the one alone, or to a webhook that takes batches a JSON array of them (waiting
    up to ``outbox_timeout`` per event for the answer). ``{event id: error}`` for each event n8n did not accept:
    all of them unless it answered a JSON 2xx, and of a batch those its answer's ``items`` mark failed."""
    batch = rows[0]["target"] in targets.BATCHED
    ids = [row["event_id"] for row in rows]
    with db.transaction() as tx:
        stored = tx.fetchall(f"SELECT id, envelope FROM events WHERE id IN ({', '.join('?' for _ in ids)})", ids)
    by_id = {e["id"]: json.loads(e["envelope"]) for e in stored}
    envelopes = [by_id[event_id] for event_id in ids]
    headers = {"X-Kit-Token": config.n8n_token}
    if not batch:
        headers.update({"X-Kit-Event-Id": envelopes[0]["id"], "X-Correlation-Id": envelopes[0]["correlationid"]})
    url = config.n8n_webhook_base.rstrip("/") + "/" + rows[0]["target"]
    try:
        answer = session.post(url, json=envelopes if batch else envelopes[0], headers=headers,
                              timeout=(config.outbox_timeout, config.outbox_timeout * len(envelopes)))
    except requests.RequestException as exc:
        return dict.fromkeys(ids, f"{type(exc).__name__}: {exc}"[:300])
    if not _accepted(answer):
        return dict.fromkeys(ids, f"HTTP {answer.status_code} {answer.headers.get('Content-Type', '')}: "
                                  f"{answer.text[:200]}")
    return _failed_in_batch(answer) if batch else {}


def _failed_in_batch(answer: requests.Response) -> dict[str, str]:
    """``{event id: error}`` for the events a batch's answer says were not handed over (a failed hand-over leaves
    no claim, so the event is sent again later)."""
    try:
        items = answer.json().get("items")
    except (ValueError, AttributeError):
        return {}
    return {item["event_id"]: f"HTTP {item.get('status')} {json.dumps(item.get('error'))}"[:300]
            for item in items or () if isinstance(item, dict) and item.get("handover") == "failed"}


def _retry_later(db, config, row: dict, error: str) -> None:
    """The next attempt after a backoff, or dead after max attempts."""
    if row["attempts"] >= config.outbox_max_attempts:
        _mark(db, row["id"], state=DEAD, locked_until=None, last_error=error)
        metrics.OUTBOX.labels("dead").inc()
        log.error("outbox gave up", extra={"fields": {"event_id": row["event_id"], "error": error}})
        return
    delay = backoff(row["attempts"], config.outbox_backoff_base, config.outbox_backoff_max)
    _mark(db, row["id"], next_attempt_at=clock.iso(clock.now() + timedelta(seconds=delay)), locked_until=None,
          last_error=error)
    metrics.OUTBOX.labels("retry").inc()


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


def unclaim(db, rows: list[dict]) -> None:
    """Give back claimed rows this round has no free slot for, so the next round (of any process) takes them."""
    if not rows:
        return
    with db.transaction() as tx:
        for row in rows:
            tx.execute("UPDATE outbox SET locked_until = NULL WHERE id = ? AND locked_until = ?",
                       (row["id"], row["locked_until"]))


def run_dispatcher(db, config, stop: threading.Event) -> None:
    """Loop until ``stop``: keep up to ``outbox_concurrency`` posts in flight, claiming due rows as slots free up
    (a slow post holds its slot only) and grouping them into posts (``parcels``): a backlog for a webhook that
    takes batches goes out ``outbox_events_per_post`` events at a time, so n8n runs one execution per batch instead
    of one per event. Sleeps until woken or the poll interval passes when nothing is due."""
    local = threading.local()
    slots = threading.Semaphore(config.outbox_concurrency)

    def send(parcel: list[dict]) -> None:
        try:
            if not hasattr(local, "session"):  # a requests.Session is not shared between threads
                local.session = requests.Session()
            deliver(db, config, parcel, local.session)
        except Exception:  # the rows stay leased and come back after their lease
            log.exception("outbox delivery failed", extra={"fields": {"event_ids": [r["event_id"] for r in parcel]}})
        finally:
            slots.release()
            _wakeup.set()  # a free slot: look for more work now

    with ThreadPoolExecutor(max_workers=config.outbox_concurrency, thread_name_prefix="outbox") as pool:
        while not stop.is_set():
            free = 0
            while slots.acquire(blocking=False):
                free += 1
            posts = []
            try:
                if free:
                    claimed = claim_due(db, min(free * config.outbox_events_per_post, config.outbox_batch))
                    posts = parcels(claimed, config.outbox_events_per_post)
                    unclaim(db, [row for parcel in posts[free:] for row in parcel])
                    posts = posts[:free]
            except Exception:  # keep the loop alive
                log.exception("outbox round failed")
            for parcel in posts:
                pool.submit(send, parcel)
            for _ in range(free - len(posts)):
                slots.release()
            if not posts:
                _wakeup.wait(config.outbox_poll_seconds)
                _wakeup.clear()
