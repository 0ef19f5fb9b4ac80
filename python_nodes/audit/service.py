"""Append-only audit trail: who did what to which object, why, and with which inputs."""
from __future__ import annotations

import json

from .. import clock


def record(tx, *, actor: str, action: str, subject: str, correlation_id: str,
           reason_codes=(), data: dict | None = None) -> int:
    """Append one entry inside the caller's transaction, so the entry exists exactly when the change does."""
    row = tx.fetchone(
        "INSERT INTO audit_log (at, actor, action, subject, correlation_id, reason_codes, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (clock.iso(), actor, action, subject, correlation_id,
         json.dumps(list(reason_codes)), json.dumps(data or {}, sort_keys=True, default=str)),
    )
    return row["id"]


def timeline(tx, correlation_id: str, limit: int = 1000) -> list[dict]:
    """Every entry for one business object, oldest first."""
    rows = tx.fetchall(
        "SELECT id, at, actor, action, subject, correlation_id, reason_codes, data FROM audit_log "
        "WHERE correlation_id = ? ORDER BY id LIMIT ?", (correlation_id, limit))
    return [_entry(row) for row in rows]


def _entry(row: dict) -> dict:
    return {**row, "reason_codes": json.loads(row["reason_codes"]), "data": json.loads(row["data"])}
