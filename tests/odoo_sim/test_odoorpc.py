"""odoorpc 0.10.1 works unchanged against the simulator (as it would against Odoo 17)."""

import datetime

import odoorpc
import pytest


def test_login_and_version(odoo):
    assert odoo.version == "17.0"
    assert odoo.env.uid == 2
    assert odoo.env.user.name == "Mitchell Admin"
    assert odoo.env.user.login == "admin"


def test_bad_password_is_refused(sim):
    client = odoorpc.ODOO(sim.host, port=sim.port)
    with pytest.raises(odoorpc.error.RPCError, match="Wrong login ID or password"):
        client.login(sim.db, sim.login, "wrong")


def test_search_read_browse(odoo):
    orders = odoo.env["sale.order"]
    draft_ids = orders.search([("state", "=", "draft")])
    assert draft_ids == [1]
    order = orders.browse(draft_ids[0])
    assert order.name == "S00001"
    assert order.partner_id.name == "Acme Retail"
    assert order.amount_total == pytest.approx(10 * 9.50 + 5 * 14.00 * 0.95)
    assert isinstance(order.commitment_date, datetime.datetime)
    assert [line.product_id.default_code for line in order.order_line] == ["P-1001", "P-1002"]
    rows = orders.read(draft_ids, ["name", "partner_id", "state"])
    assert rows == [{"id": 1, "name": "S00001", "partner_id": [7, "Acme Retail"], "state": "draft"}]


def test_write_updates_write_date(odoo):
    orders = odoo.env["sale.order"]
    before = orders.read([1], ["write_date"])[0]["write_date"]
    orders.browse(1).client_order_ref = "PO-77"
    after = orders.read([1], ["client_order_ref", "write_date"])[0]
    assert after["client_order_ref"] == "PO-77"
    assert after["write_date"] >= before


def test_action_confirm_creates_the_delivery(odoo):
    odoo.env["sale.order"].browse(1).action_confirm()
    order = odoo.env["sale.order"].browse(1)  # odoorpc caches field values: browse again to re-read
    assert order.state == "sale"
    pickings = order.picking_ids
    assert len(pickings) == 1
    picking = pickings[0]
    assert picking.origin == "S00001"
    assert picking.picking_type_id.code == "outgoing"
    assert picking.state == "assigned"  # WH holds enough oil and rice
    assert picking.sale_id.id == 1


def test_execute_kw_and_create_unlink(odoo):
    partner_id = odoo.execute_kw("res.partner", "create", [{"name": "Echo Bistro", "customer_rank": 1}])
    rows = odoo.execute_kw("res.partner", "search_read", [[["name", "=", "Echo Bistro"]]], {"fields": ["name", "credit_limit", "category_id"]})
    assert rows == [{"id": partner_id, "name": "Echo Bistro", "credit_limit": 0.0, "category_id": []}]
    assert odoo.execute_kw("res.partner", "unlink", [[partner_id]]) is True
    assert odoo.execute_kw("res.partner", "search_count", [[["name", "=", "Echo Bistro"]]]) == 0


def test_fields_get_gives_types_and_relations(odoo):
    fields = odoo.execute_kw("sale.order", "fields_get", [], {"attributes": ["type", "string", "relation"]})
    assert fields["partner_id"] == {"type": "many2one", "string": "Customer", "relation": "res.partner"}
    assert fields["order_line"]["type"] == "one2many"
    assert all("type" in desc for desc in fields.values())


def test_env_ref_and_model_presence(odoo):
    assert odoo.env.ref("base.user_admin").id == 2
    assert "stock.quant" in odoo.env
    assert "no.such.model" not in odoo.env


def test_message_post_and_activity_done(odoo):
    message_id = odoo.execute_kw("sale.order", "message_post", [[3]], {"body": "Late delivery escalated", "message_type": "comment"})
    message = odoo.execute_kw("mail.message", "read", [[message_id]], {"fields": ["model", "res_id", "body", "author_id", "subtype_id"]})[0]
    assert (message["model"], message["res_id"], message["body"]) == ("sale.order", 3, "Late delivery escalated")
    assert message["author_id"][1] == "Mitchell Admin"
    assert message["subtype_id"][1] == "Note"
    activity_ids = odoo.execute_kw("mail.activity", "search", [[["res_id", "=", 3], ["res_model", "=", "sale.order"]]])
    assert len(activity_ids) == 1
    odoo.execute_kw("mail.activity", "action_feedback", [activity_ids], {"feedback": "Called"})
    assert odoo.execute_kw("mail.activity", "search", [[["id", "in", activity_ids]]]) == []
    done = odoo.execute_kw("mail.activity", "read", [activity_ids], {"fields": ["active", "state", "feedback"]})[0]
    assert (done["active"], done["state"], done["feedback"]) == (False, "done", "Called")
