#!/usr/bin/env python3
"""The kit's main job on one machine, end to end: start the Odoo simulator, the workers, the Slack and mail
stand-ins and a real n8n; import the workflows; provision Odoo's automation rules; then confirm orders in
"Odoo" and watch the kit decide, ask, record and write back.

    scripts/demo.sh            (installs first, then runs this)
    .venv/bin/python scripts/demo.py [--exit] [--folder DIR]

Scenario: (1) an order within policy is released with a chatter note and no approval; (2) an order over the
customer's credit limit asks finance on Slack and by email, Anna approves with the Slack button, and the note
names her and the reason; (3) Odoo's webhook is delivered twice and the inbox recognises the duplicate; (4) a
delivery runs late without any webhook: the reconciliation sweep opens an exception case and n8n tells its owner
team in their Slack channel.
Everything keeps running afterwards (open the n8n canvas) until Ctrl-C, or stops at once with --exit.
"""
from __future__ import annotations

import argparse
import json
import re
import secrets
import shutil
import sys
import time
from contextlib import ExitStack
from html import unescape
from pathlib import Path

import odoorpc
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import provision_odoo  # noqa: E402
from scripts.n8nkit import bootstrap, runtime  # noqa: E402
from scripts.procs import ROOT, free_port, port_is_free, python, spawn, start_workers, stop, wait_for, wait_until_up  # noqa: E402

PORTS = {"odoo": 8069, "workers": 8080, "slack": 8091, "smtp": 1025, "mail": 8025, "n8n": 5678}
SIM_DB, SIM_LOGIN, SIM_PASSWORD = "odoo", "admin", "admin"
FINANCE_SLACK_USER = "U01FINANNA"  # Anna Berg, finance, in python_nodes/approvals/approvers.example.json
NOTE_MARK = "release policy"
TIMEOUT = 120.0


def say(text: str) -> None:
    print(f"[demo {time.strftime('%H:%M:%S')}] {text}", flush=True)


def choose_ports(preferred: dict[str, int]) -> dict[str, int]:
    """The usual port of each part, or a free one when something else already listens there."""
    chosen = {}
    for name, port in preferred.items():
        chosen[name] = port if port_is_free(port) else free_port()
        if chosen[name] != port:
            say(f"port {port} ({name}) is taken: using {chosen[name]}")
    return chosen


class Demo:
    """Owns the processes it starts (stopped on exit) and the scenario it drives."""

    def __init__(self, folder: Path, ports: dict[str, int], stack: ExitStack):
        self.folder, self.ports, self.stack = folder, ports, stack
        self.url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        self.env = {
            "KIT_WEBHOOK_SECRET": secrets.token_urlsafe(24), "KIT_API_TOKEN": secrets.token_urlsafe(24),
            "KIT_N8N_TOKEN": secrets.token_urlsafe(24), "KIT_SLACK_SIGNING_SECRET": secrets.token_urlsafe(24),
            "KIT_SLACK_BOT_TOKEN": "xoxb-demo-" + secrets.token_hex(8), "KIT_SLACK_API_URL": self.url["slack"] + "/api",
            "KIT_SMTP_HOST": "127.0.0.1", "KIT_SMTP_PORT": str(ports["smtp"]), "KIT_SMTP_USER": "",
            "KIT_SMTP_PASSWORD": "", "KIT_PUBLIC_URL": self.url["workers"],
            "KIT_DATABASE_URL": f"sqlite:///{folder}/kit.sqlite3",
            "KIT_ODOO_URL": self.url["odoo"], "KIT_ODOO_DB": SIM_DB, "KIT_ODOO_USER": SIM_LOGIN,
            "KIT_ODOO_PASSWORD": SIM_PASSWORD, "KIT_N8N_WEBHOOK_BASE": self.url["n8n"] + "/webhook",
            "KIT_WORKERS_URL": self.url["workers"],
        }
        self.odoo = None

    # -- starting the parts ------------------------------------------------------------------------------------

    def start(self, name: str, args: list[str], health: str) -> None:
        log_path = self.folder / f"{name}.log"
        proc = spawn(args, {"PYTHONUNBUFFERED": "1"}, log_path)
        self.stack.callback(stop, proc)
        wait_until_up(self.url[name] + health, proc, timeout=60, log_path=log_path)
        say(f"{name:8} {self.url[name]}  (log {log_path})")

    def start_all(self) -> None:
        self.start("odoo", [python(), "-m", "scripts.odoo_sim", "--port", str(self.ports["odoo"])], "/_sim/health")
        self.start("slack", [python(), str(ROOT / "scripts" / "slack_stub.py"), "--port", str(self.ports["slack"]),
                             "--bot-token=" + self.env["KIT_SLACK_BOT_TOKEN"],
                             "--signing-secret=" + self.env["KIT_SLACK_SIGNING_SECRET"],
                             "--interactivity-url", self.url["workers"] + "/v1/slack/interactions"], "/_stub/health")
        self.start("mail", [python(), str(ROOT / "scripts" / "mail_sink.py"), "--smtp-port", str(self.ports["smtp"]),
                            "--http-port", str(self.ports["mail"])], "/health")
        self.stack.callback(stop, start_workers(self.env, self.ports["workers"], self.folder, health="/readyz"))
        say(f"workers  {self.url['workers']}  (log {self.folder / 'workers.log'})")
        self.start_n8n()
        (self.folder / "demo.env").write_text("".join(f"{k}={v}\n" for k, v in sorted(self.env.items())))

    def start_n8n(self) -> None:
        settings = runtime.Settings(user_folder=self.folder / "n8n", port=self.ports["n8n"], broker_port=free_port(),
                                    workers_url=self.url["workers"], extra=runtime.workflow_variables(self.env))
        say("n8n      starting the pinned n8n (first start takes a minute: database migrations)")
        proc = runtime.spawn(settings)
        self.stack.callback(runtime.stop, settings, proc)
        runtime.wait_ready(settings, proc)
        bootstrap.bootstrap(settings, self.env, log=lambda line: say(f"n8n      {line}"))
        self.n8n_settings = settings

    def provision_odoo(self) -> None:
        """Create Odoo's automation rules exactly as a user does against a real Odoo: webhooks to the inbox."""
        say("odoo     provisioning the automation rules (scripts/provision_odoo.py --target inbox)")
        code = provision_odoo.main(["--target", "inbox", "--odoo-url", self.url["odoo"], "--db", SIM_DB,
                                    "--user", SIM_LOGIN, "--password", SIM_PASSWORD,
                                    "--workers-url", self.url["workers"], "--n8n-url", self.url["n8n"],
                                    "--secret=" + self.env["KIT_WEBHOOK_SECRET"]])
        if code != 0:
            raise RuntimeError(f"provisioning Odoo failed (exit {code})")
        self.odoo = odoorpc.ODOO("127.0.0.1", port=self.ports["odoo"], timeout=30)
        self.odoo.login(SIM_DB, SIM_LOGIN, SIM_PASSWORD)

    # -- talking to the parts ----------------------------------------------------------------------------------

    def rpc(self, model: str, method: str, *args, **kwargs):
        return self.odoo.execute_kw(model, method, list(args), kwargs)

    def workers(self, path: str, **params) -> dict:
        answer = requests.get(self.url["workers"] + path, params=params, timeout=10,
                              headers={"X-Kit-Token": self.env["KIT_API_TOKEN"]})
        answer.raise_for_status()
        return answer.json()

    def sim(self, method: str, path: str, **kwargs) -> dict:
        answer = requests.request(method, f"{self.url['odoo']}/_sim/{path}", timeout=30, **kwargs)
        answer.raise_for_status()
        return answer.json()

    def confirm_new_order(self, label: str, *, tier: str, credit: float, limit: float) -> dict:
        """A salesperson's quotation for a fresh customer, confirmed in Odoo (which fires the webhook)."""
        [tag] = self.rpc("res.partner.category", "search", [("name", "=", f"Tier {tier}")])
        partner = self.rpc("res.partner", "create", {
            "name": f"{label} {time.strftime('%H%M%S')}", "is_company": True, "street": "Kade 1", "city": "Delft",
            "credit": credit, "credit_limit": limit, "category_id": [(6, 0, [tag])]})
        [oil] = self.rpc("product.product", "search", [("default_code", "=", "P-1001")])
        order_id = self.rpc("sale.order", "create", {"partner_id": partner, "order_line": [
            (0, 0, {"product_id": oil, "product_uom_qty": 10.0})]})
        self.rpc("sale.order", "action_confirm", [order_id])
        [order] = self.rpc("sale.order", "read", [order_id], ["name", "state", "amount_total"])
        say(f"odoo     confirmed {order['name']} for {label} (tier {tier}, credit {credit:,.2f} of "
            f"{limit:,.2f}, order {order['amount_total']:,.2f})")
        return order

    def release_note(self, order: dict) -> str:
        def found():
            rows = self.rpc("mail.message", "search_read", [("model", "=", "sale.order"), ("res_id", "=", order["id"])],
                            fields=["body"])
            return [r["body"] for r in rows if NOTE_MARK in (r["body"] or "")]
        return wait_for(found, TIMEOUT, what=f"the release note on {order['name']}")[-1]

    def approval_of(self, order: dict) -> dict:
        return wait_for(lambda: self.workers("/v1/approvals", subject_type="sale.order",
                                             subject_id=str(order["id"]))["approvals"],
                        TIMEOUT, what=f"an approval request for {order['name']}")[0]

    # -- the scenario ------------------------------------------------------------------------------------------

    def run_scenario(self) -> dict:
        say("scenario 1: an order within policy")
        within = self.confirm_new_order("Harbour Foods", tier="A", credit=0.0, limit=50000.0)
        say("          " + plain(self.release_note(within)))

        say("scenario 2: an order over the customer's credit limit")
        over = self.confirm_new_order("Corner Deli", tier="B", credit=19950.0, limit=20000.0)
        approval = self.approval_of(over)
        reasons = ", ".join(r["code"] for r in approval["context"]["reasons"])
        say(f"workers  approval {approval['id']} for {over['name']}: steps "
            f"{[s['role'] for s in approval['steps']]}, reasons {reasons}")
        message = wait_for(lambda: [
            m for m in requests.get(self.url["slack"] + "/_stub/messages", timeout=5).json()
            if over["name"] in m["text"] and m["posted_to"] == FINANCE_SLACK_USER], TIMEOUT,
            what="the Slack message to finance")[-1]
        mail = wait_for(lambda: [
            m for m in requests.get(self.url["mail"] + "/messages", timeout=5).json() if over["name"] in m["subject"]],
            TIMEOUT, what="the approval email")
        say(f"slack    DM to Anna Berg ({FINANCE_SLACK_USER}): {message['text'][:90]}")
        say(f"mail     to {mail[0]['to']}: {mail[0]['subject']}")
        say("slack    Anna presses Approve")
        clicked = requests.post(self.url["slack"] + "/_stub/click", timeout=30, json={
            "action_id": "approval.approve", "user_id": FINANCE_SLACK_USER, "ts": message["ts"]}).json()
        if clicked.get("status") != 200:
            raise RuntimeError(f"the workers refused the Slack click: {clicked}")
        say("          " + plain(self.release_note(over)))

        say("scenario 3: Odoo delivers the same webhook twice")
        since = max((w["seq"] for w in self.sim("GET", "webhooks")["webhooks"]), default=0)
        self.sim("POST", "config", json={"webhook_repeat": 2})
        try:
            again = self.confirm_new_order("Dockside Market", tier="A", credit=0.0, limit=50000.0)
            self.release_note(again)
        finally:
            self.sim("POST", "config", json={"webhook_repeat": 1})
        posts = [w for w in self.sim("GET", f"webhooks?since={since}")["webhooks"] if w.get("res_id") == again["id"]]
        events = self.workers("/v1/events", correlation_id=f"sale.order:{again['id']}")["items"]
        say(f"odoo     posted the webhook {len(posts)} times; the inbox answered HTTP "
            f"{', '.join(str(w['status']) for w in posts)} (201 recorded, 200 duplicate)")
        say(f"workers  {len(events)} event recorded for {again['name']}, released once")

        say("scenario 4: a delivery runs late and nobody told the kit")
        late = self.late_delivery(within)
        say(f"odoo     {late['name']} for {within['name']} was due {late['scheduled_date']} "
            f"and is still {late['state']}")
        say("n8n      the reconciliation sweep runs (every 5 minutes; here at once through kit/reconcile-now)")
        answer = requests.post(f"{self.url['n8n']}/webhook/kit/reconcile-now", json={}, timeout=30,
                               headers={"X-Kit-Token": self.env["KIT_N8N_TOKEN"]})
        answer.raise_for_status()
        alert = wait_for(lambda: [
            m for m in requests.get(self.url["slack"] + "/_stub/messages", timeout=5).json()
            if late["name"] in m["text"] and m["posted_to"].startswith("#")], TIMEOUT,
            what=f"the Slack alert about {late['name']}")[-1]
        say(f"slack    {alert['posted_to']}: {alert['text'].splitlines()[0][:100]}")
        return {"within": within, "over": over, "again": again, "approval": approval["id"], "events": len(events),
                "late": late}

    def late_delivery(self, order: dict) -> dict:
        """The order's delivery, its scheduled date moved two days back (as if the warehouse never shipped it)."""
        [picking_id] = self.rpc("stock.picking", "search", [("sale_id", "=", order["id"])])
        due = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 2 * 86400))
        self.rpc("stock.picking", "write", [picking_id], {"scheduled_date": due})
        [picking] = self.rpc("stock.picking", "read", [picking_id], ["name", "state", "scheduled_date"])
        return picking

    def report(self, result: dict) -> None:
        timeline = self.workers(f"/v1/timeline/sale.order:{result['over']['id']}")["entries"]
        say(f"audit    {result['over']['name']}: " + " -> ".join(e["action"] for e in timeline))
        access = json.loads((self.n8n_settings.user_folder / bootstrap.STATE_FILE).read_text())
        print(f"""
  n8n canvas    {self.url['n8n']}/   (log in as {access['email']}, password in {self.folder / 'n8n' / bootstrap.STATE_FILE})
  workers API   {self.url['workers']}/openapi.json   (X-Kit-Token and the other secrets: {self.folder / 'demo.env'})
  Odoo (sim)    {self.url['odoo']}   db {SIM_DB}, {SIM_LOGIN}/{SIM_PASSWORD}
  Slack stub    {self.url['slack']}/_stub/messages     mail sink  {self.url['mail']}/messages
""", flush=True)


def plain(html: str) -> str:
    """A chatter note's HTML as one short line of text."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))).strip()[:300]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exit", action="store_true", help="stop everything after the scenario")
    parser.add_argument("--folder", type=Path, default=ROOT / ".runtime" / "demo", help="logs, data, secrets")
    args = parser.parse_args(argv)
    shutil.rmtree(args.folder, ignore_errors=True)  # a fresh company every run
    args.folder.mkdir(parents=True)
    with ExitStack() as stack:
        demo = Demo(args.folder, choose_ports(PORTS), stack)
        demo.start_all()
        demo.provision_odoo()
        result = demo.run_scenario()
        demo.report(result)
        say("all four scenarios passed")
        if not args.exit:
            say("everything keeps running: press Ctrl-C to stop")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                say("stopping")
    return 0


if __name__ == "__main__":
    sys.exit(main())
