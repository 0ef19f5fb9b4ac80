"""Every release threshold at its boundary: just below, equal and just above, through the pure evaluator."""
from __future__ import annotations

from decimal import Decimal

import pytest

from python_nodes.release import reasons as R
from python_nodes.release.service import evaluate

from .helpers import codes, make_policy, money, reason, snapshot

POLICY = make_policy()
BELOW, EQUAL, ABOVE = "below", "equal", "above"


def credit_snapshot(exposure: str, limit: float = 10000.0) -> dict:
    """Exposure = receivable + open orders (500.00) + this order (1,210.00); the receivable makes up the rest."""
    receivable = Decimal(exposure) - Decimal("500.00") - Decimal("1210.00")
    return snapshot(partner={"credit": float(receivable), "credit_limit": limit})


@pytest.mark.parametrize("exposure, exceeded", [("9999.99", False), ("10000.00", False), ("10000.01", True)])
def test_credit_limit_boundary(exposure, exceeded):
    decision = evaluate(credit_snapshot(exposure), POLICY)
    assert (R.CREDIT_LIMIT_EXCEEDED in codes(decision)) is exceeded
    assert decision["decision"] == (R.APPROVE if exceeded else R.RELEASE)
    assert decision["approver_roles"] == (["finance"] if exceeded else [])
    assert decision["tier"] == (R.TIER_SINGLE if exceeded else R.TIER_AUTO)
    if exceeded:
        facts = reason(decision, R.CREDIT_LIMIT_EXCEEDED)["facts"]
        assert facts["limit"] == 10000 and facts["exposure"] == money(exposure)
        assert facts["excess"] == money("0.01")
        assert facts["receivable"] + facts["open_orders"] + facts["order_amount"] == pytest.approx(facts["exposure"])


@pytest.mark.parametrize("exposure, exceeded", [("10999.99", False), ("11000.00", False), ("11000.01", True)])
def test_credit_tolerance_boundary(exposure, exceeded):
    policy = make_policy(rules={"credit": {"tolerance_pct": 10}})
    decision = evaluate(credit_snapshot(exposure), policy)
    assert (R.CREDIT_LIMIT_EXCEEDED in codes(decision)) is exceeded
    if exceeded:
        facts = reason(decision, R.CREDIT_LIMIT_EXCEEDED)["facts"]
        assert facts["allowed"] == 11000 and facts["excess"] == money("1000.01")


@pytest.mark.parametrize("exposure, escalated", [("14999.99", False), ("15000.00", False), ("15000.01", True)])
def test_credit_escalation_boundary(exposure, escalated):
    decision = evaluate(credit_snapshot(exposure), POLICY)
    assert R.CREDIT_LIMIT_EXCEEDED in codes(decision)
    assert (R.CREDIT_LIMIT_FAR_EXCEEDED in codes(decision)) is escalated
    assert decision["approver_roles"] == (["finance", "director"] if escalated else ["finance"])
    assert decision["tier"] == (R.TIER_MULTI if escalated else R.TIER_SINGLE)
    if escalated:
        assert reason(decision, R.CREDIT_LIMIT_FAR_EXCEEDED)["facts"]["ceiling"] == 15000


def test_credit_escalation_can_be_switched_off():
    policy = make_policy(rules={"credit": {"escalate_over_pct": None}})
    decision = evaluate(credit_snapshot("90000.00"), policy)
    assert codes(decision) == [R.CREDIT_LIMIT_EXCEEDED]


@pytest.mark.parametrize("limit", [0.0, None])
@pytest.mark.parametrize("when_no_limit, decision_expected, roles", [
    ("release", R.RELEASE, []), ("approve", R.APPROVE, ["finance"]), ("hold", R.HOLD, [])])
def test_credit_without_limit_follows_policy(limit, when_no_limit, decision_expected, roles):
    policy = make_policy(rules={"credit": {"when_no_limit": when_no_limit}})
    decision = evaluate(snapshot(partner={"credit_limit": limit}), policy)
    assert decision["decision"] == decision_expected
    assert decision["approver_roles"] == roles
    assert (R.CREDIT_LIMIT_MISSING in codes(decision)) is (when_no_limit != "release")


def test_credit_exposure_is_exact_decimal_arithmetic():
    """0.1 + 0.2 + limit - 0.3 must equal the limit, not exceed it by a float's rounding error."""
    snap = snapshot(partner={"credit": 0.1, "credit_limit": 1210.3}, open_orders_amount=0.2)
    assert R.CREDIT_LIMIT_EXCEEDED not in codes(evaluate(snap, POLICY))


@pytest.mark.parametrize("discount, flagged", [(9.99, False), (10.0, False), (10.01, True)])
def test_discount_boundary(discount, flagged):
    # A cost of 10.00 keeps the margin check clear of the discount under test.
    snap = snapshot(lines=[{"id": 101, "product_id": 11, "qty": 10, "price_unit": 100.0, "discount": discount,
                            "tax_ids": [1], "route_id": None}],
                    products=[{"id": 11, "name": "Widget", "list_price": 100.0, "standard_price": 10.0,
                               "is_storable": True}])
    decision = evaluate(snap, POLICY)
    assert codes(decision) == ([R.DISCOUNT_ABOVE_MAX] if flagged else [])
    assert decision["approver_roles"] == (["sales_manager"] if flagged else [])
    if flagged:
        facts = reason(decision, R.DISCOUNT_ABOVE_MAX)["facts"]
        assert facts == {"line_id": 101, "product_id": 11, "discount_pct": 10.01, "max_discount_pct": 10,
                         "excess_pct": money("0.01")}


@pytest.mark.parametrize("price, flagged", [(94.99, True), (95.0, False), (95.01, False)])
def test_price_below_list_boundary(price, flagged):
    snap = snapshot(lines=[{"id": 101, "product_id": 11, "qty": 10, "price_unit": price, "discount": 0.0,
                            "tax_ids": [1], "route_id": None}])
    decision = evaluate(snap, POLICY)
    assert codes(decision) == ([R.PRICE_BELOW_LIST] if flagged else [])
    if flagged:
        facts = reason(decision, R.PRICE_BELOW_LIST)["facts"]
        assert facts["min_price"] == 95 and facts["list_price"] == 100 and facts["shortfall"] == money("0.01")


@pytest.mark.parametrize("cost, flagged", [(84.99, False), (85.0, False), (85.01, True)])
def test_margin_floor_boundary(cost, flagged):
    """Net 100.00: a cost of 85.00 is exactly the 15 % floor."""
    snap = snapshot(products=[{"id": 11, "name": "Widget", "list_price": 100.0, "standard_price": cost,
                               "is_storable": True}])
    decision = evaluate(snap, POLICY)
    assert codes(decision) == ([R.MARGIN_BELOW_FLOOR] if flagged else [])
    if flagged:
        facts = reason(decision, R.MARGIN_BELOW_FLOOR)["facts"]
        assert facts["net_price"] == 100 and facts["cost"] == 85.01 and facts["min_margin_pct"] == 15
        assert facts["margin_pct"] == pytest.approx(14.99)


@pytest.mark.parametrize("cost, flagged", [("76.49", False), ("76.50", False), ("76.51", True)])
def test_margin_uses_the_net_price_after_discount(cost, flagged):
    """100.00 at 10 % discount nets 90.00; 15 % margin on 90.00 leaves a cost of 76.50 exactly."""
    snap = snapshot(lines=[{"id": 101, "product_id": 11, "qty": 10, "price_unit": 100.0, "discount": 10.0,
                            "tax_ids": [1], "route_id": None}],
                    products=[{"id": 11, "name": "Widget", "list_price": 100.0, "standard_price": money(cost),
                               "is_storable": True}])
    assert (R.MARGIN_BELOW_FLOOR in codes(evaluate(snap, POLICY))) is flagged


def test_margin_at_zero_price_is_below_any_floor_when_the_product_has_a_cost():
    snap = snapshot(lines=[{"id": 101, "product_id": 11, "qty": 1, "price_unit": 0.0, "discount": 0.0,
                            "tax_ids": [1], "route_id": None}])
    decision = evaluate(snap, make_policy(rules={"pricing": {"price_tolerance_pct": 100}}))
    assert codes(decision) == [R.MARGIN_BELOW_FLOOR]
    assert reason(decision, R.MARGIN_BELOW_FLOOR)["facts"]["margin_pct"] is None


def test_margin_check_off_when_floor_is_null_or_cost_unknown():
    cheap = [{"id": 11, "name": "Widget", "list_price": 100.0, "standard_price": 99.0, "is_storable": True}]
    assert codes(evaluate(snapshot(products=cheap), make_policy(rules={"pricing": {"min_margin_pct": None}}))) == []
    unknown = [{"id": 11, "name": "Widget", "list_price": 100.0, "standard_price": 0.0, "is_storable": True}]
    assert codes(evaluate(snapshot(products=unknown), POLICY)) == []


def stock_snapshot(free_in_second: int, on_hand_first: int = 8, reserved_first: int = 2) -> dict:
    return snapshot(stock=[
        {"product_id": 11, "warehouse_id": 1, "quantity": on_hand_first, "reserved_quantity": reserved_first},
        {"product_id": 11, "warehouse_id": 2, "quantity": free_in_second + 1, "reserved_quantity": 1}])


@pytest.mark.parametrize("free_in_second, short", [(3, True), (4, False), (5, False)])
def test_stock_boundary_across_warehouses(free_in_second, short):
    """10 ordered; warehouse 1 has 6 free (8 - 2 reserved), warehouse 2 the rest: 9, 10 or 11 in total."""
    decision = evaluate(stock_snapshot(free_in_second), POLICY)
    assert codes(decision) == ([R.STOCK_SHORTAGE] if short else [])
    assert decision["approver_roles"] == (["ops"] if short else [])
    if short:
        facts = reason(decision, R.STOCK_SHORTAGE)["facts"]
        assert facts == {"product_id": 11, "requested": 10, "available": 9, "shortfall": 1,
                         "warehouses": [{"warehouse_id": 1, "available": 6}, {"warehouse_id": 2, "available": 3}]}


def test_stock_reserved_quantity_is_not_available():
    decision = evaluate(stock_snapshot(5, on_hand_first=8, reserved_first=8), POLICY)
    assert reason(decision, R.STOCK_SHORTAGE)["facts"]["available"] == 5


def test_stock_sums_lines_of_the_same_product():
    lines = [{"id": 101, "product_id": 11, "qty": 6, "price_unit": 100.0, "discount": 0.0, "tax_ids": [1]},
             {"id": 102, "product_id": 11, "qty": 6, "price_unit": 100.0, "discount": 0.0, "tax_ids": [1]}]
    facts = reason(evaluate(snapshot(lines=lines), POLICY), R.STOCK_SHORTAGE)["facts"]
    assert facts["requested"] == 12 and facts["available"] == 11


def test_stock_counts_only_the_policy_warehouses():
    policy = make_policy(rules={"stock": {"warehouse_ids": [1]}})
    assert reason(evaluate(snapshot(), policy), R.STOCK_SHORTAGE)["facts"]["available"] == 6


@pytest.mark.parametrize("on_shortage, decision_expected", [("approve", R.APPROVE), ("hold", R.HOLD),
                                                            ("ignore", R.RELEASE)])
def test_stock_shortage_action_is_policy(on_shortage, decision_expected):
    policy = make_policy(rules={"stock": {"on_shortage": on_shortage}})
    assert evaluate(stock_snapshot(0), policy)["decision"] == decision_expected


def test_stock_ignores_products_that_are_not_storable():
    services = [{"id": 11, "name": "Install", "list_price": 100.0, "standard_price": 60.0, "is_storable": False}]
    assert codes(evaluate(snapshot(products=services, stock=[]), POLICY)) == []


@pytest.mark.parametrize("amount, band, roles", [
    ("24999.99", None, []), ("25000.00", None, []), ("25000.01", "large", ["sales_manager"]),
    ("99999.99", "large", ["sales_manager"]), ("100000.00", "large", ["sales_manager"]),
    ("100000.01", "strategic", ["sales_manager", "director"])])
def test_value_band_boundaries(amount, band, roles):
    # A generous credit limit keeps the credit check quiet for big orders.
    snap = snapshot(order={"amount_untaxed": money(amount), "amount_total": money(amount)},
                    partner={"credit_limit": 10_000_000.0})
    decision = evaluate(snap, POLICY)
    assert codes(decision) == ([R.ORDER_VALUE_BAND] if band else [])
    assert decision["approver_roles"] == roles
    assert decision["tier"] == min(len(roles), R.TIER_MULTI)
    if band:
        facts = reason(decision, R.ORDER_VALUE_BAND)["facts"]
        assert facts["band"] == band and facts["amount"] == money(amount)


def test_value_band_basis_can_be_the_total():
    snap = snapshot(order={"amount_untaxed": 24000.0, "amount_total": 29040.0}, partner={"credit_limit": 1e7})
    assert codes(evaluate(snap, POLICY)) == []
    assert codes(evaluate(snap, make_policy(rules={"value": {"basis": "amount_total"}}))) == [R.ORDER_VALUE_BAND]
