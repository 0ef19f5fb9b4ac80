"""Durable side effects of approvals (Slack posts and updates, emails, completion callbacks): queued in the same
transaction as the change, delivered by a background loop with leases, retried with backoff, never dropped."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import requests
from prometheus_client import Counter

from .. import clock, logs
from ..store import leases
from . import mail, store
from .slack import SlackError, WebApi

CALLBACK = "callback"            # POST the finished approval to its callback URL (e.g. an n8n Wait node resumeUrl)
SLACK_POST = "slack.post"        # chat.postMessage to an approver
SLACK_UPDATE = "slack.update"    # chat.update of a message whose step was decided elsewhere
SLACK_RESPONSE = "slack.response"  # POST to a block_actions response_url
EMAIL = "email"
KINDS = (CALLBACK, SLACK_POST, SLACK_UPDATE, SLACK_RESPONSE, EMAIL)

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"  # gave up after max attempts; kept for inspection and replay, never deleted

LEASE_SECONDS = 60
# Delivered Slack posts and emails carry raw link tokens/button references: scrub them once sent.
REDACTED = {SLACK_POST, EMAIL}

DELIVERIES = Counter("kit_approval_deliveries_total", "Approval side effects sent from the outbox", ["kind", "result"])

log = logs.get("approvals.outbox")
_wakeup = threading.Event()


def enqueue(tx, approval_id: str, kind: str, body: dict) -> None:
    now = clock.iso()
    tx.execute("INSERT INTO approval_outbox (approval_id, kind, body, state, attempts, next_attempt_at, created_at) "
               "VALUES (?, ?, ?, ?, 0, ?, ?)", (approval_id, kind, json.dumps(body, sort_keys=True), PENDING, now, now))


def listing(tx, approval_id: str) -> list[dict]:
    """Delivery states of one approval, without bodies (they may hold secrets until sent)."""
    return tx.fetchall("SELECT id, kind, state, attempts, last_error, created_at, next_attempt_at, delivered_at "
                       "FROM approval_outbox WHERE approval_id = ? ORDER BY id", (approval_id,))


def retry(tx, delivery_id: int) -> dict | None:
    """Put a dead delivery back in the queue (after fixing what made it fail); None if it is not dead."""
    return tx.fetchone("UPDATE approval_outbox SET state = ?, attempts = 0, next_attempt_at = ?, locked_until = NULL "
                       "WHERE id = ? AND state = ? RETURNING id, approval_id, kind, state",
                       (PENDING, clock.iso(), delivery_id, DEAD))


def exists(tx, delivery_id: int) -> bool:
    return tx.fetchone("SELECT id FROM approval_outbox WHERE id = ?", (delivery_id,)) is not None


def wake() -> None:
    """New work for this process's loop (other processes find it on their next poll)."""
    _wakeup.set()


def backoff(attempts: int, base: float, cap: float) -> float:
    return min(cap, base * (2 ** max(0, attempts - 1)))


class Deliverer:
    """Sends queued items; one instance per process, shared by the loop and by tests that drive it by hand."""

    def __init__(self, db, config, settings, session: requests.Session | None = None):
        self.db = db
        self.config = config
        self.settings = settings
        self.session = session or requests.Session()
        self.slack = WebApi(config.slack_api_url, config.slack_bot_token, config.outbox_timeout, self.session)

    def run_once(self, limit: int | None = None) -> int:
        """Deliver every due item once; returns how many were delivered."""
        delivered = 0
        for row in self._claim(limit or self.config.outbox_batch):
            delivered += self._deliver(row)
        return delivered

    def loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if self.run_once():
                    continue
            except Exception:  # the loop must survive a broken row or a database hiccup
                log.exception("approval outbox pass failed")
            _wakeup.wait(self.config.outbox_poll_seconds)
            _wakeup.clear()

    def _claim(self, limit: int) -> list[dict]:
        now = clock.now()
        lease = clock.iso(now + timedelta(seconds=LEASE_SECONDS))
        skip_locked = " FOR UPDATE SKIP LOCKED" if self.db.dialect == "postgresql" else ""
        with self.db.transaction() as tx:
            return tx.fetchall(
                "UPDATE approval_outbox SET locked_until = ? WHERE id IN ("
                "SELECT id FROM approval_outbox WHERE state = ? AND next_attempt_at <= ? "
                "AND (locked_until IS NULL OR locked_until < ?) ORDER BY id LIMIT ?" + skip_locked + ") "
                "RETURNING id, approval_id, kind, body, attempts, locked_until",
                (lease, PENDING, clock.iso(now), clock.iso(now), limit))

    def _deliver(self, row: dict) -> int:
        if not leases.start_attempt(self.db, "approval_outbox", row, LEASE_SECONDS):
            return 0  # taken over by another process after this batch's lease ran out: it sends the item
        body = json.loads(row["body"])
        try:
            self._send(row, body)
        except (requests.RequestException, SlackError, OSError, ValueError) as exc:
            self._failed(row, f"{type(exc).__name__}: {exc}"[:300])
            return 0
        with self.db.transaction() as tx:
            scrubbed = json.dumps({"redacted": True}) if row["kind"] in REDACTED else row["body"]
            tx.execute("UPDATE approval_outbox SET state = ?, delivered_at = ?, locked_until = NULL, last_error = NULL, "
                       "body = ? WHERE id = ?", (DELIVERED, clock.iso(), scrubbed, row["id"]))
        DELIVERIES.labels(row["kind"], DELIVERED).inc()
        return 1

    def _send(self, row: dict, body: dict) -> None:
        kind = row["kind"]
        if kind == CALLBACK or kind == SLACK_RESPONSE:
            headers = {"X-Kit-Token": self.config.n8n_token} if kind == CALLBACK and self.config.n8n_token else {}
            answer = self.session.post(body["url"], json=body["payload"], headers=headers,
                                       timeout=self.config.outbox_timeout)
            answer.raise_for_status()
        elif kind == SLACK_POST:
            sent = self.slack.call("chat.postMessage", {"channel": body["channel"], "text": body["text"],
                                                        "blocks": body["blocks"]})
            with self.db.transaction() as tx:
                store.add_message(tx, approval_id=row["approval_id"], position=body["position"],
                                  approver_id=body["approver_id"], channel=sent.get("channel", body["channel"]),
                                  ts=sent["ts"], at=clock.iso())
        elif kind == SLACK_UPDATE:
            self.slack.call("chat.update", {"channel": body["channel"], "ts": body["ts"], "text": body["text"],
                                            "blocks": body["blocks"]})
        elif kind == EMAIL:
            if not self.settings.smtp_host:
                raise ValueError("KIT_SMTP_HOST is not set")
            mail.send(self.settings, body)
        else:
            raise ValueError(f"unknown outbox kind {kind!r}")

    def _failed(self, row: dict, error: str) -> None:
        with self.db.transaction() as tx:
            if row["attempts"] >= self.config.outbox_max_attempts:
                tx.execute("UPDATE approval_outbox SET state = ?, locked_until = NULL, last_error = ? WHERE id = ?",
                           (DEAD, error, row["id"]))
                DELIVERIES.labels(row["kind"], DEAD).inc()
                log.error("approval delivery gave up", extra={"fields": {"id": row["id"], "kind": row["kind"],
                                                                         "error": error}})
                return
            DELIVERIES.labels(row["kind"], "retry").inc()
            delay = backoff(row["attempts"], self.config.outbox_backoff_base, self.config.outbox_backoff_max)
            tx.execute("UPDATE approval_outbox SET next_attempt_at = ?, locked_until = NULL, last_error = ? "
                       "WHERE id = ?", (clock.iso(clock.now() + timedelta(seconds=delay)), error, row["id"]))
