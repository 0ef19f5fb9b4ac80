"""The Odoo-id path over real processes: Odoo simulator + gunicorn; the answer equals the inline request built by hand."""
from __future__ import annotations

import json

import pytest
import requests

from python_nodes.allocation.network import EXAMPLE_FILE
from tests.harness.workers import workers_server

from .instances import violations

NOW = "2025-03-03T10:00:00Z"


def rpc(odoo, model, method, *args, **kwargs):
    return odoo.execute_kw(model, method, list(args), kwargs)


@pytest.fixture(scope="module")
def world(odoo):
    """Three warehouses (two seeded, one created), fresh products and quants with known free quantities."""
    utr = rpc(odoo, "stock.warehouse", "create", {"name": "Utrecht", "code": "UTR"})
    utr_stock = rpc(odoo, "stock.location", "create", {"name": "Stock", "usage": "internal", "warehouse_id": utr})
    unmapped = rpc(odoo, "stock.warehouse", "create", {"name": "Not in the network", "code": "XXX"})
    unmapped_stock = rpc(odoo, "stock.location", "create", {"name": "Stock", "usage": "internal", "warehouse_id": unmapped})
    [customers] = rpc(odoo, "stock.location", "search", [("usage", "=", "customer")])
    wh_stock, ndp_stock = 6, 8  # seeded WH/Stock and NDP/Stock
    red = rpc(odoo, "product.product", "create", {"name": "Red crate", "default_code": "T-RED"})
    blue = rpc(odoo, "product.product", "create", {"name": "Blue crate", "default_code": "T-BLUE"})
    for product, location, qty, reserved in [
        (red, wh_stock, 10.0, 4.0),        # 6 free in WH
        (red, ndp_stock, 12.0, 0.0),       # 12 free in NDP
        (blue, wh_stock, 5.0, 0.0),        # 5 free in WH
        (blue, utr_stock, 20.0, 2.5),      # 17.5 free -> 17 whole units in UTR
        (blue, ndp_stock, 3.0, 5.0),       # over-reserved: counts as 0
        (red, customers, 100.0, 0.0),      # delivered goods are not stock
        (red, unmapped_stock, 50.0, 0.0),  # a warehouse operations did not list cannot ship
    ]:
        rpc(odoo, "stock.quant", "create", {"product_id": product, "location_id": location, "quantity": qty,
                                            "reserved_quantity": reserved})
    [partner] = rpc(odoo, "res.partner", "search", [("customer_rank", ">", 0)], limit=1) or \
        [rpc(odoo, "res.partner", "create", {"name": "Allocation test customer"})]
    order = rpc(odoo, "sale.order", "create", {"partner_id": partner, "commitment_date": "2025-03-05 16:00:00",
                                               "order_line": [(0, 0, {"product_id": red, "product_uom_qty": 9.0}),
                                                              (0, 0, {"product_id": blue, "product_uom_qty": 7.0,
                                                                      "qty_delivered": 2.0}),
                                                              (0, 0, {"name": "Section: extras"})]})
    lines = rpc(odoo, "sale.order.line", "search_read", [("order_id", "=", order)], fields=["product_id"])
    return {"utr": utr, "red": red, "blue": blue, "order": order, "partner": partner,
            "line_ids": [line["id"] for line in lines if line["product_id"]]}


@pytest.fixture(scope="module")
def network_file(world, tmp_path_factory):
    network = json.loads(EXAMPLE_FILE.read_text())
    # The example maps AMS/RTM/UTR to Odoo warehouses 1/2/3; point UTR at the warehouse this test created.
    network["warehouses"][2]["odoo_warehouse_id"] = world["utr"]
    path = tmp_path_factory.mktemp("network") / "network.json"
    path.write_text(json.dumps(network))
    return path, network


@pytest.fixture(scope="module")
def base(sim, network_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("allocation-odoo")
    env = {"KIT_ODOO_URL": sim.url, "KIT_ODOO_DB": sim.db, "KIT_ODOO_USER": sim.login,
           "KIT_ODOO_PASSWORD": sim.password, "KIT_NETWORK_FILE": str(network_file[0])}
    with workers_server(env, workers=1, threads=2, database_url=f"sqlite:///{folder}/kit.sqlite3") as url:
        yield url


def test_order_id_reads_lines_and_free_stock_and_matches_the_inline_plan(base, world, network_file):
    _, network = network_file
    answer = requests.post(f"{base}/v1/allocation/plan", json={"order_id": world["order"], "now": NOW}, timeout=30)
    assert answer.status_code == 200, answer.text
    by_odoo = answer.json()
    red, blue = str(world["red"]), str(world["blue"])
    red_line, blue_line = world["line_ids"]
    inline = {
        "now": NOW,
        "promised_date": "2025-03-05",  # the date of commitment_date
        "lines": [{"line_id": red_line, "product_id": world["red"], "qty": 9},
                  {"line_id": blue_line, "product_id": world["blue"], "qty": 5}],  # 7 ordered - 2 delivered
        "warehouses": [{"id": w["id"], "cutoff": w["cutoff"], "handling_cost": w["handling_cost"],
                        "workload": w["workload"], "stock": stock}
                       for w, stock in zip(network["warehouses"], [{red: 6, blue: 5}, {red: 12, blue: 0},
                                                                   {red: 0, blue: 17}])],
        "lanes": network["lanes"],
        "policy": network["policy"],
    }
    by_hand = requests.post(f"{base}/v1/allocation/plan", json=inline, timeout=30).json()
    assert by_odoo["plans"] == by_hand["plans"]
    assert by_odoo["plans"][0]["shipments"], "the order should ship something"
    assert by_odoo["order_id"] == world["order"] and by_odoo["correlation_id"] == f"sale.order:{world['order']}"
    for p in by_odoo["plans"]:
        assert violations(inline, p) == []


def test_promised_date_in_the_request_overrides_the_order(base, world):
    answer = requests.post(f"{base}/v1/allocation/plan", timeout=30,
                           json={"order_id": world["order"], "now": NOW, "promised_date": "2025-03-10"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["promised_date"] == "2025-03-10"
    assert all(s["late_days"] == 0 for p in answer.json()["plans"] for s in p["shipments"])


def test_order_without_commitment_date_needs_promised_date(base, odoo, world):
    order = rpc(odoo, "sale.order", "create", {"partner_id": world["partner"], "order_line": [
        (0, 0, {"product_id": world["red"], "product_uom_qty": 1.0})]})
    answer = requests.post(f"{base}/v1/allocation/plan", json={"order_id": order, "now": NOW}, timeout=30)
    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["path"] == "promised_date"


def test_unknown_order_is_404(base):
    answer = requests.post(f"{base}/v1/allocation/plan", json={"order_id": 999999, "now": NOW}, timeout=30)
    assert answer.status_code == 404, answer.text


def test_fractional_quantity_is_422(base, odoo, world):
    order = rpc(odoo, "sale.order", "create", {"partner_id": world["partner"], "order_line": [
        (0, 0, {"product_id": world["red"], "product_uom_qty": 1.5})]})
    answer = requests.post(f"{base}/v1/allocation/plan", timeout=30,
                           json={"order_id": order, "now": NOW, "promised_date": "2025-03-05"})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "fractional_quantity"


def plan_for(base, world, **extra):
    answer = requests.post(f"{base}/v1/allocation/plan", timeout=30,
                           json={"order_id": world["order"], "now": NOW, **extra})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_policy_decision_applies_an_on_time_optimum_and_asks_ops_otherwise(base, world):
    on_time = plan_for(base, world, promised_date="2025-03-10")
    assert on_time["plans"][0]["meets_promise"]
    assert on_time["policy_decision"] == {"outcome": "apply", "reasons": []}
    assert "approval_request" not in on_time
    late = plan_for(base, world, promised_date="2025-03-03")
    assert late["policy_decision"]["outcome"] == "approve"
    best = late["plans"][0]
    # Promised for today: nothing can arrive in time, so every shipment is late or its units are backordered.
    expected = (["backorder"] if best["backorders"] else []) + (["late_shipment"] if best["shipments"] else [])
    assert [r["code"] for r in late["policy_decision"]["reasons"]] == expected and expected
    request = late["approval_request"]
    assert request["subject"]["id"] == world["order"] and request["steps"] == [{"role": "ops"}]
    assert request["amount"] == late["plans"][0]["cost"]["total"]
    # Planning again over the same stock asks the same question: one approval, however many runs ask.
    again = plan_for(base, world, promised_date="2025-03-03")["approval_request"]
    assert again["idempotency_key"] == request["idempotency_key"]
    assert request["idempotency_key"].startswith(f"allocation:sale.order:{world['order']}:")
    first = requests.post(f"{base}/v1/approvals", json={**request, "callback_url": "http://127.0.0.1:9/run-1"},
                          timeout=20)
    second = requests.post(f"{base}/v1/approvals", json={**again, "callback_url": "http://127.0.0.1:9/run-2"},
                           timeout=20)
    assert (first.status_code, second.status_code) == (201, 200), (first.text, second.text)
    assert second.json()["id"] == first.json()["id"]
    assert plan_for(base, world, promised_date="2025-03-04")["approval_request"]["idempotency_key"] != \
        request["idempotency_key"]  # another question (the promise moved): another approval


def chatter(odoo, order_id):
    return rpc(odoo, "mail.message", "search_read", [("model", "=", "sale.order"), ("res_id", "=", order_id)],
               fields=["body"])


def test_apply_writes_one_note_and_replays_on_repeat(base, odoo, world):
    chosen = plan_for(base, world)["plans"][0]
    before = len(chatter(odoo, world["order"]))
    first = requests.post(f"{base}/v1/allocation/apply", timeout=30,
                          json={"order_id": world["order"], "now": NOW, "plan": chosen})
    assert first.status_code == 200, first.text
    again = requests.post(f"{base}/v1/allocation/apply", timeout=30,
                          json={"order_id": world["order"], "now": NOW, "plan": chosen})
    assert again.status_code == 200
    assert first.json()["duplicate"] is False and again.json()["duplicate"] is True
    assert again.json()["message_id"] == first.json()["message_id"]
    notes = chatter(odoo, world["order"])
    assert len(notes) == before + 1
    assert sum("Fulfillment plan applied" in n["body"] for n in notes) == 1
    expected = max(s["eta"] for s in chosen["shipments"]) if not chosen["backorders"] else None
    assert first.json()["revised_promise"] == expected


def test_a_tampered_plan_is_refused_as_stale(base, world):
    chosen = plan_for(base, world)["plans"][0]
    chosen["shipments"][0]["lines"][0]["qty"] += 100
    answer = requests.post(f"{base}/v1/allocation/apply", timeout=30,
                           json={"order_id": world["order"], "now": NOW, "plan": chosen})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "plan_stale"


def test_a_plan_overtaken_by_a_reservation_is_refused_as_stale(base, odoo, world):
    """Another order reserves the stock the plan counted on: applying it now would oversell."""
    chosen = plan_for(base, world)["plans"][0]
    quants = rpc(odoo, "stock.quant", "search_read", [("product_id", "in", [world["red"], world["blue"]])],
                 fields=["quantity", "reserved_quantity"])
    for quant in quants:
        rpc(odoo, "stock.quant", "write", [quant["id"]], {"reserved_quantity": quant["quantity"]})
    try:
        answer = requests.post(f"{base}/v1/allocation/apply", timeout=30,
                               json={"order_id": world["order"], "now": NOW, "plan": chosen})
        assert answer.status_code == 409, answer.text
        assert any("has 0" in d["message"] for d in answer.json()["error"]["details"])
    finally:
        for quant in quants:
            rpc(odoo, "stock.quant", "write", [quant["id"]], {"reserved_quantity": quant["reserved_quantity"]})
