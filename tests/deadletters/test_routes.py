"""Dead letters over the Flask test client: record once per execution, list, replay to n8n with secrets re-added."""
import pytest
import responses

from python_nodes.app import create_app
from python_nodes.config import Config

N8N = "http://n8n.test/webhook"
REPORT = {
    "workflow_id": "odooOpsOrderConf", "workflow_name": "Order confirmed", "execution_id": "7",
    "failed_node": "Record event in inbox", "error_message": "connection refused", "mode": "webhook",
    "request": {"webhook_path": "odoo/sale-order-confirmed", "method": "POST", "query": {},
                "body": {"_id": 42, "_model": "sale.order", "state": "sale"}, "auth": "odoo-token"},
}


@pytest.fixture
def client(sqlite_url):
    app = create_app(Config(database_url=sqlite_url, n8n_webhook_base=N8N, webhook_secret="odoo-secret",
                            n8n_token="n8n-secret", outbox_enabled=False))
    yield app.test_client()
    app.extensions["kit.db"].close()


def test_same_execution_reported_twice_is_one_letter(client):
    first = client.post("/v1/dead-letters", json=REPORT)
    again = client.post("/v1/dead-letters", json=REPORT)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"] and first.json["state"] == "open"
    assert [item["id"] for item in client.get("/v1/dead-letters").json["items"]] == [first.json["id"]]


def test_bad_report_is_refused_and_nothing_stored(client):
    answer = client.post("/v1/dead-letters", json={**REPORT, "request": {"webhook_path": "http://evil/x"}})
    assert answer.status_code == 422 and answer.json["error"]["details"]
    assert client.get("/v1/dead-letters").json["items"] == []


@responses.activate
def test_replay_posts_to_n8n_with_the_token_added_back(client):
    hook = responses.post(f"{N8N}/odoo/sale-order-confirmed", json={"accepted": True}, status=202)
    letter = client.post("/v1/dead-letters", json=REPORT).json
    replayed = client.post(f"/v1/dead-letters/{letter['id']}/replay")
    assert replayed.status_code == 200
    assert replayed.json["state"] == "replayed" and replayed.json["last_replay_status"] == 202
    sent = hook.calls[0].request
    assert "token=odoo-secret" in sent.url and b'"_id": 42' in sent.body
    assert client.post(f"/v1/dead-letters/{letter['id']}/replay").status_code == 409


@responses.activate
def test_failed_replay_stays_replayable(client):
    responses.post(f"{N8N}/kit/sale-order-confirmed", status=500, body="boom")
    report = {**REPORT, "execution_id": "8",
              "request": {**REPORT["request"], "webhook_path": "kit/sale-order-confirmed", "auth": "kit-header"}}
    letter = client.post("/v1/dead-letters", json=report).json
    failed = client.post(f"/v1/dead-letters/{letter['id']}/replay").json
    assert failed["state"] == "replay_failed" and failed["last_replay_status"] == 500
    assert responses.calls[0].request.headers["X-Kit-Token"] == "n8n-secret"
    assert client.get("/v1/dead-letters?state=replay_failed").json["items"][0]["id"] == letter["id"]


def test_letter_without_request_is_not_replayable(client):
    letter = client.post("/v1/dead-letters", json={**REPORT, "execution_id": "9", "request": None}).json
    answer = client.post(f"/v1/dead-letters/{letter['id']}/replay")
    assert answer.status_code == 409 and answer.json["error"]["code"] == "not_replayable"
    assert client.post("/v1/dead-letters/999/replay").status_code == 404
