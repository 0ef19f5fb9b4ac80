"""Odoo's error envelope over JSON-RPC and its Faults over XML-RPC."""

import xmlrpc.client

import pytest
import requests


def jsonrpc(sim, service, method, *args):
    payload = {"jsonrpc": "2.0", "method": "call", "id": 41, "params": {"service": service, "method": method, "args": list(args)}}
    response = requests.post(f"{sim.url}/jsonrpc", json=payload, timeout=10)
    assert response.status_code == 200
    return response.json()


def execute_kw(sim, model, method, args, kwargs=None, login=None):
    uid, password = (2, sim.password) if login is None else login
    return jsonrpc(sim, "object", "execute_kw", sim.db, uid, password, model, method, args, kwargs or {})


def assert_error(answer, name):
    assert set(answer) == {"jsonrpc", "id", "error"}
    assert answer["id"] == 41
    error = answer["error"]
    assert error["code"] == 200
    assert error["message"] == "Odoo Server Error"
    assert error["data"]["name"] == name
    assert error["data"]["arguments"] == [error["data"]["message"]]
    assert "debug" in error["data"]
    return error["data"]["message"]


def test_version_info_envelope(sim):
    answer = requests.post(f"{sim.url}/web/webclient/version_info", json={"jsonrpc": "2.0", "method": "call", "params": {}, "id": 3}, timeout=5).json()
    assert answer["id"] == 3
    assert answer["result"]["server_version"] == "17.0"
    assert answer["result"]["server_version_info"] == [17, 0, 0, "final", 0, ""]


def test_login_with_bad_password_answers_false(sim):
    assert jsonrpc(sim, "common", "login", sim.db, sim.login, "nope")["result"] is False
    assert jsonrpc(sim, "common", "login", sim.db, sim.login, sim.password)["result"] == 2


def test_access_denied_on_bad_password(sim):
    message = assert_error(execute_kw(sim, "sale.order", "search", [[]], login=(2, "nope")), "odoo.exceptions.AccessDenied")
    assert message == "Access Denied"


def test_access_error_for_restricted_user(sim):
    viewer_uid = jsonrpc(sim, "common", "login", sim.db, sim.readonly_login, sim.readonly_password)["result"]
    viewer = (viewer_uid, sim.readonly_password)
    assert execute_kw(sim, "sale.order", "search_count", [[]], login=viewer)["result"] == 5
    message = assert_error(execute_kw(sim, "sale.order", "write", [[1], {"note": "x"}], login=viewer), "odoo.exceptions.AccessError")
    assert "not allowed to modify 'Sales Order' (sale.order)" in message
    assert_error(execute_kw(sim, "sale.order", "action_confirm", [[1]], login=viewer), "odoo.exceptions.AccessError")


def test_validation_error_for_missing_required_value(sim):
    message = assert_error(execute_kw(sim, "sale.order", "create", [{"client_order_ref": "no partner"}]), "odoo.exceptions.ValidationError")
    assert "mandatory field is not set" in message and "partner_id" in message


def test_validation_error_for_reference_to_missing_record(sim):
    assert_error(execute_kw(sim, "sale.order", "create", [{"partner_id": 99999}]), "odoo.exceptions.ValidationError")


def test_missing_error(sim):
    message = assert_error(execute_kw(sim, "sale.order", "read", [[999]], {"fields": ["name"]}), "odoo.exceptions.MissingError")
    assert message.startswith("Record does not exist or has been deleted.")
    assert_error(execute_kw(sim, "sale.order", "write", [[999], {"note": "x"}]), "odoo.exceptions.MissingError")


def test_refused_transition_is_a_user_error(sim):
    assert execute_kw(sim, "sale.order", "action_confirm", [[1]])["result"] is True
    message = assert_error(execute_kw(sim, "sale.order", "action_confirm", [[1]]), "odoo.exceptions.UserError")
    assert "not in a state requiring confirmation" in message


def test_python_errors(sim):
    assert_error(execute_kw(sim, "sale.order", "write", [[1], {"state": "bogus"}]), "builtins.ValueError")
    assert_error(execute_kw(sim, "no.model", "search", [[]]), "builtins.KeyError")
    assert_error(execute_kw(sim, "sale.order", "fly", [[1]]), "builtins.AttributeError")
    assert_error(execute_kw(sim, "sale.order", "_private", [[1]]), "odoo.exceptions.AccessError")


def test_xmlrpc_round_trip_and_faults(sim):
    common = xmlrpc.client.ServerProxy(f"{sim.url}/xmlrpc/2/common")
    assert common.version()["server_version"] == "17.0"
    uid = common.authenticate(sim.db, sim.login, sim.password, {})
    assert uid == 2
    assert common.login(sim.db, sim.login, "bad") is False
    models = xmlrpc.client.ServerProxy(f"{sim.url}/xmlrpc/2/object")
    rows = models.execute_kw(sim.db, uid, sim.password, "res.partner", "search_read",
                             [[["customer_rank", ">", 0]]], {"fields": ["name", "credit", "credit_limit", "category_id"], "order": "id asc"})
    assert [r["name"] for r in rows] == ["Acme Retail", "Blue Harbor Foods", "Corner Grocers", "Delta Hospitality"]
    assert models.execute(sim.db, uid, sim.password, "sale.order", "search_count", [["state", "=", "sale"]]) == 3
    assert models.execute_kw(sim.db, uid, sim.password, "sale.order", "action_confirm", [[1]]) is True
    cases = [
        ((2, "bad", "sale.order", "search", [[]]), 3),
        ((2, sim.password, "sale.order", "read", [[999]]), 2),
        ((2, sim.password, "sale.order", "action_confirm", [[1]]), 2),
        ((2, sim.password, "sale.order", "_secret", [[1]]), 4),
        ((2, sim.password, "sale.order", "write", [[1], {"state": "bogus"}]), 1),
    ]
    for (call_uid, password, model, method, args), code in cases:
        with pytest.raises(xmlrpc.client.Fault) as caught:
            models.execute_kw(sim.db, call_uid, password, model, method, args)
        assert caught.value.faultCode == code, caught.value.faultString


def test_session_authenticate_and_call_kw(sim):
    session = requests.Session()
    answer = session.post(f"{sim.url}/web/session/authenticate", json={"jsonrpc": "2.0", "method": "call", "id": 1,
                          "params": {"db": sim.db, "login": sim.login, "password": sim.password}}, timeout=5).json()
    assert answer["result"]["uid"] == 2
    answer = session.post(f"{sim.url}/web/dataset/call_kw/sale.order/search_count", json={"jsonrpc": "2.0", "method": "call", "id": 2,
                          "params": {"model": "sale.order", "method": "search_count", "args": [[]], "kwargs": {}}}, timeout=5).json()
    assert answer["result"] == 5
    expired = requests.post(f"{sim.url}/web/dataset/call_kw", json={"jsonrpc": "2.0", "method": "call", "id": 3,
                            "params": {"model": "sale.order", "method": "search_count", "args": [[]], "kwargs": {}}}, timeout=5).json()
    assert expired["error"]["code"] == 100
