"""Leases on outbox rows: a process that claimed a batch acts on each row only while its lease still holds."""
from __future__ import annotations

from datetime import timedelta

from .. import clock


def start_attempt(db, table: str, row: dict, seconds: float) -> bool:
    """Count an attempt at ``row`` and extend the lease this process took on it (``locked_until`` as claimed), just
    before acting on it; ``row["attempts"]`` is then this attempt's number.

    A batch is claimed at once and sent one row after another, so its last rows can outlive their lease and be
    claimed by another process. False then: that process sends the row, and sending it here as well would deliver
    it twice. ``table`` is one of the kit's own table names, never user input.
    """
    until = clock.iso(clock.now() + timedelta(seconds=seconds))
    with db.transaction() as tx:
        started = tx.fetchone(f"UPDATE {table} SET locked_until = ?, attempts = attempts + 1 "
                              "WHERE id = ? AND locked_until = ? RETURNING attempts",
                              (until, row["id"], row["locked_until"]))
    if started is None:
        return False
    row.update(locked_until=until, attempts=started["attempts"])
    return True
