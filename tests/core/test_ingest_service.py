"""Ingest as a function, on both backends: batches for sweeps, and a sweep and a late webhook seeing one event."""
from __future__ import annotations

import pytest

from python_nodes.config import Config
from python_nodes.errors import Conflict
from python_nodes.events import service
from python_nodes.store import connect
from python_nodes.store.migrations import migrate


@pytest.fixture
def db(database_url):
    database = connect(database_url)
    migrate(database, ["python_nodes.audit.store", "python_nodes.idempotency.store", "python_nodes.events.store",
                       "python_nodes.outbox.store"])
    yield database
    database.close()


def confirmed(order_id: int, amount: float = 100.0) -> dict:
    return {"_action": "a(#1)", "_id": order_id, "_model": "sale.order", "amount_total": amount, "id": order_id,
            "state": "sale", "write_date": "2026-11-20 09:15:02"}


def count_events(db) -> int:
    with db.transaction() as tx:
        return tx.fetchone("SELECT COUNT(*) AS n FROM events")["n"]


def test_batch_records_new_reports_duplicates_and_rejects_bad_items_alone(db):
    config = Config()
    service.ingest(db, config, confirmed(1))
    items = [(confirmed(1), None), (confirmed(2), None), ({"_model": "sale.order"}, None),
             ({**confirmed(3), "state": "draft"}, "sale.order.confirmed"), (confirmed(4), None)]
    statuses = [status for status, _ in service.ingest_many(db, config, items, origin=service.ORIGIN_SWEEP)]
    assert statuses == [200, 201, 422, 422, 201]
    assert count_events(db) == 3


def test_a_new_event_is_queued_for_its_workflow_once_and_a_duplicate_not_again(db):
    config = Config(n8n_webhook_base="http://n8n.test/webhook")
    assert service.ingest(db, config, confirmed(20))[0] == 201
    assert service.ingest(db, config, confirmed(20))[0] == 200
    assert service.ingest_many(db, config, [(confirmed(20), None), (confirmed(21), None)],
                               origin=service.ORIGIN_SWEEP)[1][0] == 201
    unrouted = {"_action": "a(#2)", "_id": 5, "_model": "purchase.order", "id": 5, "date_planned": "2026-12-03 10:00:00",
                "state": "purchase", "write_date": "2026-11-20 09:15:02"}
    assert service.ingest(db, config, unrouted, type_hint="purchase.eta.changed")[0] == 201
    with db.transaction() as tx:
        rows = tx.fetchall("SELECT e.subject, o.target, o.state FROM outbox o JOIN events e ON e.id = o.event_id "
                           "ORDER BY e.subject")
    assert rows == [{"subject": f"sale.order/{n}", "target": "kit/sale-order-confirmed", "state": "pending"}
                    for n in (20, 21)]


def test_a_late_webhook_after_the_sweep_is_a_duplicate_not_a_conflict(db):
    config = Config()
    [(status, first)] = service.ingest_many(db, config, [(confirmed(7, amount=120.0), None)],
                                            origin=service.ORIGIN_SWEEP)
    assert status == 201
    # The webhook was sent before a later write changed the amount, and arrives after the sweep.
    status, answer = service.ingest(db, config, confirmed(7, amount=100.0), origin=service.ORIGIN_WEBHOOK)
    assert (status, answer["duplicate"], answer["event"]["id"]) == (200, True, first["event"]["id"])
    assert count_events(db) == 1


def test_the_same_origin_with_a_different_body_is_still_a_conflict(db):
    config = Config()
    service.ingest(db, config, confirmed(8, amount=1.0))
    with pytest.raises(Conflict) as caught:
        service.ingest(db, config, confirmed(8, amount=2.0))
    assert caught.value.code == "idempotency_conflict"
    assert count_events(db) == 1


def test_an_event_stays_a_duplicate_long_after_idempotency_retention(db):
    """The event row is the claim of its key: once the generic key store has purged old keys, a sweep or a resent
    webhook reporting the same change is still one event (it used to fail the whole sweep batch)."""
    config = Config()
    service.ingest(db, config, confirmed(9))
    with db.transaction() as tx:
        tx.execute("DELETE FROM idempotency_keys")  # what the purge of expired keys does after the retention
    [(status, answer)] = service.ingest_many(db, config, [(confirmed(9), None)], origin=service.ORIGIN_SWEEP)
    assert (status, answer["duplicate"]) == (200, True)
    assert service.ingest(db, config, confirmed(9))[0] == 200
    assert count_events(db) == 1


def test_an_envelope_reusing_another_events_id_is_refused_and_writes_nothing(db):
    config = Config()
    _, first = service.ingest(db, config, confirmed(10))
    other = {**service.normalize(confirmed(11)), "id": first["event"]["id"]}
    with pytest.raises(Conflict) as caught:
        service.ingest(db, config, other, origin=service.ORIGIN_ENVELOPE)
    assert caught.value.code == "event_id_conflict"
    assert count_events(db) == 1
    with db.transaction() as tx:
        assert tx.fetchone("SELECT COUNT(*) AS n FROM audit_log")["n"] == 0  # an event's row is its own record
