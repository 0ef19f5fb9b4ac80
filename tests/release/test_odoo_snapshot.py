"""The Odoo snapshot reader against a recorded fake client: field mapping, commercial partner, tiers, 404."""
from __future__ import annotations

import pytest

from python_nodes.contracts import problems
from python_nodes.errors import NotFound
from python_nodes.release.odoo_snapshot import read_snapshot

# Records as Odoo 17's ``read`` returns them: many2one as [id, name], x2many as id lists, empty as False.
RECORDS = {
    "sale.order": {42: {"id": 42, "name": "S00042", "state": "sent", "company_id": [1, "YourCompany"],
                        "partner_id": [71, "Acme Retail, Jane"], "partner_shipping_id": [72, "Acme Retail, Dock"],
                        "warehouse_id": [1, "WH"], "amount_untaxed": 1000.0, "amount_total": 1210.0,
                        "currency_id": [1, "EUR"], "user_id": [2, "Sam Seller"], "order_line": [101, 102, 103]}},
    "sale.order.line": {
        101: {"id": 101, "product_id": [11, "Widget"], "product_uom_qty": 10.0, "price_unit": 100.0,
              "discount": 0.0, "tax_id": [1], "route_id": False, "display_type": False},
        102: {"id": 102, "product_id": False, "product_uom_qty": 0.0, "price_unit": 0.0, "discount": 0.0,
              "tax_id": [], "route_id": False, "display_type": "line_section"},
        103: {"id": 103, "product_id": [12, "Install"], "product_uom_qty": 1.0, "price_unit": 50.0,
              "discount": 5.0, "tax_id": [2, 1], "route_id": [4, "Dropship"], "display_type": False}},
    "res.partner": {
        7: {"id": 7, "name": "Acme Retail", "credit": 2000.0, "credit_limit": 10000.0, "category_id": [3, 4],
            "parent_id": False, "commercial_partner_id": [7, "Acme Retail"]},
        71: {"id": 71, "name": "Acme Retail, Jane", "credit": 0.0, "credit_limit": 0.0, "category_id": [],
             "parent_id": [7, "Acme Retail"], "commercial_partner_id": [7, "Acme Retail"]},
        72: {"id": 72, "street": "1 Main St", "city": "Lyon", "zip": False, "country_id": [75, "France"]}},
    "res.partner.category": {3: {"id": 3, "name": "VIP"}, 4: {"id": 4, "name": "Tier A"}},
    "product.product": {
        11: {"id": 11, "name": "Widget", "lst_price": 100.0, "list_price": 100.0, "standard_price": 60.0,
             "type": "product", "detailed_type": "product"},
        12: {"id": 12, "name": "Install", "lst_price": 50.0, "list_price": 50.0, "standard_price": 0.0,
             "type": "service", "detailed_type": "service"}},
}
FIELDS = {
    "sale.order": ["name", "state", "company_id", "partner_id", "partner_shipping_id", "warehouse_id",
                   "amount_untaxed", "amount_total", "currency_id", "user_id", "order_line", "invoice_status",
                   "amount_to_invoice"],
    "sale.order.line": ["product_id", "product_uom_qty", "price_unit", "discount", "tax_id", "route_id",
                        "display_type"],
    "res.partner": ["name", "credit", "credit_limit", "category_id", "parent_id", "commercial_partner_id",
                    "street", "city", "zip", "country_id"],
    "res.partner.category": ["name"],
    "product.product": ["name", "lst_price", "list_price", "standard_price", "type", "detailed_type"],
    "stock.quant": ["product_id", "warehouse_id", "quantity", "reserved_quantity"],
}
SEARCHES = {
    "sale.order": [{"id": 40, "amount_to_invoice": 300.0}, {"id": 41, "amount_to_invoice": 200.0}],
    "stock.quant": [{"id": 1, "product_id": [11, "Widget"], "warehouse_id": [1, "WH"], "quantity": 8.0,
                     "reserved_quantity": 2.0},
                    {"id": 2, "product_id": [11, "Widget"], "warehouse_id": [2, "WH2"], "quantity": 5.0,
                     "reserved_quantity": 0.0}],
}


class FakeOdoo:
    """Answers like OdooClient from fixed records; remembers every search domain it was asked."""

    def __init__(self, records=RECORDS, fields=FIELDS):
        self.records, self.model_fields, self.searches = records, fields, []

    def field_names(self, model):
        return frozenset(self.model_fields.get(model, []))

    def read(self, model, ids, fields):
        unknown = set(fields) - set(self.model_fields[model])
        assert not unknown, f"reader asked {model} for fields it does not have: {unknown}"
        return [{"id": i, **{f: self.records[model][i][f] for f in fields if f in self.records[model][i]}}
                for i in ids if i in self.records.get(model, {})]

    def read_one(self, model, record_id, fields):
        rows = self.read(model, [record_id], fields)
        if not rows:
            raise NotFound(f"{model} {record_id} does not exist in Odoo", code="odoo_record_missing")
        return rows[0]

    def search_read(self, model, domain, fields, **kwargs):
        self.searches.append((model, domain, fields))
        return SEARCHES.get(model, [])


def test_snapshot_maps_odoo_records_to_the_contract():
    odoo = FakeOdoo()
    snap = read_snapshot(odoo, 42)
    assert problems("order-release-snapshot", snap) == []
    assert snap["order"] == {"id": 42, "name": "S00042", "company_id": 1, "state": "sent", "amount_untaxed": 1000.0,
                             "amount_total": 1210.0, "warehouse_id": 1, "user_id": 2, "currency": "EUR"}
    assert [line["id"] for line in snap["lines"]] == [101, 103]  # the section line is layout, not goods
    assert snap["lines"][1] == {"id": 103, "product_id": 12, "qty": 1.0, "price_unit": 50.0, "discount": 5.0,
                                "tax_ids": [1, 2], "route_id": 4}
    # Credit lives on the commercial partner, not on the contact who ordered.
    assert snap["partner"] == {"id": 7, "name": "Acme Retail", "credit": 2000.0, "credit_limit": 10000.0,
                               "tier": "a"}
    assert snap["shipping_address"] == {"id": 72, "street": "1 Main St", "city": "Lyon", "zip": None,
                                        "country": "France"}
    assert snap["open_orders_amount"] == 500.0
    assert [(p["id"], p["is_storable"]) for p in snap["products"]] == [(11, True), (12, False)]
    assert snap["stock"][0] == {"product_id": 11, "warehouse_id": 1, "quantity": 8.0, "reserved_quantity": 2.0}
    assert "unavailable" not in snap


def test_open_orders_are_the_customers_other_confirmed_uninvoiced_orders():
    odoo = FakeOdoo()
    read_snapshot(odoo, 42)
    model, domain, fields = next(s for s in odoo.searches if s[0] == "sale.order")
    assert ("partner_id", "child_of", 7) in domain and ("state", "=", "sale") in domain
    assert ("id", "!=", 42) in domain and ("invoice_status", "!=", "invoiced") in domain
    assert fields == ["amount_to_invoice"]
    _, quant_domain, _ = next(s for s in odoo.searches if s[0] == "stock.quant")
    assert ("location_id.usage", "=", "internal") in quant_domain and ("product_id", "in", [11, 12]) in quant_domain


def test_fields_this_database_lacks_are_not_requested_and_are_reported():
    fields = {**FIELDS, "sale.order.line": [f for f in FIELDS["sale.order.line"] if f not in ("tax_id", "route_id")],
              "res.partner": [f for f in FIELDS["res.partner"] if f not in ("country_id", "commercial_partner_id")]}
    snap = read_snapshot(FakeOdoo(fields=fields), 42)
    assert snap["unavailable"] == ["tax", "route", "country"]
    assert snap["partner"]["id"] == 7  # found through parent_id instead
    assert problems("order-release-snapshot", snap) == []


def test_unknown_order_is_not_found():
    with pytest.raises(NotFound):
        read_snapshot(FakeOdoo(), 999)


def test_a_partner_without_limit_reads_as_no_limit():
    records = {**RECORDS, "res.partner": {**RECORDS["res.partner"], 7: {**RECORDS["res.partner"][7],
                                                                         "credit_limit": 0.0, "category_id": []}}}
    snap = read_snapshot(FakeOdoo(records=records), 42)
    assert snap["partner"]["credit_limit"] is None and snap["partner"]["tier"] is None


@pytest.mark.parametrize("tag, tier", [("Tier A", "a"), ("tier: gold", "gold"), ("TIER-B", "b"),
                                       ("Tier Key Account", "key_account"), ("Tiered pricing", None), ("VIP", None)])
def test_tier_comes_from_a_partner_tag(tag, tier):
    records = {**RECORDS, "res.partner.category": {3: {"id": 3, "name": "VIP"}, 4: {"id": 4, "name": tag}}}
    assert read_snapshot(FakeOdoo(records=records), 42)["partner"]["tier"] == tier
