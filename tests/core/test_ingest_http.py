"""POST /v1/events over real gunicorn processes, on SQLite and on PostgreSQL."""
from __future__ import annotations

import json
import re
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.harness.workers import workers_server

SECRET = "s3cret-webhook-token-for-tests"
WEBHOOK = {"_action": "Kit: sale order confirmed(#12)", "_id": 42, "_model": "sale.order", "amount_total": 1250.0,
           "id": 42, "name": "S00042", "partner_id": 7, "state": "sale", "write_date": "2026-11-20 09:15:02"}


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path):
    url = (f"sqlite:///{tmp_path}/kit.sqlite3" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    with workers_server({"KIT_WEBHOOK_SECRET": SECRET}, database_url=url) as base:
        yield base


def post(base, body, token=SECRET, **kwargs):
    return requests.post(f"{base}/v1/events", params={"token": token}, json=body, timeout=10, **kwargs)


def recorded(base, **filters):
    return requests.get(f"{base}/v1/events", params=filters, timeout=10).json()["items"]


def test_twenty_concurrent_deliveries_record_one_event(server):
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post(server, WEBHOOK), range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 19 + [201], statuses
    assert [a.json()["duplicate"] for a in answers].count(False) == 1
    ids = {a.json()["event"]["id"] for a in answers}
    assert len(ids) == 1
    events = recorded(server, correlation_id="sale.order:42")
    assert len(events) == 1
    assert events[0]["event"]["type"] == "sale.order.confirmed"
    assert events[0]["event"]["idempotencykey"] == "sale.order:42:state:sale"


def test_different_body_under_the_same_key_is_refused_and_changes_nothing(server):
    first = post(server, WEBHOOK)
    assert first.status_code == 201
    changed = post(server, {**WEBHOOK, "amount_total": 999.0})
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "idempotency_conflict"
    events = recorded(server, correlation_id="sale.order:42")
    assert [e["event"]["data"]["values"]["amount_total"] for e in events] == [1250.0]


def test_duplicate_replays_the_first_response(server):
    first = post(server, WEBHOOK).json()
    again = post(server, WEBHOOK).json()
    assert again == {**first, "duplicate": True}


BAD_REQUESTS = [
    ("malformed json", dict(data=b'{"_id": 42,', headers={"Content-Type": "application/json"}), 400, "invalid_json"),
    ("wrong content type", dict(data=json.dumps(WEBHOOK), headers={"Content-Type": "text/plain"}), 415,
     "unsupported_media_type"),
    ("oversized body", dict(json={**WEBHOOK, "note": "x" * 300_000}), 413, "payload_too_large"),
    ("unknown model", dict(json={**WEBHOOK, "_model": "x_custom.thing"}), 422, "unknown_model"),
    ("missing _id", dict(json={k: v for k, v in WEBHOOK.items() if k != "_id"}), 422, "validation_failed"),
    ("non-odoo datetime", dict(json={**WEBHOOK, "write_date": "yesterday"}), 422, "validation_failed"),
]


@pytest.mark.parametrize("case,kwargs,status,code", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_bad_input_gets_its_error_and_stores_nothing(server, case, kwargs, status, code):
    answer = requests.post(f"{server}/v1/events", params={"token": SECRET}, timeout=10, **kwargs)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert body["error"]["message"]
    assert recorded(server) == []


@pytest.mark.parametrize("token", ["wrong", "", SECRET[:-1], SECRET + "x"])
def test_wrong_secret_is_refused_and_stores_nothing(server, token):
    answer = post(server, WEBHOOK, token=token)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "bad_webhook_token"
    assert recorded(server) == []


def test_secret_may_come_as_a_header(server):
    answer = requests.post(f"{server}/v1/events", json=WEBHOOK, headers={"X-Kit-Token": SECRET}, timeout=10)
    assert answer.status_code == 201


def test_canonical_envelope_is_accepted_and_unknown_schema_version_refused(server):
    envelope = post(server, WEBHOOK).json()["event"]
    other = {**envelope, "id": "other-id", "idempotencykey": "sale.order:43:state:sale", "subject": "sale.order/43",
             "correlationid": "sale.order:43", "data": {**envelope["data"], "record": {"model": "sale.order", "id": 43}}}
    assert post(server, other).status_code == 201
    future = {**other, "idempotencykey": "sale.order:44:state:sale",
              "dataschema": envelope["dataschema"].replace(".v1.", ".v9.")}
    refused = post(server, future)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "unknown_schema_version"
    assert len(recorded(server)) == 2


def test_metrics_and_readiness(server):
    post(server, WEBHOOK)
    assert requests.get(f"{server}/readyz", timeout=5).status_code == 200
    text = requests.get(f"{server}/metrics", timeout=5).text
    assert 'kit_events_total{result="new",type="sale.order.confirmed"} 1.0' in text


def raw_request(base: str, request: bytes) -> tuple[int, dict, dict]:
    """Send bytes as they are (no client tidies them up); ``(status, headers, JSON body)`` of the answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin1").split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in header_lines)}
    return int(status_line.split()[1]), headers, json.loads(body)


# Refused by gunicorn before the app: a request line over 4094 bytes, a header over 8190, bytes that are not HTTP.
REFUSED_BY_THE_SERVER = [
    ("request line too long", b"POST /v1/events?token=" + b"x" * 5000 + b" HTTP/1.1\r\nHost: kit\r\n"
     b"Content-Length: 2\r\n\r\n{}", 414, "request_line_too_long"),
    ("header too large", b"POST /v1/events HTTP/1.1\r\nHost: kit\r\nX-Kit-Token: " + b"x" * 9000 +
     b"\r\nContent-Length: 2\r\n\r\n{}", 431, "request_headers_too_large"),
    ("not http", b"HELLO THERE\r\n\r\n", 400, "bad_request"),
]


@pytest.mark.parametrize("case,request_bytes,status,code", REFUSED_BY_THE_SERVER,
                         ids=[c[0] for c in REFUSED_BY_THE_SERVER])
def test_what_the_server_refuses_itself_gets_the_json_error_and_stores_nothing(server, case, request_bytes, status,
                                                                               code):
    answer_status, headers, body = raw_request(server, request_bytes)
    assert answer_status == status
    assert headers["content-type"] == "application/json"
    assert re.fullmatch(r"[0-9a-f]{32}", headers["x-correlation-id"])
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    assert recorded(server) == []


def test_a_refusal_by_the_server_is_logged_under_the_correlation_id_it_answers(tmp_path):
    with workers_server({"KIT_WEBHOOK_SECRET": SECRET}, folder=tmp_path) as base:
        _, headers, _ = raw_request(base, REFUSED_BY_THE_SERVER[0][1])
        correlation_id = headers["x-correlation-id"]
    entries = [json.loads(line) for line in (tmp_path / "workers.log").read_text().splitlines()
               if line.startswith("{")]
    assert [(e["level"], e["msg"], e["status"], e["code"]) for e in entries
            if e.get("correlation_id") == correlation_id] == [
        ("WARNING", "request refused before the app", 414, "request_line_too_long")]
