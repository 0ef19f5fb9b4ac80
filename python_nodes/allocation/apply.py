"""Apply a chosen plan to Odoo (a note on the sale.order) once, after re-checking it against current stock."""
from __future__ import annotations

from ..idempotency.service import fingerprint
from . import checker
from .model import Problem

# When the optimal plan may be applied without a person: it meets the promise (nothing late, nothing backordered).
OUTCOME_APPLY = "apply"
OUTCOME_APPROVE = "approve"
REASON_BACKORDER = "backorder"
REASON_LATE = "late_shipment"
APPROVER_ROLE = "ops"
REQUESTER = {"id": "allocation-planner", "name": "Allocation planner"}
IDEMPOTENCY_SCOPE = "allocation.apply"


def policy_decision(plan: dict) -> dict:
    """Apply at once when the optimum meets the promise; otherwise ops decides (approve split, transfer, expedite)."""
    reasons = []
    if plan["backorders"]:
        units = sum(b["qty"] for b in plan["backorders"])
        reasons.append({"code": REASON_BACKORDER, "message": f"{units} unit(s) would be backordered"})
    late = [s for s in plan["shipments"] if s["late_days"] > 0]
    if late:
        worst = max(s["late_days"] for s in late)
        reasons.append({"code": REASON_LATE, "message": f"{len(late)} shipment(s) late, up to {worst} day(s)"})
    return {"outcome": OUTCOME_APPLY if not reasons else OUTCOME_APPROVE, "reasons": reasons}


def approval_request(order_id: int, order_name: str, result: dict, decision: dict, correlation_id: str) -> dict:
    """A body for ``POST /v1/approvals`` asking ops to choose among the plans (amount: the optimum's cost).

    Its idempotency key is derived from the question itself: a run that takes a shortage over from one that died
    after asking finds the same approval while the plans are the same (and asks about new plans, not old ones)."""
    best = result["plans"][0]
    request = {
        "subject": {"type": "sale.order", "id": order_id, "name": order_name},
        "amount": best["cost"]["total"],
        "requester": REQUESTER,
        "steps": [{"role": APPROVER_ROLE}],
        "context": {"reasons": decision["reasons"],
                    "plans": [{"kind": p["kind"], "total": p["cost"]["total"], "meets_promise": p["meets_promise"],
                               "explanation": p["explanation"]} for p in result["plans"]]},
        "correlation_id": correlation_id,
    }
    return {**request, "idempotency_key": f"allocation:sale.order:{order_id}:{fingerprint(request)}"}


def revised_promise(plan: dict) -> str | None:
    """The date everything arrives (latest ETA), or None while something is backordered."""
    if plan["backorders"] or not plan["shipments"]:
        return None
    return max(s["eta"] for s in plan["shipments"])


def note_html(plan: dict) -> str:
    items = "".join(f"<li>{sentence}</li>" for sentence in plan["explanation"])
    return f"<p>Fulfillment plan applied ({plan['kind']}, total {plan['cost']['total']:.2f}):</p><ul>{items}</ul>"


def stale_reasons(problem: Problem, plan: dict) -> list[str]:
    """Why ``plan`` no longer holds under today's stock and clock (empty when it can be applied as is)."""
    return checker.check(problem, plan)
