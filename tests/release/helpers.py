"""Builders for release tests: a snapshot within policy and a policy with the numbers the tests state."""
from __future__ import annotations

import copy
import json
from decimal import Decimal

from python_nodes.release import policy as policies

DEFAULT_DOCUMENT = json.loads(policies.DEFAULT_FILE.read_text())

# The thresholds the boundary tests are written against (the shipped defaults, restated so a change to the
# shipped file does not silently move these tests).
RULES = {
    "credit": {"role": "finance", "tolerance_pct": 0, "when_no_limit": "release", "escalate_over_pct": 50,
               "escalate_roles": ["director"]},
    "pricing": {"role": "sales_manager", "max_discount_pct": 10, "price_tolerance_pct": 5, "min_margin_pct": 15},
    "stock": {"role": "ops", "on_shortage": "approve", "warehouse_ids": None},
    "value": {"basis": "amount_untaxed", "bands": [
        {"name": "large", "above": 25000, "roles": ["sales_manager"]},
        {"name": "strategic", "above": 100000, "roles": ["sales_manager", "director"]}]},
    "master_data": {"require_shipping_address": True, "address_fields": ["street", "city", "country"],
                    "require_route": True, "require_tax": True},
}


def make_policy(**changes) -> policies.Policy:
    """The shipped document with RULES as global rules, then ``changes`` deep-merged on top."""
    document = copy.deepcopy(DEFAULT_DOCUMENT)
    document["rules"] = copy.deepcopy(RULES)
    return policies.from_document(policies.merge(document, changes), source="test policy")


def money(text: str) -> float:
    """A float whose repr is exactly ``text`` (money as written in the test)."""
    return float(Decimal(text))


def snapshot(**changes) -> dict:
    """An order that passes every check of RULES: 10 x 100.00 of a storable product, 11 free in two warehouses."""
    snap = {
        "order": {"id": 42, "name": "S00042", "company_id": 1, "state": "sent", "currency": "EUR",
                  "amount_untaxed": 1000.0, "amount_total": 1210.0, "warehouse_id": 1, "user_id": 2},
        "lines": [{"id": 101, "product_id": 11, "qty": 10, "price_unit": 100.0, "discount": 0.0, "tax_ids": [1],
                   "route_id": None}],
        "partner": {"id": 7, "name": "Acme Retail", "credit": 2000.0, "credit_limit": 10000.0, "tier": "b"},
        "shipping_address": {"id": 8, "street": "1 Main St", "city": "Lyon", "zip": "69001", "country": "France"},
        "open_orders_amount": 500.0,
        "products": [{"id": 11, "name": "Widget", "list_price": 100.0, "standard_price": 60.0, "is_storable": True}],
        "stock": [{"product_id": 11, "warehouse_id": 1, "quantity": 8, "reserved_quantity": 2},
                  {"product_id": 11, "warehouse_id": 2, "quantity": 5, "reserved_quantity": 0}],
    }
    return policies.merge(snap, changes)


def codes(decision: dict) -> list[str]:
    return [r["code"] for r in decision["reasons"]]


def reason(decision: dict, code: str) -> dict:
    matches = [r for r in decision["reasons"] if r["code"] == code]
    assert len(matches) == 1, f"expected one {code} in {codes(decision)}"
    return matches[0]
