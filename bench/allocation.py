"""Allocation benchmark: latency per size, optimality cross-check and cost ratio against a greedy baseline.

Run: ``.venv/bin/python bench/allocation.py [--instances 30] [--seed 7]``. For each size it times the whole
planner (optimum + alternatives + independent check), confirms the optimum with another exact method
(HiGHS milp, or subset enumeration when milp found it; untimed), and costs a greedy baseline under the same model: each line
from the cheapest warehouse (per unit) that has stock, splitting only when no warehouse holds the whole line,
and never opening more than max_shipments warehouses.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from python_nodes.allocation import service  # noqa: E402
from python_nodes.allocation.model import build_problem  # noqa: E402

SIZES = [(5, 3), (10, 5), (20, 8), (30, 10), (50, 15), (100, 20)]
TARGET_MS = {(5, 3): 50, (10, 5): 50, (20, 8): 50, (30, 10): 50, (100, 20): 500}
# The other exact method re-solves to confirm optimality; enumeration is skipped past this many subsets x products.
CROSS_CHECK_ENUMERATION_LIMIT = 2_000_000


def instance(rng: random.Random, n_lines: int, n_warehouses: int, max_shipments: int = 4) -> dict:
    """A distribution-like order: some products on several lines, stock spread unevenly, a few sites without lane."""
    products = [f"SKU{i}" for i in range(max(1, int(n_lines * 0.8)))]
    lines = [{"line_id": i + 1, "product_id": rng.choice(products), "qty": rng.randint(1, 40)} for i in range(n_lines)]
    demand = {}
    for line in lines:
        demand[line["product_id"]] = demand.get(line["product_id"], 0) + line["qty"]
    warehouses, lanes = [], []
    for w in range(n_warehouses):
        stock = {p: (rng.randint(0, int(q * 1.2)) if rng.random() < 0.6 else 0) for p, q in demand.items()}
        warehouses.append({"id": f"WH{w}", "stock": stock, "cutoff": f"{rng.randint(10, 18):02d}:{rng.choice([0, 30])}0"[:5],
                           "handling_cost": round(rng.uniform(2, 15), 2), "workload": round(rng.random(), 2)})
        if rng.random() < 0.9 or w == 0:
            lanes.append({"warehouse_id": f"WH{w}", "cost_per_shipment": round(rng.uniform(5, 40), 2),
                          "cost_per_unit": round(rng.uniform(0.1, 3), 2), "transit_days": rng.randint(1, 5)})
    now = datetime(2025, 3, 3, rng.randint(6, 20), rng.choice([0, 15, 30, 45]), tzinfo=timezone.utc)
    return {
        "now": now.isoformat(),
        "promised_date": (date(2025, 3, 3) + timedelta(days=rng.randint(1, 4))).isoformat(),
        "lines": lines, "warehouses": warehouses, "lanes": lanes,
        "policy": {"split_penalty": round(rng.uniform(0, 30), 2), "late_penalty_per_day": round(rng.uniform(0, 25), 2),
                   "backorder_penalty_per_unit": round(rng.uniform(4, 20), 2),
                   "workload_penalty_per_unit": round(rng.uniform(0, 2), 2), "max_shipments": min(n_warehouses, max_shipments)},
    }


def greedy(problem) -> service.Plan:
    """Baseline: each line from the cheapest-per-unit warehouse with stock for it (splitting only when none holds
    the whole line); once max_shipments warehouses are in use only those may ship; the rest is backordered."""
    cands = service.candidates(problem)  # cheapest per unit first
    left = {c.key: dict(c.stock) for c in cands}
    cap = problem.policy.max_shipments
    shipments: dict = {}
    backorders = []
    for line in problem.lines:
        allowed = cands if len(shipments) < cap else [c for c in cands if c.key in shipments]
        whole = next((c for c in allowed if left[c.key].get(line.product, 0) >= line.qty), None)
        takes = [(whole, line.qty)] if whole else []
        need = 0 if whole else line.qty
        for c in ([] if whole else allowed):
            have = left[c.key].get(line.product, 0)
            if need and have and (c.key in shipments or len(shipments) + len({t.key for t, _ in takes}) < cap):
                takes.append((c, min(need, have)))
                need -= min(need, have)
        if need:
            backorders.append((line.line_id, need))
        for c, qty in takes:
            left[c.key][line.product] -= qty
            shipments.setdefault(c.key, []).append((line.line_id, qty))
    order = {w.key: i for i, w in enumerate(problem.warehouses)}
    return service.Plan(tuple((k, tuple(v)) for k, v in sorted(shipments.items(), key=lambda kv: order[kv[0]])),
                        tuple(backorders))


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-shipments", type=int, default=4,
                        help="policy.max_shipments of the generated orders (capped at the warehouse count)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"{args.instances} instances per size, seed {args.seed}, max_shipments {args.max_shipments}")
    print(f"{'size':>9} {'method':>17} {'p50 ms':>8} {'p95 ms':>8} {'target':>7} {'optimal':>8} "
          f"{'greedy/opt':>10} {'min':>6} {'greedy infeasible':>17}")
    failed = False
    for n_lines, n_wh in SIZES:
        latencies, ratios, methods = [], [], set()
        confirmed, infeasible_greedy = 0, 0
        for _ in range(args.instances):
            body = instance(rng, n_lines, n_wh, args.max_shipments)
            problem = build_problem(body)
            started = time.perf_counter()
            result = service.plan(problem)
            latencies.append((time.perf_counter() - started) * 1000)
            methods.update(result["solver"]["method"].split("+"))
            best = service.cost_of(problem, _plan_of(problem, result["plans"][0]))["total"]
            other = (service.METHOD_ENUMERATION if result["solver"]["method"] == service.METHOD_MILP else service.METHOD_MILP)
            work = service.subset_count(len(service.candidates(problem)), problem.policy.max_shipments) * n_lines
            if other == service.METHOD_MILP or work <= CROSS_CHECK_ENUMERATION_LIMIT:
                again, _ = service.best_plan(problem, max_shipments=problem.policy.max_shipments, method=other)
                if service.cost_of(problem, again)["total"] == best:
                    confirmed += 1
            base = greedy(problem)
            if len(base.shipments) > problem.policy.max_shipments:
                infeasible_greedy += 1
            ratios.append(float(service.cost_of(problem, base)["total"] / best) if best else 1.0)
        p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
        target = TARGET_MS.get((n_lines, n_wh))
        ok = target is None or p95 < target
        failed |= not ok or confirmed != args.instances or infeasible_greedy or min(ratios) < 1
        print(f"{n_lines:>4}x{n_wh:<4} {'+'.join(sorted(methods)):>17} {p50:8.1f} {p95:8.1f} "
              f"{(str(target) if target else '-'):>7} {confirmed:>3}/{args.instances:<4} {statistics.mean(ratios):10.3f} {min(ratios):6.3f} "
              f"{infeasible_greedy:>10}/{args.instances}")
    print("greedy/opt: mean ratio of the greedy baseline's model cost to the optimum (>= 1: the baseline respects "
          "max_shipments, so a ratio below 1 would disprove optimality); 'greedy infeasible' must stay 0.")
    return 1 if failed else 0


def _plan_of(problem, rendered: dict):
    key = {str(w.id): w.key for w in problem.warehouses}
    return service.Plan(
        tuple((key[str(s["warehouse_id"])], tuple((i["line_id"], i["qty"]) for i in s["lines"]))
              for s in rendered["shipments"]),
        tuple((b["line_id"], b["qty"]) for b in rendered["backorders"]))


if __name__ == "__main__":
    sys.exit(main())
