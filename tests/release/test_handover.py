"""POST /v1/orders/release/handover over real processes (Odoo simulator, gunicorn workers, both stores): an order
event is claimed, decided and written back to Odoo once; approvals keep it claimed; a failure leaves no claim."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from python_nodes.contracts import problems
from python_nodes.release import reasons as R
from tests.conftest import fresh_postgres_database
from tests.harness.workers import order_confirmed, workers_server

from .test_odoo_http import make_order, notes, state

SECRET = "handover-webhook-secret"
CONSUMER = "n8n.order-confirmed"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def base(request, sim, tmp_path_factory):
    env = {"KIT_ODOO_URL": sim.url, "KIT_ODOO_DB": sim.db, "KIT_ODOO_USER": sim.login,
           "KIT_ODOO_PASSWORD": sim.password, "KIT_WEBHOOK_SECRET": SECRET}
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("release-handover")
        with workers_server(env, database_url=f"sqlite:///{folder}/kit.sqlite3") as url:
            yield url
    else:
        with fresh_postgres_database() as database_url, workers_server(env, database_url=database_url) as url:
            yield url


def record(base, order_id: int) -> str:
    """Odoo's webhook for the order, recorded by the inbox; the event id."""
    answer = requests.post(f"{base}/v1/events", params={"token": SECRET}, json=order_confirmed(order_id), timeout=20)
    assert answer.status_code == 201, answer.text
    return answer.json()["event"]["id"]


def handover(base, event_id: str, **extra) -> requests.Response:
    return requests.post(f"{base}/v1/orders/release/handover", timeout=30,
                         json={"event_id": event_id, "consumer": CONSUMER, **extra})


def consumption(base, event_id: str) -> list[dict]:
    return requests.get(f"{base}/v1/events/{event_id}/consumptions", timeout=10).json()["items"]


def timeline(base, order_id: int) -> list[dict]:
    return requests.get(f"{base}/v1/timeline/sale.order:{order_id}", timeout=10).json()["entries"]


def test_order_within_policy_is_released_once_and_a_redelivery_changes_nothing(base, odoo):
    order_id = make_order(odoo)
    event_id = record(base, order_id)

    answer = handover(base, event_id)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert problems("order-release-handover", body) == []
    assert (body["handover"], body["decision"], body["order_id"]) == ("done", R.RELEASE, order_id)
    assert body["release"] is None  # nothing left for the caller to start
    assert body["outcome"]["outcome"] == "released" and body["outcome"]["confirmed"] is True
    assert state(odoo, order_id) == "sale"
    assert len(notes(odoo, order_id)) == 1
    [claim] = consumption(base, event_id)
    assert (claim["consumer"], claim["state"]) == (CONSUMER, "done")

    again = handover(base, event_id)
    assert again.status_code == 200
    assert (again.json()["handover"], again.json()["decision"], again.json()["outcome"]) == ("redelivery", None, None)
    assert len(notes(odoo, order_id)) == 1


def test_order_needing_approval_stays_claimed_until_the_caller_says_done(base, odoo):
    order_id = make_order(odoo, tier="B", credit=19950.0, limit=20000.0)  # 19,950 + 95.00 > 20,000
    event_id = record(base, order_id)

    body = handover(base, event_id, lease_seconds=120).json()
    assert problems("order-release-handover", body) == []
    assert (body["handover"], body["decision"], body["outcome"]) == ("needs_approval", R.APPROVE, None)
    assert R.CREDIT_LIMIT_EXCEEDED in body["reason_codes"]
    # The approvals start from the decision in the answer: it is the one recorded, and the only one.
    release = body["release"]
    assert (release["order_id"], release["decision"]) == (order_id, R.APPROVE)
    assert [s["role"] for s in release["approval_request"]["steps"]] == ["finance"]
    decided = [e for e in timeline(base, order_id) if e["action"] == "release.decided"]
    assert [e["data"]["snapshot_digest"] for e in decided] == [release["snapshot_digest"]]
    assert state(odoo, order_id) == "draft" and notes(odoo, order_id) == []
    assert [c["state"] for c in consumption(base, event_id)] == ["claimed"]

    busy = handover(base, event_id)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "consumption_in_progress"

    done = requests.post(f"{base}/v1/events/{event_id}/consumptions/{CONSUMER}/done", timeout=10)
    assert done.status_code == 200
    assert handover(base, event_id).json()["handover"] == "redelivery"


def test_concurrent_deliveries_of_one_event_release_the_order_once(base, odoo):
    order_id = make_order(odoo)
    event_id = record(base, order_id)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: handover(base, event_id), range(8)))
    outcomes = sorted((a.status_code, a.json().get("handover") or a.json()["error"]["code"]) for a in answers)
    assert outcomes.count((200, "done")) == 1, outcomes
    assert {o for o in outcomes if o != (200, "done")} <= {(200, "redelivery"), (409, "consumption_in_progress")}
    assert len(notes(odoo, order_id)) == 1


def test_an_order_odoo_cannot_read_leaves_no_claim_behind(base):
    event_id = record(base, 987654)  # the webhook names an order the simulator does not have
    answer = handover(base, event_id)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "odoo_missingerror"
    assert consumption(base, event_id) == []


@pytest.mark.parametrize("body, status, code", [
    ({"event_id": "no-such-event", "consumer": CONSUMER}, 404, "not_found"),
    ({"event_id": "x"}, 422, "validation_failed"),
    ({"order_id": 42, "consumer": CONSUMER}, 422, "validation_failed"),
])
def test_bad_requests_get_the_json_error_and_claim_nothing(base, body, status, code):
    answer = requests.post(f"{base}/v1/orders/release/handover", json=body, timeout=10)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text


def test_an_event_about_something_else_than_a_sale_order_is_refused(base):
    webhook = {"_action": "Kit: picking late(#3)", "_id": 77, "_model": "stock.picking", "id": 77,
               "state": "assigned", "scheduled_date": "2026-11-20 09:00:00", "write_date": "2026-11-20 09:15:02"}
    recorded = requests.post(f"{base}/v1/events", params={"token": SECRET, "type": "picking.sla.breached"},
                             json=webhook, timeout=20)
    assert recorded.status_code == 201, recorded.text
    event_id = recorded.json()["event"]["id"]
    answer = handover(base, event_id)
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "not_a_sale_order")
    assert consumption(base, event_id) == []


def handovers(base, event_ids: list[str]) -> requests.Response:
    return requests.post(f"{base}/v1/orders/release/handovers", timeout=60,
                         json={"event_ids": event_ids, "consumer": CONSUMER})


def test_a_batch_hands_each_event_over_in_order_and_one_that_fails_does_not_stop_the_others(base, odoo):
    released = make_order(odoo)
    waiting = make_order(odoo, tier="B", credit=19950.0, limit=20000.0)
    events = [record(base, released), record(base, 987653), record(base, waiting)]  # 987653: not in Odoo

    answer = handovers(base, events)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert problems("order-release-handovers", body) == []
    assert [(i["event_id"], i["handover"]) for i in body["items"]] == [
        (events[0], "done"), (events[1], "failed"), (events[2], "needs_approval")]
    failed = body["items"][1]
    assert (failed["status"], failed["error"]["code"]) == (404, "odoo_missingerror")
    assert consumption(base, events[1]) == []  # a redelivery tries it again
    assert state(odoo, released) == "sale" and len(notes(odoo, released)) == 1
    assert body["items"][2]["release"]["order_id"] == waiting
    assert [c["state"] for c in consumption(base, events[2])] == ["claimed"]

    again = handovers(base, events).json()["items"]
    assert [i["handover"] for i in again] == ["redelivery", "failed", "failed"]
    assert (again[2]["status"], again[2]["error"]["code"]) == (409, "consumption_in_progress")
    assert len(notes(odoo, released)) == 1


@pytest.mark.parametrize("event_ids", [[], ["a", "a"], "a"])
def test_a_batch_that_is_empty_repeats_an_event_or_is_no_list_is_refused(base, event_ids):
    answer = handovers(base, event_ids)
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "validation_failed"), answer.text
