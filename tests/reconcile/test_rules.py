"""Unit tests of the pure sweep rules: three-way tolerances at their edges, late pickings, late purchases."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from python_nodes.reconcile import missed, settings, stale, threeway

TOL = {"price": {"pct": 2.0, "abs": 0.0}, "billed_vs_received": {"pct": 0.0, "abs": 0.0},
       "received_vs_ordered": {"pct": 5.0, "abs": 0.0}}
PO_LINE = {"id": 11, "order_id": 5, "product_id": 3, "name": "Pallet wrap", "product_qty": 100.0,
           "qty_received": 100.0, "price_unit": 10.0}


def _bill(price, qty=100.0, line_id=21):
    return {"id": line_id, "move_id": 9, "purchase_line_id": 11, "quantity": qty, "price_unit": price}


@pytest.mark.parametrize("price, flagged", [
    (10.0, False), (10.2, False), (9.8, False), (10.21, True), (9.79, True), (10.200001, True),
])
def test_price_tolerance_edges(price, flagged):
    kinds = [f["kind"] for f in threeway.match({11: PO_LINE}, [_bill(price)], TOL)]
    assert (threeway.PRICE_VARIANCE in kinds) is flagged


def test_price_finding_carries_the_numbers():
    [finding] = threeway.match({11: PO_LINE}, [_bill(10.25)], TOL)
    assert finding["numbers"]["po_price_unit"] == 10.0 and finding["numbers"]["bill_price_unit"] == 10.25
    assert finding["numbers"]["allowed"] == pytest.approx(0.2)
    assert finding["numbers"]["amount_at_stake"] == pytest.approx(25.0)
    assert finding["bill_line_id"] == 21 and finding["purchase_order_id"] == 5


def test_billed_more_than_received_across_bills():
    line = {**PO_LINE, "qty_received": 60.0}
    found = threeway.match({11: line}, [_bill(10.0, 40.0, 21), _bill(10.0, 30.0, 22)], TOL)
    [finding] = [f for f in found if f["kind"] == threeway.BILLED_OVER_RECEIVED]
    assert finding["numbers"]["billed_qty"] == 70.0 and finding["numbers"]["received_qty"] == 60.0
    assert threeway.match({11: line}, [_bill(10.0, 60.0)], TOL) == []


def test_received_over_ordered_beyond_five_percent():
    assert threeway.match({11: {**PO_LINE, "qty_received": 105.0}}, [_bill(10.0, 100.0)], TOL) == []
    found = threeway.match({11: {**PO_LINE, "qty_received": 106.0}}, [_bill(10.0, 100.0)], TOL)
    assert [f["kind"] for f in found] == [threeway.RECEIVED_OVER_ORDERED]


def test_bill_lines_without_known_po_line_are_ignored():
    assert threeway.match({}, [_bill(99.0)], TOL) == []


NOW = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)


def test_late_picking_after_grace():
    picking = {"id": 1, "name": "WH/OUT/1", "state": "assigned", "scheduled_date": "2025-03-10 07:00:00",
               "sale_id": [4, "S4"]}
    assert stale.late_picking(picking, NOW, 5.0) is None
    late = stale.late_picking(picking, NOW, 4.0)
    assert late["hours_late"] == 5.0 and late["sale_order_id"] == 4


def test_purchase_late_for_some_sales():
    purchase = {"id": 3, "name": "P3", "date_planned": "2025-03-12 10:00:00", "partner_id": [8, "Vendor"]}
    sales = [{"id": 1, "name": "S1", "commitment_date": "2025-03-12 09:00:00", "partner_id": [20, "Acme"],
              "amount_total": 100.0},
             {"id": 2, "name": "S2", "commitment_date": "2025-03-12 10:00:00", "partner_id": [21, "Beta"],
              "amount_total": 50.0},
             {"id": 5, "name": "S5", "commitment_date": False, "partner_id": [21, "Beta"]}]
    finding = stale.purchase_late_for_sales(purchase, sales, 0, {20: {"name": "Acme", "tier": "A"}})
    assert [a["sale_order"] for a in finding["affected_sale_orders"]] == ["S1"]
    assert finding["customers"] == ["Acme"] and finding["affected_sale_orders"][0]["customer_tier"] == "A"
    assert stale.purchase_late_for_sales(purchase, sales[1:], 0, {}) is None
    assert stale.purchase_late_for_sales(purchase, sales[1:], 1, {})["affected_sale_orders"][0]["sale_order"] == "S2"


def test_origin_names():
    assert stale.sale_names_in("S00012, S00013") == ["S00012", "S00013"]
    assert stale.sale_names_in(False) == []


def test_keyset_domain_and_webhook_body():
    assert missed._after(("2025-03-10 10:00:00", 7)) == [
        "|", ["write_date", ">", "2025-03-10 10:00:00"], "&", ["write_date", "=", "2025-03-10 10:00:00"],
        ["id", ">", 7]]
    body = missed.webhook_body("sale.order", {"id": 4, "partner_id": [9, "Acme"], "state": "sale",
                                              "write_date": "2025-03-10 10:00:00", "tag_ids": [1, 2]})
    assert body == {"_action": missed.SWEEP_ACTION, "_id": 4, "_model": "sale.order", "partner_id": 9,
                    "state": "sale", "tag_ids": [1, 2], "write_date": "2025-03-10 10:00:00"}


def test_shipped_settings_validate():
    assert settings.watch()["models"][0]["model"] == "sale.order"
    assert settings.tolerances()["three_way"]["price"]["pct"] == 2.0


def test_precomputed_key_agrees_with_the_inbox():
    from python_nodes.events import service as events

    body = missed.webhook_body("sale.order", {"id": 12, "name": "S00012", "state": "sale", "partner_id": [3, "A"],
                                              "amount_total": 10.0, "commitment_date": False,
                                              "write_date": "2025-03-10 10:00:00"})
    envelope = events.normalize(body, type_hint="sale.order.confirmed")
    assert missed.event_key("sale.order.confirmed", body) == envelope["idempotencykey"]
