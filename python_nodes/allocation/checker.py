"""Independent plan checker: re-derives feasibility, dates and cost from the problem alone, sharing no solver code.

The planner runs every plan through ``check`` before answering, so a solver bug becomes an error, never a plan
that oversells stock, drops a unit or misstates its cost.
"""
from __future__ import annotations

import math
from datetime import date, timedelta
from fractions import Fraction

COST_PARTS = ("handling", "lane", "workload", "split", "late", "backorder")


def _cents(value: Fraction) -> float:
    return float(Fraction(math.floor(value * 100 + Fraction(1, 2)), 100))


def _departure(problem, warehouse) -> date:
    today = problem.now.date()
    before_cutoff = (problem.now.hour, problem.now.minute, problem.now.second, problem.now.microsecond) < (
        warehouse.cutoff.hour, warehouse.cutoff.minute, 0, 0)
    return today if before_cutoff else today + timedelta(days=1)


def check(problem, plan: dict) -> list[str]:
    """Every way ``plan`` (response shape) breaks the model or misreports itself; empty when it is sound."""
    violations: list[str] = []
    by_id = {str(w.id): w for w in problem.warehouses}
    lines = {str(line.line_id): line for line in problem.lines}
    covered = {key: 0 for key in lines}
    drawn: dict[tuple, int] = {}
    policy = problem.policy
    total = dict.fromkeys(COST_PARTS, Fraction(0))
    all_on_time = True

    shipments = plan["shipments"]
    if len(shipments) > policy.max_shipments:
        violations.append(f"{len(shipments)} shipments exceed max_shipments {policy.max_shipments}")
    seen = set()
    for s in shipments:
        wid = str(s["warehouse_id"])
        w = by_id.get(wid)
        if w is None:
            violations.append(f"unknown warehouse {wid}")
            continue
        if wid in seen:
            violations.append(f"warehouse {wid} ships twice")
        seen.add(wid)
        if w.transit_days is None:
            violations.append(f"warehouse {wid} has no lane")
            continue
        if not s["lines"]:
            violations.append(f"warehouse {wid} ships nothing")
        units = 0
        for item in s["lines"]:
            key, qty = str(item["line_id"]), item["qty"]
            if key not in lines:
                violations.append(f"unknown line {key}")
                continue
            if not isinstance(qty, int) or qty <= 0:
                violations.append(f"line {key} from {wid}: qty {qty!r} is not a positive integer")
                continue
            covered[key] += qty
            drawn[(wid, lines[key].product)] = drawn.get((wid, lines[key].product), 0) + qty
            units += qty
        departure = _departure(problem, w)
        arrival = departure + timedelta(days=w.transit_days)
        late = max(0, (arrival - problem.promised_date).days)
        if (s["ship_date"], s["eta"], s["late_days"]) != (departure.isoformat(), arrival.isoformat(), late):
            violations.append(f"warehouse {wid}: dates {s['ship_date']}/{s['eta']}/{s['late_days']} "
                              f"should be {departure}/{arrival}/{late}")
        all_on_time = all_on_time and late == 0
        total["handling"] += w.handling_cost
        total["lane"] += w.lane_cost_per_shipment + units * w.lane_cost_per_unit
        total["workload"] += units * w.workload * policy.workload_penalty_per_unit
        total["late"] += late * policy.late_penalty_per_day

    backordered = 0
    for item in plan["backorders"]:
        key, qty = str(item["line_id"]), item["qty"]
        if key not in lines or not isinstance(qty, int) or qty <= 0:
            violations.append(f"bad backorder {item}")
            continue
        covered[key] += qty
        backordered += qty
    for key, line in lines.items():
        if covered[key] != line.qty:
            violations.append(f"line {key}: {covered[key]} units planned for {line.qty} ordered")
    for (wid, product), qty in drawn.items():
        have = by_id[wid].stock.get(product, 0)
        if qty > have:
            violations.append(f"warehouse {wid} sends {qty} of {product} but has {have}")

    total["split"] = max(0, len(shipments) - 1) * policy.split_penalty
    total["backorder"] = backordered * policy.backorder_penalty_per_unit
    expected = {name: _cents(value) for name, value in total.items()}
    expected["total"] = _cents(sum(total.values(), Fraction(0)))
    if plan["cost"] != expected:
        violations.append(f"reported cost {plan['cost']} differs from recomputed {expected}")
    if plan["meets_promise"] != (all_on_time and backordered == 0):
        violations.append("meets_promise is misreported")
    return violations
