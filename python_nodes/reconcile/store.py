"""Sweep watermarks (how far each watched model was reconciled) and a log of sweep runs."""
from __future__ import annotations

import json

MIGRATIONS = [
    (1, """
CREATE TABLE reconcile_watermarks (
    model TEXT PRIMARY KEY,
    write_date TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE reconcile_runs (
    id {autoid},
    kind TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    counts TEXT NOT NULL
);
CREATE INDEX reconcile_runs_kind ON reconcile_runs (kind, id)
"""),
]


def watermark(tx, model: str) -> tuple[str, int] | None:
    row = tx.fetchone("SELECT write_date, record_id FROM reconcile_watermarks WHERE model = ?", (model,))
    return (row["write_date"], row["record_id"]) if row else None


def advance(tx, model: str, write_date: str, record_id: int, now: str) -> None:
    """Move the watermark forward only: a slower concurrent sweep never moves it back."""
    tx.execute(
        "INSERT INTO reconcile_watermarks (model, write_date, record_id, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (model) DO UPDATE SET write_date = excluded.write_date, record_id = excluded.record_id, "
        "updated_at = excluded.updated_at "
        "WHERE reconcile_watermarks.write_date < excluded.write_date OR "
        "(reconcile_watermarks.write_date = excluded.write_date AND reconcile_watermarks.record_id < excluded.record_id)",
        (model, write_date, record_id, now))


def log_run(tx, kind: str, started_at: str, finished_at: str, counts: dict) -> int:
    row = tx.fetchone("INSERT INTO reconcile_runs (kind, started_at, finished_at, counts) VALUES (?, ?, ?, ?) "
                      "RETURNING id", (kind, started_at, finished_at, json.dumps(counts, sort_keys=True)))
    return row["id"]
