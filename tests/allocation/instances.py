"""Random allocation instances (Hypothesis) and an independent evaluator/brute force in exact integer arithmetic.

Money is generated in whole cents and workload in whole percent, so every cost is an integer number of
1/10000 currency units: the brute force and the evaluator here never touch floats or the planner's code.
"""
from __future__ import annotations

import itertools
import math
from datetime import date, datetime, timedelta, timezone

from hypothesis import strategies as st

SCALE = 10000  # cents x percent
BASE_DAY = date(2025, 3, 3)


def cents(value) -> int:
    """A generated money amount (a float with at most 2 decimals) as integer cents."""
    return round(value * 100)


@st.composite
def instances(draw, max_warehouses=3, max_lines=3, max_qty=3, max_products=2, max_stock=4):
    n_w = draw(st.integers(1, max_warehouses))
    n_l = draw(st.integers(1, max_lines))
    products = [f"P{i}" for i in range(draw(st.integers(1, max_products)))]
    money = st.integers(0, 2000).map(lambda c: c / 100)
    warehouses, lanes = [], []
    for i in range(n_w):
        listed = draw(st.lists(st.sampled_from(products), min_size=1, unique=True))
        warehouses.append({
            "id": f"W{i}",
            "stock": {p: draw(st.integers(0, max_stock)) for p in listed},
            "cutoff": f"{draw(st.integers(0, 23)):02d}:{draw(st.sampled_from([0, 15, 30, 59])):02d}",
            "handling_cost": draw(money),
            "workload": draw(st.integers(0, 100)) / 100,
        })
        # Some warehouses have no lane (they cannot ship); at least one lane exists.
        if i == 0 or draw(st.booleans()) or draw(st.booleans()):
            lanes.append({"warehouse_id": f"W{i}", "cost_per_shipment": draw(money),
                          "cost_per_unit": draw(st.integers(0, 500).map(lambda c: c / 100)),
                          "transit_days": draw(st.integers(0, 4))})
    known = sorted({p for w in warehouses for p in w["stock"]})
    lines = [{"line_id": f"L{j}", "product_id": draw(st.sampled_from(known)), "qty": draw(st.integers(1, max_qty))}
             for j in range(n_l)]
    now = datetime.combine(BASE_DAY, datetime.min.time(), tzinfo=timezone.utc) + timedelta(
        minutes=draw(st.integers(0, 24 * 60 - 1)), seconds=draw(st.sampled_from([0, 30])))
    return {
        "now": now.isoformat().replace("+00:00", "Z"),
        "promised_date": (BASE_DAY + timedelta(days=draw(st.integers(0, 4)))).isoformat(),
        "lines": lines,
        "warehouses": warehouses,
        "lanes": lanes,
        "policy": {
            "split_penalty": draw(money),
            "late_penalty_per_day": draw(money),
            "backorder_penalty_per_unit": draw(st.integers(0, 1500).map(lambda c: c / 100)),
            "workload_penalty_per_unit": draw(st.integers(0, 300).map(lambda c: c / 100)),
            "max_shipments": draw(st.integers(1, 3)),
        },
        "max_plans": 4,
    }


def _ship_day(body, warehouse) -> date:
    now = datetime.fromisoformat(body["now"].replace("Z", "+00:00")).astimezone(timezone.utc)
    hh, mm = map(int, warehouse["cutoff"].split(":"))
    return now.date() if (now.hour, now.minute, now.second) < (hh, mm, 0) else now.date() + timedelta(days=1)


def site_terms(body) -> dict:
    """Per shipping-capable warehouse: (fixed cost, cost per unit, ship date, eta, late days), scaled integers."""
    policy = body["policy"]
    lanes = {lane["warehouse_id"]: lane for lane in body["lanes"]}
    terms = {}
    for w in body["warehouses"]:
        lane = lanes.get(w["id"])
        if lane is None:
            continue
        ship = _ship_day(body, w)
        eta = ship + timedelta(days=lane["transit_days"])
        late = max(0, (eta - date.fromisoformat(body["promised_date"])).days)
        fixed = (cents(w["handling_cost"]) + cents(lane["cost_per_shipment"])
                 + cents(policy["late_penalty_per_day"]) * late) * 100
        unit = cents(lane["cost_per_unit"]) * 100 + cents(policy["workload_penalty_per_unit"]) * round(w["workload"] * 100)
        terms[w["id"]] = (fixed, unit, ship, eta, late)
    return terms


def scaled_cost(body, shipping: dict, backordered_units: int) -> int:
    """Cost of ``shipping`` ({warehouse: units}) plus backorders, in 1/10000 units, straight from the model."""
    terms = site_terms(body)
    policy = body["policy"]
    cost = sum(terms[w][0] + terms[w][1] * units for w, units in shipping.items())
    cost += cents(policy["split_penalty"]) * 100 * max(0, len(shipping) - 1)
    return cost + cents(policy["backorder_penalty_per_unit"]) * 100 * backordered_units


def _half_up(scaled: int) -> float:
    """A scaled amount in cents, halves up, as the contract rounds."""
    return (scaled // 100 + (1 if scaled % 100 >= 50 else 0)) / 100


def violations(body, plan) -> list[str]:
    """What is wrong with ``plan`` (response shape) under the model: feasibility, dates, reported cost."""
    found = []
    terms = site_terms(body)
    stock = {w["id"]: w["stock"] for w in body["warehouses"]}
    lines = {line["line_id"]: line for line in body["lines"]}
    covered = dict.fromkeys(lines, 0)
    drawn: dict = {}
    shipping: dict = {}
    if len(plan["shipments"]) > body["policy"]["max_shipments"]:
        found.append("too many shipments")
    for s in plan["shipments"]:
        wid = s["warehouse_id"]
        if wid not in terms:
            found.append(f"{wid} ships without a lane")
            continue
        if wid in shipping:
            found.append(f"{wid} twice")
        _, _, ship, eta, late = terms[wid]
        if (s["ship_date"], s["eta"], s["late_days"]) != (ship.isoformat(), eta.isoformat(), late):
            found.append(f"{wid} dates wrong")
        units = 0
        for item in s["lines"]:
            assert item["qty"] > 0
            covered[item["line_id"]] += item["qty"]
            key = (wid, str(lines[item["line_id"]]["product_id"]))  # stock keys are JSON object keys
            drawn[key] = drawn.get(key, 0) + item["qty"]
            units += item["qty"]
        if units == 0:
            found.append(f"{wid} ships nothing")
        shipping[wid] = units
    back = 0
    for item in plan["backorders"]:
        assert item["qty"] > 0
        covered[item["line_id"]] += item["qty"]
        back += item["qty"]
    for line_id, line in lines.items():
        if covered[line_id] != line["qty"]:
            found.append(f"{line_id} covered {covered[line_id]} of {line['qty']}")
    for (wid, product), qty in drawn.items():
        if qty > stock[wid].get(product, 0):
            found.append(f"{wid} oversells {product}")
    if plan["cost"]["total"] != _half_up(scaled_cost(body, shipping, back)):
        found.append(f"total {plan['cost']['total']} != {_half_up(scaled_cost(body, shipping, back))}")
    on_time = all(s["late_days"] == 0 for s in plan["shipments"])
    if plan["meets_promise"] != (on_time and back == 0):
        found.append("meets_promise wrong")
    return found


def plan_cost(body, plan) -> int:
    shipping = {s["warehouse_id"]: sum(i["qty"] for i in s["lines"]) for s in plan["shipments"]}
    return scaled_cost(body, shipping, sum(b["qty"] for b in plan["backorders"]))


def brute_force(body, *, max_shipments=None, allow_backorder=True, on_time_only=False):
    """Minimum scaled cost over every integer x[w,l] (tiny instances only); ``None`` if nothing is feasible."""
    terms = site_terms(body)
    if on_time_only:
        terms = {w: t for w, t in terms.items() if t[4] == 0}
    sites = sorted(terms)
    stock = {w["id"]: w["stock"] for w in body["warehouses"]}
    limit = body["policy"]["max_shipments"] if max_shipments is None else max_shipments
    choices = []
    for line in body["lines"]:
        options = [x for x in itertools.product(range(line["qty"] + 1), repeat=len(sites))
                   if sum(x) <= line["qty"] and (allow_backorder or sum(x) == line["qty"])]
        choices.append(options)
    best = None
    for combo in itertools.product(*choices):
        drawn: dict = {}
        for line, x in zip(body["lines"], combo):
            for w, q in zip(sites, x):
                if q:
                    key = (w, str(line["product_id"]))
                    drawn[key] = drawn.get(key, 0) + q
        if any(q > stock[w].get(p, 0) for (w, p), q in drawn.items()):
            continue
        shipping: dict = {}
        for (w, _), q in drawn.items():
            shipping[w] = shipping.get(w, 0) + q
        if len(shipping) > limit:
            continue
        back = sum(line["qty"] - sum(x) for line, x in zip(body["lines"], combo))
        cost = scaled_cost(body, shipping, back)
        if best is None or cost < best:
            best = cost
    return best
