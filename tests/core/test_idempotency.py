"""Idempotency claims on both store backends: Stripe's semantics, expiry, and take-over of abandoned claims."""
from __future__ import annotations

from datetime import timedelta

import pytest

from python_nodes import clock
from python_nodes.errors import Conflict
from python_nodes.idempotency import service as idem
from python_nodes.idempotency import store as idem_store
from python_nodes.store import connect
from python_nodes.store.migrations import migrate


@pytest.fixture
def db(database_url):
    database = connect(database_url)
    migrate(database, [idem_store.__name__])
    yield database
    database.close()


def claim(db, key="k1", digest="f1", retention=48, lock=60):
    with db.transaction() as tx:
        return idem.claim(tx, "test", key, digest, retention_hours=retention, lock_seconds=lock)


def test_first_claim_is_new_and_a_finished_twin_replays_the_response(db):
    assert claim(db).outcome == idem.NEW
    with db.transaction() as tx:
        idem.complete(tx, "test", "k1", 201, {"answer": 1})
    again = claim(db)
    assert (again.outcome, again.response_status, again.response_body) == (idem.DUPLICATE, 201, {"answer": 1})


def test_twin_while_running_gets_a_retryable_409(db):
    claim(db)
    with pytest.raises(Conflict) as caught:
        claim(db)
    assert caught.value.code == "idempotency_in_progress" and caught.value.retryable


def test_different_fingerprint_gets_idempotency_conflict_even_when_finished(db):
    claim(db)
    with db.transaction() as tx:
        idem.complete(tx, "test", "k1", 200, {})
    with pytest.raises(Conflict) as caught:
        claim(db, digest="other")
    assert caught.value.code == "idempotency_conflict" and not caught.value.retryable


def test_abandoned_claim_is_taken_over_after_the_lock_time(db):
    claim(db)
    with db.transaction() as tx:
        tx.execute("UPDATE idempotency_keys SET locked_at = ?", (clock.iso(clock.now() - timedelta(seconds=61)),))
    assert claim(db, lock=60).outcome == idem.NEW


def test_expired_key_starts_afresh_and_purge_removes_expired(db):
    claim(db)
    with db.transaction() as tx:
        idem.complete(tx, "test", "k1", 200, {"old": True})
        tx.execute("UPDATE idempotency_keys SET expires_at = ?", (clock.iso(clock.now() - timedelta(seconds=1)),))
    assert claim(db, digest="new").outcome == idem.NEW
    claim(db, key="k2")
    with db.transaction() as tx:
        tx.execute("UPDATE idempotency_keys SET expires_at = ? WHERE key = 'k2'",
                   (clock.iso(clock.now() - timedelta(seconds=1)),))
        assert idem.purge_expired(tx) == 1


def test_run_once_runs_the_action_once_and_releases_on_failure(db):
    calls = []

    def action():
        calls.append(1)
        return 200, {"n": len(calls)}

    assert idem.run_once(db, "test", "k", {"a": 1}, action) == (idem.NEW, 200, {"n": 1})
    assert idem.run_once(db, "test", "k", {"a": 1}, action) == (idem.DUPLICATE, 200, {"n": 1})
    assert len(calls) == 1

    def broken():
        raise RuntimeError("odoo down")

    with pytest.raises(RuntimeError):
        idem.run_once(db, "test", "k-broken", {}, broken)
    assert idem.run_once(db, "test", "k-broken", {}, action)[0] == idem.NEW


def test_retention_is_at_least_a_day_by_default():
    from python_nodes.config import Config

    assert Config().idempotency_retention_hours >= 24
