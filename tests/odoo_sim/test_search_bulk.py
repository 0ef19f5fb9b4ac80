"""Domains, ordering and paging over RPC; bulk orders page fast enough for the 100,000-order sweep benchmark."""

import time

import pytest
import requests


def call(sim, model, method, args, kwargs=None):
    payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"service": "object", "method": "execute_kw",
               "args": [sim.db, 2, sim.password, model, method, args, kwargs or {}]}}
    answer = requests.post(f"{sim.url}/jsonrpc", json=payload, timeout=60).json()
    assert "error" not in answer, answer
    return answer["result"]


@pytest.mark.parametrize("domain,expected", [
    ([["state", "=", "sale"]], [3, 4, 5]),
    (["|", ["state", "=", "draft"], ["state", "=", "sent"]], [1, 2]),
    (["!", ["state", "in", ["draft", "sent"]]], [3, 4, 5]),
    ([["state", "not in", ["sale"]], ["partner_id", "=", 7]], [1]),
    ([["partner_id.name", "ilike", "acme"]], [1, 5]),
    ([["partner_id", "ilike", "corner"]], [3]),
    ([["partner_id.category_id.name", "=", "Tier B"]], [2, 4]),
    ([["order_line.product_id.default_code", "=like", "P-100_"], ["amount_total", ">", 300]], [2, 4]),
    ([["commitment_date", "<", "2000-01-01"]], []),
    ([["client_order_ref", "=", False]], [1, 2, 3, 4, 5]),
    ([["name", "like", "S0000"], ["name", "not like", "3"]], [1, 2, 4, 5]),
    (["&", ["state", "=", "sale"], "|", ["warehouse_id", "=", 2], ["partner_id", "in", [9]]], [3, 4]),
])
def test_sale_order_domains(sim, domain, expected):
    assert call(sim, "sale.order", "search", [domain], {"order": "id asc"}) == expected


def test_order_offset_limit_and_active_test(sim):
    assert call(sim, "sale.order", "search", [[]], {"order": "amount_total desc, id asc", "limit": 2}) == [2, 4]
    assert call(sim, "sale.order", "search", [[]], {"order": "id asc", "offset": 3}) == [4, 5]
    products = call(sim, "product.product", "search", [[]])
    call(sim, "product.product", "write", [[products[0]], {"active": False}])
    assert products[0] not in call(sim, "product.product", "search", [[]])
    assert call(sim, "product.product", "search", [[["active", "=", False]]]) == [products[0]]
    assert products[0] in call(sim, "product.product", "search", [[]], {"context": {"active_test": False}})


def test_stock_quants_reach_their_warehouse(sim):
    rows = call(sim, "stock.quant", "search_read", [[["product_id.default_code", "=", "P-1004"]]],
                {"fields": ["warehouse_id", "quantity", "reserved_quantity"], "order": "id asc"})
    assert [(r["warehouse_id"][1], r["quantity"]) for r in rows] == [("Main Warehouse", 10.0), ("North Depot", 25.0)]
    by_warehouse = call(sim, "stock.quant", "search_count", [[["warehouse_id", "=", 2]]])
    assert by_warehouse == 4


def test_seed_findings_are_consistent(sim):
    findings = sim.control("GET", "info")["seed_findings"]
    late = call(sim, "stock.picking", "read", [findings["late_pickings"], ["state", "scheduled_date", "origin"]])
    now = call(sim, "sale.order", "read", [[1], ["write_date"]])[0]["write_date"]
    assert late[0]["state"] == "assigned" and late[0]["scheduled_date"] < now and late[0]["origin"] == "S00003"
    dependency = findings["purchase_eta_past_promise"][0]
    po = call(sim, "purchase.order", "read", [[dependency["purchase_order"]], ["date_planned", "origin"]])[0]
    so = call(sim, "sale.order", "read", [dependency["sale_orders"], ["commitment_date", "name"]])[0]
    assert po["date_planned"] > so["commitment_date"] and po["origin"] == so["name"]
    lines = call(sim, "account.move.line", "search_read", [[["move_id", "in", findings["bill_price_outside_tolerance"]]]],
                 {"fields": ["price_unit", "quantity", "purchase_line_id"], "load": None})
    po_lines = {r["id"]: r for r in call(sim, "purchase.order.line", "read", [[l["purchase_line_id"] for l in lines],
                                          ["price_unit", "qty_received"]])}
    deviations = [abs(l["price_unit"] - po_lines[l["purchase_line_id"]]["price_unit"]) / po_lines[l["purchase_line_id"]]["price_unit"] for l in lines]
    assert max(deviations) > 0.02
    assert any(l["quantity"] > po_lines[l["purchase_line_id"]]["qty_received"] for l in lines)


def test_bulk_orders_page_by_write_date_and_id_fast(sim):
    count, page = 100_000, 2_000
    created = sim.control("POST", "bulk/sale.order", json={"count": count})
    assert created["created"] == count
    fields = ["name", "state", "partner_id", "amount_total", "write_date"]
    watermark, last_id, seen = "1970-01-01 00:00:00", 0, 0
    started = time.perf_counter()
    while True:
        domain = ["|", ["write_date", ">", watermark], "&", ["write_date", "=", watermark], ["id", ">", last_id]]
        rows = call(sim, "sale.order", "search_read", [domain],
                    {"fields": fields, "order": "write_date asc, id asc", "limit": page, "load": None})
        if not rows:
            break
        assert all((r["write_date"], r["id"]) > (watermark, last_id) for r in rows)
        watermark, last_id = rows[-1]["write_date"], rows[-1]["id"]
        seen += len(rows)
    elapsed = time.perf_counter() - started
    assert seen == count + 5
    rate = seen / elapsed
    print(f"keyset paging: {seen} records in {elapsed:.2f}s = {rate:,.0f} records/s")
    assert rate >= 10_000
