"""The Odoo-id path end to end over real processes: the Odoo simulator, gunicorn workers, approvals, write-back."""
from __future__ import annotations

import pytest
import requests

from python_nodes.release import reasons as R
from tests.harness.workers import workers_server


@pytest.fixture(scope="module")
def base(sim, tmp_path_factory):
    folder = tmp_path_factory.mktemp("release-odoo")
    env = {"KIT_ODOO_URL": sim.url, "KIT_ODOO_DB": sim.db, "KIT_ODOO_USER": sim.login,
           "KIT_ODOO_PASSWORD": sim.password}
    with workers_server(env, database_url=f"sqlite:///{folder}/kit.sqlite3") as url:
        yield url


def rpc(odoo, model, method, *args, **kwargs):
    return odoo.execute_kw(model, method, list(args), kwargs)


def make_order(odoo, *, tier="A", credit=0.0, limit=50000.0, street="Kade 1", lines=(("P-1001", 10, 0.0),)):
    """A customer with the given tier tag, credit and address, and a draft order for it."""
    tag = rpc(odoo, "res.partner.category", "search", [("name", "=", f"Tier {tier}")])
    partner = rpc(odoo, "res.partner", "create", {
        "name": f"Test customer {tier} {credit}", "is_company": True, "street": street, "city": "Delft",
        "credit": credit, "credit_limit": limit, "category_id": [(6, 0, tag)]})
    order_lines = []
    for code, qty, discount in lines:
        [product] = rpc(odoo, "product.product", "search", [("default_code", "=", code)])
        order_lines.append((0, 0, {"product_id": product, "product_uom_qty": float(qty), "discount": discount}))
    return rpc(odoo, "sale.order", "create", {"partner_id": partner, "order_line": order_lines})


def decide(base, order_id):
    answer = requests.post(f"{base}/v1/orders/release", json={"order_id": order_id}, timeout=20)
    assert answer.status_code == 200, answer.text
    return answer.json()


def write_back(base, decision, approval_id=None):
    body = {"order_id": decision["order_id"], "snapshot_digest": decision["snapshot_digest"]}
    if approval_id:
        body["approval_id"] = approval_id
    return requests.post(f"{base}/v1/orders/release/outcome", json=body, timeout=20)


def notes(odoo, order_id):
    return rpc(odoo, "mail.message", "search_read", [("model", "=", "sale.order"), ("res_id", "=", order_id)],
               fields=["body"])


def state(odoo, order_id):
    return rpc(odoo, "sale.order", "read", [order_id], ["state"])[0]["state"]


def test_order_within_policy_is_released_and_confirmed_with_a_note(base, odoo):
    order_id = make_order(odoo)
    decision = decide(base, order_id)
    assert (decision["decision"], decision["reasons"], decision["customer"]["tier"]) == (R.RELEASE, [], "a")
    assert decision["released_before"] is False
    # The simulator has no tax, route or country fields: the reader says so instead of pretending.
    assert decision["snapshot"]["unavailable"] == ["country", "route", "tax"]
    answer = write_back(base, decision)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["outcome"], result["confirmed"], result["duplicate"]) == ("released", True, False)
    assert state(odoo, order_id) == "sale"
    [note] = [n for n in notes(odoo, order_id) if "release policy" in n["body"]]
    assert "Order released" in note["body"] and "no approval needed" in note["body"]
    assert decide(base, order_id)["released_before"] is True  # the state=sale webhook will ask again
    again = write_back(base, decision).json()
    assert again["duplicate"] is True and again["message_id"] == result["message_id"]
    assert len([n for n in notes(odoo, order_id) if "release policy" in n["body"]]) == 1


def test_unknown_order_is_404(base):
    answer = requests.post(f"{base}/v1/orders/release", json={"order_id": 987654}, timeout=20)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "odoo_missingerror"


def test_seeded_partner_without_street_is_held_for_master_data(base, odoo, sim):
    [s2] = rpc(odoo, "sale.order", "search", [("name", "=", "S00002")])
    decision = decide(base, s2)
    assert decision["decision"] == R.HOLD
    assert reason_codes(decision) == [R.MISSING_SHIPPING_ADDRESS]
    result = write_back(base, decision).json()
    assert (result["outcome"], result["confirmed"]) == ("held", False)
    assert state(odoo, s2) == "sent"
    assert any("missing_shipping_address" in n["body"] for n in notes(odoo, s2))


def reason_codes(decision):
    return [r["code"] for r in decision["reasons"]]


def test_over_credit_order_is_released_only_after_finance_approves(base, odoo):
    order_id = make_order(odoo, tier="B", credit=19950.0, limit=20000.0)  # 19,950 + 95.00 > 20,000
    decision = decide(base, order_id)
    assert (decision["decision"], decision["approver_roles"]) == (R.APPROVE, ["finance"])
    request = decision["approval_request"]
    assert request["steps"] == [{"role": "finance"}]
    assert request["context"]["snapshot_digest"] == decision["snapshot_digest"]
    assert request["requester"]["email"] == "admin@northwind.example"
    # Without the approval that settled it, nothing is written.
    assert write_back(base, decision).status_code == 422
    created = requests.post(f"{base}/v1/approvals", json=request, timeout=20)
    assert created.status_code in (200, 201), created.text
    approval_id = created.json()["id"]
    pending = write_back(base, decision, approval_id)
    assert (pending.status_code, pending.json()["error"]["code"]) == (409, "approval_pending")
    assert state(odoo, order_id) == "draft"
    decided = requests.post(f"{base}/v1/approvals/{approval_id}/decisions", timeout=20, json={
        "approver_id": "anna.berg", "decision": "approve", "reason_code": "payment_assured",
        "comment": "Paid yesterday"})
    assert decided.status_code == 200, decided.text
    result = write_back(base, decision, approval_id).json()
    assert (result["outcome"], result["confirmed"]) == ("released", True)
    assert state(odoo, order_id) == "sale"
    body = next(n["body"] for n in notes(odoo, order_id) if "release policy" in n["body"])
    assert "Anna Berg" in body and "credit_limit_exceeded" in body and "payment_assured" in body


def test_rejected_approval_keeps_the_order_on_hold(base, odoo):
    order_id = make_order(odoo, tier="B", credit=19950.0, limit=20000.0)
    decision = decide(base, order_id)
    approval_id = requests.post(f"{base}/v1/approvals", json=decision["approval_request"], timeout=20).json()["id"]
    requests.post(f"{base}/v1/approvals/{approval_id}/decisions", timeout=20, json={
        "approver_id": "anna.berg", "decision": "reject", "reason_code": "risk_too_high"}).raise_for_status()
    result = write_back(base, decision, approval_id).json()
    assert (result["outcome"], result["confirmed"]) == ("held", False)
    assert state(odoo, order_id) == "draft"
    body = next(n["body"] for n in notes(odoo, order_id) if "release policy" in n["body"])
    assert "kept on hold" in body and "rejected" in body and "risk_too_high" in body


def test_order_edited_after_evaluation_is_not_released(base, odoo):
    order_id = make_order(odoo)
    decision = decide(base, order_id)
    [line] = rpc(odoo, "sale.order.line", "search", [("order_id", "=", order_id)])
    rpc(odoo, "sale.order.line", "write", [line], {"product_uom_qty": 11.0})
    result = write_back(base, decision).json()
    assert (result["outcome"], result["confirmed"]) == ("stale", False)
    assert state(odoo, order_id) == "draft"


def test_only_decisions_the_workers_made_can_be_written_back(base, odoo):
    order_id = make_order(odoo)
    forged = {"order_id": order_id, "snapshot_digest": "sha256:" + "0" * 64}
    answer = write_back(base, forged)
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "decision_not_found")
    assert state(odoo, order_id) == "draft"


def test_approval_for_another_order_is_refused(base, odoo):
    first, second = make_order(odoo, credit=60000.0), make_order(odoo, credit=60000.0)
    decision_one, decision_two = decide(base, first), decide(base, second)
    approval_id = requests.post(f"{base}/v1/approvals", json=decision_one["approval_request"], timeout=20).json()["id"]
    answer = write_back(base, decision_two, approval_id)
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "approval_mismatch")
