"""Provisioned rules send Odoo's exact webhook; drop/repeat knobs; provisioning is idempotent and has a dry run."""

import io
import json
import time

import pytest

from scripts import provision_odoo

SECRET = "kit-test-secret"


def provision(sim, receiver, *extra, target="inbox"):
    out = io.StringIO()
    argv = ["--target", target, "--odoo-url", sim.url, "--db", sim.db, "--user", sim.login, "--password", sim.password,
            "--workers-url", receiver.url, "--n8n-url", receiver.url, "--secret", SECRET, *extra]
    code = provision_odoo.main(argv, out=out)
    return code, out.getvalue()


def rules_state(odoo):
    automations = odoo.execute_kw("base.automation", "search_read", [[]], {"fields": [], "order": "id asc"})
    actions = odoo.execute_kw("ir.actions.server", "search_read", [[]], {"fields": [], "order": "id asc"})
    return automations, actions


def test_no_rules_no_webhooks(sim, odoo, receiver):
    odoo.execute_kw("sale.order", "action_confirm", [[1]])
    assert receiver.requests == []
    assert sim.control("GET", "webhooks")["webhooks"] == []


def test_confirmed_order_sends_the_exact_odoo_body(sim, odoo, receiver):
    code, _ = provision(sim, receiver)
    assert code == 0
    odoo.execute_kw("sale.order", "action_confirm", [[1]])
    order = odoo.execute_kw("sale.order", "read", [[1]], {"load": None, "fields": [
        "name", "state", "partner_id", "partner_shipping_id", "amount_total", "date_order", "commitment_date",
        "warehouse_id", "user_id", "write_date"]})[0]
    action_id = odoo.execute_kw("ir.actions.server", "search", [[["name", "=", "Ops Kit: sale order confirmed"]]])[0]
    confirmed = [r for r in receiver.requests if '"_model": "sale.order"' in r["body"]]
    assert len(confirmed) == 1
    request = confirmed[0]
    assert request["path"] == f"/v1/events?type=sale.order.confirmed&token={SECRET}"
    assert request["headers"]["Content-Type"] == "application/json"
    expected = {"_action": f"Ops Kit: sale order confirmed(#{action_id})", "_id": 1, "_model": "sale.order", **order}
    assert request["body"] == json.dumps(expected, sort_keys=True)  # byte-exact: keys sorted, ids bare
    body = json.loads(request["body"])
    assert body["partner_id"] == 7 and body["state"] == "sale" and body["id"] == 1
    assert len(body["write_date"]) == 19 and body["write_date"][10] == " "
    logged = [e for e in sim.control("GET", "webhooks")["webhooks"] if e["model"] == "sale.order"]
    assert logged[0]["status"] == 200 and logged[0]["dropped"] is False and logged[0]["raw_body"] == request["body"]


def test_writes_that_do_not_touch_watched_fields_send_nothing(sim, odoo, receiver):
    provision(sim, receiver, "--only", "sale-order-confirmed", "sale-order-changed")
    odoo.execute_kw("sale.order", "write", [[3], {"client_order_ref": "unwatched"}])
    assert receiver.requests == []
    odoo.execute_kw("sale.order", "write", [[3], {"commitment_date": "2030-01-02 10:00:00"}])
    bodies = receiver.bodies()
    assert [(b["_model"], b["_id"], b["commitment_date"]) for b in bodies] == [("sale.order", 3, "2030-01-02 10:00:00")]
    assert bodies[0]["_action"].startswith("Ops Kit: sale order changed(#")
    odoo.execute_kw("sale.order", "write", [[1], {"commitment_date": "2030-01-02 10:00:00"}])  # draft: filtered out
    assert len(receiver.requests) == 1


def test_shortage_late_picking_and_po_eta_rules(sim, odoo, receiver):
    provision(sim, receiver, target="n8n")
    odoo.execute_kw("sale.order", "action_confirm", [[2]])  # 20 espresso, 10 in WH: partially reserved -> assigned
    odoo.execute_kw("purchase.order", "write", [[2], {"date_planned": "2031-01-01 08:00:00"}])
    odoo.execute_kw("purchase.order", "write", [[2], {"origin": "S00004 (unwatched)"}])
    paths = sorted({r["path"].split("?")[0] for r in receiver.requests})
    assert paths == ["/webhook/odoo/purchase-eta-changed", "/webhook/odoo/sale-order-confirmed"]
    sim.control("POST", "cron/base_automation")
    late = [b for b in receiver.bodies() if b["_action"].startswith("Ops Kit: delivery past scheduled date")]
    assert [b["name"] for b in late] == ["WH/OUT/00001"]
    assert sim.control("POST", "cron/base_automation")["fired"] == 0  # already reported since the last run
    receiver.requests.clear()
    new_order = odoo.execute_kw("sale.order", "create", [{"partner_id": 10, "warehouse_id": 2,
                                "order_line": [[0, 0, {"product_id": 3, "product_uom_qty": 5}]]}])
    odoo.execute_kw("sale.order", "action_confirm", [[new_order]])  # no tomatoes at the depot: waiting
    waiting = [b for b in receiver.bodies() if b["_model"] == "stock.picking"]
    assert [(b["state"], b["sale_id"]) for b in waiting] == [("confirmed", new_order)]
    bill = odoo.execute_kw("account.move", "create", [{"move_type": "in_invoice", "partner_id": 11,
                           "invoice_line_ids": [[0, 0, {"product_id": 1, "quantity": 1, "price_unit": 6.2}]]}])
    odoo.execute_kw("account.move", "action_post", [[bill]])
    # Vendor bills have no rule: the scheduled three-way match reads them, so posting one sends nothing.
    assert [b for b in receiver.bodies() if b["_model"] == "account.move"] == []


def test_repeat_knob_sends_each_webhook_n_times(sim, odoo, receiver):
    provision(sim, receiver, "--only", "sale-order-confirmed")
    sim.control("POST", "config", json={"webhook_repeat": 5})
    odoo.execute_kw("sale.order", "action_confirm", [[1]])
    assert len(receiver.requests) == 5
    assert len({r["body"] for r in receiver.requests}) == 1
    assert [e["attempt"] for e in sim.control("GET", "webhooks")["webhooks"]] == [1, 2, 3, 4, 5]


def test_drop_rate_knob_skips_a_reproducible_fraction(sim, odoo, receiver):
    provision(sim, receiver, "--only", "sale-order-confirmed")
    sim.control("POST", "config", json={"webhook_drop_rate": 1.0})
    odoo.execute_kw("sale.order", "action_confirm", [[1]])
    assert receiver.requests == []
    assert [e["dropped"] for e in sim.control("GET", "webhooks")["webhooks"]] == [True]

    def run(seed):
        sim.control("POST", "reset", json={"seed": seed})
        provision(sim, receiver, "--only", "sale-order-confirmed")
        sim.control("POST", "config", json={"webhook_drop_rate": 0.3})
        receiver.requests.clear()
        ids = [odoo.execute_kw("sale.order", "create", [{"partner_id": 7}]) for _ in range(60)]
        for order_id in ids:
            odoo.execute_kw("sale.order", "action_confirm", [[order_id]])
        return sorted(b["_id"] for b in receiver.bodies()), ids

    delivered, ids = run(seed=11)
    assert 0.45 * len(ids) <= len(delivered) <= 0.9 * len(ids)
    assert run(seed=11)[0] == delivered


def test_slow_receiver_times_out_after_one_second_without_retry(sim, odoo, receiver):
    provision(sim, receiver, "--only", "sale-order-confirmed")
    receiver.delay = 1.5
    started = time.monotonic()
    assert odoo.execute_kw("sale.order", "action_confirm", [[1]]) is True
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 1.5
    entry = sim.control("GET", "webhooks")["webhooks"][0]
    assert entry["error"] == "timeout" and entry["status"] is None
    assert len(receiver.requests) == 1


def test_receiver_error_is_only_logged(sim, odoo, receiver):
    provision(sim, receiver, "--only", "sale-order-confirmed")
    receiver.status = 500
    assert odoo.execute_kw("sale.order", "action_confirm", [[1]]) is True
    entry = sim.control("GET", "webhooks")["webhooks"][0]
    assert entry["status"] == 500 and "500" in entry["error"]
    assert odoo.execute_kw("sale.order", "read", [[1], ["state"]])[0]["state"] == "sale"


def test_provisioning_is_idempotent(sim, odoo, receiver):
    code, first = provision(sim, receiver)
    assert code == 0 and "10 created, 0 updated, 0 unchanged" in first
    assert SECRET not in first  # the secret is masked in the output
    before = rules_state(odoo)
    code, second = provision(sim, receiver)
    assert code == 0 and "0 created, 0 updated, 10 unchanged" in second
    assert rules_state(odoo) == before  # nothing written: same write_date everywhere
    automation = before[0][0]
    assert automation["trigger"] == "on_state_set" and automation["filter_domain"] == "[('state', '=', 'sale')]"
    assert automation["trg_selection_field_id"][1] == "Sales Order"
    action = before[1][0]
    assert action["state"] == "webhook" and action["base_automation_id"][0] == automation["id"]
    assert action["webhook_url"] == f"{receiver.url}/v1/events?type=sale.order.confirmed&token={SECRET}"


def test_provisioning_updates_what_differs(sim, odoo, receiver):
    provision(sim, receiver)
    code, out = provision(sim, receiver, target="n8n")
    assert code == 0 and "0 created, 5 updated, 5 unchanged" in out
    urls = sorted(a["webhook_url"] for a in odoo.execute_kw("ir.actions.server", "search_read", [[]], {"fields": ["webhook_url"]}))
    assert urls[0] == f"{receiver.url}/webhook/odoo/picking-late?token={SECRET}"
    odoo.execute_kw("base.automation", "write", [[1], {"filter_domain": "[]", "active": False}])
    code, out = provision(sim, receiver, target="n8n")
    assert "1 updated" in out
    assert odoo.execute_kw("base.automation", "read", [[1], ["filter_domain", "active"]])[0] == {
        "id": 1, "filter_domain": "[('state', '=', 'sale')]", "active": True}


def test_dry_run_changes_nothing(sim, odoo, receiver):
    code, out = provision(sim, receiver, "--dry-run")
    assert code == 0 and "10 to create" in out and "dry run" in out
    assert rules_state(odoo) == ([], [])
    provision(sim, receiver)
    before = rules_state(odoo)
    code, out = provision(sim, receiver, "--dry-run", target="n8n")
    assert "5 to update" in out
    assert rules_state(odoo) == before


@pytest.mark.parametrize("missing", ["--secret", "--workers-url", "--password"])
def test_incomplete_configuration_fails_before_touching_odoo(sim, odoo, receiver, missing, monkeypatch):
    for name in ("KIT_WEBHOOK_SECRET", "KIT_WORKERS_PUBLIC_URL", "KIT_ODOO_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    argv = ["--target", "inbox", "--odoo-url", sim.url, "--db", sim.db, "--user", sim.login,
            "--password", sim.password, "--workers-url", receiver.url, "--secret", SECRET]
    index = argv.index(missing)
    del argv[index:index + 2]
    assert provision_odoo.main(argv, out=io.StringIO()) == 2
    assert rules_state(odoo) == ([], [])
