"""Backorder triage: factor arithmetic, configurable weights, deterministic ties, and the HTTP contract."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from python_nodes.contracts import SCHEMA_DIR, problems
from python_nodes.errors import Unprocessable
from python_nodes.triage.service import triage
from tests.harness.workers import workers_server

EXAMPLE = json.loads((SCHEMA_DIR / "examples" / "backorder-triage-request.three-orders.pass.json").read_text())


def order(order_id, tier="standard", margin=100.0, due="2025-03-10", substitute=False):
    return {"order_id": order_id, "customer_tier": tier, "margin": margin, "due_date": due,
            "substitute_available": substitute}


def ranked(body):
    return [r["order_id"] for r in triage(body)["results"]]


def test_example_ranking_and_factor_arithmetic():
    result = triage(EXAMPLE)
    assert ranked(EXAMPLE) == [4101, 4103, 4102]
    first = result["results"][0]
    factors = {f["factor"]: f for f in first["factors"]}
    # 4101: standard 0.5 x 0.3; best margin 1 x 0.25; due in 1 of 14 days: (1 - 1/14) x 0.35; no substitute 1 x 0.1.
    assert factors["customer_tier"] == {"factor": "customer_tier", "raw": "standard", "normalized": 0.5,
                                        "weight": 0.3, "contribution": 0.15}
    assert factors["urgency"]["raw"] == 1 and factors["urgency"]["contribution"] == 0.325
    assert first["score"] == 0.825
    overdue = {f["factor"]: f for f in result["results"][1]["factors"]}
    assert overdue["urgency"]["raw"] == -2 and overdue["urgency"]["normalized"] == 1.0
    assert overdue["margin"]["normalized"] == 0.0  # a loss scores 0


def test_weights_change_the_order():
    body = {"now": "2025-03-03T00:00:00Z", "orders": [order(1, tier="gold", due="2025-03-16"),
                                                      order(2, tier="standard", due="2025-03-03")]}
    assert ranked({**body, "weights": {"customer_tier": 1, "margin": 0, "urgency": 0, "substitute": 0}}) == [1, 2]
    assert ranked({**body, "weights": {"customer_tier": 0, "margin": 0, "urgency": 1, "substitute": 0}}) == [2, 1]


def test_ties_go_to_earlier_due_date_then_tier_then_smaller_id():
    now = "2025-03-03T00:00:00Z"
    only_substitute = {"customer_tier": 0, "margin": 0, "urgency": 0, "substitute": 1}
    body = {"now": now, "weights": only_substitute, "orders": [
        order("b", due="2025-03-09"), order(10, due="2025-03-09"), order(9, due="2025-03-09"),
        order("a", due="2025-03-09", tier="gold"), order(11, due="2025-03-05")]}
    result = triage(body)
    assert [r["order_id"] for r in result["results"]] == [11, "a", 9, 10, "b"]
    assert len({r["score"] for r in result["results"]}) == 1
    assert all("tie_broken_by" in r for r in result["results"][1:])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["gold", "standard", "new", "blocked"]), st.integers(-500, 5000),
                          st.integers(-5, 30), st.booleans()), min_size=1, max_size=12))
def test_rank_is_a_permutation_independent_of_input_order(rows):
    orders = [order(i, tier=t, margin=m / 10, due=(date(2025, 3, 10) + timedelta(days=d)).isoformat(),
                    substitute=s) for i, (t, m, d, s) in enumerate(rows)]
    body = {"now": "2025-03-10T08:00:00Z", "orders": orders}
    forward = triage(body)
    backward = triage({**body, "orders": list(reversed(orders))})
    assert forward["results"] == backward["results"]
    assert [r["rank"] for r in forward["results"]] == list(range(1, len(orders) + 1))
    for r in forward["results"]:
        assert abs(sum(f["contribution"] for f in r["factors"]) - r["score"]) < 1e-3
    scores = [r["score"] for r in forward["results"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("body, path", [
    ({"orders": [order(1, tier="platinum")]}, "orders/0/customer_tier"),
    ({"orders": [order(1), order(1)]}, "orders/1/order_id"),
    ({"orders": [order(1)], "weights": {"customer_tier": 0, "margin": 0, "urgency": 0, "substitute": 0}}, "weights"),
])
def test_inconsistent_requests_are_422(body, path):
    with pytest.raises(Unprocessable) as caught:
        triage(body)
    assert [d["path"] for d in caught.value.details] == [path]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("triage-http")
    with workers_server({}, workers=1, threads=2, database_url=f"sqlite:///{folder}/kit.sqlite3") as base:
        yield base


def test_http_triage_answers_the_contract(server):
    answer = requests.post(f"{server}/v1/backorders/triage", json=EXAMPLE, timeout=20)
    assert answer.status_code == 200, answer.text
    assert problems("backorder-triage-response", answer.json()) == []
    assert [r["order_id"] for r in answer.json()["results"]] == [4101, 4103, 4102]


@pytest.mark.parametrize("body, path", [
    ({"orders": [order(1, tier="platinum")]}, "orders/0/customer_tier"),
    ({"orders": [{**order(1), "margin": "lots"}]}, "orders/0/margin"),
    ({"orders": [order(1)], "weights": {"urgency": -1}}, "weights/urgency"),
    ({"orders": []}, "orders"),
])
def test_http_bad_input_is_422_naming_the_field(server, body, path):
    answer = requests.post(f"{server}/v1/backorders/triage", json=body, timeout=20)
    assert answer.status_code == 422, answer.text
    assert [d["path"] for d in answer.json()["error"]["details"]] == [path]
