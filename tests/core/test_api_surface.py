"""The API surface: one error shape everywhere, correlation ids, and an OpenAPI document built from the contracts."""
from __future__ import annotations

from python_nodes import contracts
from python_nodes.audit import service as audit


def test_unknown_path_and_wrong_method_answer_the_json_error_shape(client):
    for answer, status, code in ((client.get("/v1/nothing-here"), 404, "not_found"),
                                 (client.delete("/healthz"), 405, "method_not_allowed")):
        assert answer.status_code == status
        assert answer.json == {"error": {"code": code, "message": answer.json["error"]["message"], "details": []}}
        assert not contracts.problems("error", answer.json)


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
