"""/metrics counts what waits or is stuck from the store, so any gunicorn process answers the same numbers."""
from __future__ import annotations

import re
import time

import psycopg
import requests

from python_nodes.store import connect
from tests.conftest import POSTGRES_ADMIN_URL
from tests.core.test_outbox import direct_dead_letter_of, wait_for
from tests.harness.receiver import receiver
from tests.harness.tcp_proxy import tcp_proxy
from tests.harness.workers import order_confirmed, workers_server

APPROVERS = "python_nodes/approvals/approvers.example.json"
SHORTAGE = {"type": "stock.shortage.detected", "record": {"model": "sale.order", "id": 77, "name": "S00077"},
            "context": {"order_value": 1800.0, "customer_tier": "B", "promised_at": "2030-01-15"},
            "details": {"product_id": 7, "missing_qty": 12}, "source": "n8n"}
APPROVAL = {"subject": {"type": "sale.order", "id": 78, "name": "S00078"}, "amount": 20000.0, "currency": "EUR",
            "requester": {"id": "sam.sales", "name": "Sam Sales", "email": "sam.sales@example.com"},
            "steps": [{"role": "finance"}],
            "context": {"reasons": [{"code": "credit_limit_exceeded", "message": "exposure 65,000 > limit 50,000"}],
                        "snapshot_digest": "sha256:" + "ab" * 32}}
SAMPLE = re.compile(r'^(kit_\w+)(?:\{([^}]*)\})? ([0-9.e+-]+)$')


def gauges(base: str) -> dict[tuple[str, str], float]:
    """``{(name, labels): value}`` of the backlog gauges in one scrape."""
    found = {}
    for line in requests.get(f"{base}/metrics", timeout=10).text.splitlines():
        match = SAMPLE.match(line)
        if match and not match.group(1).endswith(("_total", "_bucket", "_sum", "_count", "_created")):
            found[(match.group(1), match.group(2) or "")] = float(match.group(3))
    return found


def test_metrics_count_the_backlog_from_the_store(database_url):
    with receiver() as n8n:
        n8n.refuse_with = 503
        env = {"KIT_N8N_WEBHOOK_BASE": n8n.url + "/webhook", "KIT_OUTBOX_MAX_ATTEMPTS": "1",
               "KIT_APPROVERS_FILE": APPROVERS}
        with workers_server(env, database_url=database_url, workers=2) as base:
            assert gauges(base)[("kit_backlog_readable", "")] == 1.0
            for order in (1, 2):  # n8n refuses and the outbox gives up at once: dead
                assert requests.post(f"{base}/v1/events", json=order_confirmed(order), timeout=5).status_code == 201
            assert wait_for(lambda: gauges(base)[("kit_outbox_backlog", 'state="dead"')] == 2)
            n8n.refuse_with = None
            n8n.answering.clear()  # n8n now holds the next delivery open: it waits, pending
            assert requests.post(f"{base}/v1/events", json=order_confirmed(3), timeout=5).status_code == 201
            # The outbox may have sent orders 1 and 2 in one post (a batch): count events, not posts.
            assert wait_for(lambda: len(n8n.posted()) == 3)
            time.sleep(1.1)
            now = gauges(base)
            assert now[("kit_outbox_backlog", 'state="pending"')] == 1
            assert now[("kit_outbox_oldest_pending_seconds", "")] >= 1.0

            letter = requests.post(f"{base}/v1/dead-letters", json=direct_dead_letter_of(
                order_confirmed(9), "501", ["odoo/sale-order-confirmed"]), timeout=5)
            assert letter.status_code == 201
            case = requests.post(f"{base}/v1/exceptions", json=SHORTAGE, timeout=30).json()["exception"]
            approval = requests.post(f"{base}/v1/approvals", json=APPROVAL, timeout=30)
            assert approval.status_code == 201, approval.text

            scraped = [gauges(base) for _ in range(4)]  # answered by either process: the same numbers
            assert all(s[("kit_dead_letters_unsettled", 'state="open"')] == 1 for s in scraped)
            assert all(s[("kit_exception_cases_active", f'overdue="false",severity="{case["severity"]}"')] == 1
                       for s in scraped)
            assert all(s[("kit_approvals_pending", "")] == 1 for s in scraped)
            # The case's SLA passes (written in the store: its policy gives hours).
            store = connect(database_url)
            try:
                with store.transaction() as tx:
                    tx.execute("UPDATE exception_cases SET sla_due_at = ? WHERE id = ?",
                               ("2026-01-01T00:00:00Z", case["id"]))
            finally:
                store.close()
            overdue = gauges(base)
            assert overdue[("kit_exception_cases_active", f'overdue="true",severity="{case["severity"]}"')] == 1
            assert ("kit_exception_cases_active", f'overdue="false",severity="{case["severity"]}"') not in overdue
            n8n.answering.set()
            assert wait_for(lambda: gauges(base)[("kit_outbox_backlog", 'state="pending"')] == 0)
            assert gauges(base)[("kit_outbox_oldest_pending_seconds", "")] == 0


def test_metrics_still_answer_when_the_store_cannot_be_read(postgres_url):
    with workers_server({}, database_url=postgres_url, workers=1) as base:
        assert gauges(base)[("kit_backlog_readable", "")] == 1.0
        name = postgres_url.rsplit("/", 1)[1]
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # the store is gone under the running workers
        answer = requests.get(f"{base}/metrics", timeout=30)
        assert answer.status_code == 200
        assert "kit_backlog_readable 0.0" in answer.text.splitlines()
        assert "kit_http_requests_total{" in answer.text  # the process's own counters still answer
        assert not any(line.startswith("kit_outbox_backlog") for line in answer.text.splitlines())


def test_probes_answer_in_time_when_the_store_goes_silent(postgres_url):
    """A store that stops answering without refusing (a network cut): /metrics keeps the process's counters coming
    and /readyz says not ready, each within STORE_READ_SECONDS (5 s), not the pool's 30 s or a hung TCP read."""
    with tcp_proxy("127.0.0.1", 5432) as store:
        through_proxy = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{store.port}")
        with workers_server({}, database_url=through_proxy, workers=1) as base:
            assert gauges(base)[("kit_backlog_readable", "")] == 1.0
            store.freeze()
            for _ in range(2):  # the second scrape waits on the first one's read, still hanging, not on a new one
                started = time.monotonic()
                answer = requests.get(f"{base}/metrics", timeout=9)
                assert time.monotonic() - started < 8
                assert "kit_backlog_readable 0.0" in answer.text.splitlines()
                assert "kit_http_requests_total{" in answer.text
            ready = requests.get(f"{base}/readyz", timeout=9)
            assert ready.status_code == 503 and ready.json()["error"]["code"] == "store_unreachable"
            store.thaw()
            assert wait_for(lambda: gauges(base)[("kit_backlog_readable", "")] == 1.0)
            assert requests.get(f"{base}/readyz", timeout=9).status_code == 200
