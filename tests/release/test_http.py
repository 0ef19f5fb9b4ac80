"""POST /v1/orders/release over a real gunicorn: inline snapshots, contract errors, audit entry, policy file."""
from __future__ import annotations

import copy
import json

import pytest
import requests

from python_nodes.contracts import problems
from python_nodes.release import reasons as R
from tests.harness.workers import workers_server

from .helpers import DEFAULT_DOCUMENT, snapshot

TOKEN = "release-tests-api-token"
HEADERS = {"X-Kit-Token": TOKEN}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release-http")
    with workers_server({"KIT_API_TOKEN": TOKEN}, database_url=f"sqlite:///{folder}/kit.sqlite3") as base:
        yield base


def release(base, body, headers=HEADERS, **kwargs):
    return requests.post(f"{base}/v1/orders/release", json=body, headers=headers, timeout=10, **kwargs)


def test_within_policy_order_is_released(server):
    answer = release(server, {"snapshot": snapshot()})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["decision"], body["tier"], body["approver_roles"], body["reasons"]) == (R.RELEASE, 0, [], [])
    assert problems("order-release-decision", body) == []


def test_over_credit_order_needs_finance_with_the_numbers(server):
    body = release(server, {"snapshot": snapshot(partner={"credit": 8500.0})}).json()
    assert (body["decision"], body["tier"], body["approver_roles"]) == (R.APPROVE, 1, ["finance"])
    [credit] = body["reasons"]
    assert credit["code"] == R.CREDIT_LIMIT_EXCEEDED and credit["roles"] == ["finance"]
    assert credit["facts"]["limit"] == 10000 and credit["facts"]["exposure"] == 10210
    assert credit["facts"]["excess"] == 210 and "10,210.00" in credit["message"]


def test_same_snapshot_gives_the_same_digest_in_every_process(server):
    digests = {release(server, {"snapshot": snapshot()}).json()["snapshot_digest"] for _ in range(6)}
    assert len(digests) == 1


def test_decision_is_in_the_audit_timeline(server):
    snap = snapshot(order={"id": 4242}, partner={"credit": 8500.0})
    decided = release(server, {"snapshot": snap}).json()
    timeline = requests.get(f"{server}/v1/timeline/sale.order:4242", headers=HEADERS, timeout=10).json()
    [entry] = [e for e in timeline["entries"] if e["action"] == "release.decided"]
    assert entry["actor"] == "release-policy" and entry["reason_codes"] == [R.CREDIT_LIMIT_EXCEEDED]
    assert entry["data"]["snapshot_digest"] == decided["snapshot_digest"]
    assert entry["data"]["decision"] == R.APPROVE and entry["data"]["policy"] == decided["policy"]


@pytest.mark.parametrize("body, paths", [
    ({}, [""]),
    ({"order_id": "42"}, ["order_id"]),
    ({"order_id": 0}, ["order_id"]),
    ({"order_id": 42, "snapshot": snapshot()}, ["order_id"]),
    ({"snapshot": snapshot(lines=[{"id": 101, "product_id": 11, "qty": -1, "price_unit": 100.0, "discount": 120,
                                   "tax_ids": [1]}])}, ["snapshot/lines/0/discount", "snapshot/lines/0/qty"]),
    ({"snapshot": snapshot(order={"state": "confirmed"})}, ["snapshot/order/state"]),
    ({"snapshot": snapshot(partner={"tier": "Gold!"})}, ["snapshot/partner/tier"]),
    ({"snapshot": {**snapshot(), "products": []}}, ["lines/0/product_id"]),
])
def test_bad_input_is_422_naming_the_fields(server, body, paths):
    answer = release(server, body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_failed"
    assert sorted({d["path"] for d in error["details"]}) == sorted(paths)


def test_bad_media_type_and_bad_json_are_refused(server):
    assert release(server, None, data="order_id=42",
                   headers={**HEADERS, "Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
    answer = release(server, None, data="{", headers={**HEADERS, "Content-Type": "application/json"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_json")


def test_api_token_is_required(server):
    assert release(server, {"snapshot": snapshot()}, headers={}).status_code == 401


def test_policy_file_from_the_environment_is_used(tmp_path):
    document = copy.deepcopy(DEFAULT_DOCUMENT)
    document["version"] = "2.0.0"
    document["rules"]["credit"]["tolerance_pct"] = 5  # 10,210.00 is within 10,500.00 now
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document))
    with workers_server({"KIT_POLICY_FILE": str(path)}, database_url=f"sqlite:///{tmp_path}/kit.sqlite3",
                        workers=1) as base:
        body = release(base, {"snapshot": snapshot(partner={"credit": 8500.0})}, headers={}).json()
    assert body["decision"] == R.RELEASE and body["policy"]["version"] == "2.0.0"


def test_workers_refuse_to_start_with_a_broken_policy(tmp_path):
    document = copy.deepcopy(DEFAULT_DOCUMENT)
    document["rules"]["credit"]["role"] = "nobody_knows"
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document))
    with pytest.raises(RuntimeError, match="role_order"):
        with workers_server({"KIT_POLICY_FILE": str(path)}, database_url=f"sqlite:///{tmp_path}/kit.sqlite3",
                            workers=1):
            pass
