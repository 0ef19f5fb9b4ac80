"""Recorded events: one row per business event, unique by idempotency key."""
from __future__ import annotations

import json

from ..store.database import POSTGRESQL

CLAIMED = "claimed"  # this caller does the effect now
DONE = "done"  # the effect happened before: a redelivery
BUSY = "busy"  # another caller holds a live lease

MIGRATIONS = [
    (1, """
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    subject TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    time TEXT NOT NULL,
    received_at TEXT NOT NULL,
    envelope TEXT NOT NULL
);
CREATE INDEX events_correlation ON events (correlation_id);
CREATE INDEX events_type_received ON events (type, received_at)
"""),
    (2, """
CREATE TABLE event_consumptions (
    event_id TEXT NOT NULL,
    consumer TEXT NOT NULL,
    consumed_at TEXT NOT NULL,
    PRIMARY KEY (event_id, consumer)
)
"""),
    # A consumer may claim an event for a while (lease_until) and say when its effect is done (completed_at);
    # rows without a lease are done when written.
    (3, """
ALTER TABLE event_consumptions ADD COLUMN lease_until TEXT;
ALTER TABLE event_consumptions ADD COLUMN completed_at TEXT;
UPDATE event_consumptions SET completed_at = consumed_at
"""),
]


_INSERT = ("INSERT INTO events (id, idempotency_key, type, source, subject, correlation_id, origin, time, received_at, "
           "envelope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id")
_QUEUE = "INSERT INTO outbox (event_id, target, state, next_attempt_at, created_at, unless_done_by) "
_QUEUE_ONCE = " ON CONFLICT (event_id, target) DO NOTHING"
# PostgreSQL writes the event and its outbox row in one statement, so a webhook costs one round trip (and no
# BEGIN/COMMIT under ``Database.autocommit``); SQLite has no round trips and no INSERT inside WITH.
_INSERT_AND_QUEUE = (f"WITH event AS ({_INSERT}), queued AS ({_QUEUE}SELECT id, ?, ?, ?, ?, ? FROM event{_QUEUE_ONCE}) "
                     "SELECT id FROM event")


def insert(tx, envelope: dict, origin: str, received_at: str, forward: dict | None = None) -> bool:
    """Record the event unless its id or idempotency key is taken (then False; the first one stays as it is), and
    queue ``forward`` (an outbox row: target, state, next_attempt_at, created_at, unless_done_by) with it when it
    is new."""
    values = (envelope["id"], envelope["idempotencykey"], envelope["type"], envelope["source"], envelope["subject"],
              envelope["correlationid"], origin, envelope["time"], received_at, json.dumps(envelope, sort_keys=True))
    columns = ("target", "state", "next_attempt_at", "created_at", "unless_done_by")
    queued = tuple(forward.get(k) for k in columns) if forward else ()
    if forward and tx.dialect == POSTGRESQL:
        return tx.fetchone(_INSERT_AND_QUEUE, values + queued) is not None
    if tx.fetchone(_INSERT, values) is None:
        return False
    if forward:
        tx.execute(_QUEUE + "VALUES (?, ?, ?, ?, ?, ?)" + _QUEUE_ONCE, (envelope["id"], *queued))
    return True


def get(tx, event_id: str) -> dict | None:
    row = tx.fetchone("SELECT envelope FROM events WHERE id = ?", (event_id,))
    return json.loads(row["envelope"]) if row else None


def by_key(tx, key: str) -> dict | None:
    row = tx.fetchone("SELECT envelope, origin FROM events WHERE idempotency_key = ?", (key,))
    return {"event": json.loads(row["envelope"]), "origin": row["origin"]} if row else None


def existing_keys(tx, keys: list[str]) -> set[str]:
    """Which of these idempotency keys are recorded already (for sweeps comparing Odoo with what arrived)."""
    if not keys:
        return set()
    marks = ",".join("?" * len(keys))
    return {r["idempotency_key"] for r in tx.fetchall(
        f"SELECT idempotency_key FROM events WHERE idempotency_key IN ({marks})", keys)}


def listing(tx, *, event_type: str | None, correlation_id: str | None, limit: int, after: str | None,
            after_id: str | None = None) -> list[dict]:
    """Oldest first by (received_at, id); ``after``/``after_id`` continue after a page's last item (keyset paging)."""
    clauses, params = [], []
    for column, value in (("type", event_type), ("correlation_id", correlation_id)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if after and after_id is not None:
        clauses.append("(received_at > ? OR (received_at = ? AND id > ?))")
        params += [after, after, after_id]
    elif after:
        clauses.append("received_at > ?")
        params.append(after)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = tx.fetchall(f"SELECT envelope, origin, received_at FROM events {where} ORDER BY received_at, id LIMIT ?",
                       (*params, limit))
    return [{"event": json.loads(r["envelope"]), "origin": r["origin"], "received_at": r["received_at"]} for r in rows]


def timeline_entries(tx, correlation_id: str, limit: int = 1000) -> list[dict]:
    """The object's recorded events as entries of its timeline (who reported what, when it arrived)."""
    rows = tx.fetchall("SELECT id, idempotency_key, type, subject, origin, received_at FROM events "
                       "WHERE correlation_id = ? ORDER BY received_at, id LIMIT ?", (correlation_id, limit))
    return [{"id": r["id"], "at": r["received_at"], "actor": r["origin"], "action": "event.recorded",
             "subject": r["subject"], "correlation_id": correlation_id, "reason_codes": [],
             "data": {"type": r["type"], "key": r["idempotency_key"]}} for r in rows]


def consume(tx, event_id: str, consumer: str, at: str, lease_until: str | None = None) -> str:
    """Claim the event for ``consumer``: CLAIMED when this caller does the effect, DONE when it was done before,
    BUSY while another caller's lease runs. Without a lease the claim counts as done at once. An expired lease
    (its holder died before saying done) is taken over, so a crash between claim and effect loses nothing."""
    completed_at = None if lease_until else at
    won = tx.fetchone("INSERT INTO event_consumptions (event_id, consumer, consumed_at, lease_until, completed_at) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id, consumer) DO NOTHING RETURNING event_id",
                      (event_id, consumer, at, lease_until, completed_at))
    if won:
        return CLAIMED
    taken = tx.fetchone("UPDATE event_consumptions SET consumed_at = ?, lease_until = ?, completed_at = ? "
                        "WHERE event_id = ? AND consumer = ? AND completed_at IS NULL AND lease_until < ? "
                        "RETURNING event_id", (at, lease_until, completed_at, event_id, consumer, at))
    if taken:
        return CLAIMED
    row = tx.fetchone("SELECT completed_at FROM event_consumptions WHERE event_id = ? AND consumer = ?",
                      (event_id, consumer))
    return DONE if row["completed_at"] else BUSY


def finish_consumption(tx, event_id: str, consumer: str, at: str) -> bool:
    """Mark the consumer's effect done; False when it never claimed the event."""
    row = tx.fetchone("UPDATE event_consumptions SET completed_at = COALESCE(completed_at, ?), lease_until = NULL "
                      "WHERE event_id = ? AND consumer = ? RETURNING event_id", (at, event_id, consumer))
    return row is not None


def drop_claim(tx, event_id: str, consumer: str) -> None:
    """Forget an unfinished claim whose holder failed before its effect, so the next delivery need not wait out
    the lease."""
    tx.execute("DELETE FROM event_consumptions WHERE event_id = ? AND consumer = ? AND completed_at IS NULL",
               (event_id, consumer))


def consumptions(tx, event_id: str) -> list[dict]:
    rows = tx.fetchall("SELECT consumer, consumed_at, lease_until, completed_at FROM event_consumptions "
                       "WHERE event_id = ? ORDER BY consumer", (event_id,))
    return [{**row, "state": DONE if row["completed_at"] else CLAIMED} for row in rows]
