"""Generated requests, valid and not, against every operation of ``/openapi.json`` on real gunicorn workers, once per
store backend: no 5xx, a declared token is required, and every answer has a documented status and media type and
matches its schema (errors included: the one JSON error shape).

Business rules beyond the schemas (an unknown approver role, a lane to a warehouse not sent) refuse some
schema-valid requests with a 4xx, so the check that would call that a defect (``positive_data_acceptance``) is off.
Hypothesis runs derandomized: the same requests every run, so CI is repeatable; a failure prints a curl to replay."""
from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.conftest import fresh_postgres_database
from tests.harness.odoo_sim import odoo_sim_server
from tests.harness.workers import workers_server

ROOT = Path(__file__).resolve().parents[2]
API_TOKEN, WEBHOOK_SECRET = "conformance-api-token", "conformance-webhook-secret"
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.ignored_auth]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def workers_api(request):
    with ExitStack() as stack:
        sim = stack.enter_context(odoo_sim_server())
        env = {"KIT_ENV": "development", "KIT_LOG_LEVEL": "WARNING", "KIT_API_TOKEN": API_TOKEN,
               "KIT_WEBHOOK_SECRET": WEBHOOK_SECRET, "KIT_N8N_TOKEN": "conformance-n8n-token",
               "KIT_SLACK_SIGNING_SECRET": "conformance-slack-secret", "KIT_OUTBOX_ENABLED": "false",
               "KIT_NETWORK_FILE": str(ROOT / "python_nodes/allocation/network.example.json"),
               "KIT_ODOO_URL": sim.url, "KIT_ODOO_DB": sim.db, "KIT_ODOO_USER": sim.login,
               "KIT_ODOO_PASSWORD": sim.password}
        database_url = stack.enter_context(fresh_postgres_database()) if request.param == "postgresql" else None
        url = stack.enter_context(workers_server(env, database_url=database_url))
        yield schemathesis.openapi.from_url(url + "/openapi.json")


schema = schemathesis.pytest.from_fixture("workers_api")


@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract(case):
    token = WEBHOOK_SECRET if (case.method, case.path) == ("POST", "/v1/events") else API_TOKEN
    case.call_and_validate(headers={"X-Kit-Token": token}, checks=CHECKS)
