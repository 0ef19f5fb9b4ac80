"""Sweeps against the Odoo simulator's seeded company, whose expected findings it publishes in /_sim/info."""
from __future__ import annotations

import pytest


def _run(api, kind, body=None):
    response = api.post(f"/v1/reconcile/{kind}", json=body or {})
    assert response.status_code == 200, response.json
    return response.json


def _cases(api, **filters):
    return api.get("/v1/exceptions", query_string=filters).json["exceptions"]


def test_stale_records_find_the_seeded_late_picking_and_late_purchase(api, fresh_sim, odoo):
    expected = fresh_sim.control("GET", "info")["seed_findings"]
    result = _run(api, "stale-records")
    late = [f for f in result["findings"] if f["kind"] == "picking_late"]
    assert [f["picking_id"] for f in late] == expected["late_pickings"]
    assert [f["sale_order_id"] for f in late] == expected["late_picking_sale_orders"]
    [purchase] = [f for f in result["findings"] if f["kind"] == "purchase_late_for_sales"]
    [wanted] = expected["purchase_eta_past_promise"]
    assert purchase["purchase_order_id"] == wanted["purchase_order"]
    assert [a["sale_order_id"] for a in purchase["affected_sale_orders"]] == wanted["sale_orders"]
    assert [a["customer_id"] for a in purchase["affected_sale_orders"]] == wanted["customers"]
    assert purchase["customers"] == ["Delta Hospitality"]
    assert result["counts"] == {"findings": 2, "exceptions_new": 2, "exceptions_repeat": 0}

    [picking_case] = _cases(api, type="picking.sla.breached")
    assert picking_case["category"] == "warehouse_execution" and picking_case["owner"]["team"] == "warehouse"
    [procurement_case] = _cases(api, type="purchase.eta.changed")
    assert procurement_case["category"] == "procurement_dependency"
    assert procurement_case["details"]["affected_sale_orders"][0]["sale_order"] == "S00004"

    again = _run(api, "stale-records")
    assert again["counts"] == {"findings": 2, "exceptions_new": 0, "exceptions_repeat": 2}
    assert len(_cases(api)) == 2
    assert _cases(api, type="picking.sla.breached")[0]["occurrence_count"] == 2


def test_new_case_writes_an_activity_and_a_note_resolving_marks_it_done(api, odoo):
    _run(api, "stale-records", {"checks": ["pickings"]})
    [case] = _cases(api, type="picking.sla.breached")
    activity_id = case["odoo_activity_id"]
    assert activity_id
    [activity] = odoo.read("mail.activity", [activity_id], ["res_model", "res_id", "user_id", "date_deadline",
                                                            "summary", "activity_type_id", "active"])
    assert activity["res_model"] == "stock.picking" and activity["res_id"] == case["record"]["id"]
    assert activity["date_deadline"] == case["sla_due_at"][:10]
    assert activity["user_id"][0] == 2 and activity["active"] is True
    assert activity["activity_type_id"][1] == "To-Do"
    notes = odoo.search_read("mail.message", [["model", "=", "stock.picking"], ["res_id", "=", case["record"]["id"]]],
                             ["body"])
    assert any(f"Exception #{case['id']}" in n["body"] for n in notes)

    done = api.patch(f"/v1/exceptions/{case['id']}", json={"state": "resolved", "reason_code": "picking_completed"})
    assert done.status_code == 200, done.json
    [after] = odoo.search_read("mail.activity", [["id", "=", activity_id], ["active", "in", [True, False]]],
                               ["active", "state"])
    assert after["active"] is False and after["state"] == "done"
    detail = api.get(f"/v1/exceptions/{case['id']}").json["exception"]
    assert {f["action"]: f["status"] for f in detail["followups"]} == {
        "announce_opened": "done", "odoo_open": "done", "announce_closed": "done", "odoo_close": "done"}


def test_three_way_match_on_the_seeded_bills(api, fresh_sim):
    expected = fresh_sim.control("GET", "info")["seed_findings"]
    result = _run(api, "three-way-match")
    flagged_bills = {f["bill_id"] for f in result["findings"] if f["kind"] == "price_variance"}
    assert flagged_bills == set(expected["bill_price_outside_tolerance"])
    assert not flagged_bills & set(expected["bill_within_tolerance"])
    [price] = [f for f in result["findings"] if f["kind"] == "price_variance"]
    assert price["numbers"]["po_price_unit"] == 21.0 and price["numbers"]["bill_price_unit"] == 21.46
    [qty] = [f for f in result["findings"] if f["kind"] == "billed_over_received"]
    assert (qty["numbers"]["billed_qty"], qty["numbers"]["received_qty"]) == (200.0, 180.0)
    cases = _cases(api, type="invoice.mismatch.detected")
    assert len(cases) == 2 and {c["category"] for c in cases} == {"finance_control"}
    assert all(c["details"]["numbers"] for c in cases)

    again = _run(api, "three-way-match")
    assert again["counts"]["exceptions_new"] == 0 and again["counts"]["exceptions_repeat"] == 2


@pytest.mark.parametrize("price, flagged", [(21.42, False), (21.43, True), (20.58, False), (20.57, True)])
def test_price_at_the_tolerance_edge(api, fresh_sim, odoo, price, flagged):
    [bill_id] = fresh_sim.control("GET", "info")["seed_findings"]["bill_price_outside_tolerance"]
    [line] = odoo.search_read("account.move.line", [["move_id", "=", bill_id], ["price_unit", "=", 21.46]], ["id"])
    odoo.write("account.move.line", [line["id"]], {"price_unit": price})
    result = _run(api, "three-way-match", {})
    priced = [f for f in result["findings"] if f["kind"] == "price_variance"]
    assert bool(priced) is flagged, priced


def test_missed_event_sweep_is_idempotent_and_catches_new_confirmations(api, odoo):
    first = _run(api, "missed-events")["totals"]
    confirmed = odoo.search_read("sale.order", [["state", "=", "sale"]], ["id"])
    assert first["ingested"] == len(confirmed) > 0
    second = _run(api, "missed-events")["totals"]
    assert second["ingested"] == 0 and second["raced"] == 0
    events = api.get("/v1/events", query_string={"type": "sale.order.confirmed", "limit": 1000}).json["items"]
    assert sorted(e["event"]["data"]["record"]["id"] for e in events) == sorted(r["id"] for r in confirmed)
    assert {e["origin"] for e in events} == {"sweep"}

    [draft] = odoo.search_read("sale.order", [["state", "in", ["draft", "sent"]]], ["id"], limit=1)
    odoo.call("sale.order", "action_confirm", [draft["id"]])
    third = _run(api, "missed-events")["totals"]
    assert third["ingested"] == 1
    assert _run(api, "missed-events")["totals"]["ingested"] == 0


def test_events_that_arrived_by_webhook_are_not_ingested_again(api, odoo):
    [order] = odoo.search_read("sale.order", [["state", "=", "sale"]], ["id", "state", "write_date"], limit=1)
    webhook = {"_action": "Send Webhook Notification(#1)", "_id": order["id"], "_model": "sale.order",
               "id": order["id"], "state": "sale", "write_date": order["write_date"]}
    assert api.post("/v1/events", json=webhook).status_code == 201
    totals = _run(api, "missed-events")["totals"]
    assert totals["already_recorded"] == 1
    events = api.get("/v1/events", query_string={"type": "sale.order.confirmed"}).json["items"]
    assert [e["event"]["data"]["record"]["id"] for e in events].count(order["id"]) == 1


def test_small_batches_page_through_records_sharing_a_write_date(api, fresh_sim):
    fresh_sim.control("POST", "bulk/sale.order", json={"count": 25, "state": "sale"})
    result = _run(api, "missed-events", {"batch_size": 7})
    [model] = result["models"]
    assert model["ingested"] == model["scanned"] >= 25
    assert model["batches"] == -(-model["scanned"] // 7)
    assert _run(api, "missed-events", {"batch_size": 7})["totals"]["ingested"] == 0


def test_watermark_stops_early_and_resumes(api, fresh_sim, odoo):
    fresh_sim.control("POST", "bulk/sale.order", json={"count": 30, "state": "sale"})
    confirmed = len(odoo.search_read("sale.order", [["state", "=", "sale"]], ["id"]))
    part = _run(api, "missed-events", {"batch_size": 10, "max_batches": 2})["totals"]
    assert part["batches"] == 2 and part["ingested"] == 20
    rest = _run(api, "missed-events", {"batch_size": 10})["totals"]
    assert rest["ingested"] == confirmed - 20
    assert _run(api, "missed-events")["totals"]["ingested"] == 0
