"""Session-scoped real stack for end-to-end tests: Odoo simulator, gunicorn workers (+ a dead-letter desk), real n8n."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from python_nodes.allocation.network import EXAMPLE_FILE as EXAMPLE_NETWORK
from tests.harness import n8n as n8n_harness
from tests.harness.mail_sink import MailSink, mail_sink_server
from tests.harness.odoo_sim import SimInfo, odoo_sim_server
from tests.harness.slack_stub import SlackStub, slack_stub_server
from scripts.procs import free_port, start_workers, stop

from .flows import SlackGate

WEBHOOK_SECRET = "e2e-odoo-webhook-secret-7f3a"
API_TOKEN = "e2e-workers-api-token-91c2"
N8N_TOKEN = "e2e-n8n-outbox-token-5d8e"
HANDOFF_SECONDS = 5


class WorkersProcess:
    """gunicorn serving the workers on a fixed port, so it can be stopped and started again at the same URL."""

    def __init__(self, env: dict, folder: Path, name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.folder, self.name = env, folder, name
        self.proc = None

    def start(self) -> None:
        self.proc = start_workers(self.env, self.port, self.folder, self.name)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def get(self, path: str, **kwargs):
        return requests.get(self.url + path, headers={"X-Kit-Token": API_TOKEN}, timeout=10, **kwargs)

    def post(self, path: str, **kwargs):
        return requests.post(self.url + path, headers={"X-Kit-Token": API_TOKEN}, timeout=30, **kwargs)


@dataclass
class Stack:
    sim: SimInfo
    workers: WorkersProcess
    desk: WorkersProcess  # a second workers instance on the same database: records dead letters while `workers` is down
    n8n: n8n_harness.N8nInfo
    env: dict
    slack: SlackStub  # where n8n's and the workers' Slack calls end up, through `gate`
    gate: SlackGate
    mail: MailSink  # n8n's and the workers' SMTP server


@pytest.fixture(scope="session")
def stack():
    if not n8n_harness.installed():
        pytest.fail("the real n8n is required: run scripts/install_n8n.sh first")
    folder = Path(tempfile.mkdtemp(prefix="kit-e2e-"))
    with ExitStack() as stack_:
        sim = stack_.enter_context(odoo_sim_server())
        # Slack and mail stand-ins from the start: every notification of the session (the scheduled sweeps' too)
        # reaches them instead of failing against slack.com and being retried in the background.
        slack = stack_.enter_context(slack_stub_server())
        gate = SlackGate(slack.url)
        slack_api_url = stack_.enter_context(gate.serving()) + "/api"
        mail = stack_.enter_context(mail_sink_server())
        n8n_port = free_port()
        env = {
            "KIT_WEBHOOK_SECRET": WEBHOOK_SECRET, "KIT_API_TOKEN": API_TOKEN, "KIT_N8N_TOKEN": N8N_TOKEN,
            "KIT_DATABASE_URL": f"sqlite:///{folder}/kit.sqlite3",
            "KIT_N8N_WEBHOOK_BASE": f"http://127.0.0.1:{n8n_port}/webhook",
            "KIT_ODOO_URL": sim.url, "KIT_ODOO_DB": sim.db, "KIT_ODOO_USER": sim.login,
            "KIT_ODOO_PASSWORD": sim.password,
            # Bound the outbox's backoff so a 20 s n8n outage is caught up within seconds of n8n's return.
            "KIT_OUTBOX_BACKOFF_BASE": "0.2", "KIT_OUTBOX_BACKOFF_MAX": "4", "KIT_OUTBOX_MAX_ATTEMPTS": "200",
            # How long the outbox leaves an event to the direct-path run that recorded it (120 s by default).
            "KIT_OUTBOX_HANDOFF_SECONDS": str(HANDOFF_SECONDS),
            # The operations network stock-shortage plans over (the example warehouses match the simulator's).
            "KIT_NETWORK_FILE": str(EXAMPLE_NETWORK),
            "KIT_SLACK_BOT_TOKEN": slack.bot_token, "KIT_SLACK_API_URL": slack_api_url,
            "KIT_SMTP_HOST": mail.smtp_host, "KIT_SMTP_PORT": str(mail.smtp_port), "KIT_SMTP_USER": "",
            "KIT_SMTP_PASSWORD": "",
        }
        workers = WorkersProcess(env, folder, "workers")
        desk = WorkersProcess({**env, "KIT_OUTBOX_ENABLED": "false"}, folder, "desk")
        workers.start()
        stack_.callback(workers.stop)
        desk.start()
        stack_.callback(desk.stop)
        n8n = stack_.enter_context(n8n_harness.n8n_server(env, workers_url=workers.url, dead_letters_url=desk.url,
                                                          port=n8n_port))
        yield Stack(sim=sim, workers=workers, desk=desk, n8n=n8n, env=env, slack=slack, gate=gate, mail=mail)
    if os.environ.get("KIT_E2E_KEEP_LOGS"):
        print(f"e2e logs kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def people(stack):
    """The session's Slack stub, mail sink and the gate in front of Slack, let through again after each test."""
    yield stack.slack, stack.mail, stack.gate
    stack.gate.refusing = None
    stack.gate.open.set()
