"""Paging through the event log with ``after`` (and ``after_id``) misses nothing and repeats nothing, on both stores."""
from __future__ import annotations

from datetime import datetime, timezone

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
