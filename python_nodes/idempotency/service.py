"""Idempotency with Stripe's semantics: one effect per key, the first response replayed, conflicts refused."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from .. import clock
from ..errors import Conflict

IN_PROGRESS = "in_progress"
COMPLETED = "completed"

NEW = "new"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Claim:
    outcome: str  # NEW or DUPLICATE
    response_status: int | None = None
    response_body: dict | None = None


def fingerprint(payload) -> str:
    """A stable digest of what was asked, so the same key with a different request is detected."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(tx, scope: str, key: str, digest: str, *, retention_hours: int, lock_seconds: int) -> Claim:
    """Claim ``key`` inside ``tx``: NEW when this request owns it, DUPLICATE with the stored response otherwise.

    Raises 409 ``idempotency_conflict`` for a different fingerprint and a retryable 409 while the first is running.
    The INSERT relies on the primary key, never on a read beforehand, so two processes cannot both win.
    """
    now = clock.now()
    won = tx.fetchone(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, state, created_at, locked_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO NOTHING RETURNING key",
        (scope, key, digest, IN_PROGRESS, clock.iso(now), clock.iso(now),
         clock.iso(now + timedelta(hours=retention_hours))))
    if won:
        return Claim(NEW)
    row = tx.fetchone("SELECT * FROM idempotency_keys WHERE scope = ? AND key = ?", (scope, key))
    if row["expires_at"] < clock.iso(now):
        # An expired claim no longer protects anything: this request starts afresh.
        tx.execute("DELETE FROM idempotency_keys WHERE scope = ? AND key = ?", (scope, key))
        return claim(tx, scope, key, digest, retention_hours=retention_hours, lock_seconds=lock_seconds)
    if row["fingerprint"] != digest:
        raise Conflict(f"idempotency key {key!r} was already used for a different request",
                       code="idempotency_conflict", details=[{"key": key}])
    if row["state"] == COMPLETED:
        return Claim(DUPLICATE, row["response_status"], json.loads(row["response_body"]))
    stale_before = clock.iso(now - timedelta(seconds=lock_seconds))
    taken = tx.fetchone(
        "UPDATE idempotency_keys SET locked_at = ? WHERE scope = ? AND key = ? AND state = ? AND locked_at < ? "
        "RETURNING key", (clock.iso(now), scope, key, IN_PROGRESS, stale_before))
    if taken:  # the first owner died mid-flight; this request takes over
        return Claim(NEW)
    raise Conflict(f"a request with idempotency key {key!r} is still in progress; retry shortly",
                   code="idempotency_in_progress", retryable=True, details=[{"key": key}])


def complete(tx, scope: str, key: str, status: int, body: dict) -> None:
    """Store the response that later duplicates replay."""
    tx.execute("UPDATE idempotency_keys SET state = ?, response_status = ?, response_body = ?, completed_at = ? "
               "WHERE scope = ? AND key = ?",
               (COMPLETED, status, json.dumps(body, sort_keys=True), clock.iso(), scope, key))


def release(tx, scope: str, key: str) -> None:
    """Give a key back after a failed attempt so a retry may run it again."""
    tx.execute("DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND state = ?", (scope, key, IN_PROGRESS))


def purge_expired(tx) -> int:
    cur = tx.execute("DELETE FROM idempotency_keys WHERE expires_at < ?", (clock.iso(),))
    return cur.rowcount


def run_once(db, scope: str, key: str, request_payload, action, *, retention_hours: int = 48,
             lock_seconds: int = 60) -> tuple[str, int, dict]:
    """Run ``action() -> (status, body)`` at most once per key; for effects outside the database (Odoo, Slack).

    The claim is committed before the action runs so a concurrent twin sees it in progress.
    """
    digest = fingerprint(request_payload)
    with db.transaction() as tx:
        found = claim(tx, scope, key, digest, retention_hours=retention_hours, lock_seconds=lock_seconds)
    if found.outcome == DUPLICATE:
        return DUPLICATE, found.response_status, found.response_body
    try:
        status, body = action()
    except Exception:
        with db.transaction() as tx:
            release(tx, scope, key)
        raise
    with db.transaction() as tx:
        complete(tx, scope, key, status, body)
    return NEW, status, body
