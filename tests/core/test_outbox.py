"""The outbox forwards each recorded event to n8n's webhook until it is accepted, across gunicorn processes."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import requests
import responses

from python_nodes import clock
from python_nodes.config import Config
from python_nodes.events.service import ingest
from python_nodes.outbox import service as outbox
from python_nodes.outbox.service import backoff
from python_nodes.store import connect
from python_nodes.store.migrations import migrate
from tests.harness.receiver import receiver
from tests.harness.workers import order_confirmed, workers_server


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_events_reach_n8n_once_each_after_an_outage(request, tmp_path, backend):
    url = f"sqlite:///{tmp_path}/k.sqlite3" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    with receiver() as n8n:
        n8n.refuse_with = 503
        env = {"KIT_N8N_WEBHOOK_BASE": n8n.url + "/webhook", "KIT_N8N_TOKEN": "to-n8n",
               "KIT_OUTBOX_BACKOFF_BASE": "0.1", "KIT_OUTBOX_BACKOFF_MAX": "0.5"}
        with workers_server(env, database_url=url, workers=3) as base:
            for order_id in range(1, 31):
                assert requests.post(f"{base}/v1/events", json=order_confirmed(order_id), timeout=5).status_code == 201
            assert wait_for(lambda: len(n8n.received) >= 30)  # tried while n8n refuses
            n8n.refuse_with = None
            assert wait_for(lambda: len(n8n.events()) >= 30)
            time.sleep(1.0)  # anything sent twice would show up by now
            delivered = n8n.events()
            assert sorted(b["data"]["record"]["id"] for b in delivered) == list(range(1, 31))
            accepted = [r for r in n8n.received if r["status"] == 200]
            assert {r["path"] for r in accepted} == {"/webhook/kit/sale-order-confirmed"}
            assert all(r["headers"]["X-Kit-Token"] == "to-n8n" for r in accepted)
            state = requests.get(f"{base}/v1/outbox", timeout=5).json()
            assert state["backlog"] == {"delivered": 30}


def test_each_process_keeps_its_configured_number_of_deliveries_in_flight(tmp_path):
    with receiver() as n8n:
        n8n.answering.clear()  # n8n holds every delivery open, as while a hand-over reads and writes Odoo
        env = {"KIT_N8N_WEBHOOK_BASE": n8n.url + "/webhook", "KIT_OUTBOX_CONCURRENCY": "3"}
        with workers_server(env, workers=1) as base:
            for order_id in range(1, 11):
                assert requests.post(f"{base}/v1/events", json=order_confirmed(order_id), timeout=5).status_code == 201
            assert wait_for(lambda: len(n8n.received) >= 3)
            time.sleep(0.5)  # a fourth would have arrived by now
            assert len(n8n.received) == 3
            n8n.answering.set()
            assert wait_for(lambda: len(n8n.events()) >= 10)
            time.sleep(1.0)  # anything sent twice would show up by now
            assert sorted(b["data"]["record"]["id"] for b in n8n.events()) == list(range(1, 11))
            assert requests.get(f"{base}/v1/outbox", timeout=5).json()["backlog"] == {"delivered": 10}


def test_gives_up_after_max_attempts_then_retry_delivers(tmp_path):
    with receiver() as n8n:
        n8n.refuse_with = 500
        env = {"KIT_N8N_WEBHOOK_BASE": n8n.url + "/webhook", "KIT_OUTBOX_MAX_ATTEMPTS": "3",
               "KIT_OUTBOX_BACKOFF_BASE": "0.05", "KIT_OUTBOX_BACKOFF_MAX": "0.1"}
        with workers_server(env, workers=1) as base:
            requests.post(f"{base}/v1/events", json=order_confirmed(7), timeout=5)
            assert wait_for(lambda: requests.get(f"{base}/v1/outbox", params={"state": "dead"},
                                                 timeout=5).json()["items"])
            dead = requests.get(f"{base}/v1/outbox", params={"state": "dead"}, timeout=5).json()["items"][0]
            assert dead["attempts"] == 3 and "HTTP 500" in dead["last_error"]
            assert len(n8n.received) == 3
            n8n.refuse_with = None
            assert requests.post(f"{base}/v1/outbox/{dead['id']}/retry", timeout=5).status_code == 200
            # n8n has the body before the outbox has its answer: wait for the row to be recorded delivered.
            assert wait_for(lambda: requests.get(f"{base}/v1/outbox", params={"state": "delivered"},
                                                 timeout=5).json()["items"])
            assert len(n8n.events()) == 1
            assert requests.post(f"{base}/v1/outbox/{dead['id']}/retry", timeout=5).status_code == 404


def test_a_delivery_in_flight_is_not_sent_again_by_hand(tmp_path):
    with receiver() as n8n:
        n8n.answering.clear()  # n8n takes its time with the first send
        with workers_server({"KIT_N8N_WEBHOOK_BASE": n8n.url + "/webhook"}, workers=1) as base:
            requests.post(f"{base}/v1/events", json=order_confirmed(8), timeout=5)
            assert wait_for(lambda: n8n.received)
            [row] = requests.get(f"{base}/v1/outbox", timeout=5).json()["items"]
            refused = requests.post(f"{base}/v1/outbox/{row['id']}/retry", timeout=5)
            assert refused.status_code == 409
            assert refused.json()["error"]["code"] == "outbox_in_flight"
            n8n.answering.set()
            assert wait_for(lambda: requests.get(f"{base}/v1/outbox", params={"state": "delivered"},
                                                 timeout=5).json()["items"])
            time.sleep(1.0)  # a second send would show up by now
            assert len(n8n.received) == 1


def test_a_text_200_from_a_starting_n8n_is_not_a_delivery(tmp_path):
    with receiver() as n8n:
        n8n.starting_up = True
        env = {"KIT_N8N_WEBHOOK_BASE": n8n.url + "/webhook", "KIT_OUTBOX_BACKOFF_BASE": "0.05",
               "KIT_OUTBOX_BACKOFF_MAX": "0.1"}
        with workers_server(env, workers=1) as base:
            requests.post(f"{base}/v1/events", json=order_confirmed(8), timeout=5)
            assert wait_for(lambda: len(n8n.received) >= 2)  # answered, yet sent again
            [row] = requests.get(f"{base}/v1/outbox", timeout=5).json()["items"]
            assert row["state"] == "pending" and "n8n is starting up" in row["last_error"]
            n8n.starting_up = False
            assert wait_for(lambda: len(n8n.events()) == 1)
            assert wait_for(lambda: requests.get(f"{base}/v1/outbox", timeout=5).json()["backlog"] == {"delivered": 1})


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_event_its_recorder_finished_within_the_hand_off_time_is_not_sent(request, tmp_path, backend):
    url = f"sqlite:///{tmp_path}/k.sqlite3" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    consumer = "n8n.order-confirmed"
    with receiver() as n8n:
        env = {"KIT_N8N_WEBHOOK_BASE": n8n.url + "/webhook", "KIT_OUTBOX_HANDOFF_SECONDS": "2"}
        with workers_server(env, database_url=url, workers=1) as base:
            ids, envelopes = {}, {}
            for order_id in (1, 2):  # n8n's direct path records both and hands them over itself
                answer = requests.post(f"{base}/v1/events", params={"handled_by": consumer},
                                       json=order_confirmed(order_id), timeout=5)
                assert answer.status_code == 201
                envelopes[order_id] = answer.json()["event"]
                ids[order_id] = envelopes[order_id]["id"]
            # Order 1's run finished its hand-over (a claim without a lease is done at once); order 2's run died.
            assert requests.post(f"{base}/v1/events/{ids[1]}/consumptions", json={"consumer": consumer},
                                 timeout=5).json()["first"] is True
            # An earlier run on order 1 at the outbox webhook had failed; finished now, its letter settles too.
            letter = requests.post(f"{base}/v1/dead-letters", json=dead_letter_of(envelopes[1], "201"), timeout=5)
            assert letter.json()["state"] == "open"
            time.sleep(1.0)
            assert n8n.received == []  # within the hand-off time the outbox leaves both to their run
            assert wait_for(lambda: n8n.events())
            time.sleep(1.0)  # order 1 would show up by now
            assert [b["id"] for b in n8n.events()] == [ids[2]]
            rows = {r["event_id"]: r for r in requests.get(f"{base}/v1/outbox", timeout=5).json()["items"]}
            assert {e: (r["state"], r["attempts"]) for e, r in rows.items()} == {
                ids[1]: ("delivered", 0), ids[2]: ("delivered", 1)}
            assert requests.get(f"{base}/v1/dead-letters/{letter.json()['id']}", timeout=5).json()["state"] == "settled"
            # Without handled_by an event is forwarded at once, as before.
            requests.post(f"{base}/v1/events", json=order_confirmed(3), timeout=5)
            assert wait_for(lambda: len(n8n.events()) == 2, timeout=1.5)


def dead_letter_of(envelope: dict, execution_id: str, webhook_path: str = "kit/sale-order-confirmed") -> dict:
    """What n8n's error workflow reports for a run the outbox started with ``envelope`` that failed."""
    return {"workflow_id": "odooOpsOrderConf", "workflow_name": "Order confirmed", "execution_id": execution_id,
            "failed_node": "Hand over for release", "error_message": "connection refused", "mode": "webhook",
            "request": {"webhook_path": webhook_path, "method": "POST", "query": {}, "body": envelope,
                        "auth": "kit-header"}}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_dead_letter_of_a_run_the_outbox_delivers_again_is_settled(request, tmp_path, backend):
    url = f"sqlite:///{tmp_path}/k.sqlite3" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    with receiver() as n8n:
        n8n.refuse_with = 500  # the run failed: n8n answers 500 and its error workflow reports a dead letter
        env = {"KIT_N8N_WEBHOOK_BASE": n8n.url + "/webhook", "KIT_OUTBOX_BACKOFF_BASE": "0.2",
               "KIT_OUTBOX_BACKOFF_MAX": "0.4"}
        with workers_server(env, database_url=url, workers=1) as base:
            envelope = requests.post(f"{base}/v1/events", json=order_confirmed(5), timeout=5).json()["event"]
            assert wait_for(lambda: n8n.received)

            def report(letter: dict) -> requests.Response:
                return requests.post(f"{base}/v1/dead-letters", json=letter, timeout=5)

            def state(letter_id: int) -> dict:
                return requests.get(f"{base}/v1/dead-letters/{letter_id}", timeout=5).json()

            failed = report(dead_letter_of(envelope, "101")).json()
            elsewhere = report(dead_letter_of(envelope, "102", webhook_path="kit/exception-routing")).json()
            assert (failed["state"], failed["event_id"], failed["settled_at"]) == ("open", envelope["id"], None)
            n8n.refuse_with = None
            assert wait_for(lambda: state(failed["id"])["state"] == "settled")
            assert state(failed["id"])["settled_at"]
            assert state(elsewhere["id"])["state"] == "open"  # the outbox never delivered the event there
            replay = requests.post(f"{base}/v1/dead-letters/{failed['id']}/replay", timeout=5)
            assert (replay.status_code, replay.json()["error"]["code"]) == (409, "already_settled")
            assert len(n8n.events()) == 1  # no replay reached n8n
            late = report(dead_letter_of(envelope, "103"))  # reported after the delivery: settled at once
            assert (late.status_code, late.json()["state"]) == (201, "settled")
            timeline = requests.get(f"{base}/v1/timeline/{envelope['correlationid']}", timeout=5).json()["entries"]
            assert [e["action"] for e in timeline].count("dead_letter.settled") == 2


def direct_dead_letter_of(body: dict, execution_id: str, workflow_paths: list[str]) -> dict:
    """What n8n's error workflow reports for a run on Odoo's direct webhook that failed before it recorded ``body``
    (the workers were down): Odoo's body, its secret stripped, and the failed workflow's webhook paths."""
    return {"workflow_id": "odooOpsOrderConf", "workflow_name": "Order confirmed", "execution_id": execution_id,
            "failed_node": "Record event in inbox", "error_message": "connection refused", "mode": "webhook",
            "request": {"webhook_path": "odoo/sale-order-confirmed", "method": "POST", "query": {}, "body": body,
                        "auth": "odoo-token"},
            "workflow_paths": workflow_paths}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_dead_letter_of_a_failed_direct_run_settles_when_the_outbox_hands_its_event_to_that_workflow(
        request, tmp_path, backend):
    url = f"sqlite:///{tmp_path}/k.sqlite3" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    both_paths = ["odoo/sale-order-confirmed", "kit/sale-order-confirmed"]
    with receiver() as n8n:
        env = {"KIT_N8N_WEBHOOK_BASE": n8n.url + "/webhook", "KIT_WEBHOOK_SECRET": "odoo-secret"}
        with workers_server(env, database_url=url, workers=1) as base:
            def report(letter: dict) -> dict:
                answer = requests.post(f"{base}/v1/dead-letters", json=letter, timeout=5)
                assert answer.status_code == 201, answer.text
                return answer.json()

            def state(letter_id: int) -> str:
                return requests.get(f"{base}/v1/dead-letters/{letter_id}", timeout=5).json()["state"]

            failed = report(direct_dead_letter_of(order_confirmed(8), "301", both_paths))
            # A workflow that only has the direct webhook: the outbox's delivery is another workflow's run.
            direct_only = report({**direct_dead_letter_of(order_confirmed(8), "302", both_paths[:1]),
                                  "workflow_id": "customOrderFlow"})
            unknown = report(direct_dead_letter_of({**order_confirmed(9), "_model": "res.partner"}, "303", both_paths))
            assert (failed["state"], failed["workflow_paths"]) == ("open", both_paths)
            assert unknown["event_id"] is None  # no event the inbox would record: it needs someone
            assert n8n.received == []
            # The reconciliation sweep (here: the webhook again) records the event; the outbox hands it over.
            recorded = requests.post(f"{base}/v1/events", params={"token": "odoo-secret"}, json=order_confirmed(8),
                                     timeout=5).json()["event"]
            assert failed["event_id"] == direct_only["event_id"] == recorded["id"]
            assert wait_for(lambda: state(failed["id"]) == "settled")
            assert [b["id"] for b in n8n.events()] == [recorded["id"]]
            assert (state(direct_only["id"]), state(unknown["id"])) == ("open", "open")
            timeline = requests.get(f"{base}/v1/timeline/sale.order:8", timeout=5).json()["entries"]
            [entry] = [e for e in timeline if e["action"] == "dead_letter.settled"]
            assert entry["data"]["webhook_path"] == "kit/sale-order-confirmed" and entry["data"]["letter"] == failed["id"]
            late = report(direct_dead_letter_of(order_confirmed(8), "304", both_paths))
            assert late["state"] == "settled"  # reported after the hand-over: settled at once


def test_a_post_keeps_its_events_leased_for_as_long_as_it_may_take(database_url):
    db = connect(database_url)
    migrate(db, ["python_nodes.audit.store", "python_nodes.events.store", "python_nodes.outbox.store",
                 "python_nodes.deadletters.store"])
    config = Config(database_url=database_url, n8n_webhook_base="http://n8n.test/webhook", outbox_timeout=10)
    for order_id in (1, 2, 3):
        ingest(db, config, order_confirmed(order_id))
    parcel = outbox.claim_due(db, 50)
    leased_while_posting = []

    def n8n_answers(_request):
        with db.transaction() as tx:
            leased_while_posting.extend(r["locked_until"] for r in tx.fetchall("SELECT locked_until FROM outbox"))
        return 200, {"Content-Type": "application/json"}, "{}"

    with responses.RequestsMock() as n8n:
        n8n.add_callback(responses.POST, "http://n8n.test/webhook/kit/sale-order-confirmed", callback=n8n_answers)
        posted_at = clock.now()
        assert outbox.deliver(db, config, parcel, requests.Session()) == 3
    # Three events may keep n8n up to 3 x 10 s: another process must not take them over meanwhile.
    floor = posted_at + timedelta(seconds=outbox.LEASE_SECONDS + 30)
    assert len(leased_while_posting) == 3 and all(clock.parse(t) >= floor for t in leased_while_posting)
    db.close()


def test_parcels_group_a_batched_webhooks_rows_up_to_the_limit_and_send_other_rows_alone():
    rows = [{"id": i, "target": target} for i, target in enumerate(
        ["kit/sale-order-confirmed"] * 3 + ["kit/stock-shortage"] + ["kit/sale-order-confirmed"] * 2
        + ["kit/exception-opened"])]
    assert [[r["id"] for r in parcel] for parcel in outbox.parcels(rows, 4)] == [[0, 1, 2, 4], [3], [5], [6]]
    assert [[r["id"] for r in parcel] for parcel in outbox.parcels(rows, 1)] == [[0], [1], [2], [3], [4], [5], [6]]


def test_backoff_grows_exponentially_is_capped_and_jittered():
    assert backoff(1, 0.5, 60, rng=lambda: 1.0) == 0.5
    assert backoff(4, 0.5, 60, rng=lambda: 1.0) == 4.0
    assert backoff(20, 0.5, 60, rng=lambda: 1.0) == 60
    assert backoff(4, 0.5, 60, rng=lambda: 0.0) == 2.0


def test_a_row_whose_batch_lease_ran_out_is_sent_only_by_the_process_that_took_it_over(database_url, monkeypatch):
    db = connect(database_url)
    migrate(db, ["python_nodes.audit.store", "python_nodes.events.store", "python_nodes.outbox.store",
                 "python_nodes.deadletters.store"])  # a delivery settles the dead letters of its event
    config = Config(database_url=database_url, n8n_webhook_base="http://n8n.test/webhook")
    for order_id in (1, 2):
        ingest(db, config, order_confirmed(order_id))
    batch = outbox.claim_due(db, 50)  # one process takes both rows, then spends its lease on earlier rows
    later = clock.now() + timedelta(seconds=outbox.LEASE_SECONDS + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    taken_over = outbox.claim_due(db, 50)  # another process finds the lease run out
    assert [r["id"] for r in taken_over] == [r["id"] for r in batch]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as n8n:
        n8n.post("http://n8n.test/webhook/kit/sale-order-confirmed", json={"ok": True})
        session = requests.Session()
        assert outbox.deliver(db, config, batch, session) == 0
        assert len(n8n.calls) == 0
        assert outbox.deliver(db, config, taken_over, session) == 2
        [call] = n8n.calls  # order-confirmed takes batches: both in one post, in claim order
        assert [e["data"]["record"]["id"] for e in json.loads(call.request.body)] == [1, 2]
    assert outbox.backlog(db) == {"delivered": 2}
    assert [row["attempts"] for row in outbox.listing(db, None, 10)] == [1, 1]  # claims are not attempts: sends are
    db.close()


def test_a_backlog_goes_to_a_webhook_that_takes_batches_in_posts_of_at_most_events_per_post(tmp_path):
    with receiver() as n8n:
        n8n.answering.clear()  # n8n holds the first post open while the backlog builds up
        env = {"KIT_N8N_WEBHOOK_BASE": n8n.url + "/webhook", "KIT_OUTBOX_CONCURRENCY": "1",
               "KIT_OUTBOX_EVENTS_PER_POST": "8"}
        with workers_server(env, workers=1) as base:
            for order_id in range(1, 21):
                assert requests.post(f"{base}/v1/events", json=order_confirmed(order_id), timeout=5).status_code == 201
                if order_id == 1:
                    assert wait_for(lambda: n8n.received)
            n8n.answering.set()
            assert wait_for(lambda: len(n8n.events()) >= 20)
            time.sleep(1.0)  # anything sent twice would show up by now
            posts = [[e["data"]["record"]["id"] for e in body] for body in n8n.bodies()]
            assert posts == [[1], list(range(2, 10)), list(range(10, 18)), [18, 19, 20]]
            assert requests.get(f"{base}/v1/outbox", timeout=5).json()["backlog"] == {"delivered": 20}


def test_the_events_a_batch_answer_marks_failed_are_sent_again_and_only_they(tmp_path):
    with receiver() as n8n:
        refused_once = set()

        def hand_over(batch: list[dict]) -> dict:
            """As order-confirmed answers: order 2's first hand-over fails (another run holds it)."""
            items = []
            for envelope in batch:
                failed = envelope["data"]["record"]["id"] == 2 and envelope["id"] not in refused_once
                if failed:
                    refused_once.add(envelope["id"])
                items.append({"event_id": envelope["id"], "handover": "failed" if failed else "done",
                              **({"status": 409, "error": {"code": "consumption_in_progress"}} if failed else {})})
            return {"consumer": "n8n.order-confirmed", "items": items}

        n8n.answer = hand_over
        n8n.answering.clear()
        env = {"KIT_N8N_WEBHOOK_BASE": n8n.url + "/webhook", "KIT_OUTBOX_CONCURRENCY": "1",
               "KIT_OUTBOX_BACKOFF_BASE": "0.1", "KIT_OUTBOX_BACKOFF_MAX": "0.2"}
        with workers_server(env, workers=1) as base:
            for order_id in range(1, 5):
                requests.post(f"{base}/v1/events", json=order_confirmed(order_id), timeout=5)
                if order_id == 1:
                    assert wait_for(lambda: n8n.received)
            n8n.answering.set()
            assert wait_for(lambda: requests.get(f"{base}/v1/outbox", timeout=5).json()["backlog"] == {"delivered": 4})
            time.sleep(0.5)  # anything sent again would show up by now
            posts = [[e["data"]["record"]["id"] for e in body] for body in n8n.bodies()]
            assert posts == [[1], [2, 3, 4], [2]]
            rows = {r["event_id"]: r for r in requests.get(f"{base}/v1/outbox", timeout=5).json()["items"]}
            assert sorted(r["attempts"] for r in rows.values()) == [1, 1, 1, 2]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_dead_letter_of_a_failed_batch_run_settles_once_the_outbox_delivered_every_event_of_it(
        request, tmp_path, backend):
    url = f"sqlite:///{tmp_path}/k.sqlite3" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    with receiver() as n8n:
        n8n.refuse_with = 500  # the batch's run failed: n8n answers 500 and its error workflow reports a dead letter
        env = {"KIT_N8N_WEBHOOK_BASE": n8n.url + "/webhook", "KIT_OUTBOX_BACKOFF_BASE": "0.2",
               "KIT_OUTBOX_BACKOFF_MAX": "0.4", "KIT_OUTBOX_CONCURRENCY": "1"}
        with workers_server(env, database_url=url, workers=1) as base:
            batch = [requests.post(f"{base}/v1/events", json=order_confirmed(order_id), timeout=5).json()["event"]
                     for order_id in (11, 12)]
            assert wait_for(lambda: n8n.received)
            letter = requests.post(f"{base}/v1/dead-letters", json=dead_letter_of(batch, "401"), timeout=5).json()
            assert (letter["state"], letter["event_id"]) == ("open", None)
            assert letter["event_ids"] == [e["id"] for e in batch]
            n8n.refuse_with = None
            assert wait_for(lambda: len(n8n.events()) >= 2)

            def state() -> str:
                return requests.get(f"{base}/v1/dead-letters/{letter['id']}", timeout=5).json()["state"]

            assert wait_for(lambda: state() == "settled")
            settled = [e for order_id in (11, 12) for e in requests.get(
                f"{base}/v1/timeline/sale.order:{order_id}", timeout=5).json()["entries"]
                if e["action"] == "dead_letter.settled"]
            assert [e["data"]["letter"] for e in settled] == [letter["id"]]  # once, when its last event went out
            late = requests.post(f"{base}/v1/dead-letters", json=dead_letter_of(batch, "402"), timeout=5).json()
            assert late["state"] == "settled"  # reported after every event was delivered: settled at once
