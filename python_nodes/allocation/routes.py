"""HTTP: ``POST /v1/allocation/plan`` (inline data or an Odoo sale.order id)."""
from __future__ import annotations

from flask import Blueprint, current_app, g

from ..audit.service import record
from ..contracts import contract
from ..errors import Conflict, Unavailable
from ..idempotency.service import fingerprint, run_once
from . import apply as applying
from . import network, odoo_source, service
from .model import build_problem

bp = Blueprint("allocation", __name__)

ACTOR = "allocation-planner"
ACTION_PLANNED = "allocation.planned"
ACTION_APPLIED = "allocation.applied"


@bp.post("/v1/allocation/plan")
@contract(request="allocation-plan-request", response="allocation-plan-response")
def plan():
    """The optimal fulfillment plan and a planner's alternatives, each with costs, dates and an explanation."""
    body = g.body
    config = current_app.extensions["kit.config"]
    request_body = body
    if "order_id" in body:
        operations = network.load(config.network_file)
        request_body = odoo_source.inline_request(current_app.extensions["kit.odoo"](), body, operations)
    problem = build_problem(request_body)
    try:
        result = service.plan(problem)
    except service.SolverError as exc:
        raise Unavailable(str(exc), code="solver_incomplete") from exc
    correlation_id = body.get("correlation_id") or (
        f"sale.order:{body['order_id']}" if "order_id" in body else g.correlation_id)
    result["promised_date"] = problem.promised_date.isoformat()
    result["correlation_id"] = correlation_id
    best = result["plans"][0]
    if "order_id" in body:
        result["order_id"] = body["order_id"]
        decision = applying.policy_decision(best)
        result["policy_decision"] = decision
        if decision["outcome"] == applying.OUTCOME_APPROVE:
            result["approval_request"] = applying.approval_request(
                body["order_id"], request_body.get("order_name", ""), result, decision, correlation_id)
    with current_app.extensions["kit.db"].transaction() as tx:
        record(tx, actor=ACTOR, action=ACTION_PLANNED,
               subject=f"sale.order:{body['order_id']}" if "order_id" in body else "allocation:inline",
               correlation_id=correlation_id, reason_codes=[p["kind"] for p in result["plans"]],
               data={"optimal_total": best["cost"]["total"], "meets_promise": best["meets_promise"],
                     "shipments": [s["warehouse_id"] for s in best["shipments"]],
                     "backordered_units": sum(b["qty"] for b in best["backorders"]),
                     "method": result["solver"]["method"]})
    return result


@bp.post("/v1/allocation/apply")
@contract(request="allocation-apply-request", response="allocation-apply-response")
def apply():
    """Write a plan to Odoo once (a note on the order) if it still holds under current stock; 409 when stale."""
    body = g.body
    config = current_app.extensions["kit.config"]
    odoo = current_app.extensions["kit.odoo"]()
    operations = network.load(config.network_file)
    problem = build_problem(odoo_source.inline_request(odoo, body, operations))
    chosen = body["plan"]
    stale = applying.stale_reasons(problem, chosen)
    if stale:
        raise Conflict("the plan no longer holds (stock or cutoff changed); plan again", code="plan_stale",
                       details=[{"message": reason} for reason in stale])
    order_id = body["order_id"]
    correlation_id = body.get("correlation_id") or f"sale.order:{order_id}"
    key = f"sale.order:{order_id}:{fingerprint(chosen)[:32]}"

    def write_back():
        message_id = odoo.message_post("sale.order", order_id, applying.note_html(chosen))
        answer = {"order_id": order_id, "applied": True, "message_id": message_id, "kind": chosen["kind"],
                  "meets_promise": chosen["meets_promise"], "revised_promise": applying.revised_promise(chosen),
                  "total": chosen["cost"]["total"], "correlation_id": correlation_id}
        with current_app.extensions["kit.db"].transaction() as tx:
            record(tx, actor=ACTOR, action=ACTION_APPLIED, subject=f"sale.order:{order_id}",
                   correlation_id=correlation_id, reason_codes=[chosen["kind"]],
                   data={"message_id": message_id, "total": chosen["cost"]["total"],
                         "revised_promise": answer["revised_promise"]})
        return 200, answer

    outcome, status, answer = run_once(current_app.extensions["kit.db"], applying.IDEMPOTENCY_SCOPE, key, chosen,
                                       write_back, retention_hours=config.idempotency_retention_hours,
                                       lock_seconds=config.idempotency_lock_seconds)
    return {**answer, "duplicate": outcome != "new"}, status
