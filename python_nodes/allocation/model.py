"""Typed allocation problem built from a schema-valid request, with the semantic checks JSON Schema cannot express."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction

from ..errors import Unprocessable

CUTOFF_PATTERN = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
DEFAULT_MAX_PLANS = 4


def exact(value) -> Fraction:
    """The decimal a JSON number was written as, exactly (``0.1`` is one tenth, not the nearest float)."""
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(value, int):
        return Fraction(value)
    return Fraction(repr(float(value)))


def id_key(value) -> str:
    """Ids may be strings or integers; ``7`` and ``"7"`` name the same thing (JSON object keys are strings)."""
    return str(value)


@dataclass(frozen=True)
class Line:
    line_id: object
    product: str
    qty: int


@dataclass(frozen=True)
class Warehouse:
    """A warehouse together with its lane to the customer (``None`` when it has no lane and so cannot ship)."""

    id: object
    key: str
    stock: dict
    cutoff: time
    handling_cost: Fraction
    workload: Fraction
    lane_cost_per_shipment: Fraction | None
    lane_cost_per_unit: Fraction | None
    transit_days: int | None

    @property
    def has_lane(self) -> bool:
        return self.transit_days is not None


@dataclass(frozen=True)
class Policy:
    split_penalty: Fraction
    late_penalty_per_day: Fraction
    backorder_penalty_per_unit: Fraction
    workload_penalty_per_unit: Fraction
    max_shipments: int


@dataclass(frozen=True)
class Problem:
    now: datetime
    promised_date: date
    lines: tuple
    warehouses: tuple
    policy: Policy
    max_plans: int = DEFAULT_MAX_PLANS

    def warehouse(self, key: str) -> Warehouse:
        return next(w for w in self.warehouses if w.key == key)


def parse_now(value: str) -> datetime:
    """An ISO-8601 datetime with offset, as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def parse_cutoff(value: str) -> time:
    match = CUTOFF_PATTERN.match(value)
    if not match:
        raise ValueError(f"cutoff must be HH:MM between 00:00 and 23:59, not {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def ship_date(now: datetime, cutoff: time) -> date:
    """Same day when the order is in before the cutoff (strictly), otherwise the next day."""
    return now.date() if now.time() < cutoff else now.date() + timedelta(days=1)


def build_problem(body: dict) -> Problem:
    """Turn a schema-valid request into a ``Problem``; raise ``Unprocessable`` naming each bad field."""
    problems: list[dict] = []

    def bad(path: str, message: str) -> None:
        problems.append({"path": path, "message": message})

    warehouses_raw = body["warehouses"]
    seen_warehouses: dict[str, int] = {}
    for i, w in enumerate(warehouses_raw):
        key = id_key(w["id"])
        if key in seen_warehouses:
            bad(f"warehouses/{i}/id", f"duplicate warehouse id {w['id']!r} (also warehouses/{seen_warehouses[key]})")
        else:
            seen_warehouses[key] = i
        try:
            parse_cutoff(w["cutoff"])
        except ValueError as exc:
            bad(f"warehouses/{i}/cutoff", str(exc))
        for product, qty in w["stock"].items():
            if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
                bad(f"warehouses/{i}/stock/{product}", "stock must be an integer >= 0")

    lanes_raw = body["lanes"]
    if not lanes_raw:
        bad("lanes", "at least one lane is needed: a warehouse without a lane cannot ship")
    lanes: dict[str, dict] = {}
    for i, lane in enumerate(lanes_raw):
        key = id_key(lane["warehouse_id"])
        if key not in seen_warehouses:
            bad(f"lanes/{i}/warehouse_id", f"no warehouse with id {lane['warehouse_id']!r}")
        elif key in lanes:
            bad(f"lanes/{i}/warehouse_id", f"a second lane for warehouse {lane['warehouse_id']!r}; give one per warehouse")
        else:
            lanes[key] = lane

    known_products = {id_key(p) for w in warehouses_raw for p in w["stock"]}
    seen_lines: dict[str, int] = {}
    for i, line in enumerate(body["lines"]):
        key = id_key(line["line_id"])
        if key in seen_lines:
            bad(f"lines/{i}/line_id", f"duplicate line id {line['line_id']!r} (also lines/{seen_lines[key]})")
        else:
            seen_lines[key] = i
        if line["qty"] <= 0:
            bad(f"lines/{i}/qty", "qty must be a positive integer")
        if id_key(line["product_id"]) not in known_products:
            bad(f"lines/{i}/product_id",
                f"product {line['product_id']!r} is unknown to every warehouse's stock (list it, with 0 if none)")

    policy_raw = body["policy"]
    if policy_raw["max_shipments"] < 1:
        bad("policy/max_shipments", "max_shipments must be at least 1")

    if problems:
        raise Unprocessable("the allocation request is not consistent", details=problems)

    warehouses = []
    for w in warehouses_raw:
        key = id_key(w["id"])
        lane = lanes.get(key)
        warehouses.append(Warehouse(
            id=w["id"], key=key,
            stock={id_key(p): q for p, q in w["stock"].items()},
            cutoff=parse_cutoff(w["cutoff"]),
            handling_cost=exact(w["handling_cost"]),
            workload=exact(w["workload"]),
            lane_cost_per_shipment=exact(lane["cost_per_shipment"]) if lane else None,
            lane_cost_per_unit=exact(lane["cost_per_unit"]) if lane else None,
            transit_days=lane["transit_days"] if lane else None,
        ))
    policy = Policy(
        split_penalty=exact(policy_raw["split_penalty"]),
        late_penalty_per_day=exact(policy_raw["late_penalty_per_day"]),
        backorder_penalty_per_unit=exact(policy_raw["backorder_penalty_per_unit"]),
        workload_penalty_per_unit=exact(policy_raw["workload_penalty_per_unit"]),
        max_shipments=policy_raw["max_shipments"],
    )
    return Problem(
        now=parse_now(body["now"]),
        promised_date=date.fromisoformat(body["promised_date"]),
        lines=tuple(Line(l["line_id"], id_key(l["product_id"]), l["qty"]) for l in body["lines"]),
        warehouses=tuple(warehouses),
        policy=policy,
        max_plans=body.get("max_plans", DEFAULT_MAX_PLANS),
    )
