"""The API surface: one error shape everywhere, correlation ids, and an OpenAPI document built from the contracts."""
from __future__ import annotations

import re

from python_nodes import contracts
from python_nodes.app import create_app, decimal_at_most
from python_nodes.audit import service as audit
from python_nodes.config import Config


def test_unknown_path_and_wrong_method_answer_the_json_error_shape(client):
    for answer, status, code in ((client.get("/v1/nothing-here"), 404, "not_found"),
                                 (client.delete("/healthz"), 405, "method_not_allowed")):
        assert answer.status_code == status
        assert answer.json == {"error": {"code": code, "message": answer.json["error"]["message"], "details": []}}
        assert not contracts.problems("error", answer.json)
    assert sorted(client.delete("/healthz").headers["Allow"].split(", ")) == ["GET", "HEAD", "OPTIONS"]


def test_correlation_id_is_echoed_or_made(client):
    assert client.get("/healthz", headers={"X-Correlation-Id": "sale.order:42"}).headers["X-Correlation-Id"] == \
        "sale.order:42"
    assert len(client.get("/healthz").headers["X-Correlation-Id"]) == 32


def test_openapi_describes_every_route_with_its_schemas(client, app):
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert len(spec["paths"]) == len(routes)
    events = spec["paths"]["/v1/events"]["post"]
    assert events["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/event-accepted"}
    assert set(contracts.schemas()) <= set(spec["components"]["schemas"])


def test_openapi_references_all_resolve(client):
    spec = client.get("/openapi.json").json

    def refs(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in set(refs(spec)):
        assert ref.startswith("#/"), ref
        target = spec
        for part in ref[2:].split("/"):
            assert part in target, f"dangling $ref {ref}"
            target = target[part]


def test_every_api_route_declares_its_contract(app):
    """So it shows in /openapi.json with its schemas, and workflow lint can check calls against it."""
    missing = [rule.rule for rule in app.url_map.iter_rules()
               if rule.rule.startswith("/v1/") and getattr(app.view_functions[rule.endpoint], "contract", None) is None]
    assert not missing, f"routes without @contract: {missing}"


def test_timeline_lists_what_happened_to_one_object(app, client):
    """The events that reported the object (their rows are the record) and the audit log's decisions, by time."""
    body = {"_action": "a(#1)", "_id": 5, "_model": "sale.order", "id": 5, "state": "sale",
            "write_date": "2026-11-20 09:15:02"}
    event = client.post("/v1/events", json=body).json["event"]
    with app.extensions["kit.db"].transaction() as tx:
        audit.record(tx, actor="workers", action="release.decided", subject="sale.order/5",
                     correlation_id="sale.order:5", reason_codes=["within_credit"])
    client.post("/v1/events", json=body)  # a duplicate adds nothing
    entries = client.get("/v1/timeline/sale.order:5").json["entries"]
    assert [(e["action"], e["actor"], e["subject"]) for e in entries] == [
        ("event.recorded", "odoo_webhook", "sale.order/5"), ("release.decided", "workers", "sale.order/5")]
    assert entries[0]["id"] == event["id"]
    assert entries[0]["data"] == {"type": "sale.order.confirmed", "key": "sale.order:5:state:sale"}


def test_query_parameters_are_held_to_the_routes_contract(client):
    """A bad value, a value given twice or a name the route does not take is a 400 naming it; nothing is guessed."""
    for query, path, message in (("limit=abc", "limit", "'abc' is not of type 'integer'"),
                                 ("limit=-1", "limit", "-1 is less than the minimum of 1"),
                                 ("limit=1001", "limit", "1001 is greater than the maximum of 1000"),
                                 ("limit=5&limit=6", "limit", "given more than once"),
                                 ("state=gone", "state", "'gone' is not one of ['pending', 'delivered', 'dead']"),
                                 ("stat=dead", "stat", "unknown query parameter; known: ['limit', 'state']")):
        answer = client.get(f"/v1/outbox?{query}")
        assert answer.status_code == 400, query
        assert answer.json["error"]["code"] == "invalid_query"
        assert answer.json["error"]["details"] == [{"path": path, "message": message}], query
    assert client.get("/v1/approvals?overdue=maybe").json["error"]["details"] == [
        {"path": "overdue", "message": "'maybe' is not of type 'boolean'"}]
    assert client.get("/v1/events?after=yesterday").json["error"]["details"][0]["path"] == "after"


def test_query_values_are_parsed_and_defaulted(client):
    webhook = {"_action": "a(#1)", "_model": "sale.order", "state": "sale", "write_date": "2026-11-20 09:15:02"}
    for order in (1, 2, 3):
        assert client.post("/v1/events", json={**webhook, "_id": order, "id": order}).status_code == 201
    assert len(client.get("/v1/events").json["items"]) == 3  # limit defaults to 100
    assert len(client.get("/v1/events?limit=2").json["items"]) == 2
    assert client.get("/v1/approvals?overdue=0&limit=500").status_code == 200
    assert client.get("/v1/exceptions?state=open&state=acknowledged&active=yes").status_code == 200


def test_listing_events_needs_the_api_token_only_posting_takes_the_webhook_secret(tmp_path):
    app = create_app(Config(database_url=f"sqlite:///{tmp_path}/kit.sqlite3", api_token="api-secret",
                            webhook_secret="hook-secret"))
    client = app.test_client()
    body = {"_action": "a(#1)", "_id": 5, "_model": "sale.order", "id": 5, "state": "sale"}
    try:
        assert client.post("/v1/events?token=hook-secret", json=body).status_code == 201
        assert client.get("/v1/events").status_code == 401
        assert client.get("/v1/events", headers={"X-Kit-Token": "hook-secret"}).status_code == 401
        assert len(client.get("/v1/events", headers={"X-Kit-Token": "api-secret"}).json["items"]) == 1
    finally:
        app.extensions["kit.db"].close()


def test_openapi_documents_statuses_parameters_media_types_and_security(client):
    paths = client.get("/openapi.json").json["paths"]
    ingest = paths["/v1/events"]["post"]
    assert set(ingest["responses"]) == {"200", "201", "default"}
    assert ingest["security"] == [{"webhookSecret": []}]
    assert {p["name"] for p in ingest["parameters"]} == {"token", "type", "handled_by"}
    assert ingest["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/event-request"}
    assert paths["/v1/events"]["get"]["security"] == [{"apiToken": []}]
    assert paths["/healthz"]["get"]["security"] == []
    limit = next(p for p in paths["/v1/outbox"]["get"]["parameters"] if p["name"] == "limit")
    assert limit == {"name": "limit", "in": "query", "required": False, "schema": {
        "type": "integer", "minimum": 1, "maximum": 1000, "default": 100, "description": "at most this many items"}}
    assert paths["/v1/outbox/{row_id}/retry"]["post"]["parameters"][0]["schema"] == {
        "type": "integer", "minimum": 0, "maximum": 2**63 - 1}
    page = paths["/a/{token}"]["get"]["responses"]
    assert set(page["200"]["content"]) == set(page["default"]["content"]) == {"text/html"}
    assert paths["/v1/approvals/{approval_id}/cancel"]["post"]["requestBody"]["required"] is False


def test_an_id_past_the_stores_integers_is_not_found_not_a_database_error(client):
    for method, path in (("post", "/v1/outbox/{}/retry"), ("get", "/v1/dead-letters/{}"),
                         ("get", "/v1/exceptions/{}"), ("post", "/v1/approvals/deliveries/{}/retry")):
        assert getattr(client, method)(path.format(2**63 - 1)).status_code == 404, path
        for past in (2**63, 10**19, 10**20, 2**64):  # no route matches, also where PATCH has the same shape
            answer = getattr(client, method)(path.format(past))
            assert (answer.status_code, answer.json["error"]["code"]) == (404, "not_found"), (path, past)


def test_the_id_pattern_takes_exactly_the_numbers_up_to_its_bound():
    for limit in (0, 7, 10, 99, 100, 2**63 - 1):
        pattern = re.compile(decimal_at_most(limit))
        numbers = {0, 1, 9, 10, limit // 2, limit - 1, limit, limit + 1, limit * 10, 2**63, 10**19} - {-1}  # no sign
        for number in numbers:
            assert bool(pattern.fullmatch(str(number))) == (number <= limit), (limit, number)


def test_a_whole_number_written_with_a_fraction_is_that_integer(client):
    """JSON Schema's "integer" accepts 5.0; the workers then use it as 5 (in keys, subjects and Odoo calls)."""
    body = {"amount": 1250.0, "currency": "EUR", "requester": {"id": "sales.rep", "name": "Sam"},
            "subject": {"type": "sale.order", "id": 5.0, "name": "S00005"}, "steps": [{"role": "finance"}]}
    created = client.post("/v1/approvals", json=body)
    assert created.status_code == 201, created.json
    assert created.json["subject"]["id"] == 5 and isinstance(created.json["subject"]["id"], int)


def test_the_nul_character_is_refused_alike_on_both_stores(client):
    """PostgreSQL text cannot hold NUL; SQLite could, so both refuse it before any write, naming where it was."""
    webhook = {"_action": "a(#1)", "_id": 5, "_model": "sale.order", "id": 5, "state": "sale", "name": "S\u0000"}
    answer = client.post("/v1/events", json=webhook)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "nul_character"
    assert answer.json["error"]["details"] == [{"path": "name", "message": "contains \\u0000"}]
    assert client.get("/v1/events").json["items"] == []
    escaped = client.post("/v1/events", json={**webhook, "name": "S\\u0000"})  # a backslash, then 'u0000'
    assert escaped.status_code == 201
    for url in ("/v1/events?type=a%00b", "/v1/events/abc%00"):
        assert client.get(url).json["error"]["code"] == "nul_character", url
