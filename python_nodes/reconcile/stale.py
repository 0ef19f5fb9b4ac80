"""Stale-record rules as pure functions: late pickings, and purchase orders arriving after the sale promise."""
from __future__ import annotations

from datetime import datetime, timedelta

from ..exceptions.policy import parse_instant

# Finding kinds.
PICKING_LATE = "picking_late"
PURCHASE_LATE_FOR_SALES = "purchase_late_for_sales"
APPROVAL_OVERDUE = "approval_overdue"


def m2o_id(value):
    """A many2one as read with the default load (``[id, name]``) or with ``load=None`` (bare id), or False."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value or None


def m2o_name(value) -> str | None:
    return value[1] if isinstance(value, (list, tuple)) and len(value) > 1 else None


def late_picking(picking: dict, now: datetime, grace_hours: float) -> dict | None:
    """A picking still open ``grace_hours`` after its scheduled date, with how late it is."""
    scheduled = parse_instant(picking.get("scheduled_date"))
    if scheduled is None:
        return None
    deadline = scheduled + timedelta(hours=grace_hours)
    if now <= deadline:
        return None
    return {
        "kind": PICKING_LATE,
        "picking_id": picking["id"],
        "name": picking.get("name"),
        "state": picking.get("state"),
        "scheduled_date": picking.get("scheduled_date"),
        "hours_late": round((now - scheduled).total_seconds() / 3600.0, 2),
        "grace_hours": grace_hours,
        "origin": picking.get("origin") or None,
        "sale_order_id": m2o_id(picking.get("sale_id")),
    }


def sale_names_in(origin) -> list[str]:
    """Sale order names in a purchase order's source document (Odoo joins several with ", ")."""
    if not origin:
        return []
    return [part.strip() for part in str(origin).split(",") if part.strip()]


def purchase_late_for_sales(purchase: dict, sales: list[dict], buffer_hours: float,
                            customers: dict[int, dict]) -> dict | None:
    """The sale orders whose promised date falls before this purchase order's planned arrival (+ buffer)."""
    planned = parse_instant(purchase.get("date_planned"))
    if planned is None:
        return None
    arrival = planned + timedelta(hours=buffer_hours)
    affected = []
    for sale in sorted(sales, key=lambda s: s["id"]):
        promised = parse_instant(sale.get("commitment_date"))
        if promised is None or arrival <= promised:
            continue
        partner_id = m2o_id(sale.get("partner_id"))
        customer = customers.get(partner_id, {})
        affected.append({
            "sale_order_id": sale["id"],
            "sale_order": sale.get("name"),
            "commitment_date": sale.get("commitment_date"),
            "hours_late": round((arrival - promised).total_seconds() / 3600.0, 2),
            "amount_total": sale.get("amount_total"),
            "customer_id": partner_id,
            "customer": customer.get("name") or m2o_name(sale.get("partner_id")),
            "customer_tier": customer.get("tier"),
        })
    if not affected:
        return None
    return {
        "kind": PURCHASE_LATE_FOR_SALES,
        "purchase_order_id": purchase["id"],
        "name": purchase.get("name"),
        "vendor": m2o_name(purchase.get("partner_id")),
        "date_planned": purchase.get("date_planned"),
        "buffer_hours": buffer_hours,
        "affected_sale_orders": affected,
        "customers": sorted({a["customer"] for a in affected if a["customer"]}),
    }


def best_tier(tiers) -> str | None:
    """The most important customer tier among several ("A" before "B" before "C")."""
    known = sorted(t for t in tiers if t)
    return known[0] if known else None
