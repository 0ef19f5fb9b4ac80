"""Seed data: a small distribution company, with known problems for the reconciliation sweeps to find.

Dates are relative to the moment of (re)seeding ("now", UTC). Partner tier is the standard partner tag
(`res.partner.category_id`) named "Tier A" / "Tier B" / "Tier C" (no custom module needed on a real Odoo).

Company "Northwind Distribution", warehouses Main Warehouse (WH, WH/Stock) and North Depot (NDP, NDP/Stock).

Expected findings (also served by GET /_sim/info under "seed_findings", with ids):

- Late picking: the delivery of S00003 (Corner Grocers, WH) is `assigned` with `scheduled_date` = now - 2 days.
  Every other open picking is scheduled in the future.
- Procurement dependency: P00002 (Fresh Farms Supply, state purchase, origin "S00004", line linked by
  `sale_line_id`) has `date_planned` = now + 6 days, past S00004's `commitment_date` = now + 3 days
  (customer Delta Hospitality; its NDP delivery is `confirmed`, waiting for the tomatoes).
- Three-way match (tolerance 2 % on unit price, 0 on quantity):
  BILL/<year>/00001 for P00001: Olive Oil 100 @ 6.30 vs PO 6.20 (+1.61 %, within tolerance: not flagged),
  Basmati Rice 50 @ 9.10 (exact). BILL/<year>/00002 for P00003: Paper Cups 40 @ 21.46 vs PO 21.00
  (+2.19 %, just outside: flagged for price), Canned Tomatoes billed 200 but only 180 received (flagged for quantity).
- Credit: Corner Grocers has credit 6,200 over a 5,000 limit; Blue Harbor Foods 18,500 of 20,000.
- Shortage: S00002 (quotation sent, Blue Harbor Foods) asks 20 Espresso Beans; WH holds 10.
"""

from datetime import datetime, timedelta

from .orm import ACCESS_FULL, ACCESS_READONLY, Env, utc_now

DB_NAME = "odoo"
ADMIN_UID, ADMIN_LOGIN, ADMIN_PASSWORD = 2, "admin", "admin"
VIEWER_LOGIN, VIEWER_PASSWORD = "viewer", "viewer"


def _shift(now, days=0, hours=0):
    moment = datetime.strptime(now, "%Y-%m-%d %H:%M:%S") + timedelta(days=days, hours=hours)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _metadata(db, env):
    """ir.model / ir.model.fields / ir.model.fields.selection rows for every simulated model."""
    for spec in sorted(db.models.values(), key=lambda m: m.name):
        model_id = db.create(env, "ir.model", {"name": spec.description, "model": spec.name, "is_mail_thread": spec.mail_thread})
        _xmlid(db, env, "base", "model_" + spec.name.replace(".", "_"), "ir.model", model_id)
        for fname, field in spec.fields.items():
            field_id = db.create(env, "ir.model.fields", {
                "name": fname, "field_description": field.string, "model": spec.name, "model_id": model_id,
                "ttype": field.type, "relation": field.relation or False, "relation_field": field.inverse or False,
                "required": field.required, "readonly": field.readonly,
                "store": field.store and field.compute is None and fname != "display_name",
            })
            for sequence, (value, label) in enumerate(field.selection):
                db.create(env, "ir.model.fields.selection", {"field_id": field_id, "value": value, "name": label, "sequence": sequence})


def _xmlid(db, env, module, name, model, res_id):
    db.create(env, "ir.model.data", {"module": module, "name": name, "model": model, "res_id": res_id})


def load(db):
    """Clear the database and load the seed company."""
    db.clear()
    env = Env(1)
    automation, db.automation = db.automation, None  # no rules exist yet; keep seeding free of webhooks
    try:
        _load(db, env)
    finally:
        db.automation = automation


def _load(db, env):
    now = utc_now()
    today = now[:10]
    _metadata(db, env)
    company = db.create(env, "res.company", {"name": "Northwind Distribution"})
    company_partner = db.create(env, "res.partner", {"name": "Northwind Distribution", "is_company": True, "city": "Rotterdam"})
    db.write(env, "res.company", [company], {"partner_id": company_partner})
    _xmlid(db, env, "base", "main_company", "res.company", company)

    def user(name, login, password, access, email):
        partner = db.create(env, "res.partner", {"name": name, "email": email, "company_id": company})
        uid = db.create(env, "res.users", {"name": name, "login": login, "partner_id": partner, "company_id": company, "email": email})
        db.users[uid] = {"password": password, "access": access}
        return uid

    root = user("OdooBot", "__system__", secrets_free_password(), ACCESS_FULL, "odoobot@example.com")
    db.write(env, "res.users", [root], {"active": False})
    admin = user("Mitchell Admin", ADMIN_LOGIN, ADMIN_PASSWORD, ACCESS_FULL, "admin@northwind.example")
    assert admin == ADMIN_UID
    user("Vera Viewer", VIEWER_LOGIN, VIEWER_PASSWORD, ACCESS_READONLY, "viewer@northwind.example")
    wendy = user("Wendy Warehouse", "wendy", "wendy", ACCESS_FULL, "wendy@northwind.example")
    bob = user("Bob Buyer", "bob", "bob", ACCESS_FULL, "bob@northwind.example")
    _xmlid(db, env, "base", "user_root", "res.users", root)
    _xmlid(db, env, "base", "user_admin", "res.users", admin)

    for module_name, name, internal in (("mt_comment", "Discussions", False), ("mt_note", "Note", True), ("mt_activities", "Activities", False)):
        _xmlid(db, env, "mail", module_name, "mail.message.subtype", db.create(env, "mail.message.subtype", {"name": name, "internal": internal}))
    for xml, name, delay in (("mail_activity_data_todo", "To-Do", 5), ("mail_activity_data_call", "Call", 2),
                             ("mail_activity_data_email", "Email", 2), ("mail_activity_data_warning", "Exception", 0)):
        _xmlid(db, env, "mail", xml, "mail.activity.type", db.create(env, "mail.activity.type", {"name": name, "delay_count": delay}))

    tiers = {t: db.create(env, "res.partner.category", {"name": f"Tier {t}"}) for t in "ABC"}

    def customer(name, tier, credit, limit, city):
        return db.create(env, "res.partner", {
            "name": name, "is_company": True, "customer_rank": 1, "credit": credit, "credit_limit": limit,
            "use_partner_credit_limit": bool(limit), "category_id": [(6, 0, [tiers[tier]])], "city": city,
            "email": f"orders@{name.lower().replace(' ', '')}.example", "user_id": admin, "company_id": company,
        })

    acme = customer("Acme Retail", "A", 12000.0, 50000.0, "Utrecht")
    blue = customer("Blue Harbor Foods", "B", 18500.0, 20000.0, "Antwerp")
    corner = customer("Corner Grocers", "C", 6200.0, 5000.0, "Leiden")
    delta = customer("Delta Hospitality", "B", 0.0, 0.0, "Ghent")
    fresh = db.create(env, "res.partner", {"name": "Fresh Farms Supply", "is_company": True, "supplier_rank": 1, "city": "Almeria"})
    packaging = db.create(env, "res.partner", {"name": "Global Packaging Co.", "is_company": True, "supplier_rank": 1, "city": "Hamburg"})

    units = db.create(env, "uom.uom", {"name": "Units"})
    _xmlid(db, env, "uom", "product_uom_unit", "uom.uom", units)
    food = db.create(env, "product.category", {"name": "Food"})
    supplies = db.create(env, "product.category", {"name": "Supplies"})

    def product(code, name, price, cost, categ, kind="product"):
        return db.create(env, "product.product", {
            "default_code": code, "name": name, "list_price": price, "standard_price": cost, "categ_id": categ,
            "type": kind, "detailed_type": kind, "uom_id": units,
        })

    oil = product("P-1001", "Olive Oil 1L", 9.50, 6.20, food)
    rice = product("P-1002", "Basmati Rice 5kg", 14.00, 9.10, food)
    tomatoes = product("P-1003", "Canned Tomatoes 400g", 1.20, 0.65, food)
    espresso = product("P-1004", "Espresso Beans 1kg", 22.00, 14.50, food)
    cups = product("P-1005", "Paper Cups 1000pk", 35.00, 21.00, supplies)
    product("S-9001", "Delivery Fee", 25.00, 0.0, supplies, kind="service")

    physical = db.create(env, "stock.location", {"name": "Physical Locations", "usage": "view"})
    partners_view = db.create(env, "stock.location", {"name": "Partners", "usage": "view"})
    customers_loc = db.create(env, "stock.location", {"name": "Customers", "usage": "customer", "location_id": partners_view})
    vendors_loc = db.create(env, "stock.location", {"name": "Vendors", "usage": "supplier", "location_id": partners_view})
    _xmlid(db, env, "stock", "stock_location_customers", "stock.location", customers_loc)
    _xmlid(db, env, "stock", "stock_location_suppliers", "stock.location", vendors_loc)

    def warehouse(name, code):
        view = db.create(env, "stock.location", {"name": code, "usage": "view", "location_id": physical})
        stock = db.create(env, "stock.location", {"name": "Stock", "usage": "internal", "location_id": view})
        wh = db.create(env, "stock.warehouse", {"name": name, "code": code, "lot_stock_id": stock, "view_location_id": view,
                                                "partner_id": company_partner, "company_id": company})
        db.write(env, "stock.location", [view, stock], {"warehouse_id": wh})
        db.create(env, "stock.picking.type", {"name": "Receipts", "code": "incoming", "sequence_code": "IN", "warehouse_id": wh,
                                              "default_location_src_id": vendors_loc, "default_location_dest_id": stock})
        db.create(env, "stock.picking.type", {"name": "Delivery Orders", "code": "outgoing", "sequence_code": "OUT", "warehouse_id": wh,
                                              "default_location_src_id": stock, "default_location_dest_id": customers_loc})
        return wh, stock

    main_wh, main_stock = warehouse("Main Warehouse", "WH")
    depot, depot_stock = warehouse("North Depot", "NDP")
    _xmlid(db, env, "stock", "warehouse0", "stock.warehouse", main_wh)
    for location, stock in ((main_stock, {oil: 120, rice: 40, tomatoes: 500, espresso: 10, cups: 30}),
                            (depot_stock, {oil: 30, rice: 80, espresso: 25, cups: 5})):
        for product_id, qty in stock.items():
            db.create(env, "stock.quant", {"product_id": product_id, "location_id": location, "quantity": float(qty), "inventory_date": today})

    from . import business

    def order(partner, warehouse_id, lines, commitment_days=None, state="draft", days_ago=1):
        oid = db.create(env, "sale.order", {
            "partner_id": partner, "warehouse_id": warehouse_id, "date_order": _shift(now, days=-days_ago),
            "commitment_date": _shift(now, days=commitment_days) if commitment_days is not None else False,
            "order_line": [(0, 0, {"product_id": p, "product_uom_qty": float(q), **extra}) for p, q, extra in lines],
        })
        if state == "sent":
            db.write(env, "sale.order", [oid], {"state": "sent"})
        if state == "sale":
            business.sale_action_confirm(db, env, "sale.order", [oid])
        return oid

    order(acme, main_wh, [(oil, 10, {}), (rice, 5, {"discount": 5.0})], commitment_days=5)
    order(blue, main_wh, [(espresso, 20, {})], commitment_days=4, state="sent")
    s3 = order(corner, main_wh, [(oil, 15, {})], commitment_days=-2, state="sale", days_ago=4)
    s4 = order(delta, depot, [(tomatoes, 300, {})], commitment_days=3, state="sale", days_ago=2)
    order(acme, main_wh, [(cups, 4, {}), (rice, 10, {})], commitment_days=10, state="sale")
    s4_line = db.children("sale.order.line", "order_id", s4)[0]

    def purchase(vendor, warehouse_id, lines, planned_days, origin=False, received=True):
        incoming = next(r["id"] for r in db.tables["stock.picking.type"].values()
                        if r["warehouse_id"] == warehouse_id and r["code"] == "incoming")
        pid = db.create(env, "purchase.order", {
            "partner_id": vendor, "picking_type_id": incoming, "origin": origin, "user_id": bob,
            "date_order": _shift(now, days=-7), "date_planned": _shift(now, days=planned_days),
            "order_line": [(0, 0, {"product_id": p, "product_qty": float(q), "price_unit": price, **extra}) for p, q, price, extra in lines],
        })
        business.purchase_button_confirm(db, env, "purchase.order", [pid])
        if received:
            receipt = db.children("stock.picking", "purchase_id", pid)[0]
            for line_id, qty in received.items() if isinstance(received, dict) else []:
                move = next(m for m in db.children("stock.move", "picking_id", receipt)
                            if db.tables["stock.move"][m]["purchase_line_id"] == line_id)
                db.write(env, "stock.move", [move], {"quantity": float(qty)})
            business.picking_validate(db, env, "stock.picking", [receipt])
        return pid

    p1 = purchase(fresh, main_wh, [(oil, 100, 6.20, {}), (rice, 50, 9.10, {})], planned_days=-3)
    purchase(fresh, depot, [(tomatoes, 300, 0.65, {"sale_line_id": s4_line})], planned_days=6, origin="S00004", received=False)
    p3 = purchase(packaging, main_wh, [(cups, 40, 21.00, {}), (tomatoes, 200, 0.65, {})], planned_days=-2, received=False)
    p3_lines = db.children("purchase.order.line", "order_id", p3)
    p3_lines_received = {p3_lines[0]: 40, p3_lines[1]: 180}
    receipt = db.children("stock.picking", "purchase_id", p3)[0]
    for mid in db.children("stock.move", "picking_id", receipt):
        move = db.tables["stock.move"][mid]
        db.write(env, "stock.move", [mid], {"quantity": float(p3_lines_received[move["purchase_line_id"]])})
    business.picking_validate(db, env, "stock.picking", [receipt])

    def bill(vendor, po, prices):
        lines = db.children("purchase.order.line", "order_id", po)
        vals = []
        for line_id, (qty, price) in zip(lines, prices):
            line = db.tables["purchase.order.line"][line_id]
            vals.append((0, 0, {"product_id": line["product_id"], "quantity": float(qty), "price_unit": price, "purchase_line_id": line_id}))
        move = db.create(env, "account.move", {
            "move_type": "in_invoice", "partner_id": vendor, "invoice_origin": db.tables["purchase.order"][po]["name"],
            "invoice_date": today, "ref": f"VB-{po:04d}", "invoice_line_ids": vals,
        })
        business.move_action_post(db, env, "account.move", [move])
        return move

    bill(fresh, p1, [(100, 6.30), (50, 9.10)])
    bill(packaging, p3, [(40, 21.46), (200, 0.65)])

    # Pin the late picking after confirmation (its scheduled date follows the past commitment date).
    late = db.children("stock.picking", "sale_id", s3)[0]
    db.write(env, "stock.picking", [late], {"scheduled_date": _shift(now, days=-2)})

    atype = next(r["id"] for r in db.tables["mail.activity.type"].values() if r["name"] == "To-Do")
    sale_model = next(r["id"] for r in db.tables["ir.model"].values() if r["model"] == "sale.order")
    db.create(env, "mail.activity", {"res_model_id": sale_model, "res_id": s3, "activity_type_id": atype,
                                     "summary": "Call Corner Grocers about the late delivery", "user_id": wendy,
                                     "date_deadline": today})


def secrets_free_password():
    """OdooBot cannot log in over RPC (inactive), so its password is just a placeholder."""
    return "odoobot-cannot-log-in"


def expected_findings(db):
    """Machine-readable version of the module docstring's expected findings, with ids."""
    def by_name(model, name):
        return next((r["id"] for r in db.tables[model].values() if r.get("name") == name), None)

    s3, s4 = by_name("sale.order", "S00003"), by_name("sale.order", "S00004")
    late = [p for p, r in db.tables["stock.picking"].items() if r.get("sale_id") == s3]
    bills = sorted(m for m, r in db.tables["account.move"].items() if r.get("move_type") == "in_invoice")
    return {
        "late_pickings": late,
        "late_picking_sale_orders": [s3],
        "purchase_eta_past_promise": [{"purchase_order": by_name("purchase.order", "P00002"), "sale_orders": [s4],
                                       "customers": [db.tables["sale.order"][s4]["partner_id"]] if s4 else []}],
        "bill_within_tolerance": bills[:1],
        "bill_price_outside_tolerance": bills[1:2],
        "price_tolerance_percent": 2.0,
        "over_credit_limit_partners": [by_name("res.partner", "Corner Grocers")],
        "shortage_sale_orders": [by_name("sale.order", "S00002")],
    }


def bulk_sale_orders(db, count, state="sale"):
    """Create count sale orders straight in the table (no lines, no webhooks): a large data set for sweep benchmarks."""
    if count < 0 or count > 1_000_000:
        raise ValueError("count must be between 0 and 1,000,000")
    if state not in ("draft", "sent", "sale", "cancel"):
        raise ValueError(f"invalid state {state!r}")
    with db.lock:
        now = utc_now()
        customers = sorted(p for p, r in db.tables["res.partner"].items() if r.get("customer_rank"))
        warehouse = min(db.tables["stock.warehouse"])
        table = db.tables["sale.order"]
        created = []
        for n in range(count):
            rid = db.next_id["sale.order"]
            db.next_id["sale.order"] = rid + 1
            partner = customers[n % len(customers)]
            amount = float(100 + (rid * 37) % 900)
            table[rid] = {
                "id": rid, "name": db.next_sequence("sale.order", "S"), "partner_id": partner, "partner_shipping_id": partner,
                "state": state, "date_order": now, "user_id": ADMIN_UID, "warehouse_id": warehouse, "company_id": 1,
                "amount_untaxed": amount, "amount_total": amount, "create_date": now, "write_date": now,
                "create_uid": ADMIN_UID, "write_uid": ADMIN_UID,
            }
            created.append(rid)
        db.touch("sale.order")
        return created
