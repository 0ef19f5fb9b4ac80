"""Exception cases and their follow-ups (announcements, Odoo write-backs) waiting to be carried out.

Deduplication lives in the database: ``active_key`` holds the correlation key while a case is active and NULL once it
is closed, and a UNIQUE index on it (NULLs never collide, on SQLite and PostgreSQL alike) lets one
``INSERT .. ON CONFLICT (active_key) DO UPDATE`` either open a case or count a repeat, atomically across processes.
"""
from __future__ import annotations

import json

MIGRATIONS = [
    (1, """
CREATE TABLE exception_cases (
    id {autoid},
    correlation_key TEXT NOT NULL,
    active_key TEXT,
    correlation_id TEXT NOT NULL,
    type TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    severity_reasons TEXT NOT NULL,
    owner_team TEXT NOT NULL,
    state TEXT NOT NULL,
    title TEXT NOT NULL,
    record_model TEXT,
    record_id BIGINT,
    record_name TEXT,
    context TEXT NOT NULL,
    details TEXT NOT NULL,
    source TEXT NOT NULL,
    occurrence_count INTEGER NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    sla_due_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT,
    reason_code TEXT,
    resolution_note TEXT,
    assignee TEXT,
    escalated_at TEXT,
    odoo_activity_id BIGINT
);
CREATE UNIQUE INDEX exception_cases_active_key ON exception_cases (active_key);
CREATE INDEX exception_cases_state ON exception_cases (state, sla_due_at);
CREATE INDEX exception_cases_correlation ON exception_cases (correlation_key, id);
CREATE TABLE exception_followups (
    id {autoid},
    case_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX exception_followups_due ON exception_followups (status, next_attempt_at)
"""),
]

CASE_COLUMNS = (
    "id, correlation_key, correlation_id, type, category, severity, severity_reasons, owner_team, state, title, "
    "record_model, record_id, record_name, context, details, source, occurrence_count, first_seen_at, last_seen_at, "
    "sla_due_at, updated_at, closed_at, reason_code, resolution_note, assignee, escalated_at, odoo_activity_id"
)
JSON_COLUMNS = ("severity_reasons", "context", "details")


def upsert_case(tx, case: dict) -> dict:
    """Open ``case`` or, when an active case holds the same key, count one more occurrence; return the stored row."""
    row = tx.fetchone(
        "INSERT INTO exception_cases (correlation_key, active_key, correlation_id, type, category, severity, "
        "severity_reasons, owner_team, state, title, record_model, record_id, record_name, context, details, source, "
        "occurrence_count, first_seen_at, last_seen_at, sla_due_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?) "
        "ON CONFLICT (active_key) DO UPDATE SET occurrence_count = exception_cases.occurrence_count + 1, "
        "last_seen_at = excluded.last_seen_at, updated_at = excluded.updated_at "
        f"RETURNING {CASE_COLUMNS}",
        (case["correlation_key"], case["correlation_key"], case["correlation_id"], case["type"], case["category"],
         case["severity"], json.dumps(case["severity_reasons"]), case["owner_team"], case["state"], case["title"],
         case["record_model"], case["record_id"], case["record_name"], json.dumps(case["context"], sort_keys=True),
         json.dumps(case["details"], sort_keys=True), case["source"], case["now"], case["now"], case["sla_due_at"],
         case["now"]),
    )
    return decode(row)


def get_case(tx, case_id: int) -> dict | None:
    row = tx.fetchone(f"SELECT {CASE_COLUMNS} FROM exception_cases WHERE id = ?", (case_id,))
    return decode(row) if row else None


def move_case(tx, case_id: int, *, from_state: str, to_state: str, now: str, active: bool,
              reason_code: str | None, note: str | None, assignee: str | None) -> dict | None:
    """Compare-and-set the state, so two concurrent PATCHes cannot both leave the same state."""
    row = tx.fetchone(
        "UPDATE exception_cases SET state = ?, updated_at = ?, "
        "active_key = CASE WHEN ? = 1 THEN active_key ELSE NULL END, "
        "closed_at = CASE WHEN ? = 1 THEN closed_at ELSE ? END, "
        "reason_code = COALESCE(?, reason_code), resolution_note = COALESCE(?, resolution_note), "
        "assignee = COALESCE(?, assignee) "
        f"WHERE id = ? AND state = ? RETURNING {CASE_COLUMNS}",
        (to_state, now, int(active), int(active), now, reason_code, note, assignee, case_id, from_state),
    )
    return decode(row) if row else None


def set_activity(tx, case_id: int, activity_id: int) -> None:
    tx.execute("UPDATE exception_cases SET odoo_activity_id = ? WHERE id = ?", (activity_id, case_id))


def list_cases(tx, filters: dict, limit: int, offset: int) -> list[dict]:
    """Cases matching equality/range filters, newest first."""
    where, params = [], []
    for column in ("state", "category", "severity", "owner_team", "type", "correlation_key", "correlation_id",
                   "record_model", "record_id"):
        if filters.get(column) is not None:
            values = filters[column] if isinstance(filters[column], list) else [filters[column]]
            where.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    if filters.get("active") is True:
        where.append("active_key IS NOT NULL")
    elif filters.get("active") is False:
        where.append("active_key IS NULL")
    if filters.get("breached_before"):
        where.append("active_key IS NOT NULL AND sla_due_at < ?")
        params.append(filters["breached_before"])
    if filters.get("escalated") is True:
        where.append("escalated_at IS NOT NULL")
    elif filters.get("escalated") is False:
        where.append("escalated_at IS NULL")
    sql = f"SELECT {CASE_COLUMNS} FROM exception_cases"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
    return [decode(row) for row in tx.fetchall(sql, (*params, limit, offset))]


def claim_breached(tx, now: str, limit: int) -> list[dict]:
    """Mark active cases past their SLA as escalated and return them; each breach is claimed exactly once."""
    rows = tx.fetchall(
        f"SELECT id FROM exception_cases WHERE active_key IS NOT NULL AND escalated_at IS NULL AND sla_due_at < ? "
        f"ORDER BY sla_due_at, id LIMIT ?", (now, limit))
    claimed = []
    for row in rows:
        case = tx.fetchone(
            f"UPDATE exception_cases SET escalated_at = ?, updated_at = ? "
            f"WHERE id = ? AND escalated_at IS NULL RETURNING {CASE_COLUMNS}", (now, now, row["id"]))
        if case:
            claimed.append(decode(case))
    return claimed


def add_followup(tx, case_id: int, action: str, now: str) -> int:
    row = tx.fetchone(
        "INSERT INTO exception_followups (case_id, action, status, attempts, next_attempt_at, created_at, updated_at) "
        "VALUES (?, ?, 'pending', 0, ?, ?, ?) RETURNING id", (case_id, action, now, now, now))
    return row["id"]


def claim_followup(tx, followup_id: int, now: str, lease_until: str) -> dict | None:
    """Take a pending write-back for one attempt; the lease keeps a concurrent retrier off it."""
    return tx.fetchone(
        "UPDATE exception_followups SET next_attempt_at = ?, attempts = attempts + 1, updated_at = ? "
        "WHERE id = ? AND status = 'pending' AND next_attempt_at <= ? "
        "RETURNING id, case_id, action, attempts", (lease_until, now, followup_id, now))


def due_followups(tx, now: str, limit: int, case_id: int | None = None) -> list[dict]:
    if case_id is not None:
        return tx.fetchall(
            "SELECT id FROM exception_followups WHERE status = 'pending' AND next_attempt_at <= ? AND case_id = ? "
            "ORDER BY id LIMIT ?", (now, case_id, limit))
    return tx.fetchall(
        "SELECT id FROM exception_followups WHERE status = 'pending' AND next_attempt_at <= ? "
        "ORDER BY next_attempt_at, id LIMIT ?", (now, limit))


def finish_followup(tx, followup_id: int, *, status: str, now: str, next_attempt_at: str | None = None,
                     error: str | None = None) -> None:
    tx.execute(
        "UPDATE exception_followups SET status = ?, updated_at = ?, next_attempt_at = COALESCE(?, next_attempt_at), "
        "last_error = ? WHERE id = ?", (status, now, next_attempt_at, error, followup_id))


def followups_for(tx, case_id: int) -> list[dict]:
    return tx.fetchall(
        "SELECT id, action, status, attempts, next_attempt_at, last_error FROM exception_followups "
        "WHERE case_id = ? ORDER BY id", (case_id,))


def decode(row: dict) -> dict:
    out = dict(row)
    for column in JSON_COLUMNS:
        out[column] = json.loads(out[column]) if out.get(column) is not None else None
    return out
