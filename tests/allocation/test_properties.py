"""Property tests: every plan is feasible and honestly costed; the first plan is the brute-force optimum."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from python_nodes.allocation import service
from python_nodes.allocation.model import build_problem

from .instances import brute_force, instances, plan_cost, violations

FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _plans(body, method=service.METHOD_AUTO):
    return service.plan(build_problem(body), method=method)


@FEW
@given(instances())
def test_first_plan_is_the_brute_force_optimum(body):
    result = _plans(body)
    for p in result["plans"]:
        assert violations(body, p) == []
    assert plan_cost(body, result["plans"][0]) == brute_force(body)


@FEW
@given(instances())
def test_milp_and_enumeration_agree_with_brute_force(body):
    optimum = brute_force(body)
    for method in (service.METHOD_MILP, service.METHOD_ENUMERATION):
        result = _plans(body, method)
        assert plan_cost(body, result["plans"][0]) == optimum, method


@FEW
@given(instances())
def test_alternatives_are_the_best_of_their_kind(body):
    result = _plans(body)
    by_label = {label: p for p in result["plans"] for label in p["labels"]}
    expected = {
        service.KIND_SINGLE_SHIPMENT: brute_force(body, max_shipments=1),
        service.KIND_NO_BACKORDER: brute_force(body, allow_backorder=False),
        service.KIND_MEETS_PROMISE: brute_force(body, allow_backorder=False, on_time_only=True),
    }
    unavailable = {u["kind"] for u in result["unavailable"]}
    for kind, best in expected.items():
        if best is None:
            assert kind in unavailable
        else:
            assert plan_cost(body, by_label[kind]) == best, kind
    totals = [p["cost"]["total"] for p in result["plans"]]
    assert totals == sorted(totals)
    signatures = [(str(p["shipments"]), str(p["backorders"])) for p in result["plans"]]
    assert len(set(signatures)) == len(signatures)
    assert result["plans"][0]["kind"] == service.KIND_OPTIMAL


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_warehouses=7, max_lines=8, max_qty=20, max_products=4, max_stock=30))
def test_larger_instances_are_feasible_and_both_methods_agree(body):
    enumerated = _plans(body, service.METHOD_ENUMERATION)
    solved = _plans(body, service.METHOD_MILP)
    for result in (enumerated, solved):
        for p in result["plans"]:
            assert violations(body, p) == []
    assert plan_cost(body, enumerated["plans"][0]) == plan_cost(body, solved["plans"][0])


@FEW
@given(instances(max_warehouses=4, max_lines=4, max_qty=3, max_products=3, max_stock=5))
def test_branch_and_bound_matches_brute_force_for_every_kind(body):
    result = _plans(body, service.METHOD_BRANCH_AND_BOUND)
    for p in result["plans"]:
        assert violations(body, p) == []
    assert plan_cost(body, result["plans"][0]) == brute_force(body)
    by_label = {label: p for p in result["plans"] for label in p["labels"]}
    unavailable = {u["kind"] for u in result["unavailable"]}
    for kind, restrictions in ((service.KIND_SINGLE_SHIPMENT, dict(max_shipments=1)),
                               (service.KIND_NO_BACKORDER, dict(allow_backorder=False)),
                               (service.KIND_MEETS_PROMISE, dict(allow_backorder=False, on_time_only=True))):
        best = brute_force(body, **restrictions)
        if best is None:
            assert kind in unavailable
        else:
            assert plan_cost(body, by_label[kind]) == best, kind
