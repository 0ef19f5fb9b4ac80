"""Optimal and alternative fulfillment plans under the exact cost model of DESIGN.md (pure logic, no Flask).

Why the search is over warehouse subsets: once the set S of shipping warehouses is fixed, every remaining cost
is per unit and depends only on the warehouse (lane unit cost + workload penalty) or on backordering (a flat
penalty). Products then separate, lines of one product are interchangeable, and filling each product's demand
from the cheapest warehouses of S first (stopping where backordering is cheaper) is an optimal integral answer.
So the optimum is the cheapest S: small searches enumerate every S with |S| <= max_shipments; larger ones run a
branch and bound over S whose bounds come from that greedy (``choose_by_branch_and_bound``). SciPy's ``milp``
(HiGHS, binary ship variables y[w] and x[w,l], backorder[l]) stays as a third exact method to cross-check them.
All build the plan the same way from the chosen S, costs are recomputed in exact arithmetic, and every plan is verified by
an independent checker (``checker.py``) before it is returned.
"""
from __future__ import annotations

import itertools
import math
import time as clock
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from functools import lru_cache

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from . import checker
from .model import Problem, ship_date

KIND_OPTIMAL = "optimal"
KIND_SINGLE_SHIPMENT = "single_shipment"
KIND_NO_BACKORDER = "no_backorder"
KIND_MEETS_PROMISE = "meets_promise"
KINDS = (KIND_OPTIMAL, KIND_SINGLE_SHIPMENT, KIND_NO_BACKORDER, KIND_MEETS_PROMISE)
KIND_TITLES = {
    KIND_OPTIMAL: "Optimal plan",
    KIND_SINGLE_SHIPMENT: "Best single-shipment plan",
    KIND_NO_BACKORDER: "Best plan with no backorder",
    KIND_MEETS_PROMISE: "Best plan that meets the promised date",
}

METHOD_AUTO = "auto"
METHOD_ENUMERATION = "enumeration"
METHOD_MILP = "milp"
METHOD_BRANCH_AND_BOUND = "branch_and_bound"

# Subsets x products the vectorized enumeration may cost before branch and bound is the faster exact method
# (measured with bench/allocation.py); chunks bound its memory.
ENUMERATION_BUDGET = 1_000_000
ENUMERATION_CHUNK_CELLS = 400_000
MILP_TIME_LIMIT_SECONDS = 20.0
# Float comparisons during the search only; reported costs are exact.
RELATIVE_TOLERANCE = 1e-9
CENT = Fraction(1, 100)


class SolverError(RuntimeError):
    """The MILP solver stopped without proving optimality (time limit, numerical trouble)."""


class PlanCheckError(RuntimeError):
    """A plan failed the independent feasibility/cost check: a bug, never shown to a client as a plan."""


@dataclass(frozen=True)
class Candidate:
    """A warehouse that may ship: its fixed cost if it ships and its cost per unit shipped (floats for search)."""

    key: str
    order: int
    fixed: float
    unit: float
    stock: dict


def money(value: Fraction) -> float:
    """Round an exact amount to cents, halves away from zero (amounts are never negative here)."""
    cents = math.floor(value / CENT + Fraction(1, 2))
    return float(Fraction(cents, 100))


def late_days(problem: Problem, warehouse) -> int:
    eta = ship_date(problem.now, warehouse.cutoff) + timedelta(days=warehouse.transit_days)
    return max(0, (eta - problem.promised_date).days)


def _demand(problem: Problem) -> dict:
    """Total units per product, in order of first appearance."""
    demand: dict[str, int] = {}
    for line in problem.lines:
        demand[line.product] = demand.get(line.product, 0) + line.qty
    return demand


def candidates(problem: Problem, *, on_time_only: bool = False, allow_backorder: bool = False) -> list[Candidate]:
    """Warehouses with a lane and stock of something ordered, cheapest per unit first (ties: request order).

    With backorders allowed, a warehouse that can never pay for itself is left out: if its fixed cost is at least
    what it could save by replacing backorders (its usable units x (penalty - its unit cost)), dropping it from
    any plan costs nothing more (its units at worst become backorders, and at least its fixed cost is saved).
    """
    policy = problem.policy
    demand = _demand(problem)
    penalty = policy.backorder_penalty_per_unit
    found = []
    for order, w in enumerate(problem.warehouses):
        if not w.has_lane:
            continue
        days = late_days(problem, w)
        if on_time_only and days > 0:
            continue
        stock = {p: w.stock.get(p, 0) for p in demand if w.stock.get(p, 0) > 0}
        if not stock:
            continue
        fixed = w.handling_cost + w.lane_cost_per_shipment + policy.late_penalty_per_day * days
        unit = w.lane_cost_per_unit + policy.workload_penalty_per_unit * w.workload
        if allow_backorder:
            best_saving = sum(min(demand[p], have) for p, have in stock.items()) * (penalty - unit)
            if unit > penalty or fixed >= best_saving:
                continue
        found.append(Candidate(w.key, order, float(fixed), float(unit), stock))
    return sorted(found, key=lambda c: (c.unit, c.fixed, c.order))


def fill(subset, demand: dict, penalty: float, allow_backorder: bool):
    """Optimal allocation for a fixed set of shipping warehouses: ``(cost, {key: {product: units}}, {product: units})``.

    ``subset`` must be sorted cheapest per unit first. Answers ``None`` when backorders are not allowed and the
    subset cannot cover the demand. A unit whose shipping cost equals the penalty is shipped (fewer backorders).
    """
    cost = 0.0
    shipped: dict[str, dict] = {}
    backordered: dict[str, int] = {}
    for product, wanted in demand.items():
        remaining = wanted
        for c in subset:
            have = c.stock.get(product, 0)
            if have <= 0:
                continue
            if allow_backorder and c.unit > penalty:
                break
            take = min(remaining, have)
            shipped.setdefault(c.key, {})[product] = take
            cost += take * c.unit
            remaining -= take
            if remaining == 0:
                break
        if remaining:
            if not allow_backorder:
                return None
            backordered[product] = remaining
            cost += remaining * penalty
    return cost, shipped, backordered


def subset_count(n: int, max_k: int) -> int:
    return sum(math.comb(n, k) for k in range(0, min(n, max_k) + 1))


@lru_cache(maxsize=64)
def _combinations(n: int, k: int) -> np.ndarray:
    """Every k-subset of range(n) as rows of ascending indices (so each row stays cheapest-per-unit first)."""
    flat = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(n), k)), dtype=np.intp,
                       count=math.comb(n, k) * k)
    return flat.reshape(math.comb(n, k), k)


def choose_by_enumeration(cands, demand, problem: Problem, max_k: int, allow_backorder: bool):
    """The cheapest subset (ties: fewer warehouses, then cheaper-per-unit ones), or ``None`` if none is feasible.

    Every subset of up to ``max_k`` candidates is costed at once with NumPy: ``fill``'s greedy, column by column
    over subsets whose warehouses are already sorted cheapest per unit first.
    """
    policy = problem.policy
    penalty = float(policy.backorder_penalty_per_unit)
    split = float(policy.split_penalty)
    wanted = np.array(list(demand.values()), dtype=float)
    stock = np.array([[c.stock.get(p, 0) for p in demand] for c in cands], dtype=float).reshape(len(cands), len(demand))
    unit = np.array([c.unit for c in cands], dtype=float)
    fixed = np.array([c.fixed for c in cands], dtype=float)
    # With backorders allowed a unit costing more than the penalty is backordered instead (fill() stops there).
    usable = (unit <= penalty) if allow_backorder else np.ones(len(cands), dtype=bool)
    best_cost, best = math.inf, None
    rows_per_chunk = max(1, ENUMERATION_CHUNK_CELLS // max(1, len(demand)))
    for k in range(0, min(max_k, len(cands)) + 1):
        combos = _combinations(len(cands), k)
        for start in range(0, len(combos), rows_per_chunk):
            chunk = combos[start:start + rows_per_chunk]
            remaining = np.repeat(wanted[None, :], len(chunk), axis=0)
            total = fixed[chunk].sum(axis=1) + (split * (k - 1) if k > 1 else 0.0)
            for j in range(k):
                column = chunk[:, j]
                take = np.minimum(remaining, stock[column]) * usable[column][:, None]
                total += take.sum(axis=1) * unit[column]
                remaining -= take
            short = remaining.sum(axis=1)
            if allow_backorder:
                total += short * penalty
            else:
                total[short > 0] = math.inf
            i = int(np.argmin(total))
            slack = RELATIVE_TOLERANCE * max(1.0, abs(best_cost)) if best_cost < math.inf else 0.0
            if total[i] < best_cost - slack:
                best_cost, best = float(total[i]), tuple(cands[c] for c in chunk[i])
    return best


def choose_by_milp(cands, problem: Problem, max_k: int, allow_backorder: bool):
    """The cheapest subset from SciPy's ``milp`` (HiGHS, zero gap), or ``None`` if the model is infeasible."""
    policy = problem.policy
    lines = problem.lines
    n = len(cands)
    pairs = [(ci, li) for ci, c in enumerate(cands) for li, line in enumerate(lines) if c.stock.get(line.product, 0) > 0]
    nx, nb = len(pairs), (len(lines) if allow_backorder else 0)
    x0, b0, s_index = n, n + nx, n + nx + nb
    size = s_index + 1

    cost = np.zeros(size)
    lower, upper = np.zeros(size), np.zeros(size)
    # Only y is declared integer: for a fixed y the rest is a transportation problem per product (integral data,
    # totally unimodular), so its LP optimum is already the integer optimum, and fill() rebuilds it in integers.
    integrality = np.zeros(size)
    integrality[:n] = 1
    for ci, c in enumerate(cands):
        cost[ci], upper[ci] = c.fixed, 1
    caps = []
    for j, (ci, li) in enumerate(pairs):
        cap = min(lines[li].qty, cands[ci].stock[lines[li].product])
        caps.append(cap)
        cost[x0 + j], upper[x0 + j] = cands[ci].unit, cap
    for li in range(nb):
        cost[b0 + li], upper[b0 + li] = float(policy.backorder_penalty_per_unit), lines[li].qty
    cost[s_index], upper[s_index] = float(policy.split_penalty), np.inf

    rows, cols, vals, row_lo, row_hi = [], [], [], [], []

    def row(entries, lo, hi):
        r = len(row_lo)
        for col, val in entries:
            rows.append(r), cols.append(col), vals.append(val)
        row_lo.append(lo), row_hi.append(hi)

    # Exact coverage: shipped + backordered = ordered, per line.
    by_line: dict[int, list] = {}
    for j, (ci, li) in enumerate(pairs):
        by_line.setdefault(li, []).append((x0 + j, 1.0))
    for li, line in enumerate(lines):
        entries = by_line.get(li, []) + ([(b0 + li, 1.0)] if allow_backorder else [])
        if not entries:
            return None
        row(entries, line.qty, line.qty)
    # Stock: lines of one product share the warehouse's units.
    by_stock: dict[tuple, list] = {}
    for j, (ci, li) in enumerate(pairs):
        by_stock.setdefault((ci, lines[li].product), []).append((x0 + j, 1.0))
    for (ci, product), entries in by_stock.items():
        row(entries, -np.inf, cands[ci].stock[product])
    # Only a shipping warehouse sends units.
    for j, (ci, li) in enumerate(pairs):
        row([(x0 + j, 1.0), (ci, -float(caps[j]))], -np.inf, 0)
    row([(ci, 1.0) for ci in range(n)], -np.inf, max_k)
    # s >= shipping warehouses - 1, so split_penalty * s is the split cost (s >= 0 by its bound).
    row([(ci, 1.0) for ci in range(n)] + [(s_index, -1.0)], -np.inf, 1)

    matrix = coo_array((vals, (rows, cols)), shape=(len(row_lo), size)).tocsr()
    result = milp(cost, integrality=integrality, bounds=Bounds(lower, upper),
                  constraints=LinearConstraint(matrix, row_lo, row_hi),
                  options={"mip_rel_gap": 0.0, "time_limit": MILP_TIME_LIMIT_SECONDS, "presolve": True})
    if result.status == 2:
        return None
    if result.status != 0 or result.x is None:
        raise SolverError(f"milp stopped without a proven optimum: {result.message}")
    return tuple(c for ci, c in enumerate(cands) if result.x[ci] > 0.5)


def choose_by_branch_and_bound(cands, demand, problem: Problem, max_k: int, allow_backorder: bool):
    """The cheapest subset by depth-first branch and bound over open/closed warehouses, or ``None`` if none is feasible.

    The variable cost V(S) of a subset (``fill``'s greedy, summed over products) never rises when a warehouse is
    added, and its savings shrink as S grows (per product they are a weighted matroid rank: the best units of S
    up to the demand). So below a node with open set I and free set U: opening w saves at most V(I) - V(I + w);
    a free w whose fixed cost covers that saving is closed; one whose fixed cost is below its smallest saving,
    V(I + U - w) - V(I + U), is opened when max_shipments cannot bind; and a node is pruned by
    max(fixed(I) + V(I + U), cost(I) + the max_k - |I| most negative (fixed - saving) of U). Without backorders,
    a shortfall costs a penalty larger than any feasible plan, which keeps those bounds valid, and only sets
    covering every unit count as plans.
    """
    policy = problem.policy
    n = len(cands)
    split = float(policy.split_penalty)
    wanted = np.array(list(demand.values()), dtype=float)
    stock = np.array([[c.stock.get(p, 0) for p in demand] for c in cands], dtype=float).reshape(n, len(demand))
    unit = np.array([c.unit for c in cands], dtype=float)
    fixed = np.array([c.fixed for c in cands], dtype=float)
    if allow_backorder:
        penalty = float(policy.backorder_penalty_per_unit)
        stock = stock * (unit <= penalty)[:, None]
    else:
        penalty = float(fixed.sum() + split * n + (unit.max(initial=0.0) + 1.0) * wanted.sum() + 1.0)
    total_wanted = wanted.sum()
    # Without backorders any shortfall price of at least the dearest unit also gives a valid bound 1 (every
    # covering set costs the same under each), and a lower price often a tighter one; the best of a few is used.
    prices = np.array([penalty] if allow_backorder else
                      [penalty] + [unit.max(initial=0.0) * f + f for f in (1.0, 2.0, 4.0, 8.0)])

    # Units taken from warehouse i are cum[i] - cum[i-1]; summing by parts prices the running totals instead.
    unit_steps = unit - np.append(unit[1:], 0.0)
    lambdas = np.linspace(0.0, 1.0, 11)

    def evaluate(masks):
        # warehouse-major layout: the running total over warehouses adds whole contiguous (sets x products) slabs
        avail = masks.T[:, :, None] * stock[:, None, :]
        cum = np.minimum(np.cumsum(avail, axis=0, out=avail), wanted, out=avail)
        short = total_wanted - cum[-1].sum(axis=1) if n else np.full(len(masks), total_wanted)
        shipped = unit_steps @ cum.sum(axis=2)
        return shipped + short * penalty, short, shipped[:, None] + short[:, None] * prices[None, :]

    def set_cost(mask, variable):
        k = int(mask.sum())
        return float(fixed[mask].sum()) + split * max(0, k - 1) + variable

    best_cost, best = math.inf, None
    stack = [(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))]
    while stack:
        opened, free = stack.pop()
        while True:
            free_idx = np.flatnonzero(free)
            k_open = int(opened.sum())
            top = opened | free
            masks = np.vstack([opened[None], top[None],
                               np.repeat(opened[None], len(free_idx), 0), np.repeat(top[None], len(free_idx), 0)])
            r = np.arange(len(free_idx))
            masks[2 + r, free_idx] = True
            masks[2 + len(free_idx) + r, free_idx] = False
            v, short, priced = evaluate(masks)
            v_open, v_top = v[0], v[1]
            v_add, v_drop = v[2:2 + len(free_idx)], v[2 + len(free_idx):]
            # The open set itself is a plan.
            if short[0] == 0 or allow_backorder:
                c = set_cost(opened, v_open)
                if best_cost == math.inf or c < best_cost - RELATIVE_TOLERANCE * max(1.0, abs(best_cost)):
                    best_cost, best = c, opened.copy()
            if not len(free_idx) or k_open >= max_k:
                break
            slack = RELATIVE_TOLERANCE * max(1.0, abs(best_cost)) if best_cost < math.inf else 0.0
            fixed_open = float(fixed[opened].sum()) + split * max(0, k_open - 1)
            # Bound 2: no subset of I + U has a lower variable cost than I + U itself.
            if not allow_backorder and short[1] > 0:
                break
            if fixed_open + v_top >= best_cost - slack:
                break
            marginal_fixed = fixed[free_idx] + (split if k_open else 0.0)
            gain = marginal_fixed - (v_open - v_add)   # >= 0: never worth opening below this node
            close = gain >= 0
            if close.any():
                free = free.copy(); free[free_idx[close]] = False
                continue
            if best_cost < math.inf:
                # Bound 2 of a child at or above the best plan settles that branch: opening such a warehouse
                # cannot lead below it (close it), nor can closing one (open it).
                close = fixed_open + marginal_fixed + v_top >= best_cost - slack
                if close.any():
                    free = free.copy(); free[free_idx[close]] = False
                    continue
                must_open = fixed_open + v_drop >= best_cost - slack
                if must_open.any():
                    if k_open + int(must_open.sum()) > max_k:
                        break
                    opened = opened.copy(); free = free.copy()
                    opened[free_idx[must_open]] = True; free[free_idx[must_open]] = False
                    continue
            # Bound 1: the savings of opening a set T of free warehouses are at most both the sum of their savings
            # alone (submodularity) and all that opening every free one saves, C; so any weighting lambda of the
            # two, with T at most max_k - |I| warehouses, bounds the cost from below.
            room = max_k - k_open
            savings = priced[0][None, :] - priced[2:2 + len(free_idx)]           # free x prices
            whole = priced[0] - priced[1]                                         # prices
            weighted = marginal_fixed[:, None, None] - savings[:, :, None] * lambdas[None, None, :]
            best_weighted = np.minimum(np.sort(weighted, axis=0)[:room], 0.0).sum(axis=0)
            bound = (fixed_open + priced[0][:, None] - whole[:, None] * (1.0 - lambdas)[None, :] + best_weighted).max()
            if bound >= best_cost - slack:
                break
            if max_k >= int(top.sum()):
                always = (fixed[free_idx] + split) <= (v_drop - v_top)
                if always.any():
                    opened = opened.copy(); free = free.copy()
                    opened[free_idx[always]] = True; free[free_idx[always]] = False
                    continue
            pick = free_idx[int(np.argmin(gain))]
            without = free.copy(); without[pick] = False
            stack.append((opened, without))
            with_ = opened.copy(); with_[pick] = True
            stack.append((with_, without))
            break
    if best is None:
        return None
    return tuple(c for c, keep in zip(cands, best) if keep)


@dataclass(frozen=True)
class Plan:
    """Where each line's units come from: ``shipments`` maps warehouse key -> ((line_id, qty), ...)."""

    shipments: tuple
    backorders: tuple

    def signature(self):
        return (self.shipments, self.backorders)


def _to_lines(problem: Problem, subset, shipped: dict, backordered: dict) -> Plan:
    """Hand each product's units to its lines in request order, cheapest warehouse first."""
    per_warehouse: dict[str, list] = {}
    backorders = []
    pools = {}
    for product in {line.product for line in problem.lines}:
        pools[product] = [[c.key, shipped[c.key][product]] for c in subset
                          if shipped.get(c.key, {}).get(product, 0) > 0]
    for line in problem.lines:
        remaining = line.qty
        for pool in pools[line.product]:
            if remaining == 0:
                break
            take = min(remaining, pool[1])
            if take:
                per_warehouse.setdefault(pool[0], []).append((line.line_id, take))
                pool[1] -= take
                remaining -= take
        if remaining:
            backorders.append((line.line_id, remaining))
    order = {w.key: i for i, w in enumerate(problem.warehouses)}
    shipments = tuple((key, tuple(per_warehouse[key])) for key in sorted(per_warehouse, key=order.get))
    return Plan(shipments, tuple(backorders))


def best_plan(problem: Problem, *, max_shipments: int, allow_backorder: bool = True, on_time_only: bool = False,
              method: str = METHOD_AUTO):
    """The cheapest plan under extra restrictions, or ``None`` if no plan satisfies them; also names the method."""
    cands = candidates(problem, on_time_only=on_time_only, allow_backorder=allow_backorder)
    demand = _demand(problem)
    if method == METHOD_AUTO:
        work = subset_count(len(cands), max_shipments) * max(1, len(demand))
        method = METHOD_ENUMERATION if work <= ENUMERATION_BUDGET else METHOD_BRANCH_AND_BOUND
    if method == METHOD_ENUMERATION:
        subset = choose_by_enumeration(cands, demand, problem, max_shipments, allow_backorder)
    elif method == METHOD_BRANCH_AND_BOUND:
        subset = choose_by_branch_and_bound(cands, demand, problem, max_shipments, allow_backorder)
    else:
        subset = choose_by_milp(cands, problem, max_shipments, allow_backorder)
    if subset is None:
        return None, method
    filled = fill(subset, demand, float(problem.policy.backorder_penalty_per_unit), allow_backorder)
    if filled is None:  # cannot happen for a subset the search found feasible; fail loudly rather than guess
        raise SolverError("the chosen warehouses cannot cover the order")
    _, shipped, backordered = filled
    return _to_lines(problem, subset, shipped, backordered), method


def cost_of(problem: Problem, plan: Plan) -> dict:
    """The exact cost breakdown of a plan as Fractions: handling, lane, workload, split, late, backorder, total."""
    policy = problem.policy
    parts = dict.fromkeys(("handling", "lane", "workload", "split", "late", "backorder"), Fraction(0))
    for key, lines in plan.shipments:
        w = problem.warehouse(key)
        units = sum(q for _, q in lines)
        parts["handling"] += w.handling_cost
        parts["lane"] += w.lane_cost_per_shipment + w.lane_cost_per_unit * units
        parts["workload"] += policy.workload_penalty_per_unit * w.workload * units
        parts["late"] += policy.late_penalty_per_day * late_days(problem, w)
    parts["split"] = policy.split_penalty * max(0, len(plan.shipments) - 1)
    parts["backorder"] = policy.backorder_penalty_per_unit * sum(q for _, q in plan.backorders)
    parts["total"] = sum(parts.values(), Fraction(0))
    return parts


def meets_promise(problem: Problem, plan: Plan) -> bool:
    """Everything arrives by the promised date: no backorder and no late shipment."""
    return not plan.backorders and all(late_days(problem, problem.warehouse(k)) == 0 for k, _ in plan.shipments)


def _units(pairs) -> int:
    return sum(q for _, q in pairs)


def _fmt(value: Fraction) -> str:
    return f"{money(value):.2f}"


def explain(problem: Problem, plan: Plan, kind: str, cost: dict, optimum_total: Fraction) -> list[str]:
    """Short sentences a planner can read: what ships from where, when it arrives, and what it costs."""
    policy = problem.policy
    sentences = []
    if kind == KIND_OPTIMAL:
        sentences.append(f"Lowest total cost under the cost model: {_fmt(cost['total'])}.")
    else:
        extra = cost["total"] - optimum_total
        sentences.append(f"{KIND_TITLES[kind]}: total {_fmt(cost['total'])}, {_fmt(extra)} more than the optimal plan.")
    for key, lines in plan.shipments:
        w = problem.warehouse(key)
        shipped_on = ship_date(problem.now, w.cutoff)
        eta = shipped_on + timedelta(days=w.transit_days)
        days = late_days(problem, w)
        cutoff = "before" if shipped_on == problem.now.date() else "after"
        timing = "on time" if days == 0 else f"{days} day(s) late, late penalty {_fmt(policy.late_penalty_per_day * days)}"
        units = _units(lines)
        variable = w.lane_cost_per_unit + policy.workload_penalty_per_unit * w.workload
        sentences.append(
            f"{w.id} ships {units} unit(s) on {len(lines)} line(s) on {shipped_on} ({cutoff} its {w.cutoff:%H:%M} UTC "
            f"cutoff), arriving {eta} ({timing}); fixed {_fmt(w.handling_cost + w.lane_cost_per_shipment)}, "
            f"per-unit {_fmt(variable * units)}.")
    if len(plan.shipments) > 1:
        sentences.append(f"Split into {len(plan.shipments)} shipments: split penalty {_fmt(cost['split'])}.")
    if plan.backorders:
        units = _units(plan.backorders)
        ids = ", ".join(str(line_id) for line_id, _ in plan.backorders)
        sentences.append(f"Backorders {units} unit(s) on line(s) {ids} at "
                         f"{_fmt(policy.backorder_penalty_per_unit)} per unit: {_fmt(cost['backorder'])}.")
    if not plan.shipments:
        sentences.append("Nothing ships: no warehouse with a lane can serve this order more cheaply than a backorder.")
    return sentences


def render(problem: Problem, plan: Plan, kind: str, labels, cost: dict, optimum_total: Fraction) -> dict:
    """The plan as the response contract shows it."""
    shipments = []
    for key, lines in plan.shipments:
        w = problem.warehouse(key)
        shipped_on = ship_date(problem.now, w.cutoff)
        shipments.append({
            "warehouse_id": w.id,
            "ship_date": shipped_on.isoformat(),
            "eta": (shipped_on + timedelta(days=w.transit_days)).isoformat(),
            "late_days": late_days(problem, w),
            "lines": [{"line_id": line_id, "qty": qty} for line_id, qty in lines],
        })
    return {
        "kind": kind,
        "labels": list(labels),
        "shipments": shipments,
        "backorders": [{"line_id": line_id, "qty": qty} for line_id, qty in plan.backorders],
        "cost": {name: money(value) for name, value in cost.items()},
        "meets_promise": meets_promise(problem, plan),
        "explanation": explain(problem, plan, kind, cost, optimum_total),
    }


def _satisfies(problem: Problem, plan: Plan, *, max_shipments: int, allow_backorder: bool = True,
               on_time_only: bool = False) -> bool:
    """Whether ``plan`` is one of the plans ``best_plan`` searches under these restrictions."""
    return (len(plan.shipments) <= max_shipments
            and (allow_backorder or not plan.backorders)
            and (not on_time_only or all(late_days(problem, problem.warehouse(k)) == 0 for k, _ in plan.shipments)))


UNAVAILABLE_REASONS = {
    KIND_NO_BACKORDER: "the warehouses with a lane cannot cover every line within max_shipments",
    KIND_MEETS_PROMISE: "no set of on-time warehouses covers every line within max_shipments",
}


def plan(problem: Problem, *, method: str = METHOD_AUTO) -> dict:
    """The optimal plan first, then the planner's alternatives that differ from it, sorted by total cost."""
    started = clock.perf_counter()
    max_k = problem.policy.max_shipments
    searches = {
        KIND_OPTIMAL: dict(max_shipments=max_k),
        KIND_SINGLE_SHIPMENT: dict(max_shipments=1),
        KIND_NO_BACKORDER: dict(max_shipments=max_k, allow_backorder=False),
        KIND_MEETS_PROMISE: dict(max_shipments=max_k, allow_backorder=False, on_time_only=True),
    }
    found: dict = {}  # signature -> [plan, kinds]
    methods, unavailable = set(), []
    optimum = None
    for kind, restrictions in searches.items():
        if optimum is not None and _satisfies(problem, optimum, **restrictions):
            # The optimum of all plans is also the best plan among those meeting a restriction it meets.
            best = optimum
        else:
            best, used = best_plan(problem, method=method, **restrictions)
            methods.add(used)
        if kind == KIND_OPTIMAL:
            optimum = best
        if best is None:
            unavailable.append({"kind": kind, "reason": UNAVAILABLE_REASONS[kind]})
            continue
        found.setdefault(best.signature(), [best, []])[1].append(kind)

    costed = [(cost_of(problem, p), p, kinds) for p, kinds in found.values()]
    # Exact costs decide the order; on a tie the optimal search's own plan leads.
    costed.sort(key=lambda item: (item[0]["total"], min(KINDS.index(k) for k in item[2])))
    optimum_total = costed[0][0]["total"]
    # The searches compare floats: should a restricted plan beat the optimal search's by a rounding hair, it is
    # the optimum (every restricted plan is also a plan), and the label moves with it.
    for _, _, kinds in costed[1:]:
        if KIND_OPTIMAL in kinds:
            kinds.remove(KIND_OPTIMAL)
    if KIND_OPTIMAL not in costed[0][2]:
        costed[0][2].insert(0, KIND_OPTIMAL)
    costed = [item for item in costed if item[2]]
    plans = []
    for cost, p, kinds in costed[: problem.max_plans]:
        kind = min(kinds, key=KINDS.index)
        rendered = render(problem, p, kind, kinds, cost, optimum_total)
        violations = checker.check(problem, rendered)
        if violations:
            raise PlanCheckError(f"{kind} plan failed the independent check: {violations}")
        plans.append(rendered)
    return {
        "plans": plans,
        "unavailable": unavailable,
        "solver": {"method": "+".join(sorted(methods)),
                   "elapsed_ms": round((clock.perf_counter() - started) * 1000, 3)},
    }
