"""Model and field definitions of the simulated Odoo 17 database (the subset of Odoo the kit reads and writes)."""

from dataclasses import dataclass, field as dc_field

RELATIONAL = ("many2one", "one2many", "many2many")
X2MANY = ("one2many", "many2many")

SALE_STATES = [("draft", "Quotation"), ("sent", "Quotation Sent"), ("sale", "Sales Order"), ("cancel", "Cancelled")]
PICKING_STATES = [
    ("draft", "Draft"), ("waiting", "Waiting Another Operation"), ("confirmed", "Waiting"),
    ("assigned", "Ready"), ("done", "Done"), ("cancel", "Cancelled"),
]
PURCHASE_STATES = [
    ("draft", "RFQ"), ("sent", "RFQ Sent"), ("to approve", "To Approve"),
    ("purchase", "Purchase Order"), ("done", "Locked"), ("cancel", "Cancelled"),
]
MOVE_STATES = [("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")]
MOVE_TYPES = [
    ("entry", "Journal Entry"), ("out_invoice", "Customer Invoice"), ("out_refund", "Customer Credit Note"),
    ("in_invoice", "Vendor Bill"), ("in_refund", "Vendor Credit Note"),
]
ACTIVITY_STATES = [("overdue", "Overdue"), ("today", "Today"), ("planned", "Planned"), ("done", "Done")]
SERVER_ACTION_STATES = [
    ("object_write", "Update Record"), ("object_create", "Create Record"), ("code", "Execute Code"),
    ("webhook", "Send Webhook Notification"), ("multi", "Execute Existing Actions"),
    ("mail_post", "Send Email"), ("followers", "Add Followers"), ("remove_followers", "Remove Followers"),
    ("next_activity", "Create Activity"), ("sms", "Send SMS Text Message"),
]
AUTOMATION_TRIGGERS = [
    ("on_stage_set", "Stage is set to"), ("on_user_set", "User is set"), ("on_tag_set", "Tag is added"),
    ("on_state_set", "State is set to"), ("on_priority_set", "Priority is set to"),
    ("on_archive", "On archived"), ("on_unarchive", "On unarchived"), ("on_create_or_write", "On save"),
    ("on_create", "On creation"), ("on_write", "On update"), ("on_unlink", "On deletion"),
    ("on_change", "On UI change"), ("on_time", "Based on date field"), ("on_time_created", "After creation"),
    ("on_time_updated", "After last update"), ("on_message_received", "On incoming message"),
    ("on_message_sent", "On outgoing message"), ("on_webhook", "On webhook"),
]


@dataclass(frozen=True)
class Field:
    """One field: its Odoo type, label and, for relations, the comodel (and inverse for one2many)."""

    type: str
    string: str
    relation: str | None = None
    inverse: str | None = None
    selection: tuple = ()
    required: bool = False
    readonly: bool = False
    default: object = None
    compute: object = None  # callable(db, model, record) -> value in storage format
    store: bool = True


def f(type_, string, relation=None, **kw):
    """Short constructor so the model table below stays readable."""
    if "selection" in kw:
        kw["selection"] = tuple(tuple(pair) for pair in kw["selection"])
    return Field(type_, string, relation, **kw)


@dataclass
class Model:
    """A model: technical name, label, fields, the field giving its display name, default order."""

    name: str
    description: str
    fields: dict
    rec_name: str | None = "name"
    order: str = "id"
    mail_thread: bool = False
    display: object = None  # callable(db, record) -> str, overrides rec_name
    methods: dict = dc_field(default_factory=dict)


def _m2o_name(db, model, rec_id):
    return db.display_name(model, rec_id) if rec_id else ""


def _partner_display(db, rec):
    parent = rec.get("parent_id")
    name = rec.get("name") or ""
    return f"{_m2o_name(db, 'res.partner', parent)}, {name}" if parent else name


def _product_display(db, rec):
    code = rec.get("default_code")
    return f"[{code}] {rec.get('name')}" if code else (rec.get("name") or "")


def _location_display(db, rec):
    parent = rec.get("location_id")
    if parent and rec.get("usage") != "view":
        return f"{_m2o_name(db, 'stock.location', parent)}/{rec.get('name')}"
    return rec.get("name") or ""


def _line_subtotal(db, model, rec):
    qty = rec.get("product_uom_qty") or 0.0
    return round(qty * (rec.get("price_unit") or 0.0) * (1 - (rec.get("discount") or 0.0) / 100.0), 2)


def _po_line_subtotal(db, model, rec):
    return round((rec.get("product_qty") or 0.0) * (rec.get("price_unit") or 0.0), 2)


def _aml_subtotal(db, model, rec):
    qty = rec.get("quantity") or 0.0
    return round(qty * (rec.get("price_unit") or 0.0) * (1 - (rec.get("discount") or 0.0) / 100.0), 2)


def _related(path):
    """A non-stored related field following a dotted path of many2one fields."""
    parts = path.split(".")

    def compute(db, model, rec):
        value, current_model, previous = rec.get(parts[0]), model, parts[0]
        for part in parts[1:]:
            if not value:
                return None
            comodel = db.models[current_model].fields[previous].relation
            target = db.tables[comodel].get(value)
            if target is None:
                return None
            value = db.value(comodel, target, part)
            current_model, previous = comodel, part
        return value

    return compute


def _quant_available(db, model, rec):
    return (rec.get("quantity") or 0.0) - (rec.get("reserved_quantity") or 0.0)


def _activity_state(db, model, rec):
    if not rec.get("active", True):
        return "done"
    deadline = rec.get("date_deadline")
    today = db.now()[:10]
    if not deadline:
        return "planned"
    return "overdue" if deadline < today else ("today" if deadline == today else "planned")


def _activity_res_model(db, model, rec):
    model_id = rec.get("res_model_id")
    return db.tables["ir.model"][model_id]["model"] if model_id in db.tables["ir.model"] else None


def _activity_res_name(db, model, rec):
    res_model = _activity_res_model(db, model, rec)
    if res_model and rec.get("res_id") in db.tables.get(res_model, {}):
        return db.display_name(res_model, rec["res_id"])
    return None


def _automation_url(db, model, rec):
    return f"{db.base_url}/web/hook/{rec.get('webhook_uuid')}" if rec.get("trigger") == "on_webhook" else ""


def _picking_type_code(db, model, rec):
    ptype = db.tables["stock.picking.type"].get(rec.get("picking_type_id"))
    return ptype["code"] if ptype else None


def _m2m(relation, string):
    return f("many2many", string, relation)


def _o2m(relation, inverse, string):
    return f("one2many", string, relation, inverse=inverse, store=False)


def build_models():
    """Return {model name: Model} for every simulated model."""
    models = [
        Model("res.company", "Companies", {
            "name": f("char", "Company Name", required=True),
            "partner_id": f("many2one", "Partner", "res.partner"),
        }),
        Model("res.users", "User", {
            "name": f("char", "Name", required=True),
            "login": f("char", "Login", required=True),
            "partner_id": f("many2one", "Related Partner", "res.partner"),
            "company_id": f("many2one", "Company", "res.company"),
            "email": f("char", "Email"),
            "active": f("boolean", "Active", default=True),
            "share": f("boolean", "Share User", default=False),
        }),
        Model("res.partner.category", "Partner Tags", {
            "name": f("char", "Tag Name", required=True),
            "color": f("integer", "Color"),
            "active": f("boolean", "Active", default=True),
        }),
        Model("res.partner", "Contact", {
            "name": f("char", "Name", required=True),
            "is_company": f("boolean", "Is a Company", default=False),
            "parent_id": f("many2one", "Related Company", "res.partner"),
            "child_ids": _o2m("res.partner", "parent_id", "Contact"),
            "email": f("char", "Email"),
            "phone": f("char", "Phone"),
            "street": f("char", "Street"),
            "city": f("char", "City"),
            "zip": f("char", "Zip"),
            "ref": f("char", "Reference"),
            "customer_rank": f("integer", "Customer Rank", default=0),
            "supplier_rank": f("integer", "Supplier Rank", default=0),
            "credit": f("float", "Total Receivable", default=0.0),
            "credit_limit": f("float", "Credit Limit", default=0.0),
            "use_partner_credit_limit": f("boolean", "Partner Limit", default=False),
            "category_id": _m2m("res.partner.category", "Tags"),
            "user_id": f("many2one", "Salesperson", "res.users"),
            "company_id": f("many2one", "Company", "res.company"),
            "active": f("boolean", "Active", default=True),
        }, display=_partner_display, order="name, id", mail_thread=True),
        Model("uom.uom", "Product Unit of Measure", {
            "name": f("char", "Unit of Measure", required=True),
        }),
        Model("product.category", "Product Category", {
            "name": f("char", "Name", required=True),
        }),
        Model("product.product", "Product Variant", {
            "name": f("char", "Name", required=True),
            "default_code": f("char", "Internal Reference"),
            "barcode": f("char", "Barcode"),
            "type": f("selection", "Product Type", selection=[("consu", "Consumable"), ("service", "Service"), ("product", "Storable Product")], default="consu"),
            "detailed_type": f("selection", "Product Type", selection=[("consu", "Consumable"), ("service", "Service"), ("product", "Storable Product")], default="consu"),
            "list_price": f("float", "Sales Price", default=1.0),
            "standard_price": f("float", "Cost", default=0.0),
            "categ_id": f("many2one", "Product Category", "product.category"),
            "uom_id": f("many2one", "Unit of Measure", "uom.uom"),
            "weight": f("float", "Weight", default=0.0),
            "sale_ok": f("boolean", "Can be Sold", default=True),
            "purchase_ok": f("boolean", "Can be Purchased", default=True),
            "active": f("boolean", "Active", default=True),
        }, display=_product_display, order="default_code, name, id", mail_thread=True),
        Model("stock.location", "Inventory Locations", {
            "name": f("char", "Location Name", required=True),
            "complete_name": f("char", "Full Location Name", compute=lambda db, m, r: db.display_name(m, r["id"]), store=False),
            "location_id": f("many2one", "Parent Location", "stock.location"),
            "usage": f("selection", "Location Type", selection=[("supplier", "Vendor Location"), ("view", "View"), ("internal", "Internal Location"), ("customer", "Customer Location"), ("inventory", "Inventory Loss"), ("transit", "Transit Location")], default="internal", required=True),
            "warehouse_id": f("many2one", "Warehouse", "stock.warehouse"),
            "active": f("boolean", "Active", default=True),
        }, display=_location_display, rec_name="complete_name", order="complete_name, id"),
        Model("stock.warehouse", "Warehouse", {
            "name": f("char", "Warehouse", required=True),
            "code": f("char", "Short Name", required=True),
            "lot_stock_id": f("many2one", "Location Stock", "stock.location"),
            "view_location_id": f("many2one", "View Location", "stock.location"),
            "partner_id": f("many2one", "Address", "res.partner"),
            "company_id": f("many2one", "Company", "res.company"),
            "active": f("boolean", "Active", default=True),
        }),
        Model("stock.quant", "Quants", {
            "product_id": f("many2one", "Product", "product.product", required=True),
            "location_id": f("many2one", "Location", "stock.location", required=True),
            "warehouse_id": f("many2one", "Warehouse", "stock.warehouse", compute=_related("location_id.warehouse_id"), store=False),
            "quantity": f("float", "Quantity", default=0.0),
            "reserved_quantity": f("float", "Reserved Quantity", default=0.0),
            "available_quantity": f("float", "Available Quantity", compute=_quant_available, store=False),
            "inventory_date": f("date", "Scheduled Date"),
        }, rec_name=None, display=lambda db, r: f"{db.display_name('product.product', r.get('product_id'))} @ {db.display_name('stock.location', r.get('location_id'))}"),
        Model("stock.picking.type", "Picking Type", {
            "name": f("char", "Operation Type", required=True),
            "code": f("selection", "Type of Operation", selection=[("incoming", "Receipt"), ("outgoing", "Delivery"), ("internal", "Internal Transfer")], required=True),
            "sequence_code": f("char", "Sequence Prefix"),
            "warehouse_id": f("many2one", "Warehouse", "stock.warehouse"),
            "default_location_src_id": f("many2one", "Default Source Location", "stock.location"),
            "default_location_dest_id": f("many2one", "Default Destination Location", "stock.location"),
            "active": f("boolean", "Active", default=True),
        }, display=lambda db, r: f"{db.display_name('stock.warehouse', r.get('warehouse_id'))}: {r.get('name')}" if r.get("warehouse_id") else r.get("name")),
        Model("stock.picking", "Transfer", {
            "name": f("char", "Reference", default="/"),
            "origin": f("char", "Source Document"),
            "partner_id": f("many2one", "Contact", "res.partner"),
            "picking_type_id": f("many2one", "Operation Type", "stock.picking.type", required=True),
            "picking_type_code": f("selection", "Type of Operation", selection=[("incoming", "Receipt"), ("outgoing", "Delivery"), ("internal", "Internal Transfer")], compute=_picking_type_code, store=False),
            "location_id": f("many2one", "Source Location", "stock.location"),
            "location_dest_id": f("many2one", "Destination Location", "stock.location"),
            "scheduled_date": f("datetime", "Scheduled Date"),
            "date_deadline": f("datetime", "Deadline"),
            "date_done": f("datetime", "Date of Transfer"),
            "state": f("selection", "Status", selection=PICKING_STATES, default="draft"),
            "priority": f("selection", "Priority", selection=[("0", "Normal"), ("1", "Urgent")], default="0"),
            "sale_id": f("many2one", "Sales Order", "sale.order"),
            "purchase_id": f("many2one", "Purchase Orders", "purchase.order"),
            "move_ids": _o2m("stock.move", "picking_id", "Stock Moves"),
            "user_id": f("many2one", "Responsible", "res.users"),
            "company_id": f("many2one", "Company", "res.company"),
        }, order="priority desc, scheduled_date asc, id desc", mail_thread=True),
        Model("stock.move", "Stock Move", {
            "name": f("char", "Description"),
            "product_id": f("many2one", "Product", "product.product", required=True),
            "product_uom_qty": f("float", "Demand", default=0.0),
            "quantity": f("float", "Quantity", default=0.0),
            "picking_id": f("many2one", "Transfer", "stock.picking"),
            "location_id": f("many2one", "Source Location", "stock.location"),
            "location_dest_id": f("many2one", "Destination Location", "stock.location"),
            "state": f("selection", "Status", selection=[("draft", "New"), ("waiting", "Waiting Another Move"), ("confirmed", "Waiting Availability"), ("partially_available", "Partially Available"), ("assigned", "Available"), ("done", "Done"), ("cancel", "Cancelled")], default="draft"),
            "sale_line_id": f("many2one", "Sale Line", "sale.order.line"),
            "purchase_line_id": f("many2one", "Purchase Order Line", "purchase.order.line"),
            "date": f("datetime", "Date Scheduled"),
        }, order="id"),
        Model("sale.order", "Sales Order", {
            "name": f("char", "Order Reference", default="New"),
            "partner_id": f("many2one", "Customer", "res.partner", required=True),
            "partner_invoice_id": f("many2one", "Invoice Address", "res.partner"),
            "partner_shipping_id": f("many2one", "Delivery Address", "res.partner"),
            "date_order": f("datetime", "Order Date"),
            "commitment_date": f("datetime", "Delivery Date"),
            "validity_date": f("date", "Expiration"),
            "state": f("selection", "Status", selection=SALE_STATES, default="draft"),
            "user_id": f("many2one", "Salesperson", "res.users"),
            "warehouse_id": f("many2one", "Warehouse", "stock.warehouse"),
            "company_id": f("many2one", "Company", "res.company"),
            "client_order_ref": f("char", "Customer Reference"),
            "origin": f("char", "Source Document"),
            "note": f("html", "Terms and conditions"),
            "order_line": _o2m("sale.order.line", "order_id", "Order Lines"),
            "picking_ids": _o2m("stock.picking", "sale_id", "Transfers"),
            "amount_untaxed": f("float", "Untaxed Amount", default=0.0, readonly=True),
            "amount_tax": f("float", "Taxes", default=0.0, readonly=True),
            "amount_total": f("float", "Total", default=0.0, readonly=True),
        }, order="date_order desc, id desc", mail_thread=True),
        Model("sale.order.line", "Sales Order Line", {
            "order_id": f("many2one", "Order Reference", "sale.order", required=True),
            "sequence": f("integer", "Sequence", default=10),
            "name": f("text", "Description"),
            "product_id": f("many2one", "Product", "product.product"),
            "product_uom_qty": f("float", "Quantity", default=1.0),
            "product_uom": f("many2one", "Unit of Measure", "uom.uom"),
            "price_unit": f("float", "Unit Price", default=0.0),
            "discount": f("float", "Discount (%)", default=0.0),
            "price_subtotal": f("float", "Subtotal", compute=_line_subtotal, store=False, readonly=True),
            "price_total": f("float", "Total", compute=_line_subtotal, store=False, readonly=True),
            "qty_delivered": f("float", "Delivery Quantity", default=0.0),
            "customer_lead": f("float", "Lead Time", default=0.0),
            "state": f("selection", "Order Status", selection=SALE_STATES, compute=_related("order_id.state"), store=False),
            "order_partner_id": f("many2one", "Customer", "res.partner", compute=_related("order_id.partner_id"), store=False),
        }, order="order_id, sequence, id"),
        Model("purchase.order", "Purchase Order", {
            "name": f("char", "Order Reference", default="New"),
            "partner_id": f("many2one", "Vendor", "res.partner", required=True),
            "partner_ref": f("char", "Vendor Reference"),
            "origin": f("char", "Source Document"),
            "date_order": f("datetime", "Order Deadline"),
            "date_approve": f("datetime", "Confirmation Date"),
            "date_planned": f("datetime", "Expected Arrival"),
            "state": f("selection", "Status", selection=PURCHASE_STATES, default="draft"),
            "picking_type_id": f("many2one", "Deliver To", "stock.picking.type"),
            "user_id": f("many2one", "Buyer", "res.users"),
            "company_id": f("many2one", "Company", "res.company"),
            "order_line": _o2m("purchase.order.line", "order_id", "Order Lines"),
            "picking_ids": _o2m("stock.picking", "purchase_id", "Receptions"),
            "amount_untaxed": f("float", "Untaxed Amount", default=0.0, readonly=True),
            "amount_total": f("float", "Total", default=0.0, readonly=True),
        }, order="id desc", mail_thread=True),
        Model("purchase.order.line", "Purchase Order Line", {
            "order_id": f("many2one", "Order Reference", "purchase.order", required=True),
            "sequence": f("integer", "Sequence", default=10),
            "name": f("text", "Description"),
            "product_id": f("many2one", "Product", "product.product"),
            "product_qty": f("float", "Quantity", default=1.0),
            "product_uom": f("many2one", "Unit of Measure", "uom.uom"),
            "qty_received": f("float", "Received Qty", default=0.0),
            "qty_invoiced": f("float", "Billed Qty", default=0.0),
            "price_unit": f("float", "Unit Price", default=0.0),
            "price_subtotal": f("float", "Subtotal", compute=_po_line_subtotal, store=False, readonly=True),
            "date_planned": f("datetime", "Expected Arrival"),
            "sale_line_id": f("many2one", "Origin Sale Item", "sale.order.line"),
            "state": f("selection", "Status", selection=PURCHASE_STATES, compute=_related("order_id.state"), store=False),
            "partner_id": f("many2one", "Partner", "res.partner", compute=_related("order_id.partner_id"), store=False),
        }, order="order_id, sequence, id"),
        Model("account.move", "Journal Entry", {
            "name": f("char", "Number", default="/"),
            "move_type": f("selection", "Type", selection=MOVE_TYPES, default="entry", required=True),
            "partner_id": f("many2one", "Partner", "res.partner"),
            "ref": f("char", "Reference"),
            "invoice_origin": f("char", "Origin"),
            "date": f("date", "Date"),
            "invoice_date": f("date", "Invoice/Bill Date"),
            "invoice_date_due": f("date", "Due Date"),
            "state": f("selection", "Status", selection=MOVE_STATES, default="draft"),
            "payment_state": f("selection", "Payment Status", selection=[("not_paid", "Not Paid"), ("in_payment", "In Payment"), ("paid", "Paid"), ("partial", "Partially Paid"), ("reversed", "Reversed")], default="not_paid"),
            "invoice_line_ids": _o2m("account.move.line", "move_id", "Invoice lines"),
            "line_ids": _o2m("account.move.line", "move_id", "Journal Items"),
            "amount_untaxed": f("float", "Untaxed Amount", default=0.0, readonly=True),
            "amount_total": f("float", "Total", default=0.0, readonly=True),
            "company_id": f("many2one", "Company", "res.company"),
        }, order="date desc, name desc, id desc", mail_thread=True),
        Model("account.move.line", "Journal Item", {
            "move_id": f("many2one", "Journal Entry", "account.move", required=True),
            "name": f("char", "Label"),
            "product_id": f("many2one", "Product", "product.product"),
            "quantity": f("float", "Quantity", default=1.0),
            "price_unit": f("float", "Unit Price", default=0.0),
            "discount": f("float", "Discount (%)", default=0.0),
            "price_subtotal": f("float", "Subtotal", compute=_aml_subtotal, store=False, readonly=True),
            "purchase_line_id": f("many2one", "Purchase Order Line", "purchase.order.line"),
            "display_type": f("selection", "Display Type", selection=[("product", "Product"), ("line_section", "Section"), ("line_note", "Note")], default="product"),
            "parent_state": f("selection", "Status", selection=MOVE_STATES, compute=_related("move_id.state"), store=False),
        }, order="move_id, id"),
        Model("mail.message.subtype", "Message subtypes", {
            "name": f("char", "Message Type", required=True),
            "internal": f("boolean", "Internal Only", default=False),
        }),
        Model("mail.message", "Message", {
            "model": f("char", "Related Document Model"),
            "res_id": f("many2one_reference", "Related Document ID"),
            "record_name": f("char", "Message Record Name"),
            "body": f("html", "Contents", default=""),
            "subject": f("char", "Subject"),
            "author_id": f("many2one", "Author", "res.partner"),
            "subtype_id": f("many2one", "Subtype", "mail.message.subtype"),
            "message_type": f("selection", "Type", selection=[("email", "Email"), ("comment", "Comment"), ("notification", "System notification"), ("user_notification", "User Specific Notification")], default="comment"),
            "partner_ids": _m2m("res.partner", "Recipients"),
            "date": f("datetime", "Date"),
        }, rec_name="record_name", order="id desc"),
        Model("mail.activity.type", "Activity Type", {
            "name": f("char", "Name", required=True),
            "category": f("selection", "Action", selection=[("default", "None"), ("upload_file", "Upload Document"), ("phonecall", "Phonecall")], default="default"),
            "delay_count": f("integer", "Schedule", default=0),
            "active": f("boolean", "Active", default=True),
        }),
        Model("mail.activity", "Activity", {
            "res_model_id": f("many2one", "Document Model", "ir.model", required=True),
            "res_model": f("char", "Related Document Model", compute=_activity_res_model, store=False),
            "res_id": f("many2one_reference", "Related Document ID", required=True),
            "res_name": f("char", "Document Name", compute=_activity_res_name, store=False),
            "activity_type_id": f("many2one", "Activity Type", "mail.activity.type"),
            "summary": f("char", "Summary"),
            "note": f("html", "Note"),
            "user_id": f("many2one", "Assigned to", "res.users"),
            "date_deadline": f("date", "Due Date", required=True),
            "date_done": f("date", "Done Date"),
            "feedback": f("text", "Feedback"),
            "state": f("selection", "State", selection=ACTIVITY_STATES, compute=_activity_state, store=False),
            "active": f("boolean", "Active", default=True),
        }, rec_name="summary", order="date_deadline ASC, id ASC"),
        Model("ir.model", "Models", {
            "name": f("char", "Model Description", required=True),
            "model": f("char", "Model", required=True),
            "is_mail_thread": f("boolean", "Has Mail Thread", default=False),
            "field_id": _o2m("ir.model.fields", "model_id", "Fields"),
        }, order="model"),
        Model("ir.model.fields", "Fields", {
            "name": f("char", "Field Name", required=True),
            "field_description": f("char", "Field Label", required=True),
            "model": f("char", "Model Name", required=True),
            "model_id": f("many2one", "Model", "ir.model", required=True),
            "ttype": f("selection", "Field Type", selection=[(t, t) for t in ("binary", "boolean", "char", "date", "datetime", "float", "html", "integer", "many2many", "many2one", "many2one_reference", "monetary", "one2many", "reference", "selection", "text")], required=True),
            "relation": f("char", "Related Model"),
            "relation_field": f("char", "Relation Field"),
            "required": f("boolean", "Required", default=False),
            "readonly": f("boolean", "Readonly", default=False),
            "store": f("boolean", "Stored", default=True),
            "selection_ids": _o2m("ir.model.fields.selection", "field_id", "Selection Options"),
        }, rec_name="field_description", order="name", display=lambda db, r: f"{r.get('field_description')} ({r.get('model')})"),
        Model("ir.model.fields.selection", "Fields Selection", {
            "field_id": f("many2one", "Field", "ir.model.fields", required=True),
            "value": f("char", "Value", required=True),
            "name": f("char", "Name", required=True),
            "sequence": f("integer", "Sequence", default=1000),
        }, order="sequence, id"),
        Model("ir.model.data", "Model Data", {
            "name": f("char", "External Identifier", required=True),
            "module": f("char", "Module", required=True),
            "model": f("char", "Model Name", required=True),
            "res_id": f("many2one_reference", "Record ID"),
        }, display=lambda db, r: f"{r.get('module')}.{r.get('name')}"),
        Model("ir.actions.server", "Server Actions", {
            "name": f("char", "Action Name", required=True),
            "type": f("char", "Action Type", default="ir.actions.server"),
            "usage": f("selection", "Usage", selection=[("ir_actions_server", "Server Action"), ("ir_cron", "Scheduled Action"), ("base_automation", "Automation Rule")], default="ir_actions_server"),
            "state": f("selection", "Type", selection=SERVER_ACTION_STATES, default="object_write", required=True),
            "model_id": f("many2one", "Model", "ir.model", required=True),
            "model_name": f("char", "Model Name", compute=_related("model_id.model"), store=False),
            "webhook_url": f("char", "Webhook URL"),
            "webhook_field_ids": _m2m("ir.model.fields", "Webhook Fields"),
            "base_automation_id": f("many2one", "Automation Rule", "base.automation"),
            "code": f("text", "Python Code"),
            "sequence": f("integer", "Sequence", default=5),
        }, order="sequence,name"),
        Model("base.automation", "Automation Rule", {
            "name": f("char", "Automation Rule Name", required=True),
            "description": f("html", "Description"),
            "model_id": f("many2one", "Model", "ir.model", required=True),
            "model_name": f("char", "Model Name", compute=_related("model_id.model"), store=False),
            "trigger": f("selection", "Trigger", selection=AUTOMATION_TRIGGERS, required=True),
            "trigger_field_ids": _m2m("ir.model.fields", "Trigger Fields"),
            "trg_selection_field_id": f("many2one", "Trigger Field", "ir.model.fields.selection"),
            "trg_field_ref": f("many2one_reference", "Trigger Reference"),
            "trg_date_id": f("many2one", "Trigger Date", "ir.model.fields"),
            "trg_date_range": f("integer", "Delay after trigger date", default=0),
            "trg_date_range_type": f("selection", "Delay type", selection=[("minutes", "Minutes"), ("hour", "Hours"), ("day", "Days"), ("month", "Months")]),
            "filter_pre_domain": f("char", "Before Update Domain"),
            "filter_domain": f("char", "Apply on"),
            "action_server_ids": _o2m("ir.actions.server", "base_automation_id", "Actions"),
            "last_run": f("datetime", "Last Run"),
            "webhook_uuid": f("char", "Webhook UUID"),
            "url": f("char", "URL", compute=_automation_url, store=False),
            "active": f("boolean", "Active", default=True),
        }),
    ]
    return {m.name: m for m in models}


def common_fields(model):
    """The magic fields Odoo adds to every model."""
    return {
        "id": f("integer", "ID", readonly=True),
        "display_name": f("char", "Display Name", readonly=True, store=False),
        "create_date": f("datetime", "Created on", readonly=True),
        "create_uid": f("many2one", "Created by", "res.users", readonly=True),
        "write_date": f("datetime", "Last Updated on", readonly=True),
        "write_uid": f("many2one", "Last Updated by", "res.users", readonly=True),
    }
