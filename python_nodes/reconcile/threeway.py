"""Three-way match as pure functions: purchase order line vs received quantity vs vendor bill lines.

Numbers are compared as decimals built from their text, so a price exactly at the tolerance is within it and
one cent beyond is outside, whatever binary floating point would say.
"""
from __future__ import annotations

from decimal import Decimal

# Discrepancy kinds (also the last part of each exception's correlation key).
PRICE_VARIANCE = "price_variance"
BILLED_OVER_RECEIVED = "billed_over_received"
RECEIVED_OVER_ORDERED = "received_over_ordered"


def dec(value) -> Decimal:
    return Decimal(str(value or 0))


def allowed(tolerance: dict, reference: Decimal) -> Decimal:
    """The deviation tolerated around ``reference``: the larger of the absolute and the relative allowance."""
    return max(dec(tolerance["abs"]), abs(reference) * dec(tolerance["pct"]) / Decimal(100))


def beyond(actual: Decimal, reference: Decimal, tolerance: dict) -> bool:
    """True when ``actual`` is strictly further from ``reference`` than the tolerance allows."""
    return abs(actual - reference) > allowed(tolerance, reference)


def exceeds(actual: Decimal, reference: Decimal, tolerance: dict) -> bool:
    """True when ``actual`` is above ``reference`` by more than the tolerance (shortfalls are not flagged)."""
    return actual - reference > allowed(tolerance, reference)


def match(po_lines: dict[int, dict], bill_lines: list[dict], tolerances: dict) -> list[dict]:
    """Every discrepancy among these bill lines and the purchase order lines they bill, with the numbers.

    ``po_lines``: id -> {product_qty, qty_received, price_unit, order_id, product_id, name}.
    ``bill_lines``: {id, move_id, purchase_line_id, quantity, price_unit, product_id}.
    """
    findings = []
    billed: dict[int, Decimal] = {}
    bills_of: dict[int, list[int]] = {}
    for line in bill_lines:
        po_line = po_lines.get(line["purchase_line_id"])
        if po_line is None:
            continue
        billed[po_line["id"]] = billed.get(po_line["id"], Decimal(0)) + dec(line["quantity"])
        bills_of.setdefault(po_line["id"], []).append(line["move_id"])
        bill_price, po_price = dec(line["price_unit"]), dec(po_line["price_unit"])
        if beyond(bill_price, po_price, tolerances["price"]):
            findings.append(_finding(PRICE_VARIANCE, po_line, line, {
                "po_price_unit": float(po_price), "bill_price_unit": float(bill_price),
                "difference": float(bill_price - po_price),
                "difference_pct": float((bill_price - po_price) / po_price * 100) if po_price else None,
                "allowed": float(allowed(tolerances["price"], po_price)),
                "quantity": float(dec(line["quantity"])),
                "amount_at_stake": float(abs(bill_price - po_price) * dec(line["quantity"])),
            }))
    for po_line_id, billed_qty in sorted(billed.items()):
        po_line = po_lines[po_line_id]
        received = dec(po_line["qty_received"])
        if exceeds(billed_qty, received, tolerances["billed_vs_received"]):
            findings.append(_finding(BILLED_OVER_RECEIVED, po_line, None, {
                "ordered_qty": float(dec(po_line["product_qty"])), "received_qty": float(received),
                "billed_qty": float(billed_qty), "difference": float(billed_qty - received),
                "allowed": float(allowed(tolerances["billed_vs_received"], received)),
                "bill_ids": sorted(set(bills_of[po_line_id])),
                "amount_at_stake": float((billed_qty - received) * dec(po_line["price_unit"])),
            }))
    for po_line_id in sorted(billed):
        po_line = po_lines[po_line_id]
        ordered, received = dec(po_line["product_qty"]), dec(po_line["qty_received"])
        if exceeds(received, ordered, tolerances["received_vs_ordered"]):
            findings.append(_finding(RECEIVED_OVER_ORDERED, po_line, None, {
                "ordered_qty": float(ordered), "received_qty": float(received),
                "difference": float(received - ordered),
                "allowed": float(allowed(tolerances["received_vs_ordered"], ordered)),
                "bill_ids": sorted(set(bills_of[po_line_id])),
                "amount_at_stake": float((received - ordered) * dec(po_line["price_unit"])),
            }))
    return findings


def _finding(kind: str, po_line: dict, bill_line: dict | None, numbers: dict) -> dict:
    return {
        "kind": kind,
        "purchase_order_id": po_line["order_id"],
        "purchase_order": po_line.get("order_name"),
        "purchase_line_id": po_line["id"],
        "product_id": po_line.get("product_id"),
        "description": po_line.get("name"),
        "bill_id": bill_line["move_id"] if bill_line else None,
        "bill_line_id": bill_line["id"] if bill_line else None,
        "numbers": numbers,
    }
