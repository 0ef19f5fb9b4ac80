"""Release decision for one order snapshot: pure functions over plain data, no Flask and no Odoo."""
from __future__ import annotations

import copy
from decimal import Decimal

from ..errors import Unprocessable
from . import reasons as R
from .policy import Policy, Resolved, digest

HUNDRED = Decimal(100)
DEFAULT_SERVICE_PRIORITY = "normal"


def dec(value) -> Decimal:
    """Exact decimal of a JSON number, so boundaries compare as written (0.1 + 0.2 == 0.3)."""
    return Decimal(str(value))


def num(value: Decimal) -> float | int:
    """A decimal back to a JSON number; integral values stay integers for readable facts."""
    return int(value) if value == value.to_integral_value() else float(value)


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def reason(code: str, severity: str, message: str, facts: dict, roles=()) -> dict:
    return {"code": code, "severity": severity, "roles": list(roles), "message": message, "facts": facts}


def canonical(snapshot: dict) -> dict:
    """The snapshot with lists in a fixed order, so the digest does not depend on how it was read."""
    snap = copy.deepcopy(snapshot)
    snap["lines"] = sorted(snap["lines"], key=lambda line: line["id"])
    for line in snap["lines"]:
        line["tax_ids"] = sorted(line["tax_ids"])
    if "unavailable" in snap:
        snap["unavailable"] = sorted(snap["unavailable"])
    snap["products"] = sorted(snap["products"], key=lambda p: p["id"])
    snap["stock"] = sorted(snap["stock"], key=lambda q: (q["product_id"], q["warehouse_id"] or 0,
                                                         q["quantity"], q["reserved_quantity"]))
    return snap


def order_digest(snapshot: dict) -> str:
    """Digest of what the customer ordered (order, lines, delivery address), without volatile credit and stock.

    An approval binds to it: if the order is edited while people approve, the approval no longer applies,
    whereas stock moving or other invoices being paid does not void it.
    """
    snap = canonical(snapshot)
    order = {k: v for k, v in snap["order"].items() if k != "state"}
    return digest({"order": order, "lines": snap["lines"], "partner_id": snap["partner"]["id"],
                   "shipping_address": snap["shipping_address"]})


def check_references(snapshot: dict) -> None:
    """Every line's product must be described; a snapshot that lacks one cannot be judged (422)."""
    known = {p["id"] for p in snapshot["products"]}
    missing = [{"path": f"lines/{i}/product_id", "message": f"product {line['product_id']} is not in products"}
               for i, line in enumerate(snapshot["lines"]) if line["product_id"] not in known]
    if missing:
        raise Unprocessable("snapshot lines name products it does not describe", details=missing)


def evaluate(snapshot: dict, policy: Policy) -> dict:
    """Decide release/approve/hold for the snapshot; every reason carries its code, message and numbers."""
    check_references(snapshot)
    snap = canonical(snapshot)
    partner = snap["partner"]
    resolved = policy.resolve(snap["order"]["company_id"], partner.get("tier"))
    found = []
    for check in CHECKS:
        found += check(snap, resolved)
    roles = approver_roles(found, policy.role_order)
    decision = decide(found)
    value_basis = resolved.rules["value"]["basis"]
    return {
        "order_id": snap["order"]["id"],
        "order_name": snap["order"].get("name"),
        "decision": decision,
        "tier": approval_tier(roles),
        "approver_roles": roles,
        "reasons": found,
        "customer": {"partner_id": partner["id"], "tier": resolved.tier,
                     "service_priority": resolved.tier_config.get("service_priority", DEFAULT_SERVICE_PRIORITY)},
        "amount": snap["order"][value_basis],
        "amount_basis": value_basis,
        "currency": snap["order"].get("currency") or policy.document.get("currency"),
        "policy": {"version": policy.version, "digest": policy.digest},
        "snapshot_digest": digest(snap),
        "order_digest": order_digest(snap),
        "released_before": False,  # history is not the evaluator's business: the route fills it from the audit log
        "snapshot": snap,
    }


def approval_request(decision: dict, requester: dict) -> dict:
    """The body for ``POST /v1/approvals``: one step per role in order, bound to the evaluated snapshot.

    The idempotency key makes a re-run of the workflow for the same snapshot find the same approval.
    """
    order_id = decision["order_id"]
    return {
        "subject": {"type": "sale.order", "id": order_id, "name": decision.get("order_name")},
        "amount": decision["amount"],
        **({"currency": decision["currency"]} if decision.get("currency") else {}),
        "requester": requester,
        "steps": [{"role": role} for role in decision["approver_roles"]],
        "context": {"reasons": [{"code": r["code"], "message": r["message"], "facts": r["facts"]}
                                for r in decision["reasons"]],
                    "decision": decision["decision"], "policy": decision["policy"],
                    "snapshot_digest": decision["snapshot_digest"], "order_digest": decision["order_digest"]},
        "correlation_id": f"sale.order:{order_id}",
        "idempotency_key": f"release:sale.order:{order_id}:{decision['snapshot_digest']}",
    }


def requester_of(snapshot: dict, user: dict | None = None) -> dict:
    """Who asks for the approval: the order's salesperson (segregation of duties keeps them from approving)."""
    uid = snapshot["order"].get("user_id")
    found = {"id": f"odoo-user:{uid}" if uid else "odoo-user:unknown"}
    if user:
        found.update({k: user[k] for k in ("name", "email") if user.get(k)})
    return found


def decide(found: list[dict]) -> str:
    """Hold beats approve beats release: data problems cannot be overridden by any approver."""
    severities = {r["severity"] for r in found}
    if R.SEVERITY_HOLD in severities:
        return R.HOLD
    if R.SEVERITY_APPROVE in severities:
        return R.APPROVE
    return R.RELEASE


def approver_roles(found: list[dict], role_order: list[str]) -> list[str]:
    """Roles the approval reasons need, once each, in the policy's step order (unknown roles last)."""
    wanted = {role for r in found if r["severity"] == R.SEVERITY_APPROVE for role in r["roles"]}
    rank = {role: i for i, role in enumerate(role_order)}
    return sorted(wanted, key=lambda role: (rank.get(role, len(rank)), role))


def approval_tier(roles: list[str]) -> int:
    if not roles:
        return R.TIER_AUTO
    return R.TIER_SINGLE if len(roles) == 1 else R.TIER_MULTI


# --- checks: each takes the canonical snapshot and the resolved rules and returns reasons -----------------------


def check_order(snap: dict, resolved: Resolved) -> list[dict]:
    order = snap["order"]
    found = []
    if order["state"] == "cancel":
        found.append(reason(R.ORDER_CANCELLED, R.SEVERITY_HOLD, f"Order {order.get('name') or order['id']} is cancelled.",
                            {"state": order["state"]}))
    if not snap["lines"]:
        found.append(reason(R.ORDER_EMPTY, R.SEVERITY_HOLD, "Order has no product lines.", {"lines": 0}))
    return found


def check_customer(snap: dict, resolved: Resolved) -> list[dict]:
    tier = resolved.tier_config
    facts = {"partner_id": snap["partner"]["id"], "tier": resolved.tier}
    if tier.get("blocked"):
        return [reason(R.CUSTOMER_BLOCKED, R.SEVERITY_HOLD,
                       f"Customer tier {resolved.tier!r} is blocked: fix the customer in Odoo first.", facts)]
    roles = tier.get("review_roles") or []
    if roles:
        return [reason(R.CUSTOMER_TIER_REVIEW, R.SEVERITY_APPROVE,
                       f"Customer tier {resolved.tier!r} needs review by {', '.join(roles)}.", facts, roles)]
    return []


def check_credit(snap: dict, resolved: Resolved) -> list[dict]:
    rules = resolved.rules["credit"]
    partner = snap["partner"]
    receivable, open_orders = dec(partner["credit"]), dec(snap["open_orders_amount"])
    order_amount = dec(snap["order"]["amount_total"])
    exposure = receivable + open_orders + order_amount
    facts = {"receivable": num(receivable), "open_orders": num(open_orders), "order_amount": num(order_amount),
             "exposure": num(exposure)}
    limit = dec(partner["credit_limit"]) if partner.get("credit_limit") is not None else Decimal(0)
    if limit <= 0:
        action = rules["when_no_limit"]
        if action == "release":
            return []
        severity = R.SEVERITY_HOLD if action == "hold" else R.SEVERITY_APPROVE
        return [reason(R.CREDIT_LIMIT_MISSING, severity,
                       f"Customer has no credit limit; exposure would be {money(exposure)}.",
                       {**facts, "limit": 0}, [rules["role"]] if severity == R.SEVERITY_APPROVE else [])]
    tolerance = dec(rules["tolerance_pct"])
    allowed = limit * (1 + tolerance / HUNDRED)
    found = []
    facts = {**facts, "limit": num(limit), "tolerance_pct": num(tolerance), "allowed": num(allowed),
             "excess": num(exposure - limit)}
    if exposure > allowed:
        found.append(reason(R.CREDIT_LIMIT_EXCEEDED, R.SEVERITY_APPROVE,
                            f"Credit exposure {money(exposure)} exceeds the limit {money(limit)} "
                            f"by {money(exposure - limit)}.", facts, [rules["role"]]))
    escalate = rules.get("escalate_over_pct")
    if escalate is not None:
        ceiling = limit * (1 + dec(escalate) / HUNDRED)
        if exposure > ceiling:
            found.append(reason(R.CREDIT_LIMIT_FAR_EXCEEDED, R.SEVERITY_APPROVE,
                                f"Credit exposure {money(exposure)} is more than {num(dec(escalate))}% over "
                                f"the limit {money(limit)}.",
                                {**facts, "escalate_over_pct": num(dec(escalate)), "ceiling": num(ceiling)},
                                rules["escalate_roles"]))
    return found


def check_pricing(snap: dict, resolved: Resolved) -> list[dict]:
    rules = resolved.rules["pricing"]
    products = {p["id"]: p for p in snap["products"]}
    role = [rules["role"]]
    max_discount, tolerance = dec(rules["max_discount_pct"]), dec(rules["price_tolerance_pct"])
    floor = dec(rules["min_margin_pct"]) if rules.get("min_margin_pct") is not None else None
    found = []
    for line in snap["lines"]:
        product = products[line["product_id"]]
        where = {"line_id": line["id"], "product_id": line["product_id"]}
        discount, price = dec(line["discount"]), dec(line["price_unit"])
        if discount > max_discount:
            found.append(reason(R.DISCOUNT_ABOVE_MAX, R.SEVERITY_APPROVE,
                                f"Line {line['id']}: discount {num(discount)}% is above the maximum {num(max_discount)}%.",
                                {**where, "discount_pct": num(discount), "max_discount_pct": num(max_discount),
                                 "excess_pct": num(discount - max_discount)}, role))
        list_price = dec(product["list_price"])
        min_price = list_price * (1 - tolerance / HUNDRED)
        if price < min_price:
            found.append(reason(R.PRICE_BELOW_LIST, R.SEVERITY_APPROVE,
                                f"Line {line['id']}: unit price {money(price)} is below list price {money(list_price)} "
                                f"minus {num(tolerance)}% ({money(min_price)}).",
                                {**where, "price_unit": num(price), "list_price": num(list_price),
                                 "tolerance_pct": num(tolerance), "min_price": num(min_price),
                                 "shortfall": num(min_price - price)}, role))
        cost = dec(product["standard_price"])
        if floor is not None and cost > 0:
            net = price * (1 - discount / HUNDRED)
            # Compare net - cost < net * floor / 100 rather than a quotient, so the boundary is exact.
            if net <= 0 or net - cost < net * floor / HUNDRED:
                margin = (net - cost) * HUNDRED / net if net > 0 else None
                found.append(reason(R.MARGIN_BELOW_FLOOR, R.SEVERITY_APPROVE,
                                    f"Line {line['id']}: margin "
                                    f"{'undefined at a zero price' if margin is None else f'{margin:.2f}%'} "
                                    f"is below the floor {num(floor)}%.",
                                    {**where, "net_price": num(net), "cost": num(cost),
                                     "margin_pct": None if margin is None else float(round(margin, 4)),
                                     "min_margin_pct": num(floor)}, role))
    return found


def check_stock(snap: dict, resolved: Resolved) -> list[dict]:
    rules = resolved.rules["stock"]
    if rules["on_shortage"] == "ignore" or R.UNAVAILABLE_STOCK in snap.get("unavailable", ()):
        return []
    storable = {p["id"] for p in snap["products"] if p["is_storable"]}
    wanted: dict[int, Decimal] = {}
    for line in snap["lines"]:
        if line["product_id"] in storable:
            wanted[line["product_id"]] = wanted.get(line["product_id"], Decimal(0)) + dec(line["qty"])
    counted = rules.get("warehouse_ids")
    found = []
    for product_id, requested in sorted(wanted.items()):
        per_warehouse: dict = {}
        for quant in snap["stock"]:
            if quant["product_id"] != product_id or (counted is not None and quant["warehouse_id"] not in counted):
                continue
            free = dec(quant["quantity"]) - dec(quant["reserved_quantity"])
            per_warehouse[quant["warehouse_id"]] = per_warehouse.get(quant["warehouse_id"], Decimal(0)) + free
        available = max(Decimal(0), sum(per_warehouse.values(), Decimal(0)))
        if requested > available:
            severity = R.SEVERITY_HOLD if rules["on_shortage"] == "hold" else R.SEVERITY_APPROVE
            found.append(reason(R.STOCK_SHORTAGE, severity,
                                f"Product {product_id}: {num(requested)} ordered, {num(available)} available "
                                f"across warehouses (short by {num(requested - available)}).",
                                {"product_id": product_id, "requested": num(requested), "available": num(available),
                                 "shortfall": num(requested - available),
                                 "warehouses": [{"warehouse_id": w, "available": num(q)}
                                                for w, q in sorted(per_warehouse.items(), key=lambda i: i[0] or 0)]},
                                [rules["role"]] if severity == R.SEVERITY_APPROVE else []))
    return found


def check_value(snap: dict, resolved: Resolved) -> list[dict]:
    rules = resolved.rules["value"]
    amount = dec(snap["order"][rules["basis"]])
    over = [band for band in rules["bands"] if amount > dec(band["above"])]
    if not over:
        return []
    band = max(over, key=lambda b: dec(b["above"]))
    return [reason(R.ORDER_VALUE_BAND, R.SEVERITY_APPROVE,
                   f"Order value {money(amount)} is above {money(dec(band['above']))} (band {band['name']!r}).",
                   {"amount": num(amount), "basis": rules["basis"], "band": band["name"],
                    "above": num(dec(band["above"]))}, band["roles"])]


def check_master_data(snap: dict, resolved: Resolved) -> list[dict]:
    rules = resolved.rules["master_data"]
    unavailable = set(snap.get("unavailable", ()))
    found = []
    address = snap["shipping_address"]
    if rules["require_shipping_address"]:
        fields = [f for f in rules["address_fields"] if not (f == "country" and R.UNAVAILABLE_COUNTRY in unavailable)]
        missing = list(fields) if address is None else [f for f in fields if not (address.get(f) or "").strip()]
        if missing:
            found.append(reason(R.MISSING_SHIPPING_ADDRESS, R.SEVERITY_HOLD,
                                "Shipping address is missing " + ", ".join(missing) + ".",
                                {"address_id": address["id"] if address else None, "missing": missing}))
    if rules["require_route"] and snap["order"]["warehouse_id"] is None and R.UNAVAILABLE_ROUTE not in unavailable:
        storable = {p["id"] for p in snap["products"] if p["is_storable"]}
        lines = [line["id"] for line in snap["lines"] if line["product_id"] in storable and not line.get("route_id")]
        if lines:
            found.append(reason(R.MISSING_ROUTE, R.SEVERITY_HOLD,
                                "Order has no warehouse and lines " + ", ".join(map(str, lines)) + " have no route.",
                                {"warehouse_id": None, "line_ids": lines}))
    if rules["require_tax"] and R.UNAVAILABLE_TAX not in unavailable:
        lines = [line["id"] for line in snap["lines"] if not line["tax_ids"]]
        if lines:
            found.append(reason(R.MISSING_TAX, R.SEVERITY_HOLD,
                                "Lines " + ", ".join(map(str, lines)) + " have no tax.", {"line_ids": lines}))
    return found


CHECKS = (check_order, check_customer, check_master_data, check_credit, check_pricing, check_stock, check_value)
