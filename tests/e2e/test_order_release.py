"""Acceptance (issue 4, a-d) through the real n8n: order release decided by the workers, approvals on Slack and
email, the Wait node resumed by the approvals callback, and the outcome written back to the Odoo simulator."""
from __future__ import annotations

import re
import time

import odoorpc
import pytest
import requests

from tests.approvals.conftest import API_TOKEN, Stack, approval_stack
from tests.harness.n8n import n8n_server
from tests.harness.odoo_sim import odoo_sim_server
from scripts.procs import ROOT

CREDENTIALS_DIR = ROOT / "n8n" / "credentials.example"

pytestmark = pytest.mark.e2e

N8N_TOKEN = "e2e-n8n-token-release"
WORKFLOW_ID = "odooOpsOrderRels"
RELEASE_WEBHOOK = "kit/order-release"
# Slack users of the shipped example approvers (python_nodes/approvals/approvers.example.json).
ANNA = "U01FINANNA"   # finance
ERIN = "U01DIRERIN"   # director (and finance)
REQUESTER_EMAIL = "admin@northwind.example"  # the simulator's salesperson on orders the admin creates
NOTE_MARK = "release policy"


class Scene:
    """The running stack plus helpers to make orders and watch Odoo."""

    def __init__(self, sim, stack: Stack, n8n):
        self.sim, self.stack, self.n8n = sim, stack, n8n
        self.odoo = odoorpc.ODOO(sim.host, port=sim.port, timeout=30)
        self.odoo.login(sim.db, sim.login, sim.password)

    def rpc(self, model, method, *args, **kwargs):
        return self.odoo.execute_kw(model, method, list(args), kwargs)

    def order(self, *, tier="B", credit=0.0, limit=20000.0) -> dict:
        """A draft order of 10 x Olive Oil (95.00) for a fresh customer with a complete address."""
        tag = self.rpc("res.partner.category", "search", [("name", "=", f"Tier {tier}")])
        partner = self.rpc("res.partner", "create", {
            "name": f"E2E customer {time.monotonic_ns()}", "is_company": True, "street": "Kade 1", "city": "Delft",
            "credit": credit, "credit_limit": limit, "category_id": [(6, 0, tag)]})
        [oil] = self.rpc("product.product", "search", [("default_code", "=", "P-1001")])
        order_id = self.rpc("sale.order", "create", {"partner_id": partner, "order_line": [
            (0, 0, {"product_id": oil, "product_uom_qty": 10.0})]})
        return self.rpc("sale.order", "read", [order_id], ["name", "state"])[0]

    def release(self, order: dict) -> None:
        answer = requests.post(self.n8n.webhook(RELEASE_WEBHOOK), json={"order_id": order["id"]},
                               headers={"X-Kit-Token": N8N_TOKEN}, timeout=30)
        assert answer.status_code == 200, answer.text

    def state(self, order: dict) -> str:
        return self.rpc("sale.order", "read", [order["id"]], ["state"])[0]["state"]

    def notes(self, order: dict) -> list[str]:
        rows = self.rpc("mail.message", "search_read", [("model", "=", "sale.order"), ("res_id", "=", order["id"])],
                        fields=["body"])
        return [r["body"] for r in rows if NOTE_MARK in (r["body"] or "")]

    def wait_for_note(self, order: dict, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.notes(order)
            if found:
                return found[-1]
            time.sleep(0.5)
        raise AssertionError(f"no release note on {order['name']} within {timeout} s; executions: "
                             f"{self.n8n.api.executions(workflow_id=WORKFLOW_ID)}"[:3000])

    def approvals(self, order: dict) -> list[dict]:
        answer = requests.get(f"{self.stack.url}/v1/approvals", headers=self.stack.headers, timeout=10,
                              params={"subject_type": "sale.order", "subject_id": str(order["id"])})
        return answer.json()["approvals"]

    def approval(self, order: dict, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.approvals(order)
            if found:
                return found[0]
            time.sleep(0.3)
        raise AssertionError(f"the workflow never asked for an approval of {order['name']}")

    def click(self, approval: dict, slack_user: str, action: str = "approval.approve") -> None:
        message = self.stack.slack_message(approval, slack_user)
        sent = self.stack.slack.click(action, slack_user, ts=message["ts"])
        assert sent["status"] == 200, sent


def template_variables() -> set[str]:
    return {m for path in CREDENTIALS_DIR.glob("*.json") for m in re.findall(r"\$\{([A-Z0-9_]+)\}", path.read_text())}


@pytest.fixture(scope="module")
def scene():
    with odoo_sim_server() as sim:
        odoo_env = {"KIT_ODOO_URL": sim.url, "KIT_ODOO_DB": sim.db, "KIT_ODOO_USER": sim.login,
                    "KIT_ODOO_PASSWORD": sim.password}
        with approval_stack(KIT_N8N_TOKEN=N8N_TOKEN, **odoo_env) as stack:
            n8n_env = {"KIT_API_TOKEN": API_TOKEN, "KIT_N8N_TOKEN": N8N_TOKEN, **odoo_env,
                       "KIT_SLACK_BOT_TOKEN": stack.slack.bot_token, "KIT_SMTP_HOST": stack.mail.smtp_host,
                       "KIT_SMTP_PORT": str(stack.mail.smtp_port)}
            # Every credential template must render, also those only other workflows use (the sink needs no login).
            n8n_env = {**{name: "unused-here" for name in template_variables()}, **n8n_env}
            with n8n_server(n8n_env, workers_url=stack.url) as n8n:
                yield Scene(sim, stack, n8n)


def test_a_order_within_policy_is_released_with_a_note_and_no_approval(scene):
    order = scene.order(tier="A", limit=50000.0)
    scene.release(order)
    note = scene.wait_for_note(order)
    assert scene.state(order) == "sale"
    assert "Order released" in note and "no approval needed" in note
    assert scene.approvals(order) == []


def test_b_over_credit_order_is_released_after_finance_approves_on_slack(scene):
    order = scene.order(credit=19950.0)  # 19,950 + 95.00 > 20,000
    scene.release(order)
    approval = scene.approval(order)
    assert [s["role"] for s in approval["steps"]] == ["finance"]
    assert approval["context"]["reasons"][0]["code"] == "credit_limit_exceeded"
    scene.stack.mail_for(approval, "anna.berg@example.com")  # the email with links went out too
    assert scene.state(order) == "draft"
    scene.click(approval, ANNA)
    note = scene.wait_for_note(order)
    assert scene.state(order) == "sale"
    assert "Order released" in note and "Anna Berg" in note and "credit_limit_exceeded" in note


def test_c_two_step_chain_releases_only_after_both_steps(scene):
    order = scene.order(credit=31000.0)  # more than 50 % over the limit: finance, then director
    scene.release(order)
    approval = scene.approval(order)
    assert [s["role"] for s in approval["steps"]] == ["finance", "director"]
    scene.click(approval, ANNA)
    scene.stack.slack_message(approval, ERIN)  # the chain moved on to the director
    time.sleep(2)  # give a wrongly early release the chance to show
    assert scene.state(order) == "draft" and scene.notes(order) == []
    scene.click(approval, ERIN)
    note = scene.wait_for_note(order)
    assert scene.state(order) == "sale"
    assert "Anna Berg" in note and "Erin Walsh" in note and "credit_limit_far_exceeded" in note


def test_d_rejection_keeps_the_order_on_hold_and_tells_the_requester(scene):
    order = scene.order(credit=19950.0)
    scene.release(order)
    approval = scene.approval(order)
    scene.click(approval, ANNA, action="approval.reject")
    note = scene.wait_for_note(order)
    assert scene.state(order) == "draft"
    assert "kept on hold" in note and "rejected" in note and "Anna Berg" in note
    scene.stack.mail_for(approval, REQUESTER_EMAIL)
