"""Build an inline allocation request from Odoo: lines from sale.order.line, stock from stock.quant, the rest from the network file."""
from __future__ import annotations

import math
from datetime import datetime, timezone

from ..errors import Unprocessable

# Only stock in internal locations can be picked; quants in transit, customer or vendor locations cannot.
PICKABLE_USAGE = "internal"
# Odoo quantities are floats; anything this close to an integer is that integer (float noise from UoM maths).
INTEGRAL_TOLERANCE = 1e-6


def _m2o_id(value):
    """A many2one as search_read gives it (``[id, name]``), or bare (``load=None``), or ``False``."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value or None


def _whole(qty: float, path: str, what: str) -> int:
    nearest = round(qty)
    if abs(qty - nearest) > INTEGRAL_TOLERANCE:
        raise Unprocessable(f"{what} is fractional ({qty}); the planner allocates whole units",
                            code="fractional_quantity", details=[{"path": path, "message": f"{qty} is not whole"}])
    return int(nearest)


def order_lines(odoo, order_id: int) -> tuple[dict, list[dict]]:
    """The order and its lines still to deliver: ``product_uom_qty - qty_delivered`` per product line."""
    order = odoo.read_one("sale.order", order_id, ["name", "state", "commitment_date"])
    rows = odoo.search_read("sale.order.line", [("order_id", "=", order_id)],
                            ["product_id", "product_uom_qty", "qty_delivered"])
    lines = []
    for row in rows:
        product = _m2o_id(row.get("product_id"))
        if product is None:  # section and note lines carry no product
            continue
        remaining = _whole((row.get("product_uom_qty") or 0.0) - (row.get("qty_delivered") or 0.0),
                           "order_id", f"sale.order.line {row['id']} quantity")
        if remaining > 0:
            lines.append({"line_id": row["id"], "product_id": product, "qty": remaining})
    if not lines:
        raise Unprocessable(f"sale.order {order_id} has nothing left to deliver", code="nothing_to_allocate",
                            details=[{"path": "order_id", "message": "no product line with undelivered quantity"}])
    return order, lines


def availability(odoo, product_ids: list[int], warehouse_by_odoo_id: dict) -> dict:
    """Units free to allocate per network warehouse and product: sum of floor(quantity - reserved_quantity) >= 0."""
    stock = {key: {str(p): 0 for p in product_ids} for key in warehouse_by_odoo_id.values()}
    quants = odoo.search_read("stock.quant", [("product_id", "in", product_ids)],
                              ["product_id", "location_id", "quantity", "reserved_quantity"])
    location_ids = sorted({_m2o_id(q["location_id"]) for q in quants if _m2o_id(q["location_id"])})
    locations = {row["id"]: row for row in odoo.read("stock.location", location_ids, ["usage", "warehouse_id"])} \
        if location_ids else {}
    for quant in quants:
        location = locations.get(_m2o_id(quant["location_id"]))
        if not location or location.get("usage") != PICKABLE_USAGE:
            continue
        key = warehouse_by_odoo_id.get(_m2o_id(location.get("warehouse_id")))
        if key is None:  # a warehouse operations did not put in the network cannot ship
            continue
        free = (quant.get("quantity") or 0.0) - (quant.get("reserved_quantity") or 0.0)
        # Whole units only, never below zero (over-reserved quants exist in real Odoo).
        product = str(_m2o_id(quant["product_id"]))
        stock[key][product] += max(0, math.floor(free + INTEGRAL_TOLERANCE))
    return stock


def _promised(order: dict, body: dict) -> str:
    if "promised_date" in body:
        return body["promised_date"]
    commitment = order.get("commitment_date")
    if not commitment:
        raise Unprocessable("the order has no commitment_date; send promised_date", code="promised_date_missing",
                            details=[{"path": "promised_date", "message": "required when the order has no commitment_date"}])
    return datetime.strptime(commitment, "%Y-%m-%d %H:%M:%S").date().isoformat()


def inline_request(odoo, body: dict, network: dict, now: datetime | None = None) -> dict:
    """The inline request equivalent to ``body`` (which names ``order_id``), read from Odoo and the network file."""
    order, lines = order_lines(odoo, body["order_id"])
    warehouse_by_odoo_id = {w["odoo_warehouse_id"]: w["id"] for w in network["warehouses"]}
    stock = availability(odoo, sorted({line["product_id"] for line in lines}), warehouse_by_odoo_id)
    moment = now or datetime.now(timezone.utc)
    return {
        "now": body.get("now") or moment.isoformat(),
        "promised_date": _promised(order, body),
        "lines": lines,
        "warehouses": [{"id": w["id"], "stock": stock[w["id"]], "cutoff": w["cutoff"],
                        "handling_cost": w["handling_cost"], "workload": w["workload"]} for w in network["warehouses"]],
        "lanes": network["lanes"],
        "policy": body.get("policy") or network["policy"],
        "max_plans": body.get("max_plans") or network.get("max_plans", 4),
        "order_name": order.get("name") or "",
    }
