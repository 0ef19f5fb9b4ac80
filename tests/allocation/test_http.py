"""POST /v1/allocation/plan over a real gunicorn: a valid plan, and 422 naming the field for each kind of bad input."""
from __future__ import annotations

import copy
import json

import pytest
import requests

from python_nodes.contracts import SCHEMA_DIR, problems
from tests.harness.workers import workers_server

from .instances import violations

EXAMPLE = json.loads((SCHEMA_DIR / "examples" / "allocation-plan-request.inline.pass.json").read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("allocation-http")
    with workers_server({}, workers=1, threads=2, database_url=f"sqlite:///{folder}/kit.sqlite3") as base:
        yield base


def plan(base, body, **kwargs):
    return requests.post(f"{base}/v1/allocation/plan", json=body, timeout=20, **kwargs)


def test_example_order_gets_a_feasible_optimal_plan_and_an_audit_entry(server):
    answer = plan(server, {**EXAMPLE, "correlation_id": "sale.order:777"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert problems("allocation-plan-response", body) == []
    assert body["plans"][0]["kind"] == "optimal"
    for p in body["plans"]:
        assert violations(EXAMPLE, p) == []
    # AMS + UTR cover everything on time: the optimum is also the best no-backorder and on-time plan.
    assert body["plans"][0]["labels"] == ["optimal", "no_backorder", "meets_promise"]
    # By hand: UTR (0.35 + 0.5 x 0.5 per unit) takes 4 red + 5 blue, AMS (0.4 + 0.5 x 0.8) the other 6 red.
    assert body["plans"][0]["cost"] == {"handling": 9.5, "lane": 28.55, "workload": 4.65, "split": 6.0, "late": 0.0,
                                        "backorder": 0.0, "total": 48.7}
    assert [(s["warehouse_id"], s["ship_date"], s["eta"]) for s in body["plans"][0]["shipments"]] == [
        ("AMS", "2025-03-03", "2025-03-04"), ("UTR", "2025-03-03", "2025-03-04")]
    single = body["plans"][1]
    assert single["kind"] == "single_shipment" and single["cost"]["total"] == 61.3
    assert single["backorders"] == [{"line_id": "L1", "qty": 2}, {"line_id": "L3", "qty": 2}]
    entries = requests.get(f"{server}/v1/timeline/sale.order:777", timeout=10).json()["entries"]
    [entry] = [e for e in entries if e["action"] == "allocation.planned"]
    assert entry["data"]["optimal_total"] == 48.7 and entry["reason_codes"] == ["optimal", "single_shipment"]


def _mutate(change):
    body = copy.deepcopy(EXAMPLE)
    change(body)
    return body


BAD = [
    ("negative qty", lambda b: b["lines"][0].update(qty=-2), ["lines/0/qty"]),
    ("zero qty", lambda b: b["lines"][2].update(qty=0), ["lines/2/qty"]),
    ("unknown product", lambda b: b["lines"][1].update(product_id="SKU-GHOST"), ["lines/1/product_id"]),
    ("cutoff 25:00", lambda b: b["warehouses"][1].update(cutoff="25:00"), ["warehouses/1/cutoff"]),
    ("duplicate warehouse ids", lambda b: b["warehouses"][2].update(id="AMS"), ["warehouses/2/id", "lanes/2/warehouse_id"]),
    ("no lanes at all", lambda b: b.update(lanes=[]), ["lanes"]),
    ("lane to unknown warehouse", lambda b: b["lanes"][0].update(warehouse_id="NOWHERE"), ["lanes/0/warehouse_id"]),
    ("duplicate line ids", lambda b: b["lines"][1].update(line_id="L1"), ["lines/1/line_id"]),
    ("negative stock", lambda b: b["warehouses"][0]["stock"].update({"SKU-RED": -1}), ["warehouses/0/stock/SKU-RED"]),
    ("max_shipments 0", lambda b: b["policy"].update(max_shipments=0), ["policy/max_shipments"]),
    ("now without offset", lambda b: b.update(now="2025-03-03T13:30:00"), ["now"]),
]


@pytest.mark.parametrize("change, paths", [(c, p) for _, c, p in BAD], ids=[name for name, _, _ in BAD])
def test_bad_input_is_422_naming_the_field(server, change, paths):
    answer = plan(server, _mutate(change))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert problems("error", answer.json()) == []
    assert sorted(d["path"] for d in error["details"]) == sorted(paths)


def test_non_json_is_refused(server):
    answer = requests.post(f"{server}/v1/allocation/plan", data="lines=1", timeout=10,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 415
    answer = requests.post(f"{server}/v1/allocation/plan", data="{", timeout=10,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 400


def test_order_id_without_a_network_file_is_a_server_problem(server):
    answer = plan(server, {"order_id": 1, "promised_date": "2025-03-05"})
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "network_file_missing"
