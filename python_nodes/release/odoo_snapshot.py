"""Read a release snapshot of one sale order from Odoo through the injected client (the webhook is never the truth)."""
from __future__ import annotations

import re

from .reasons import UNAVAILABLE_COUNTRY, UNAVAILABLE_ROUTE, UNAVAILABLE_STOCK, UNAVAILABLE_TAX

# Partner tags named like "Tier A" or "tier: gold" carry the customer tier: stock Odoo has no tier field and
# tags need no custom module. The tier name is the rest of the tag, lower-cased, spaces as underscores.
TIER_TAG = re.compile(r"^\s*tier\b[\s:_-]*(?P<name>[a-z0-9][a-z0-9 _]*)\s*$", re.IGNORECASE)
# Lines of these display types are layout, not goods.
LAYOUT_LINES = ("line_section", "line_note")

ORDER_FIELDS = ["name", "state", "company_id", "partner_id", "partner_shipping_id", "warehouse_id",
                "amount_untaxed", "amount_total", "currency_id", "user_id", "order_line"]
LINE_FIELDS = ["product_id", "product_uom_qty", "price_unit", "discount", "tax_id", "route_id", "display_type"]
PARTNER_FIELDS = ["name", "credit", "credit_limit", "category_id", "parent_id", "commercial_partner_id"]
ADDRESS_FIELDS = ["street", "city", "zip", "country_id"]
PRODUCT_FIELDS = ["name", "lst_price", "list_price", "standard_price", "type", "detailed_type", "is_storable"]


def ref(value):
    """A many2one as read over RPC (``[id, name]``, a bare id, or ``False``) to an id or None."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value or None


def label(value):
    return value[1] if isinstance(value, (list, tuple)) and len(value) > 1 else None


def text(value):
    return value if isinstance(value, str) and value else None


class Reader:
    """One snapshot read; it only requests fields this database has (the client's ``field_names``)."""

    def __init__(self, odoo):
        self.odoo = odoo

    def has(self, model: str, name: str) -> bool:
        return name in self.odoo.field_names(model)

    def fields(self, model: str, wanted: list[str]) -> list[str]:
        return [name for name in wanted if self.has(model, name)]

    def read(self, model: str, ids: list[int], wanted: list[str]) -> list[dict]:
        return self.odoo.read(model, ids, self.fields(model, wanted)) if ids else []

    def snapshot(self, order_id: int) -> dict:
        """Order, product lines, commercial partner, shipping address, open orders, products and quants."""
        order = self.odoo.read_one("sale.order", order_id, self.fields("sale.order", ORDER_FIELDS))
        unavailable = []
        raw_lines = [line for line in self.read("sale.order.line", list(order.get("order_line") or []), LINE_FIELDS)
                     if line.get("display_type") not in LAYOUT_LINES and ref(line.get("product_id"))]
        if not self.has("sale.order.line", "tax_id"):
            unavailable.append(UNAVAILABLE_TAX)
        if not self.has("sale.order.line", "route_id"):
            unavailable.append(UNAVAILABLE_ROUTE)
        partner = self._partner(ref(order["partner_id"]))
        address = self._address(ref(order.get("partner_shipping_id")))
        if not self.has("res.partner", "country_id"):
            unavailable.append(UNAVAILABLE_COUNTRY)
        product_ids = sorted({ref(line["product_id"]) for line in raw_lines})
        products = [self._product(p) for p in self.read("product.product", product_ids, PRODUCT_FIELDS)]
        stock = self._quants(product_ids) if self.has("stock.quant", "quantity") else []
        if not self.has("stock.quant", "quantity"):
            unavailable.append(UNAVAILABLE_STOCK)
        snap = {
            "order": {
                "id": order["id"],
                "name": order.get("name") or str(order["id"]),
                "company_id": ref(order.get("company_id")) or 1,
                "state": order["state"],
                "amount_untaxed": order.get("amount_untaxed") or 0.0,
                "amount_total": order.get("amount_total") or 0.0,
                "warehouse_id": ref(order.get("warehouse_id")),
                "user_id": ref(order.get("user_id")),
            },
            "lines": [{
                "id": line["id"],
                "product_id": ref(line["product_id"]),
                "qty": line.get("product_uom_qty") or 0.0,
                "price_unit": line.get("price_unit") or 0.0,
                "discount": line.get("discount") or 0.0,
                "tax_ids": sorted(line.get("tax_id") or []),
                "route_id": ref(line.get("route_id")),
            } for line in raw_lines],
            "partner": partner,
            "shipping_address": address,
            "open_orders_amount": self._open_orders(partner["id"], order["id"]),
            "products": products,
            "stock": stock,
        }
        currency = label(order.get("currency_id"))
        if currency and len(currency) == 3 and currency.isupper():
            snap["order"]["currency"] = currency
        if unavailable:
            snap["unavailable"] = unavailable
        return snap

    def _partner(self, partner_id: int) -> dict:
        """The commercial partner: credit and its limit live on the company, not on a contact or address."""
        partner = self.odoo.read_one("res.partner", partner_id, self.fields("res.partner", PARTNER_FIELDS))
        commercial = ref(partner.get("commercial_partner_id")) or ref(partner.get("parent_id")) or partner_id
        if commercial != partner_id:
            partner = self.odoo.read_one("res.partner", commercial, self.fields("res.partner", PARTNER_FIELDS))
        limit = partner.get("credit_limit")
        return {"id": partner["id"], "name": partner.get("name") or "", "credit": partner.get("credit") or 0.0,
                "credit_limit": limit if limit else None, "tier": self._tier(partner.get("category_id") or [])}

    def _tier(self, tag_ids: list[int]) -> str | None:
        for tag in sorted(self.read("res.partner.category", list(tag_ids), ["name"]), key=lambda t: t["id"]):
            match = TIER_TAG.match(tag.get("name") or "")
            if match:
                return re.sub(r"[ _]+", "_", match["name"].strip().lower())
        return None

    def _address(self, address_id: int | None) -> dict | None:
        if not address_id:
            return None
        rows = self.read("res.partner", [address_id], ADDRESS_FIELDS)
        if not rows:
            return None
        row = rows[0]
        return {"id": row["id"], "street": text(row.get("street")), "city": text(row.get("city")),
                "zip": text(row.get("zip")), "country": label(row.get("country_id"))}

    def _open_orders(self, commercial_id: int, order_id: int) -> float:
        """Confirmed orders of the same customer not yet fully invoiced, this order excluded (it is counted once)."""
        domain = [("partner_id", "child_of", commercial_id), ("state", "=", "sale"), ("id", "!=", order_id)]
        if self.has("sale.order", "invoice_status"):
            domain.append(("invoice_status", "!=", "invoiced"))
        amount_field = "amount_to_invoice" if self.has("sale.order", "amount_to_invoice") else "amount_total"
        rows = self.odoo.search_read("sale.order", domain, [amount_field])
        return max(0.0, round(sum(row.get(amount_field) or 0.0 for row in rows), 2))

    @staticmethod
    def _product(row: dict) -> dict:
        storable = bool(row.get("is_storable")) or row.get("type") == "product" or row.get("detailed_type") == "product"
        return {"id": row["id"], "name": row.get("name") or "", "list_price": row.get("lst_price", row.get("list_price")) or 0.0,
                "standard_price": row.get("standard_price") or 0.0, "is_storable": storable}

    def _quants(self, product_ids: list[int]) -> list[dict]:
        if not product_ids:
            return []
        rows = self.odoo.search_read("stock.quant", [("product_id", "in", product_ids),
                                                     ("location_id.usage", "=", "internal")],
                                     ["product_id", "warehouse_id", "quantity", "reserved_quantity"])
        return [{"product_id": ref(r["product_id"]), "warehouse_id": ref(r.get("warehouse_id")),
                 "quantity": r.get("quantity") or 0.0, "reserved_quantity": r.get("reserved_quantity") or 0.0}
                for r in rows]


def read_user(odoo, user_id: int | None) -> dict | None:
    """Name and email of an Odoo user (the salesperson), or None when unset or unreadable."""
    if not user_id:
        return None
    rows = odoo.read("res.users", [user_id], ["name", "email", "login"])
    if not rows:
        return None
    row = rows[0]
    email = text(row.get("email")) or (row.get("login") if "@" in (row.get("login") or "") else None)
    return {"name": text(row.get("name")), "email": email}


def read_snapshot(odoo, order_id: int) -> dict:
    """The snapshot of sale order ``order_id``; ``NotFound`` when Odoo has no such order."""
    return Reader(odoo).snapshot(order_id)
