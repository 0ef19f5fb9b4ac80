"""Boundaries of the cost model: cutoffs, late days, lanes, ties with the penalty, rounding, max_plans."""
from __future__ import annotations

import copy
from fractions import Fraction

import pytest

from python_nodes.allocation import service
from python_nodes.allocation.checker import check
from python_nodes.allocation.model import build_problem
from python_nodes.errors import Unprocessable


def order(**changes):
    """One product, two warehouses: A near and dear, B far and cheap."""
    body = {
        "now": "2025-03-03T13:59:59Z",
        "promised_date": "2025-03-04",
        "lines": [{"line_id": 1, "product_id": "P", "qty": 5}],
        "warehouses": [
            {"id": "A", "stock": {"P": 5}, "cutoff": "14:00", "handling_cost": 2, "workload": 0},
            {"id": "B", "stock": {"P": 5}, "cutoff": "14:00", "handling_cost": 1, "workload": 0},
        ],
        "lanes": [
            {"warehouse_id": "A", "cost_per_shipment": 10, "cost_per_unit": 1, "transit_days": 1},
            {"warehouse_id": "B", "cost_per_shipment": 3, "cost_per_unit": 0.5, "transit_days": 3},
        ],
        "policy": {"split_penalty": 5, "late_penalty_per_day": 4, "backorder_penalty_per_unit": 100,
                   "workload_penalty_per_unit": 0, "max_shipments": 2},
    }
    for path, value in changes.items():
        target = body
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(keys[-1]) if keys[-1].isdigit() else keys[-1]] = value
    return body


def optimum(body):
    return service.plan(build_problem(body))["plans"][0]


def test_one_second_before_cutoff_ships_today():
    best = optimum(order())
    # B: 1 + 3 + 2.5 units + 4 x 1 late day (ships 03-03, eta 03-06 is 2 days late -> 8) = 14.5; A: 2 + 10 + 5 = 17.
    assert best["shipments"][0]["warehouse_id"] == "B"
    assert best["shipments"][0]["ship_date"] == "2025-03-03"
    assert best["shipments"][0]["late_days"] == 2
    assert best["cost"]["total"] == 14.5


def test_at_the_cutoff_ships_the_next_day():
    best = optimum(order(now="2025-03-03T14:00:00Z"))
    # Both ship 03-04: B arrives 03-07 (3 late -> 12, total 18.5); A arrives 03-05 (1 late -> 4, total 21).
    assert best["shipments"][0]["ship_date"] == "2025-03-04"
    assert best["cost"]["total"] == 18.5


def test_now_with_an_offset_is_read_in_utc():
    # 15:30+02:00 is 13:30 UTC: before the 14:00 UTC cutoff.
    assert optimum(order(now="2025-03-03T15:30:00+02:00"))["shipments"][0]["ship_date"] == "2025-03-03"


def test_a_warehouse_without_a_lane_never_ships():
    body = order(lanes=[order()["lanes"][0]])
    best = optimum(body)
    assert [s["warehouse_id"] for s in best["shipments"]] == ["A"]


def test_on_a_cost_tie_the_plan_with_fewer_shipments_leads_and_the_shipping_plan_follows():
    body = order(policy__backorder_penalty_per_unit=0.5, lanes=[
        {"warehouse_id": "B", "cost_per_shipment": 0, "cost_per_unit": 0.5, "transit_days": 0}],
        warehouses__1__handling_cost=0)
    result = service.plan(build_problem(body))
    first, second = result["plans"][:2]
    # Backordering all 5 units and shipping them from B both cost 2.50: the model is indifferent.
    assert first["cost"]["total"] == second["cost"]["total"] == 2.5
    assert first["shipments"] == [] and first["kind"] == "optimal"
    assert second["backorders"] == [] and "no_backorder" in second["labels"]


def test_backorder_when_cheaper_than_any_shipment():
    best = optimum(order(policy__backorder_penalty_per_unit=1))
    assert best["shipments"] == [] and best["backorders"] == [{"line_id": 1, "qty": 5}]
    assert best["cost"]["total"] == 5.0
    assert "Nothing ships" in best["explanation"][-1]


def test_lines_of_one_product_share_a_warehouse_stock():
    body = order(lines=[{"line_id": 1, "product_id": "P", "qty": 4}, {"line_id": 2, "product_id": "P", "qty": 4}],
                 policy__max_shipments=1, policy__late_penalty_per_day=0)
    best = optimum(body)
    assert sum(i["qty"] for i in best["shipments"][0]["lines"]) == 5
    assert sum(b["qty"] for b in best["backorders"]) == 3


def test_split_penalty_counts_extra_shipments_only():
    body = order(lines=[{"line_id": 1, "product_id": "P", "qty": 8}])
    best = optimum(body)
    assert len(best["shipments"]) == 2 and best["cost"]["split"] == 5.0


def test_money_is_rounded_to_cents_half_up_from_the_exact_value():
    assert service.money(Fraction(1005, 1000)) == 1.01  # 1.005 as a float would round down
    assert service.money(Fraction(1, 3)) == 0.33
    assert service.money(Fraction(2675, 1000)) == 2.68


def test_exact_decimal_inputs_do_not_pick_up_float_error():
    body = order(lanes=[{"warehouse_id": "A", "cost_per_shipment": 0.1, "cost_per_unit": 0.7, "transit_days": 0}],
                 warehouses__0__handling_cost=0.2, lines=[{"line_id": 1, "product_id": "P", "qty": 3}])
    best = optimum(body)
    assert best["cost"]["lane"] == 2.2 and best["cost"]["total"] == 2.4


def test_max_plans_limits_the_answer_and_the_optimum_stays_first():
    body = order(lines=[{"line_id": 1, "product_id": "P", "qty": 8}], max_plans=1)
    result = service.plan(build_problem(body))
    assert [p["kind"] for p in result["plans"]] == ["optimal"]


def test_alternatives_differ_from_the_optimum_and_are_labelled():
    body = order(lines=[{"line_id": 1, "product_id": "P", "qty": 8}])
    result = service.plan(build_problem(body))
    kinds = [p["kind"] for p in result["plans"]]
    assert kinds[0] == "optimal" and len(set(map(str, result["plans"]))) == len(kinds)
    assert "single_shipment" in kinds
    assert result["plans"][1]["explanation"][0].startswith("Best single-shipment plan: total")


def test_the_checker_catches_a_tampered_plan():
    body = order()
    problem = build_problem(body)
    good = service.plan(problem)["plans"][0]
    assert check(problem, good) == []
    oversold = copy.deepcopy(good)
    oversold["shipments"][0]["lines"][0]["qty"] = 6
    assert any("planned for 5" in v for v in check(problem, oversold))
    cheaper = copy.deepcopy(good)
    cheaper["cost"]["total"] -= 0.01
    assert any("reported cost" in v for v in check(problem, cheaper))


@pytest.mark.parametrize("change, path", [
    (dict(lines=[{"line_id": 1, "product_id": "Q", "qty": 1}]), "lines/0/product_id"),
    (dict(warehouses__1__id="A"), "warehouses/1/id"),
])
def test_semantic_errors_name_the_field(change, path):
    with pytest.raises(Unprocessable) as caught:
        build_problem(order(**change))
    assert path in [d["path"] for d in caught.value.details]


def test_product_listed_with_zero_stock_is_known_and_backordered():
    body = order(lines=[{"line_id": 1, "product_id": "Z", "qty": 2}],
                 warehouses__0__stock={"P": 5, "Z": 0})
    best = optimum(body)
    assert best["backorders"] == [{"line_id": 1, "qty": 2}]
