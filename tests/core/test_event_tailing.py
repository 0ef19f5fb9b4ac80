"""Tailing the event log by ``seq`` over real gunicorn on PostgreSQL: an event whose writer commits after a later
one was already read is not skipped (paging by time received would step over it)."""
from __future__ import annotations

import requests

from python_nodes import clock
from python_nodes.events import service, store
from python_nodes.store import connect
from tests.harness.workers import order_confirmed, workers_server


def test_an_event_committed_late_comes_after_what_the_reader_has_seen(postgres_url):
    with workers_server({}, database_url=postgres_url, workers=2) as base:
        def tail(after_seq: int) -> list[dict]:
            answer = requests.get(f"{base}/v1/events", params={"after_seq": after_seq}, timeout=10)
            assert answer.status_code == 200, answer.text
            return answer.json()["items"]

        late_writer = connect(postgres_url)
        try:
            with late_writer.transaction() as tx:
                # Received first (its timestamp is the earlier one), but its transaction is still open ...
                early = service.normalize(order_confirmed(1))
                assert store.insert(tx, early, service.ORIGIN_WEBHOOK, clock.iso())
                # ... while a second webhook is recorded, committed and read by a consumer tailing the log.
                assert requests.post(f"{base}/v1/events", json=order_confirmed(2), timeout=10).status_code == 201
                seen = tail(0)
                assert [(item["event"]["data"]["record"]["id"], item["seq"]) for item in seen] == [(2, 1)]
                assert seen[0]["received_at"] > early_received_at(tx, early["id"])
        finally:
            late_writer.close()
        # Committed now: the consumer's next read, after the position it reached, finds it.
        assert [(item["event"]["id"], item["seq"]) for item in tail(seen[-1]["seq"])] == [(early["id"], 2)]
        assert tail(2) == []


def early_received_at(tx, event_id: str) -> str:
    return tx.fetchone("SELECT received_at FROM events WHERE id = ?", (event_id,))["received_at"]
