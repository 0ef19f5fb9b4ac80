"""Acceptance: 50 identical shortage signals for one order, sent concurrently to real gunicorn workers (several
processes), give one case with occurrence_count 50, exactly one "new" answer and one announcement."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from scripts.procs import free_port
from tests.harness.workers import workers_server

SIGNALS = 50
SHORTAGE = {
    "type": "stock.shortage.detected",
    "record": {"model": "sale.order", "id": 4242, "name": "S04242"},
    "context": {"order_value": 1800.0, "customer_tier": "B", "promised_at": "2030-01-15"},
    "details": {"product_id": 7, "missing_qty": 12},
    "source": "n8n",
}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_fifty_concurrent_signals_make_one_case(backend, request):
    database_url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    # Odoo is unreachable here on purpose: the write-back must not hold up or lose the case.
    env = {"KIT_ODOO_URL": f"http://127.0.0.1:{free_port()}", "KIT_ODOO_TIMEOUT": "2"}
    with workers_server(env, workers=3, threads=8, database_url=database_url) as url:
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=SIGNALS))

        def send(_):
            response = session.post(url + "/v1/exceptions", json=SHORTAGE, timeout=60)
            return response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=SIGNALS) as pool:
            answers = list(pool.map(send, range(SIGNALS)))

        statuses = [status for status, _ in answers]
        assert set(statuses) <= {200, 201}, answers
        outcomes = [body["outcome"] for _, body in answers]
        assert outcomes.count("new") == 1 and outcomes.count("repeat") == SIGNALS - 1
        assert statuses.count(201) == 1
        assert sum(body["notify"] for _, body in answers) == 1
        assert len({body["exception"]["id"] for _, body in answers}) == 1
        assert sorted(body["exception"]["occurrence_count"] for _, body in answers) == list(range(1, SIGNALS + 1))

        listed = session.get(url + "/v1/exceptions", params={"record_model": "sale.order", "record_id": 4242}).json()
        assert listed["count"] == 1
        [case] = listed["exceptions"]
        assert case["occurrence_count"] == SIGNALS and case["state"] == "open"
        announced = session.get(url + "/v1/events", params={"type": "exception.opened"}).json()["items"]
        assert [e["event"]["data"]["exception_id"] for e in announced] == [case["id"]]
        detail = session.get(url + f"/v1/exceptions/{case['id']}").json()["exception"]
        followups = {f["action"]: f["status"] for f in detail["followups"]}
        assert followups == {"announce_opened": "done", "odoo_open": "pending"}, detail["followups"]
