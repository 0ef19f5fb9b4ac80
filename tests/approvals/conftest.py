"""A real stack for approval tests: gunicorn workers + the Slack stand-in + the SMTP sink, on free ports."""
from __future__ import annotations

import re
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.harness.mail_sink import MailSink, mail_sink_server
from scripts.procs import free_port, start_workers, stop
from tests.harness.slack_stub import SlackStub, slack_stub_server

API_TOKEN = "test-api-token"
LINK = re.compile(r"^(Approve|Reject):[ \t]+(\S+)\s*$", re.MULTILINE)


@dataclass
class Stack:
    url: str
    slack: SlackStub
    mail: MailSink

    @property
    def headers(self) -> dict:
        return {"X-Kit-Token": API_TOKEN}

    def create(self, amount=20000.0, steps=("finance", "director"), requester=None, **extra) -> dict:
        """Create an approval for a fresh order number, so tests sharing the stack never see each other's mail."""
        number = uuid.uuid4().hex[:8]
        body = {"subject": {"type": "sale.order", "id": int(number, 16) % 10**6, "name": f"S-{number}"},
                "amount": amount, "currency": "EUR",
                "requester": requester or {"id": "sam.sales", "name": "Sam Sales", "email": "sam.sales@example.com"},
                "steps": [r if isinstance(r, dict) else {"role": r} for r in steps],
                "context": {"reasons": [{"code": "credit_limit_exceeded", "message": "exposure 65,000 > limit 50,000"}],
                            "snapshot_digest": "sha256:" + "ab" * 32}, **extra}
        answer = requests.post(self.url + "/v1/approvals", json=body, headers=self.headers, timeout=10)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def get(self, approval_id: str) -> dict:
        answer = requests.get(f"{self.url}/v1/approvals/{approval_id}", headers=self.headers, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def state(self, approval: dict) -> tuple:
        """Everything a refused request must leave untouched: the approval and its audit trail."""
        timeline = requests.get(f"{self.url}/v1/timeline/{approval['correlation_id']}", headers=self.headers,
                                timeout=10).json()["entries"]
        return self.get(approval["id"]), [(e["action"], e["actor"]) for e in timeline]

    def mail_for(self, approval: dict, to: str, nth: int = 1, role: str | None = None) -> dict:
        """The ``nth`` email about this approval to ``to`` (for the step of ``role`` if given); waits for it.
        Emails are sent by several worker processes, so their arrival order is not their sending order."""
        name = approval["subject"]["name"]

        def mine(ms):
            return [m for m in ms if name in m["subject"] and to in m["to"]
                    and (role is None or f"role {role})" in m["text"])]

        return mine(self.mail.wait_for(lambda ms: len(mine(ms)) >= nth))[nth - 1]

    def links(self, approval: dict, to: str, nth: int = 1, role: str | None = None) -> dict:
        """``{"Approve": url, "Reject": url}`` from the approver's real email."""
        return dict(LINK.findall(self.mail_for(approval, to, nth, role)["text"]))

    def slack_message(self, approval: dict, slack_user_id: str, role: str | None = None) -> dict:
        """The newest Slack message about this approval to that user (for the step of ``role`` if given)."""
        name = approval["subject"]["name"]

        def mine(ms):
            return [m for m in ms if name in m["text"] and m["posted_to"] == slack_user_id
                    and (role is None or f"({role})" in m["text"])]

        return mine(self.slack.wait_for(lambda ms: bool(mine(ms))))[-1]


@contextmanager
def approval_stack(**extra_env):
    with slack_stub_server(signing_secret="test-signing-secret") as slack, mail_sink_server() as mail:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {"KIT_BIND": f"127.0.0.1:{port}", "KIT_PUBLIC_URL": url, "KIT_API_TOKEN": API_TOKEN,
               "KIT_SLACK_API_URL": slack.api_url, "KIT_SLACK_BOT_TOKEN": slack.bot_token,
               "KIT_SLACK_SIGNING_SECRET": slack.signing_secret,
               "KIT_SMTP_HOST": mail.smtp_host, "KIT_SMTP_PORT": str(mail.smtp_port),
               "KIT_OUTBOX_POLL_SECONDS": "0.1", "KIT_OUTBOX_BACKOFF_BASE": "0.1", "KIT_OUTBOX_BACKOFF_MAX": "1",
               **extra_env}
        with _workers(env, port):
            slack.configure(interactivity_url=url + "/v1/slack/interactions")
            yield Stack(url, slack, mail)


@contextmanager
def _workers(env: dict, port: int):
    """Real gunicorn on a port chosen here, because the approval links must name the workers' own URL
    (``tests.harness.workers.workers_server`` picks its port internally)."""
    folder = Path(tempfile.mkdtemp(prefix="kit-approvals-"))
    proc = start_workers({"KIT_DATABASE_URL": f"sqlite:///{folder}/kit.sqlite3", **env}, port, folder)
    try:
        yield
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def stack():
    with approval_stack() as running:
        yield running
