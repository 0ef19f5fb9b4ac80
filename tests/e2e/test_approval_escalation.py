"""Acceptance (issue 4 e): an overdue approval is escalated by the scheduled workflow in the real n8n: the step moves
from finance to director, the old links stop working, the director is re-notified by Slack and email, and can then
approve with a signed Slack button."""
from __future__ import annotations

import time

import pytest
import requests

from tests.approvals.conftest import API_TOKEN, approval_stack
from tests.harness.n8n import n8n_server

pytestmark = pytest.mark.e2e

N8N_TOKEN = "e2e-n8n-token-approvals"
SCHEDULE_SECONDS = 30  # the workflow's "Every 30 seconds" trigger
ERIN = "U01DIRERIN"


def test_scheduled_workflow_escalates_an_overdue_approval():
    with approval_stack(KIT_N8N_TOKEN=N8N_TOKEN) as stack:
        # Every credential template needs its variables; this workflow only uses the workers' ones.
        credentials_env = {"KIT_API_TOKEN": API_TOKEN, "KIT_N8N_TOKEN": N8N_TOKEN,
                           "KIT_SLACK_BOT_TOKEN": stack.slack.bot_token, "KIT_SMTP_HOST": stack.mail.smtp_host,
                           "KIT_SMTP_PORT": str(stack.mail.smtp_port), "KIT_ODOO_URL": "http://127.0.0.1:9",
                           "KIT_ODOO_DB": "unused", "KIT_ODOO_USER": "unused", "KIT_ODOO_PASSWORD": "unused"}
        with n8n_server(credentials_env, workers_url=stack.url):
            # 20,000 EUR: finance (Anna, Erin) may approve; an SLA of 0.05 min makes the step overdue after 3 s.
            overdue = stack.create(steps=({"role": "finance", "sla_minutes": 0.05},))
            old_links = stack.links(overdue, "anna.berg@example.com")
            stack.slack_message(overdue, ERIN)  # Erin holds finance too: she had the first message

            deadline = time.monotonic() + SCHEDULE_SECONDS * 2 + 30
            while time.monotonic() < deadline:
                current = stack.get(overdue["id"])
                if current["steps"][0]["role"] == "director":
                    break
                time.sleep(1)
            else:
                raise AssertionError(f"not escalated by the schedule: {current['steps'][0]}")
            step = current["steps"][0]
            assert (step["original_role"], step["role"], step["escalations"], current["state"]) == (
                "finance", "director", 1, "pending")
            timeline = requests.get(f"{stack.url}/v1/timeline/{overdue['correlation_id']}", headers=stack.headers,
                                    timeout=10).json()["entries"]
            escalated = [e for e in timeline if e["action"] == "approval.escalated"]
            assert len(escalated) == 1 and escalated[0]["actor"] == "api:n8n-approval-escalation"
            # The finance links are revoked; the director got a new Slack message and a new email.
            assert requests.post(old_links["Approve"], timeout=10).status_code == 410
            name = overdue["subject"]["name"]
            messages = stack.slack.wait_for(
                lambda ms: len([m for m in ms if name in m["text"] and m["posted_to"] == ERIN]) == 2)
            newest = [m for m in messages if name in m["text"] and m["posted_to"] == ERIN][-1]
            assert "(director)" in newest["text"]
            assert stack.mail_for(overdue, "erin.walsh@example.com", role="director")
            click = stack.slack.click("approval.approve", ERIN, ts=newest["ts"])
            assert click["status"] == 200, click
            final = stack.get(overdue["id"])
            assert final["state"] == "approved" and final["decisions"][0]["approver_id"] == "erin.walsh"
