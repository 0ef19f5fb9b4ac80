"""Failed n8n executions, one row per (workflow, execution), with what is needed to replay the request."""
from __future__ import annotations

import json

MIGRATIONS = [
    (1, """
CREATE TABLE dead_letters (
    id {autoid},
    workflow_id TEXT NOT NULL,
    workflow_name TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    failed_node TEXT NOT NULL,
    error_message TEXT NOT NULL,
    mode TEXT NOT NULL,
    request TEXT,
    state TEXT NOT NULL,
    replay_count INTEGER NOT NULL DEFAULT 0,
    last_replay_status INTEGER,
    last_replay_error TEXT,
    created_at TEXT NOT NULL,
    replayed_at TEXT,
    UNIQUE (workflow_id, execution_id)
);
CREATE INDEX dead_letters_state ON dead_letters (state, id)
"""),
    # The recorded event an outbox delivery carried, so the outbox can settle the letter when it delivers it later.
    (2, """
ALTER TABLE dead_letters ADD COLUMN event_id TEXT;
ALTER TABLE dead_letters ADD COLUMN settled_at TEXT;
CREATE INDEX dead_letters_event ON dead_letters (event_id)
"""),
    # The failed workflow's webhook paths: a delivery of the letter's event to any of them settles it, so a run
    # that failed on Odoo's direct webhook settles when the outbox hands its event to the same workflow.
    (3, """
ALTER TABLE dead_letters ADD COLUMN workflow_paths TEXT
"""),
    # The events of a run the outbox started with a batch (a JSON list of ids): it settles once all are delivered.
    (4, """
ALTER TABLE dead_letters ADD COLUMN batch_event_ids TEXT
"""),
]

COLUMNS = ("id, workflow_id, workflow_name, execution_id, failed_node, error_message, mode, request, state, "
           "replay_count, last_replay_status, last_replay_error, created_at, replayed_at, event_id, settled_at, "
           "workflow_paths, batch_event_ids")


def insert(tx, letter: dict, state: str, at: str, event_ids: list[str]) -> tuple[dict, bool]:
    """Record the letter with the events its run was started with (one, a batch's, or none); a second report of
    the same execution returns the first row and False."""
    event_id = event_ids[0] if len(event_ids) == 1 else None
    batch = json.dumps(event_ids) if len(event_ids) > 1 else None
    created = tx.fetchone(
        "INSERT INTO dead_letters (workflow_id, workflow_name, execution_id, failed_node, error_message, mode, "
        "request, state, created_at, event_id, workflow_paths, batch_event_ids) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (workflow_id, execution_id) DO NOTHING RETURNING id",
        (letter["workflow_id"], letter["workflow_name"], letter["execution_id"], letter.get("failed_node", ""),
         letter.get("error_message", ""), letter.get("mode", ""),
         json.dumps(letter["request"], sort_keys=True) if letter.get("request") else None, state, at, event_id,
         json.dumps(letter.get("workflow_paths") or []), batch))
    if created:
        return get(tx, created["id"]), True
    row = tx.fetchone(f"SELECT {COLUMNS} FROM dead_letters WHERE workflow_id = ? AND execution_id = ?",
                      (letter["workflow_id"], letter["execution_id"]))
    return _shape(row), False


def get(tx, letter_id: int) -> dict | None:
    row = tx.fetchone(f"SELECT {COLUMNS} FROM dead_letters WHERE id = ?", (letter_id,))
    return _shape(row) if row else None


def listing(tx, state: str | None, limit: int) -> list[dict]:
    where, params = ("WHERE state = ?", (state,)) if state else ("", ())
    return [_shape(r) for r in tx.fetchall(f"SELECT {COLUMNS} FROM dead_letters {where} ORDER BY id LIMIT ?",
                                           (*params, limit))]


def record_replay(tx, letter_id: int, *, state: str, status: int | None, error: str | None, at: str) -> None:
    tx.execute("UPDATE dead_letters SET state = ?, replay_count = replay_count + 1, last_replay_status = ?, "
               "last_replay_error = ?, replayed_at = ? WHERE id = ?", (state, status, error, at, letter_id))


def unsettled_of_event(tx, event_id: str, states: tuple[str, ...]) -> list[dict]:
    """Unsettled letters of runs started with this event: alone, or in a batch."""
    marks = ", ".join("?" for _ in states)
    rows = tx.fetchall(f"SELECT {COLUMNS} FROM dead_letters WHERE state IN ({marks}) "
                       "AND (event_id = ? OR batch_event_ids LIKE ?) ORDER BY id",
                       (*states, event_id, f'%"{event_id}"%'))
    return [letter for letter in map(_shape, rows) if event_id in letter["event_ids"]]


def record_settled(tx, letter_id: int, *, state: str, at: str) -> None:
    tx.execute("UPDATE dead_letters SET state = ?, settled_at = ? WHERE id = ?", (state, at, letter_id))


def _shape(row: dict) -> dict:
    row = dict(row)
    batch = row.pop("batch_event_ids")
    return {**row, "request": json.loads(row["request"]) if row["request"] else None,
            "workflow_paths": json.loads(row["workflow_paths"] or "[]"),
            "event_ids": json.loads(batch) if batch else [row["event_id"]] if row["event_id"] else []}
