"""Master data holds, customer tiers, company overrides, how reasons combine, digests and policy loading."""
from __future__ import annotations

import copy
import json
import os

import pytest

from python_nodes.contracts import problems, schemas
from python_nodes.errors import Unprocessable
from python_nodes.release import policy as policies
from python_nodes.release import reasons as R
from python_nodes.release.service import evaluate

from .helpers import DEFAULT_DOCUMENT, codes, make_policy, reason, snapshot

POLICY = make_policy()


def test_baseline_snapshot_is_released_with_nothing_to_approve():
    decision = evaluate(snapshot(), POLICY)
    assert (decision["decision"], decision["tier"], decision["approver_roles"], decision["reasons"]) == \
        (R.RELEASE, R.TIER_AUTO, [], [])
    assert problems("order-release-decision", decision) == []


@pytest.mark.parametrize("address, missing", [
    (None, ["street", "city", "country"]),
    ({"id": 8, "street": "1 Main St", "city": "Lyon", "zip": None, "country": None}, ["country"]),
    ({"id": 8, "street": "  ", "city": "Lyon", "country": "France"}, ["street"]),
    ({"id": 8, "street": "1 Main St", "city": "Lyon", "zip": None, "country": "France"}, []),
])
def test_shipping_address_must_be_complete(address, missing):
    snap = snapshot()
    snap["shipping_address"] = address
    decision = evaluate(snap, POLICY)
    if missing:
        assert decision["decision"] == R.HOLD
        assert reason(decision, R.MISSING_SHIPPING_ADDRESS)["facts"]["missing"] == missing
    else:
        assert decision["decision"] == R.RELEASE


@pytest.mark.parametrize("warehouse_id, route_id, storable, held", [
    (1, None, True, False), (None, 5, True, False), (None, None, True, True), (None, None, False, False)])
def test_route_needs_a_warehouse_or_a_line_route(warehouse_id, route_id, storable, held):
    snap = snapshot(order={"warehouse_id": warehouse_id},
                    lines=[{"id": 101, "product_id": 11, "qty": 10, "price_unit": 100.0, "discount": 0.0,
                            "tax_ids": [1], "route_id": route_id}],
                    products=[{"id": 11, "name": "Widget", "list_price": 100.0, "standard_price": 60.0,
                               "is_storable": storable}])
    decision = evaluate(snap, POLICY)
    assert (R.MISSING_ROUTE in codes(decision)) is held
    if held:
        assert reason(decision, R.MISSING_ROUTE)["facts"]["line_ids"] == [101]


def test_a_line_without_tax_holds_the_order_and_names_the_line():
    lines = [{"id": 101, "product_id": 11, "qty": 5, "price_unit": 100.0, "discount": 0.0, "tax_ids": [1]},
             {"id": 102, "product_id": 11, "qty": 5, "price_unit": 100.0, "discount": 0.0, "tax_ids": []}]
    decision = evaluate(snapshot(lines=lines), POLICY)
    assert decision["decision"] == R.HOLD
    assert reason(decision, R.MISSING_TAX)["facts"]["line_ids"] == [102]
    exempt = make_policy(rules={"master_data": {"require_tax": False}})
    assert evaluate(snapshot(lines=lines), exempt)["decision"] == R.RELEASE


def test_data_the_odoo_database_does_not_model_skips_its_check_visibly():
    snap = snapshot(order={"warehouse_id": None}, unavailable=["tax", "route", "country", "stock"])
    snap["lines"][0]["tax_ids"] = []
    snap["shipping_address"]["country"] = None
    snap["stock"] = []
    decision = evaluate(snap, POLICY)
    assert decision["reasons"] == []
    assert decision["snapshot"]["unavailable"] == ["country", "route", "stock", "tax"]


def test_cancelled_or_empty_orders_are_held():
    assert codes(evaluate(snapshot(order={"state": "cancel"}), POLICY)) == [R.ORDER_CANCELLED]
    empty = snapshot()
    empty["lines"] = []
    assert evaluate(empty, POLICY)["decision"] == R.HOLD
    assert R.ORDER_EMPTY in codes(evaluate(empty, POLICY))


def test_hold_outweighs_approval_but_still_lists_the_approvals_it_will_need():
    snap = snapshot(partner={"credit_limit": 100.0})
    snap["shipping_address"] = None
    decision = evaluate(snap, POLICY)
    assert decision["decision"] == R.HOLD
    assert {R.MISSING_SHIPPING_ADDRESS, R.CREDIT_LIMIT_EXCEEDED} <= set(codes(decision))
    assert decision["approver_roles"] == ["finance", "director"]


def test_roles_follow_the_policy_step_order_once_each():
    snap = snapshot(partner={"credit_limit": 3000.0},
                    lines=[{"id": 101, "product_id": 11, "qty": 20, "price_unit": 100.0, "discount": 20.0,
                            "tax_ids": [1]}],
                    order={"amount_untaxed": 30000.0, "amount_total": 36300.0})
    decision = evaluate(snap, POLICY)
    assert decision["approver_roles"] == ["sales_manager", "ops", "finance", "director"]
    assert decision["tier"] == R.TIER_MULTI
    assert set(codes(decision)) == {R.CREDIT_LIMIT_EXCEEDED, R.CREDIT_LIMIT_FAR_EXCEEDED, R.DISCOUNT_ABOVE_MAX,
                                    R.STOCK_SHORTAGE, R.ORDER_VALUE_BAND}


@pytest.mark.parametrize("tier, resolved, priority", [("a", "a", "high"), ("b", "b", "normal"),
                                                      (None, "b", "normal"), ("unheard_of", "b", "normal")])
def test_customer_tier_resolution(tier, resolved, priority):
    decision = evaluate(snapshot(partner={"tier": tier}), POLICY)
    assert decision["customer"] == {"partner_id": 7, "tier": resolved, "service_priority": priority}


def test_key_account_tier_gets_its_own_credit_tolerance_and_discount():
    snap = snapshot(partner={"credit": 9000.0, "tier": "a"},  # exposure 10,710.00: within 10 % tolerance
                    lines=[{"id": 101, "product_id": 11, "qty": 10, "price_unit": 100.0, "discount": 15.0,
                            "tax_ids": [1]}])
    assert evaluate(snap, POLICY)["decision"] == R.RELEASE
    snap["partner"]["tier"] = "b"
    assert set(codes(evaluate(snap, POLICY))) == {R.CREDIT_LIMIT_EXCEEDED, R.DISCOUNT_ABOVE_MAX}


def test_new_customer_tier_needs_review_and_blocked_tier_is_held():
    review = evaluate(snapshot(partner={"tier": "new"}), POLICY)
    assert (review["decision"], review["approver_roles"], codes(review)) == \
        (R.APPROVE, ["sales_manager"], [R.CUSTOMER_TIER_REVIEW])
    blocked = evaluate(snapshot(partner={"tier": "blocked"}), POLICY)
    assert (blocked["decision"], codes(blocked)) == (R.HOLD, [R.CUSTOMER_BLOCKED])


def test_company_rules_and_company_tier_rules_override_in_order():
    policy = make_policy(companies={
        "2": {"rules": {"pricing": {"max_discount_pct": 5}},
              "tiers": {"a": {"service_priority": "normal", "rules": {"pricing": {"max_discount_pct": 8}}}}}})
    line = [{"id": 101, "product_id": 11, "qty": 10, "price_unit": 100.0, "discount": 7.0, "tax_ids": [1]}]
    assert codes(evaluate(snapshot(lines=line), policy)) == []  # company 1: global 10 %
    assert codes(evaluate(snapshot(lines=line, order={"company_id": 2}), policy)) == [R.DISCOUNT_ABOVE_MAX]
    gold = evaluate(snapshot(lines=line, order={"company_id": 2}, partner={"tier": "a"}), policy)
    assert codes(gold) == [] and gold["customer"]["service_priority"] == "normal"


def test_snapshot_digest_ignores_list_and_key_order_but_not_values():
    base = evaluate(snapshot(), POLICY)
    shuffled = snapshot()
    shuffled["stock"].reverse()
    shuffled["order"] = dict(reversed(list(shuffled["order"].items())))
    assert evaluate(shuffled, POLICY)["snapshot_digest"] == base["snapshot_digest"]
    changed = snapshot(lines=[{**snapshot()["lines"][0], "qty": 9}])
    assert evaluate(changed, POLICY)["snapshot_digest"] != base["snapshot_digest"]
    assert base["snapshot_digest"].startswith("sha256:") and len(base["snapshot_digest"]) == 71


def test_decision_names_the_policy_version_and_digest():
    decision = evaluate(snapshot(), POLICY)
    assert decision["policy"] == {"version": POLICY.version, "digest": POLICY.digest}
    other = make_policy(rules={"pricing": {"max_discount_pct": 11}})
    assert other.digest != POLICY.digest


def test_a_line_naming_an_unknown_product_is_refused_with_its_path():
    snap = snapshot()
    snap["products"] = []
    with pytest.raises(Unprocessable) as caught:
        evaluate(snap, POLICY)
    assert caught.value.details == [{"path": "lines/0/product_id", "message": "product 11 is not in products"}]


def test_evaluate_does_not_modify_its_input():
    snap = snapshot()
    before = copy.deepcopy(snap)
    evaluate(snap, POLICY)
    assert snap == before


# --- the policy file itself -----------------------------------------------------------------------------------


def test_shipped_policy_loads_and_validates():
    policy = policies.load()
    assert policy.version == DEFAULT_DOCUMENT["version"]
    assert problems("release-policy", DEFAULT_DOCUMENT) == []


def test_reason_codes_and_decisions_are_the_same_in_code_and_schema():
    decision_schema = schemas()["order-release-decision"]
    reason_schema = decision_schema["properties"]["reasons"]["items"]["properties"]
    assert reason_schema["code"]["enum"] == list(R.REASON_CODES)
    assert reason_schema["severity"]["enum"] == list(R.SEVERITIES)
    assert decision_schema["properties"]["decision"]["enum"] == list(R.DECISIONS)
    snapshot_schema = schemas()["order-release-snapshot"]
    assert snapshot_schema["properties"]["unavailable"]["items"]["enum"] == list(R.UNAVAILABLE)
    assert len(set(R.REASON_CODES)) == len(R.REASON_CODES)


@pytest.mark.parametrize("change, message", [
    ({"rules": {"credit": {"tolerance_pct": -1}}}, "rules/credit/tolerance_pct"),
    ({"default_tier": "platinum"}, "default_tier 'platinum' is not one of the tiers"),
    ({"rules": {"credit": {"role": "treasurer"}}}, "rules.credit.role: treasurer"),
    ({"tiers": {"new": {"review_roles": ["auditor"]}}}, "tiers.new.review_roles: auditor"),
    ({"version": "one"}, "version"),
])
def test_broken_policies_are_refused(change, message):
    document = policies.merge(copy.deepcopy(DEFAULT_DOCUMENT), change)
    with pytest.raises(policies.PolicyError, match=message.replace(".", r"\.")):
        policies.from_document(document)


def test_policy_file_is_reread_when_it_changes(tmp_path):
    path = tmp_path / "policy.json"
    document = copy.deepcopy(DEFAULT_DOCUMENT)
    path.write_text(json.dumps(document))
    first = policies.current(path)
    assert policies.current(path) is first
    document["version"] = "1.0.1"
    path.write_text(json.dumps(document))
    later = path.stat().st_mtime + 5  # a coarse file-system clock must not hide the edit
    os.utime(path, (later, later))
    assert policies.current(path).version == "1.0.1"


def test_unreadable_policy_file_is_refused(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text("{not json")
    with pytest.raises(policies.PolicyError):
        policies.load(path)
