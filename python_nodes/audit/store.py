"""The append-only audit log table: rows are inserted, never updated or deleted."""

MIGRATIONS = [
    (1, """
CREATE TABLE audit_log (
    id {autoid},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    reason_codes TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX audit_log_correlation ON audit_log (correlation_id, id);
CREATE INDEX audit_log_subject ON audit_log (subject, id)
"""),
]
