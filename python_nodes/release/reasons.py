"""Named decisions, severities and reason codes of the release policy, shared by code, schemas and tests."""
from __future__ import annotations

# Decisions, strongest last: one hold reason outweighs any number of approval reasons.
RELEASE = "release"
APPROVE = "approve"
HOLD = "hold"
DECISIONS = (RELEASE, APPROVE, HOLD)

# Approval tiers: nobody, one approver, a multi-step chain.
TIER_AUTO = 0
TIER_SINGLE = 1
TIER_MULTI = 2

# What a reason demands: a person may override it (approve) or data must be fixed first (hold).
SEVERITY_APPROVE = APPROVE
SEVERITY_HOLD = HOLD
SEVERITIES = (SEVERITY_APPROVE, SEVERITY_HOLD)

# Credit exposure (receivable + open confirmed orders not invoiced + this order) against the credit limit.
CREDIT_LIMIT_EXCEEDED = "credit_limit_exceeded"
CREDIT_LIMIT_FAR_EXCEEDED = "credit_limit_far_exceeded"
CREDIT_LIMIT_MISSING = "credit_limit_missing"
# Pricing tolerance per line.
DISCOUNT_ABOVE_MAX = "discount_above_max"
PRICE_BELOW_LIST = "price_below_list"
MARGIN_BELOW_FLOOR = "margin_below_floor"
# Stock available across warehouses (quantity - reserved_quantity).
STOCK_SHORTAGE = "stock_shortage"
# Order value bands and customer tier.
ORDER_VALUE_BAND = "order_value_band"
CUSTOMER_TIER_REVIEW = "customer_tier_review"
CUSTOMER_BLOCKED = "customer_blocked"
# Missing master data: nobody may override, the data must be fixed in Odoo.
MISSING_SHIPPING_ADDRESS = "missing_shipping_address"
MISSING_ROUTE = "missing_route"
MISSING_TAX = "missing_tax"
# The order itself cannot be released.
ORDER_CANCELLED = "order_cancelled"
ORDER_EMPTY = "order_empty"

REASON_CODES = (
    CREDIT_LIMIT_EXCEEDED, CREDIT_LIMIT_FAR_EXCEEDED, CREDIT_LIMIT_MISSING,
    DISCOUNT_ABOVE_MAX, PRICE_BELOW_LIST, MARGIN_BELOW_FLOOR,
    STOCK_SHORTAGE, ORDER_VALUE_BAND, CUSTOMER_TIER_REVIEW, CUSTOMER_BLOCKED,
    MISSING_SHIPPING_ADDRESS, MISSING_ROUTE, MISSING_TAX, ORDER_CANCELLED, ORDER_EMPTY,
)

# Data an Odoo database may lack because the module that defines it is not installed (account, stock, ...):
# the reader lists them in the snapshot's ``unavailable`` and the checks that need them are skipped, visibly.
UNAVAILABLE_TAX = "tax"
UNAVAILABLE_ROUTE = "route"
UNAVAILABLE_COUNTRY = "country"
UNAVAILABLE_STOCK = "stock"
UNAVAILABLE = (UNAVAILABLE_TAX, UNAVAILABLE_ROUTE, UNAVAILABLE_COUNTRY, UNAVAILABLE_STOCK)
