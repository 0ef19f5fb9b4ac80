"""Persistence of approvals, their steps, hashed tokens, posted Slack messages, seen Slack signatures and the outbox."""
from __future__ import annotations

import json

from ..errors import Conflict, NotFound
from ..store.database import POSTGRESQL
from .service import Approval, Step

MIGRATIONS = [
    (1, """
CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    amount DOUBLE PRECISION NOT NULL,
    currency TEXT NOT NULL,
    requester TEXT NOT NULL,
    context TEXT NOT NULL,
    state TEXT NOT NULL,
    current_step INTEGER,
    callback_url TEXT,
    correlation_id TEXT NOT NULL,
    request_key TEXT UNIQUE,
    fingerprint TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    closed_at TEXT,
    version INTEGER NOT NULL
);
CREATE INDEX approvals_state ON approvals (state, created_at);
CREATE INDEX approvals_subject ON approvals (subject_type, subject_id);
CREATE TABLE approval_steps (
    approval_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    role TEXT NOT NULL,
    original_role TEXT NOT NULL,
    state TEXT NOT NULL,
    sla_minutes DOUBLE PRECISION NOT NULL,
    activated_at TEXT,
    due_at TEXT,
    escalations INTEGER NOT NULL,
    decided_by TEXT,
    decision TEXT,
    reason_code TEXT,
    comment TEXT,
    channel TEXT,
    decided_at TEXT,
    PRIMARY KEY (approval_id, position)
);
CREATE TABLE approval_tokens (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    approval_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    approver_id TEXT NOT NULL,
    decision TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX approval_tokens_step ON approval_tokens (approval_id, position);
CREATE TABLE approval_messages (
    id {autoid},
    approval_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    approver_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    ts TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX approval_messages_step ON approval_messages (approval_id, position);
CREATE TABLE slack_seen (
    signature TEXT PRIMARY KEY,
    seen_at TEXT NOT NULL
);
CREATE TABLE approval_outbox (
    id {autoid},
    approval_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    locked_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX approval_outbox_due ON approval_outbox (state, next_attempt_at)
"""),
]

_STEP_FIELDS = ("role", "original_role", "state", "sla_minutes", "activated_at", "due_at", "escalations",
                "decided_by", "decision", "reason_code", "comment", "channel", "decided_at")


def insert(tx, approval: Approval, request_key: str | None, fingerprint: str | None) -> None:
    tx.execute(
        "INSERT INTO approvals (id, subject_type, subject_id, subject, amount, currency, requester, context, state, "
        "current_step, callback_url, correlation_id, request_key, fingerprint, created_at, updated_at, expires_at, "
        "closed_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (approval.id, approval.subject["type"], str(approval.subject["id"]), _dump(approval.subject),
         approval.amount, approval.currency, _dump(approval.requester), _dump(approval.context), approval.state,
         approval.current_step, approval.callback_url, approval.correlation_id, request_key, fingerprint,
         approval.created_at, approval.updated_at, approval.expires_at, approval.closed_at, approval.version))
    for step in approval.steps:
        tx.execute(
            "INSERT INTO approval_steps (approval_id, position, " + ", ".join(_STEP_FIELDS) + ") VALUES (?, ?, "
            + ", ".join("?" for _ in _STEP_FIELDS) + ")",
            (approval.id, step.position, *(getattr(step, f) for f in _STEP_FIELDS)))


def save(tx, approval: Approval) -> None:
    """Write back a changed approval; a concurrent change since it was loaded is a retryable 409."""
    row = tx.fetchone(
        "UPDATE approvals SET state = ?, current_step = ?, updated_at = ?, closed_at = ?, version = version + 1 "
        "WHERE id = ? AND version = ? RETURNING version",
        (approval.state, approval.current_step, approval.updated_at, approval.closed_at, approval.id,
         approval.version))
    if row is None:
        raise Conflict("the approval changed at the same time; try again", code="concurrent_update", retryable=True)
    approval.version = row["version"]
    for step in approval.steps:
        tx.execute("UPDATE approval_steps SET " + ", ".join(f"{f} = ?" for f in _STEP_FIELDS)
                   + " WHERE approval_id = ? AND position = ?",
                   (*(getattr(step, f) for f in _STEP_FIELDS), approval.id, step.position))


def set_callback(tx, approval_id: str, url: str) -> None:
    tx.execute("UPDATE approvals SET callback_url = ? WHERE id = ?", (url, approval_id))


def load(tx, approval_id: str, *, for_update: bool = False) -> Approval:
    """An approval with its steps; ``for_update`` before changing it, so concurrent deciders queue on this row.

    Without it two decisions on PostgreSQL lock their own token row first and then each other's (the winner revokes
    the step's other tokens): a deadlock. SQLite runs one writer at a time anyway."""
    lock = " FOR UPDATE" if for_update and tx.dialect == POSTGRESQL else ""
    row = tx.fetchone("SELECT * FROM approvals WHERE id = ?" + lock, (approval_id,))
    if row is None:
        raise NotFound(f"no approval {approval_id!r}", code="approval_not_found")
    return _approval(tx, row)


def by_request_key(tx, request_key: str) -> tuple[Approval, str] | None:
    row = tx.fetchone("SELECT * FROM approvals WHERE request_key = ?", (request_key,))
    return (_approval(tx, row), row["fingerprint"]) if row else None


def pending(tx, limit: int = 500) -> list[Approval]:
    rows = tx.fetchall("SELECT * FROM approvals WHERE state = 'pending' ORDER BY created_at LIMIT ?", (limit,))
    return [_approval(tx, row) for row in rows]


def listing(tx, *, state: str | None, subject_type: str | None, subject_id: str | None, limit: int) -> list[Approval]:
    clauses, params = [], []
    for column, value in (("state", state), ("subject_type", subject_type), ("subject_id", subject_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = tx.fetchall(f"SELECT * FROM approvals{where} ORDER BY created_at DESC LIMIT ?", (*params, limit))
    return [_approval(tx, row) for row in rows]


def _approval(tx, row: dict) -> Approval:
    steps = [Step(position=s["position"], **{f: s[f] for f in _STEP_FIELDS})
             for s in tx.fetchall("SELECT * FROM approval_steps WHERE approval_id = ? ORDER BY position", (row["id"],))]
    return Approval(
        id=row["id"], subject=json.loads(row["subject"]), amount=row["amount"], currency=row["currency"],
        requester=json.loads(row["requester"]), context=json.loads(row["context"]),
        correlation_id=row["correlation_id"], created_at=row["created_at"], expires_at=row["expires_at"],
        state=row["state"], current_step=row["current_step"], callback_url=row["callback_url"],
        updated_at=row["updated_at"], closed_at=row["closed_at"], version=row["version"], steps=steps)


# --- tokens -------------------------------------------------------------------------------------------------------

def insert_token(tx, *, token_hash: str, kind: str, approval_id: str, position: int, approver_id: str,
                 decision: str, created_at: str, expires_at: str) -> None:
    tx.execute("INSERT INTO approval_tokens (token_hash, kind, approval_id, position, approver_id, decision, "
               "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               (token_hash, kind, approval_id, position, approver_id, decision, created_at, expires_at))


def token(tx, token_hash: str, kind: str) -> dict | None:
    return tx.fetchone("SELECT * FROM approval_tokens WHERE token_hash = ? AND kind = ?", (token_hash, kind))


def use_token(tx, token_hash: str, at: str) -> bool:
    """Consume a token atomically: of two concurrent uses, exactly one wins."""
    row = tx.fetchone("UPDATE approval_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL "
                      "AND revoked_at IS NULL RETURNING token_hash", (at, token_hash))
    return row is not None


def revoke_step_tokens(tx, approval_id: str, position: int, at: str) -> None:
    tx.execute("UPDATE approval_tokens SET revoked_at = ? WHERE approval_id = ? AND position = ? "
               "AND used_at IS NULL AND revoked_at IS NULL", (at, approval_id, position))


# --- Slack messages and replay guard ---------------------------------------------------------------------------------

def add_message(tx, *, approval_id: str, position: int, approver_id: str, channel: str, ts: str, at: str) -> None:
    tx.execute("INSERT INTO approval_messages (approval_id, position, approver_id, channel, ts, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?)", (approval_id, position, approver_id, channel, ts, at))


def messages(tx, approval_id: str, position: int) -> list[dict]:
    return tx.fetchall("SELECT * FROM approval_messages WHERE approval_id = ? AND position = ? ORDER BY id",
                       (approval_id, position))


def first_sighting(tx, signature: str, at: str, forget_before: str) -> bool:
    """True the first time a Slack signature is seen; the UNIQUE key makes it atomic across processes."""
    tx.execute("DELETE FROM slack_seen WHERE seen_at < ?", (forget_before,))
    row = tx.fetchone("INSERT INTO slack_seen (signature, seen_at) VALUES (?, ?) ON CONFLICT (signature) DO NOTHING "
                      "RETURNING signature", (signature, at))
    return row is not None


def _dump(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)
