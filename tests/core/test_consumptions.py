"""Event consumptions: the effect-once gate n8n workflows use, with leases so a run that dies mid-way loses nothing."""
from datetime import timedelta

import pytest

from python_nodes import clock
from python_nodes.app import create_app
from python_nodes.config import Config

WEBHOOK = {"_action": "Kit: sale order confirmed(#12)", "_id": 42, "_model": "sale.order", "id": 42,
           "name": "S00042", "state": "sale", "write_date": "2026-11-20 09:15:02"}
CONSUMER = "n8n.order-confirmed"


@pytest.fixture
def client(database_url):
    app = create_app(Config(database_url=database_url, webhook_secret="s", outbox_enabled=False))
    yield app.test_client()
    app.extensions["kit.db"].close()


@pytest.fixture
def event_id(client):
    answer = client.post("/v1/events?token=s", json=WEBHOOK)
    assert answer.status_code == 201, answer.json
    return answer.json["event"]["id"]


def claim(client, event_id, **extra):
    return client.post(f"/v1/events/{event_id}/consumptions", json={"consumer": CONSUMER, **extra})


def test_without_a_lease_the_first_claim_wins_and_the_rest_are_redeliveries(client, event_id):
    assert claim(client, event_id).json == {"event_id": event_id, "consumer": CONSUMER, "first": True,
                                            "state": "claimed"}
    again = claim(client, event_id)
    assert (again.status_code, again.json["first"], again.json["state"]) == (200, False, "done")


def test_a_live_lease_refuses_a_second_run_with_a_retryable_409(client, event_id):
    assert claim(client, event_id, lease_seconds=60).json["first"] is True
    busy = claim(client, event_id, lease_seconds=60)
    assert busy.status_code == 409
    assert busy.json["error"]["code"] == "consumption_in_progress"


def test_done_makes_later_deliveries_redeliveries(client, event_id):
    claim(client, event_id, lease_seconds=60)
    done = client.post(f"/v1/events/{event_id}/consumptions/{CONSUMER}/done")
    assert (done.status_code, done.json["state"], done.json["first"]) == (200, "done", False)
    assert client.post(f"/v1/events/{event_id}/consumptions/{CONSUMER}/done").status_code == 200  # idempotent
    assert claim(client, event_id, lease_seconds=60).json["state"] == "done"


def test_the_consumptions_of_an_event_can_be_listed(client, event_id):
    assert client.get(f"/v1/events/{event_id}/consumptions").json == {"event_id": event_id, "items": []}
    claim(client, event_id, lease_seconds=60)
    [held] = client.get(f"/v1/events/{event_id}/consumptions").json["items"]
    assert (held["consumer"], held["state"], held["completed_at"]) == (CONSUMER, "claimed", None)
    client.post(f"/v1/events/{event_id}/consumptions/{CONSUMER}/done")
    [done] = client.get(f"/v1/events/{event_id}/consumptions").json["items"]
    assert done["state"] == "done" and done["completed_at"] and done["lease_until"] is None


def test_an_expired_lease_is_taken_over_by_the_next_delivery(client, event_id, monkeypatch):
    claim(client, event_id, lease_seconds=60)  # this run dies before saying done
    later = clock.now() + timedelta(seconds=61)
    monkeypatch.setattr(clock, "now", lambda: later)
    taken = claim(client, event_id, lease_seconds=60)
    assert (taken.status_code, taken.json["first"]) == (200, True)
    assert claim(client, event_id, lease_seconds=60).status_code == 409  # the new holder's lease runs


def test_done_without_a_claim_and_unknown_events_are_404(client, event_id):
    assert client.post(f"/v1/events/{event_id}/consumptions/{CONSUMER}/done").status_code == 404
    assert claim(client, "no-such-event").status_code == 404


@pytest.mark.parametrize("body", [{"consumer": CONSUMER, "lease_seconds": 0}, {"consumer": CONSUMER,
                                                                               "lease_seconds": "60"}])
def test_bad_lease_is_422_and_claims_nothing(client, event_id, body):
    answer = client.post(f"/v1/events/{event_id}/consumptions", json=body)
    assert answer.status_code == 422
    assert claim(client, event_id).json["first"] is True
