"""Paging through the event log with ``after`` (and ``after_id``) misses nothing and repeats nothing, on both stores."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from python_nodes import clock
from python_nodes.app import create_app
from python_nodes.config import Config
from tests.harness.workers import order_confirmed

NOON = datetime(2026, 12, 1, 12, 0, 0, 500000, tzinfo=timezone.utc)


@pytest.fixture
def client(database_url):
    app = create_app(Config(database_url=database_url))
    yield app.test_client()
    app.extensions["kit.db"].close()


def receive(client, monkeypatch, orders, at: datetime):
    monkeypatch.setattr(clock, "now", lambda: at)
    for order in orders:
        assert client.post("/v1/events", json=order_confirmed(order)).status_code == 201
    monkeypatch.undo()


def orders(items) -> list[int]:
    return [item["event"]["data"]["record"]["id"] for item in items]


def test_pages_through_events_received_in_the_same_microsecond(client, monkeypatch):
    """A group of webhooks can share a timestamp; the page's last id breaks the tie, so the next page starts after it."""
    receive(client, monkeypatch, [1, 2, 3, 4, 5], NOON)
    seen, query = [], {"limit": 2}
    while True:
        page = client.get("/v1/events", query_string=query).json["items"]
        if not page:
            break
        seen += orders(page)
        query = {"limit": 2, "after": page[-1]["received_at"], "after_id": page[-1]["event"]["id"]}
    assert sorted(seen) == [1, 2, 3, 4, 5]
    assert len(seen) == 5


def test_after_is_a_moment_whatever_its_notation(client, monkeypatch):
    """Compared as a time, not as text: whole seconds and other offsets mean what they say."""
    receive(client, monkeypatch, [1], NOON)  # 12:00:00.5
    for moment, expected in (("2026-12-01T12:00:00Z", [1]), ("2026-12-01T14:00:00+02:00", [1]),
                             ("2026-12-01T12:00:00.500000Z", []), ("2026-12-01T13:00:00+00:00", [])):
        assert orders(client.get("/v1/events", query_string={"after": moment}).json["items"]) == expected, moment


def test_after_id_needs_after(client):
    answer = client.get("/v1/events", query_string={"after_id": "x"})
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_query"
    assert answer.json["error"]["details"] == [{"path": "after_id", "message": "only with after"}]


def tail(client, after_seq: int = 0, **filters) -> list[dict]:
    """Every event numbered after ``after_seq``, page by page as a consumer tails the log."""
    seen = []
    while page := client.get("/v1/events", query_string={"limit": 2, "after_seq": after_seq, **filters}).json["items"]:
        seen += page
        after_seq = page[-1]["seq"]
    return seen


def test_tailing_by_seq_sees_each_event_once_in_the_logs_order(client, monkeypatch):
    for order, at in ((1, NOON), (2, NOON + timedelta(seconds=1)), (3, NOON + timedelta(seconds=2)),
                      (4, NOON - timedelta(hours=1)), (5, NOON - timedelta(minutes=30))):  # 4 and 5: an earlier clock
        receive(client, monkeypatch, [order], at)
    first = tail(client)
    assert [item["seq"] for item in first] == [1, 2, 3, 4, 5]
    assert orders(first) == [4, 5, 1, 2, 3]  # numbered by time received the first time the log was read
    receive(client, monkeypatch, [6], NOON + timedelta(seconds=3))
    assert orders(tail(client, after_seq=5)) == [6]
    assert orders(tail(client, after_seq=6)) == []
    assert orders(client.get("/v1/events", query_string={"after_seq": 0, "correlation_id": "sale.order:2"})
                  .json["items"]) == [2]
    # Paging by time still works, and shows the numbers once given.
    by_time = client.get("/v1/events").json["items"]
    assert list(zip(orders(by_time), [item["seq"] for item in by_time])) == [(4, 1), (5, 2), (1, 3), (2, 4), (3, 5),
                                                                            (6, 6)]


def test_after_seq_is_not_combined_with_after(client):
    answer = client.get("/v1/events", query_string={"after_seq": 0, "after": "2026-12-01T12:00:00Z"})
    assert answer.status_code == 400
    assert answer.json["error"]["details"] == [{"path": "after_seq", "message": "not with after"}]
