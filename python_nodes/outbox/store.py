"""The outbox: events waiting to be forwarded to n8n, with attempts and the next retry time."""

MIGRATIONS = [
    (1, """
CREATE TABLE outbox (
    id {autoid},
    event_id TEXT NOT NULL,
    target TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    UNIQUE (event_id, target)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at)
"""),
    # The consumer that handles the event itself: the row is sent only if that consumer has not finished it.
    (2, "ALTER TABLE outbox ADD COLUMN unless_done_by TEXT"),
]


def delivered_to(tx, event_id: str, targets) -> str | None:
    """One of these n8n webhook paths the outbox has delivered this event to, if any."""
    targets = sorted(targets)
    if not targets:
        return None
    marks = ", ".join("?" for _ in targets)
    row = tx.fetchone(f"SELECT MIN(target) AS target FROM outbox WHERE event_id = ? AND target IN ({marks}) "
                      "AND state = 'delivered'", (event_id, *targets))
    return row["target"]
