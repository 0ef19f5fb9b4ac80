"""Business behaviour of the simulated models: defaults, totals, and public methods (action_confirm...)."""

import html
import uuid
from datetime import datetime, timedelta

from .automation import TRIGGER_WATCHED_FIELD
from .exceptions import PythonError, UserError, ValidationError

SALE_CONFIRMABLE = ("draft", "sent")
PICKING_OPEN = ("draft", "waiting", "confirmed", "assigned")
STORABLE = ("product", "consu")


def _today(db):
    return db.now()[:10]


def _plus_days(text, days):
    return (datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S") + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


class Hooks:
    """Called by the ORM around create/write/unlink to keep derived values as Odoo's computes do."""

    def __init__(self, db):
        self.db = db

    def before_create(self, env, model, vals):
        db = self.db
        now = db.now()
        if model == "sale.order":
            if vals.get("name", "New") in ("New", "/", False, None):
                vals["name"] = db.next_sequence("sale.order", "S")
            vals.setdefault("date_order", now)
            vals.setdefault("user_id", env.uid)
            vals.setdefault("company_id", 1)
            if vals.get("partner_id"):
                vals.setdefault("partner_invoice_id", vals["partner_id"])
                vals.setdefault("partner_shipping_id", vals["partner_id"])
            if "warehouse_id" not in vals and db.tables["stock.warehouse"]:
                vals["warehouse_id"] = min(db.tables["stock.warehouse"])
        elif model == "purchase.order":
            if vals.get("name", "New") in ("New", "/", False, None):
                vals["name"] = db.next_sequence("purchase.order", "P")
            vals.setdefault("date_order", now)
            vals.setdefault("date_planned", now)
            vals.setdefault("user_id", env.uid)
            vals.setdefault("company_id", 1)
        elif model in ("sale.order.line", "purchase.order.line", "account.move.line"):
            product = db.tables["product.product"].get(vals.get("product_id"))
            if product:
                vals.setdefault("name", db.display_name("product.product", product["id"]))
                if model == "sale.order.line":
                    vals.setdefault("price_unit", product.get("list_price") or 0.0)
                    vals.setdefault("product_uom", product.get("uom_id"))
                elif model == "purchase.order.line":
                    vals.setdefault("price_unit", product.get("standard_price") or 0.0)
                    vals.setdefault("product_uom", product.get("uom_id"))
            if model == "purchase.order.line" and "date_planned" not in vals:
                order = db.tables["purchase.order"].get(vals.get("order_id"))
                if order:
                    vals["date_planned"] = order.get("date_planned")
        elif model == "stock.picking":
            if vals.get("name", "/") in ("/", False, None):
                ptype = db.tables["stock.picking.type"].get(vals.get("picking_type_id"))
                warehouse = db.tables["stock.warehouse"].get(ptype.get("warehouse_id")) if ptype else None
                prefix = f"{warehouse['code'] if warehouse else 'WH'}/{ptype.get('sequence_code') if ptype else 'INT'}/"
                vals["name"] = db.next_sequence(prefix, prefix)
            vals.setdefault("scheduled_date", now)
            vals.setdefault("user_id", env.uid)
            vals.setdefault("company_id", 1)
        elif model == "account.move":
            vals.setdefault("date", _today(db))
            vals.setdefault("company_id", 1)
        elif model == "mail.message":
            vals.setdefault("date", now)
            if "author_id" not in vals:
                vals["author_id"] = db.tables["res.users"].get(env.uid, {}).get("partner_id")
        elif model == "mail.activity":
            vals.setdefault("user_id", env.uid)
            if "date_deadline" not in vals:
                atype = db.tables["mail.activity.type"].get(vals.get("activity_type_id"))
                vals["date_deadline"] = _plus_days(now, (atype or {}).get("delay_count") or 0)[:10]
        elif model == "base.automation":
            vals.setdefault("webhook_uuid", str(uuid.uuid4()))
        elif model == "ir.actions.server":
            if vals.get("base_automation_id"):
                vals.setdefault("usage", "base_automation")
        return vals

    def after_change(self, env, model, ids, vals):
        db = self.db
        if model == "sale.order.line":
            self._totals("sale.order", "sale.order.line", "order_id", {db.tables[model][i].get("order_id") for i in ids})
        elif model == "purchase.order.line":
            self._totals("purchase.order", "purchase.order.line", "order_id", {db.tables[model][i].get("order_id") for i in ids})
        elif model == "account.move.line":
            self._totals("account.move", "account.move.line", "move_id", {db.tables[model][i].get("move_id") for i in ids})
        elif model == "base.automation":
            for rid in ids:
                self._automation_computes(db.tables[model][rid])
        elif model == "ir.actions.server":
            for rid in ids:
                self._check_action_model(db.tables[model][rid])

    def before_unlink(self, env, model, ids):
        if model == "sale.order":
            for rid in ids:
                if self.db.tables[model][rid].get("state") == "sale":
                    raise UserError("You can not delete a sent quotation or a confirmed sales order. You must first cancel it.")
        if model == "account.move":
            for rid in ids:
                if self.db.tables[model][rid].get("state") == "posted":
                    raise UserError("You cannot delete an entry which has been posted once.")

    def after_unlink(self, env, model, parents):
        if model == "sale.order.line":
            self._totals("sale.order", model, "order_id", parents.get("order_id", set()))
        elif model == "purchase.order.line":
            self._totals("purchase.order", model, "order_id", parents.get("order_id", set()))
        elif model == "account.move.line":
            self._totals("account.move", model, "move_id", parents.get("move_id", set()))

    def _totals(self, parent_model, line_model, inverse, parent_ids):
        """Stored computes amount_untaxed/amount_total: a write on the parent, as Odoo's recompute is."""
        db = self.db
        for pid in parent_ids:
            if not pid or pid not in db.tables[parent_model]:
                continue
            lines = db.children(line_model, inverse, pid)
            table = db.tables[line_model]
            total = round(sum(db.value(line_model, table[i], "price_subtotal") for i in lines), 2)
            parent = db.tables[parent_model][pid]
            if parent.get("amount_total") != total or parent.get("amount_untaxed") != total:
                from .orm import Env

                db.write(Env(parent.get("write_uid") or 1), parent_model, [pid], {"amount_untaxed": total, "amount_total": total})

    def _automation_computes(self, rule):
        """Odoo's computes on base.automation: watched field for on_*_set triggers and the implied domain."""
        db = self.db
        model = db.tables["ir.model"].get(rule.get("model_id"))
        fields = db.tables["ir.model.fields"]
        watched_name = TRIGGER_WATCHED_FIELD.get(rule.get("trigger"))
        if watched_name and model and not rule.get("trigger_field_ids"):
            rule["trigger_field_ids"] = [fid for fid, fld in fields.items()
                                         if fld["model_id"] == model["id"] and fld["name"] == watched_name][:1]
        if not rule.get("filter_domain") and rule.get("trigger") in ("on_state_set", "on_priority_set"):
            selection = db.tables["ir.model.fields.selection"].get(rule.get("trg_selection_field_id"))
            watched = [fields[f]["name"] for f in rule.get("trigger_field_ids") or [] if f in fields]
            if selection and len(watched) == 1:
                rule["filter_domain"] = f"[('{watched[0]}', '=', '{selection['value']}')]"
        for action in db.tables["ir.actions.server"].values():
            if action.get("base_automation_id") == rule["id"]:
                self._check_action_model(action)

    def _check_action_model(self, action):
        rule = self.db.tables["base.automation"].get(action.get("base_automation_id"))
        if rule and rule.get("model_id") != action.get("model_id"):
            raise ValidationError(f"Target model of actions {action.get('name')} are different from rule model.")


# -- public methods ------------------------------------------------------------------------------------

def _ensure_one(db, model, ids):
    if len(ids) != 1:
        raise PythonError("ValueError", f"Expected singleton: {model}{tuple(ids)}")
    return ids[0]


def message_post(db, env, model, ids, body="", subject=None, message_type="notification", subtype_xmlid=None,
                 subtype_id=False, partner_ids=None, author_id=None, **_ignored):
    """Post a chatter message (mail.message) on one record; returns the message id."""
    rid = _ensure_one(db, model, ids)
    if not subtype_id:
        subtype_id = xmlid_res_id(db, subtype_xmlid or "mail.mt_note")
    vals = {
        "model": model, "res_id": rid, "record_name": db.display_name(model, rid), "body": body or "",
        "subject": subject or False, "message_type": message_type, "subtype_id": subtype_id,
        "partner_ids": [(6, 0, list(partner_ids or []))],
    }
    if author_id:
        vals["author_id"] = author_id
    return db.create(env, "mail.message", vals)


def xmlid_res_id(db, xmlid):
    module, _, name = xmlid.partition(".")
    for row in db.tables["ir.model.data"].values():
        if row["module"] == module and row["name"] == name:
            return row["res_id"]
    raise PythonError("ValueError", f"External ID not found in the system: {xmlid}")


def check_object_reference(db, env, model, ids, module, name, raise_on_access_error=False):
    for row in db.tables["ir.model.data"].values():
        if row["module"] == module and row["name"] == name:
            return [row["model"], row["res_id"]]
    raise PythonError("ValueError", f"External ID not found in the system: {module}.{name}")


def context_get(db, env, model, ids):
    return {"lang": "en_US", "tz": "UTC", "uid": env.uid}


def sale_action_confirm(db, env, model, ids):
    """draft/sent -> sale, then the delivery order (stock.picking outgoing) with reservation, like sale_stock."""
    table = db.tables["sale.order"]
    refused = [table[i]["name"] for i in ids if table[i].get("state") not in SALE_CONFIRMABLE]
    if refused:
        raise UserError(
            "The following orders are not in a state requiring confirmation: " + ", ".join(refused)
        )
    db.write(env, "sale.order", ids, {"state": "sale", "date_order": db.now()})
    for oid in ids:
        _create_delivery(db, env, table[oid])
    return True


def _location(db, usage):
    for rid, rec in db.tables["stock.location"].items():
        if rec.get("usage") == usage:
            return rid
    return None


def _picking_type(db, warehouse_id, code):
    for rid, rec in db.tables["stock.picking.type"].items():
        if rec.get("warehouse_id") == warehouse_id and rec.get("code") == code:
            return db.tables["stock.picking.type"][rid]
    raise UserError(f"No {code} operation type for warehouse {warehouse_id}.")


def _create_delivery(db, env, order):
    lines = [db.tables["sale.order.line"][i] for i in db.children("sale.order.line", "order_id", order["id"])]
    products = db.tables["product.product"]
    lines = [l for l in lines if products.get(l.get("product_id"), {}).get("type") in STORABLE]
    if not lines:
        return None
    warehouse = db.tables["stock.warehouse"][order["warehouse_id"]]
    ptype = _picking_type(db, warehouse["id"], "outgoing")
    lead = max((l.get("customer_lead") or 0.0) for l in lines)
    scheduled = order.get("commitment_date") or _plus_days(db.now(), lead)
    picking_id = db.create(env, "stock.picking", {
        "picking_type_id": ptype["id"], "origin": order["name"], "sale_id": order["id"],
        "partner_id": order.get("partner_shipping_id") or order["partner_id"],
        "location_id": warehouse["lot_stock_id"], "location_dest_id": _location(db, "customer"),
        "scheduled_date": scheduled, "date_deadline": order.get("commitment_date") or False, "state": "draft",
    })
    for line in lines:
        db.create(env, "stock.move", {
            "name": line.get("name") or "", "product_id": line["product_id"], "product_uom_qty": line.get("product_uom_qty") or 0.0,
            "picking_id": picking_id, "location_id": warehouse["lot_stock_id"], "location_dest_id": _location(db, "customer"),
            "sale_line_id": line["id"], "state": "confirmed", "date": scheduled,
        })
    # Reserve first, then set the final state in one write: no rule sees a transient "waiting" state.
    picking_assign(db, env, "stock.picking", [picking_id], from_draft=True)
    return picking_id


def _internal_descendants(db, location_id):
    return db.hierarchy("stock.location", {location_id}, descendants=True)


def picking_assign(db, env, model, ids, from_draft=False):
    """Reserve available stock for the moves (shipping policy 'as soon as possible')."""
    for pid in ids:
        picking = db.tables["stock.picking"][pid]
        if picking.get("state") not in PICKING_OPEN or (picking.get("state") == "draft" and not from_draft):
            continue
        moves = [db.tables["stock.move"][m] for m in db.children("stock.move", "picking_id", pid)]
        locations = _internal_descendants(db, picking.get("location_id"))
        any_reserved = False
        for move in moves:
            if move.get("state") in ("done", "cancel"):
                continue
            missing = (move.get("product_uom_qty") or 0.0) - (move.get("quantity") or 0.0)
            for qid, quant in sorted(db.tables["stock.quant"].items()):
                if missing <= 0:
                    break
                if quant.get("product_id") != move["product_id"] or quant.get("location_id") not in locations:
                    continue
                free = (quant.get("quantity") or 0.0) - (quant.get("reserved_quantity") or 0.0)
                take = min(free, missing)
                if take > 0:
                    db.write(env, "stock.quant", [qid], {"reserved_quantity": (quant.get("reserved_quantity") or 0.0) + take})
                    missing -= take
            quantity = (move.get("product_uom_qty") or 0.0) - max(missing, 0.0)
            state = "assigned" if missing <= 0 else ("partially_available" if quantity > 0 else "confirmed")
            db.write(env, "stock.move", [move["id"]], {"quantity": quantity, "state": state})
            any_reserved = any_reserved or quantity > 0
        new_state = "assigned" if any_reserved else "confirmed"
        if picking.get("state") != new_state:
            db.write(env, "stock.picking", [pid], {"state": new_state})
    return True


def picking_validate(db, env, model, ids):
    """Mark a transfer done: quants move, delivered/received quantities update."""
    for pid in ids:
        picking = db.tables["stock.picking"][pid]
        if picking.get("state") in ("done", "cancel"):
            raise UserError(f"The transfer {picking['name']} is already {picking['state']}: it cannot be validated.")
        for mid in db.children("stock.move", "picking_id", pid):
            move = db.tables["stock.move"][mid]
            qty = move.get("quantity") or move.get("product_uom_qty") or 0.0
            reserved = move.get("quantity") or 0.0
            _move_stock(db, env, move["product_id"], move.get("location_id"), -qty, -reserved)
            _move_stock(db, env, move["product_id"], move.get("location_dest_id"), qty, 0.0)
            db.write(env, "stock.move", [mid], {"quantity": qty, "state": "done"})
            if move.get("sale_line_id"):
                line = db.tables["sale.order.line"][move["sale_line_id"]]
                db.write(env, "sale.order.line", [line["id"]], {"qty_delivered": (line.get("qty_delivered") or 0.0) + qty})
            if move.get("purchase_line_id"):
                line = db.tables["purchase.order.line"][move["purchase_line_id"]]
                db.write(env, "purchase.order.line", [line["id"]], {"qty_received": (line.get("qty_received") or 0.0) + qty})
        db.write(env, "stock.picking", [pid], {"state": "done", "date_done": db.now()})
    return True


def _move_stock(db, env, product_id, location_id, qty, reserved):
    location = db.tables["stock.location"].get(location_id)
    if not location or location.get("usage") != "internal":
        return
    for qid, quant in db.tables["stock.quant"].items():
        if quant.get("product_id") == product_id and quant.get("location_id") == location_id:
            db.write(env, "stock.quant", [qid], {
                "quantity": (quant.get("quantity") or 0.0) + qty,
                "reserved_quantity": max(0.0, (quant.get("reserved_quantity") or 0.0) + reserved),
            })
            return
    db.create(env, "stock.quant", {"product_id": product_id, "location_id": location_id, "quantity": qty})


def picking_cancel(db, env, model, ids):
    for pid in ids:
        if db.tables["stock.picking"][pid].get("state") == "done":
            raise UserError("You cannot cancel a transfer that is done.")
    db.write(env, "stock.picking", ids, {"state": "cancel"})
    return True


def sale_action_cancel(db, env, model, ids):
    for oid in ids:
        for pid in db.children("stock.picking", "sale_id", oid):
            if db.tables["stock.picking"][pid].get("state") != "done":
                db.write(env, "stock.picking", [pid], {"state": "cancel"})
    db.write(env, "sale.order", ids, {"state": "cancel"})
    return True


def sale_action_draft(db, env, model, ids):
    orders = [db.tables["sale.order"][i] for i in ids]
    db.write(env, "sale.order", [o["id"] for o in orders if o.get("state") in ("cancel", "sent")], {"state": "draft"})
    return True


def purchase_button_confirm(db, env, model, ids):
    """RFQ -> purchase order, and the receipt (stock.picking incoming)."""
    for oid in ids:
        order = db.tables["purchase.order"][oid]
        if order.get("state") not in ("draft", "sent"):
            continue
        db.write(env, "purchase.order", [oid], {"state": "purchase", "date_approve": db.now()})
        ptype = db.tables["stock.picking.type"].get(order.get("picking_type_id"))
        if ptype is None:
            ptype = _picking_type(db, min(db.tables["stock.warehouse"]), "incoming")
        picking_id = db.create(env, "stock.picking", {
            "picking_type_id": ptype["id"], "origin": order["name"], "purchase_id": oid, "partner_id": order["partner_id"],
            "location_id": _location(db, "supplier"), "location_dest_id": ptype.get("default_location_dest_id"),
            "scheduled_date": order.get("date_planned"), "state": "draft",
        })
        for lid in db.children("purchase.order.line", "order_id", oid):
            line = db.tables["purchase.order.line"][lid]
            db.create(env, "stock.move", {
                "name": line.get("name") or "", "product_id": line["product_id"], "product_uom_qty": line.get("product_qty") or 0.0,
                "quantity": line.get("product_qty") or 0.0, "picking_id": picking_id, "purchase_line_id": lid,
                "location_id": _location(db, "supplier"), "location_dest_id": ptype.get("default_location_dest_id"),
                "state": "assigned", "date": line.get("date_planned"),
            })
        db.write(env, "stock.picking", [picking_id], {"state": "assigned"})
    return True


def purchase_button_cancel(db, env, model, ids):
    db.write(env, "purchase.order", ids, {"state": "cancel"})
    return True


def move_action_post(db, env, model, ids):
    """draft -> posted with a sequence number; bills update the billed quantity of purchase lines."""
    for mid in ids:
        move = db.tables["account.move"][mid]
        if move.get("state") == "posted":
            raise UserError(f"The entry {move.get('name')} (id {mid}) is already posted.")
        if not db.children("account.move.line", "move_id", mid):
            raise UserError("You need to add a line before posting.")
        prefix = {"in_invoice": "BILL", "out_invoice": "INV", "in_refund": "RBILL", "out_refund": "RINV"}.get(move.get("move_type"), "MISC")
        year = (move.get("invoice_date") or move.get("date") or db.now())[:4]
        values = {"state": "posted"}
        if move.get("name") in ("/", None, False):
            values["name"] = db.next_sequence(f"{prefix}/{year}", f"{prefix}/{year}/")
        if move.get("move_type") in ("in_invoice", "out_invoice") and not move.get("invoice_date"):
            values["invoice_date"] = db.now()[:10]
        db.write(env, "account.move", [mid], values)
        for lid in db.children("account.move.line", "move_id", mid):
            line = db.tables["account.move.line"][lid]
            if line.get("purchase_line_id"):
                pol = db.tables["purchase.order.line"][line["purchase_line_id"]]
                db.write(env, "purchase.order.line", [pol["id"]], {"qty_invoiced": (pol.get("qty_invoiced") or 0.0) + (line.get("quantity") or 0.0)})
    return True


def move_button_cancel(db, env, model, ids):
    db.write(env, "account.move", ids, {"state": "cancel"})
    return True


def move_button_draft(db, env, model, ids):
    db.write(env, "account.move", ids, {"state": "draft"})
    return True


def activity_feedback(db, env, model, ids, feedback=False, attachment_ids=None):
    """Mark activities done: a chatter message on the record, then the activity is archived (done)."""
    first_message = False
    for aid in ids:
        activity = db.tables["mail.activity"][aid]
        if not activity.get("active", True):
            continue
        res_model = db.tables["ir.model"][activity["res_model_id"]]["model"]
        atype = db.tables["mail.activity.type"].get(activity.get("activity_type_id"), {})
        body = f"<div><p>{html.escape(atype.get('name') or 'Activity')} done</p>"
        if activity.get("summary"):
            body += f"<p>{html.escape(activity['summary'])}</p>"
        if feedback:
            body += f"<p>Feedback: {html.escape(str(feedback))}</p>"
        body += "</div>"
        message = False
        if activity.get("res_id") in db.tables.get(res_model, {}):
            message = message_post(db, env, res_model, [activity["res_id"]], body=body,
                                   message_type="notification", subtype_xmlid="mail.mt_activities")
        db.write(env, "mail.activity", [aid], {"active": False, "date_done": db.now()[:10], "feedback": feedback or False})
        first_message = first_message or message
    return first_message


def activity_done(db, env, model, ids):
    return activity_feedback(db, env, model, ids)


def activity_schedule(db, env, model, ids, act_type_xmlid="", date_deadline=None, summary="", note="", **values):
    """mail.activity.mixin.activity_schedule: create one activity per record."""
    ir_model = next(r["id"] for r in db.tables["ir.model"].values() if r["model"] == model)
    type_id = values.pop("activity_type_id", None) or (xmlid_res_id(db, act_type_xmlid) if act_type_xmlid else xmlid_res_id(db, "mail.mail_activity_data_todo"))
    created = []
    for rid in ids:
        vals = {"res_model_id": ir_model, "res_id": rid, "activity_type_id": type_id, "summary": summary or False,
                "note": note or False, **values}
        if date_deadline:
            vals["date_deadline"] = date_deadline
        created.append(db.create(env, "mail.activity", vals))
    return created


def name_search(db, env, model, ids, name="", args=None, operator="ilike", limit=100):
    domain = list(args or [])
    found = db.search(env, model, domain)
    from .domain import compare

    result = [[rid, db.display_name(model, rid)] for rid in found if not name or compare(operator, db.display_name(model, rid), name)]
    return result[: limit or None]


MAIL_THREAD_METHODS = {"message_post": message_post, "activity_schedule": activity_schedule}

# (model, method) -> fn(db, env, model, ids, *args, **kwargs); the first positional RPC arg is the ids.
RECORD_METHODS = {
    ("sale.order", "action_confirm"): sale_action_confirm,
    ("sale.order", "action_cancel"): sale_action_cancel,
    ("sale.order", "action_draft"): sale_action_draft,
    ("stock.picking", "action_assign"): picking_assign,
    ("stock.picking", "button_validate"): picking_validate,
    ("stock.picking", "action_cancel"): picking_cancel,
    ("purchase.order", "button_confirm"): purchase_button_confirm,
    ("purchase.order", "button_cancel"): purchase_button_cancel,
    ("account.move", "action_post"): move_action_post,
    ("account.move", "button_cancel"): move_button_cancel,
    ("account.move", "button_draft"): move_button_draft,
    ("mail.activity", "action_feedback"): activity_feedback,
    ("mail.activity", "action_done"): activity_done,
}
# Model-level methods that take no ids (@api.model in Odoo).
MODEL_METHODS = {
    ("res.users", "context_get"): context_get,
    ("ir.model.data", "check_object_reference"): check_object_reference,
}
