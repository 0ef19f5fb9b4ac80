"""HTTP: ``POST /v1/orders/release`` answers release, approve or hold for an Odoo order id or an inline snapshot;
``/outcome`` writes a decision back to Odoo; ``/handover`` does both for a recorded order event, once, and
``/handovers`` for several."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, g

from .. import clock
from ..approvals import directory as approvals_directory
from ..approvals import store as approvals_store
from ..audit import service as audit
from ..contracts import contract, problems
from ..errors import ApiError, NotFound, Unprocessable, UpstreamError
from ..events import service as events_service
from ..events import store as events_store
from ..idempotency.service import DUPLICATE, run_once
from . import outcome
from .reasons import APPROVE
from . import policy as policies
from . import service
from .odoo_snapshot import read_snapshot, read_user

bp = Blueprint("release", __name__)

ACTOR = "release-policy"
ACTION_DECIDED = "release.decided"
ACTION_APPLIED = "release.applied"
OUTCOME_SCOPE = "release-outcome"
# What the audit entry keeps of a decision: enough to write it back without trusting the caller's copy.
DECISION_KEYS = ("decision", "tier", "approver_roles", "reasons", "policy", "snapshot_digest", "order_digest")
SNAPSHOT_SCHEMA = "order-release-snapshot"
# What a hand-over did: the decision is written to Odoo (or was before), it waits for approvals, nothing (again), or
# (in a batch) it failed and claimed nothing.
DONE, NEEDS_APPROVAL, REDELIVERY, FAILED = "done", "needs_approval", "redelivery", "failed"
HANDOVER_LEASE_SECONDS = 60


@bp.record_once
def _check_policy(state):
    """Fail closed at start: a broken policy file stops the workers instead of deciding with it."""
    policies.current(state.app.extensions["kit.config"].policy_file or None)


def active_policy() -> policies.Policy:
    return policies.current(current_app.extensions["kit.config"].policy_file or None)


@bp.post("/v1/orders/release")
@contract(request="order-release-request", response="order-release-decision")
def release():
    """Release decision for one sale order, with reasons, approver roles and the digest of what was evaluated."""
    body = g.body
    if "order_id" not in body:
        return decide(None, body["snapshot"])
    odoo = current_app.extensions["kit.odoo"]()
    return decide(odoo, read_order(odoo, body["order_id"]))


@bp.post("/v1/orders/release/outcome")
@contract(request="order-release-outcome-request", response="order-release-outcome")
def write_outcome():
    """Confirm the order in Odoo or keep it on hold, with a chatter note naming reasons and approvers; once per key."""
    body = g.body
    subject = f"sale.order:{body['order_id']}"
    with _db().transaction() as tx:
        decision = decided(tx, subject, body["snapshot_digest"])
        approval = approvals_store.load(tx, body["approval_id"]).view() if body.get("approval_id") else None
    return apply_outcome(decision, approval)


@bp.post("/v1/orders/release/handover")
@contract(request="order-release-handover-request", response="order-release-handover")
def handover():
    """Take a recorded order event over for release, once per consumer: claim it, decide, and write a decision that
    needs nobody (release or hold) back to Odoo. One that needs approvals stays claimed and comes back whole
    (``release``): the caller starts the approvals from it and then says
    ``/v1/events/{id}/consumptions/{consumer}/done``. A redelivery of a handled event changes nothing."""
    body = g.body
    return hand_over(body["event_id"], body["consumer"], body.get("lease_seconds", HANDOVER_LEASE_SECONDS))


@bp.post("/v1/orders/release/handovers")
@contract(request="order-release-handovers-request", response="order-release-handovers")
def handovers():
    """Hand several recorded order events over in one call (a batch the outbox delivered), in order, each as
    ``/handover`` does; one that fails is answered in its item (``handover: failed``, its status and error) and
    leaves no claim, without stopping the others."""
    body = g.body
    consumer, lease = body["consumer"], body.get("lease_seconds", HANDOVER_LEASE_SECONDS)
    return {"consumer": consumer,
            "items": [_handover_item(event_id, consumer, lease) for event_id in body["event_ids"]]}


def _handover_item(event_id: str, consumer: str, lease: int) -> dict:
    try:
        return hand_over(event_id, consumer, lease)
    except ApiError as error:
        return {"event_id": event_id, "consumer": consumer, "handover": FAILED, "status": error.status,
                **error.to_dict()}


def hand_over(event_id: str, consumer: str, lease: int) -> dict:
    """What ``/handover`` answers for one event; raises its error (and leaves no claim) when it fails."""
    now = clock.now()
    with _db().transaction() as tx:
        order_id = order_of(events_store.get(tx, event_id), event_id)
        state = events_store.consume(tx, event_id, consumer, clock.iso(now),
                                     lease_until=clock.iso(now + timedelta(seconds=lease)))
    if state == events_store.BUSY:
        raise events_service.consumption_busy(event_id, consumer, lease)
    answer = {"event_id": event_id, "consumer": consumer, "order_id": order_id}
    if state == events_store.DONE:
        return {**answer, "handover": REDELIVERY, "decision": None, "reason_codes": [], "outcome": None,
                "release": None}
    try:
        odoo = current_app.extensions["kit.odoo"]()
        snapshot = read_order(odoo, order_id)
        decision = decide(odoo, snapshot)
        result = None
        if decision["decision"] != APPROVE and not decision["released_before"]:
            result, _ = apply_outcome(recorded(decision), None, current=snapshot)
    except Exception:
        with _db().transaction() as tx:
            events_store.drop_claim(tx, event_id, consumer)  # a retry may start again at once
        raise
    needs_approval = decision["decision"] == APPROVE
    if not needs_approval:
        with _db().transaction() as tx:
            events_store.finish_consumption(tx, event_id, consumer, clock.iso())
    # The approvals start from this decision as it stands (recorded once), not from a second one.
    return {**answer, "handover": NEEDS_APPROVAL if needs_approval else DONE, "decision": decision["decision"],
            "reason_codes": [r["code"] for r in decision["reasons"]], "outcome": result,
            "release": decision if needs_approval else None}


def _db():
    return current_app.extensions["kit.db"]


def read_order(odoo, order_id: int) -> dict:
    """The order's release snapshot read from Odoo, checked against its contract."""
    snapshot = read_snapshot(odoo, order_id)
    found = problems(SNAPSHOT_SCHEMA, snapshot)
    if found:
        raise UpstreamError(f"Odoo order {order_id} could not be read as a release snapshot",
                            code="odoo_unexpected_data", details=found, retryable=False)
    return snapshot


def decide(odoo, snapshot: dict) -> dict:
    """Evaluate the snapshot against the policy and record the decision in the audit log; ``odoo`` (None for an
    inline snapshot) names the requester of an approval."""
    decision = service.evaluate(snapshot, active_policy())
    if decision["decision"] == APPROVE:
        user = read_user(odoo, snapshot["order"].get("user_id")) if odoo else None
        decision["approval_request"] = service.approval_request(decision, service.requester_of(snapshot, user))
    subject = f"sale.order:{decision['order_id']}"
    with _db().transaction() as tx:
        decision["released_before"] = released_before(tx, subject, decision["order_digest"])
        audit.record(tx, actor=ACTOR, action=ACTION_DECIDED, subject=subject, correlation_id=subject,
                     reason_codes=[r["code"] for r in decision["reasons"]],
                     data={**{k: decision[k] for k in DECISION_KEYS}, "snapshot": decision["snapshot"],
                           "request_id": g.get("correlation_id")})
    return decision


def apply_outcome(decision: dict, approval: dict | None, current: dict | None = None) -> tuple[dict, int]:
    """Write a recorded decision (and the approval that settled it) back to Odoo once per order content and
    approval; ``current`` is the order as read in this request, when it was."""
    db, config = _db(), current_app.extensions["kit.config"]
    subject = f"sale.order:{decision['order_id']}"
    names = {a.id: f"{a.name} <{a.email}>" for a in approvals_directory.load(config.approvers_file or None).approvers}
    key = f"{subject}:{decision['order_digest']}:{approval['id'] if approval else decision['decision']}"
    request = {"order_id": decision["order_id"], "snapshot_digest": decision["snapshot_digest"],
               **({"approval_id": approval["id"]} if approval else {})}

    def act():
        result = outcome.apply(current_app.extensions["kit.odoo"](), decision, approval, names, current=current)
        with db.transaction() as tx:
            audit.record(tx, actor=ACTOR, action=ACTION_APPLIED, subject=subject, correlation_id=subject,
                         reason_codes=[r["code"] for r in decision["reasons"]],
                         data={**{k: v for k, v in result.items() if k != "note"},
                               "order_digest": decision["order_digest"],
                               "snapshot_digest": decision["snapshot_digest"]})
        return 200, {**result, "duplicate": False}

    kind, status, result = run_once(db, OUTCOME_SCOPE, key, request, act,
                                    retention_hours=config.idempotency_retention_hours,
                                    lock_seconds=config.idempotency_lock_seconds)
    return {**result, "duplicate": kind == DUPLICATE}, status


def order_of(event: dict | None, event_id: str) -> int:
    """The sale order a recorded event is about."""
    if event is None:
        raise NotFound(f"no event {event_id}")
    record = (event.get("data") or {}).get("record") or {}
    if record.get("model") != "sale.order":
        raise Unprocessable(f"event {event_id} ({event['type']}) is not about a sale order", code="not_a_sale_order",
                            details=[{"path": "event_id", "message": "not a sale.order event"}])
    return int(record["id"])


def recorded(decision: dict) -> dict:
    """The decision as the audit log keeps it (what /outcome writes back), from the one just made."""
    return {"order_id": decision["order_id"], **{k: decision[k] for k in DECISION_KEYS}}


def released_before(tx, subject: str, digest: str) -> bool:
    """Whether the kit already released this very order content (our own action_confirm re-triggers the flow)."""
    return any(entry["action"] == ACTION_APPLIED and entry["data"].get("outcome") == outcome.RELEASED
               and entry["data"].get("order_digest") == digest for entry in audit.timeline(tx, subject))


def decided(tx, subject: str, snapshot_digest: str) -> dict:
    """The decision the workers recorded for this order and snapshot; only those may be written back."""
    for entry in reversed(audit.timeline(tx, subject)):
        if entry["action"] == ACTION_DECIDED and entry["data"].get("snapshot_digest") == snapshot_digest:
            return recorded({"order_id": int(subject.rsplit(":", 1)[1]), **entry["data"]})
    raise NotFound(f"no release decision for {subject} with snapshot {snapshot_digest}", code="decision_not_found")
