"""HTTP: ``POST /v1/orders/release`` answers release, approve or hold for an Odoo order id or an inline snapshot."""
from __future__ import annotations

from flask import Blueprint, current_app, g

from ..approvals import directory as approvals_directory
from ..approvals import store as approvals_store
from ..audit import service as audit
from ..contracts import contract, problems
from ..errors import NotFound, UpstreamError
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
    odoo = None
    if "order_id" in body:
        odoo = current_app.extensions["kit.odoo"]()
        snapshot = read_snapshot(odoo, body["order_id"])
        found = problems(SNAPSHOT_SCHEMA, snapshot)
        if found:
            raise UpstreamError(f"Odoo order {body['order_id']} could not be read as a release snapshot",
                                code="odoo_unexpected_data", details=found, retryable=False)
    else:
        snapshot = body["snapshot"]
    decision = service.evaluate(snapshot, active_policy())
    if decision["decision"] == APPROVE:
        user = read_user(odoo, snapshot["order"].get("user_id")) if odoo else None
        decision["approval_request"] = service.approval_request(decision, service.requester_of(snapshot, user))
    subject = f"sale.order:{decision['order_id']}"
    with current_app.extensions["kit.db"].transaction() as tx:
        decision["released_before"] = released_before(tx, subject, decision["order_digest"])
        audit.record(tx, actor=ACTOR, action=ACTION_DECIDED, subject=subject, correlation_id=subject,
                     reason_codes=[r["code"] for r in decision["reasons"]],
                     data={**{k: decision[k] for k in DECISION_KEYS}, "snapshot": decision["snapshot"],
                           "request_id": g.get("correlation_id")})
    return decision


@bp.post("/v1/orders/release/outcome")
@contract(request="order-release-outcome-request", response="order-release-outcome")
def write_outcome():
    """Confirm the order in Odoo or keep it on hold, with a chatter note naming reasons and approvers; once per key."""
    body = g.body
    db = current_app.extensions["kit.db"]
    config = current_app.extensions["kit.config"]
    subject = f"sale.order:{body['order_id']}"
    with db.transaction() as tx:
        decision = decided(tx, subject, body["snapshot_digest"])
        approval = approvals_store.load(tx, body["approval_id"]).view() if body.get("approval_id") else None
    names = {a.id: f"{a.name} <{a.email}>" for a in approvals_directory.load(config.approvers_file or None).approvers}
    key = f"{subject}:{decision['order_digest']}:{body.get('approval_id') or decision['decision']}"

    def act():
        result = outcome.apply(current_app.extensions["kit.odoo"](), decision, approval, names)
        with db.transaction() as tx:
            audit.record(tx, actor=ACTOR, action=ACTION_APPLIED, subject=subject, correlation_id=subject,
                         reason_codes=[r["code"] for r in decision["reasons"]],
                         data={**{k: v for k, v in result.items() if k != "note"},
                               "order_digest": decision["order_digest"],
                               "snapshot_digest": decision["snapshot_digest"]})
        return 200, {**result, "duplicate": False}

    kind, status, result = run_once(db, OUTCOME_SCOPE, key, body, act,
                                    retention_hours=config.idempotency_retention_hours,
                                    lock_seconds=config.idempotency_lock_seconds)
    return {**result, "duplicate": kind == DUPLICATE}, status


def released_before(tx, subject: str, digest: str) -> bool:
    """Whether the kit already released this very order content (our own action_confirm re-triggers the flow)."""
    return any(entry["action"] == ACTION_APPLIED and entry["data"].get("outcome") == outcome.RELEASED
               and entry["data"].get("order_digest") == digest for entry in audit.timeline(tx, subject))


def decided(tx, subject: str, snapshot_digest: str) -> dict:
    """The decision the workers recorded for this order and snapshot; only those may be written back."""
    for entry in reversed(audit.timeline(tx, subject)):
        if entry["action"] == ACTION_DECIDED and entry["data"].get("snapshot_digest") == snapshot_digest:
            data = entry["data"]
            return {"order_id": int(subject.rsplit(":", 1)[1]), **{k: data[k] for k in DECISION_KEYS}}
    raise NotFound(f"no release decision for {subject} with snapshot {snapshot_digest}", code="decision_not_found")
