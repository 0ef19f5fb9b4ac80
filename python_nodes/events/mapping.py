"""How an Odoo webhook becomes a typed event: rules per model and state, first match wins (policy as data)."""
from __future__ import annotations

from . import types

# ``when``: field -> required value (or list of allowed values). ``key``: the idempotency key template; a business
# event's identity, so the same change reported twice (webhook + sweep, or a repeated webhook) has one key.
RULES = [
    {"model": "sale.order", "when": {"state": "sale"}, "type": types.SALE_ORDER_CONFIRMED,
     "key": "sale.order:{_id}:state:sale"},
    {"model": "sale.order", "when": {}, "type": types.SALE_ORDER_CHANGED,
     "key": "sale.order:{_id}:changed:{write_date}"},
    {"model": "stock.picking", "when": {"state": ["confirmed", "waiting"]}, "type": types.STOCK_SHORTAGE_DETECTED,
     "key": "stock.picking:{_id}:shortage:{write_date}"},
    {"model": "purchase.order", "when": {}, "type": types.PURCHASE_ETA_CHANGED,
     "key": "purchase.order:{_id}:date_planned:{date_planned}"},
]

# Rules that only apply when the webhook URL names the event (``?type=``), because the record alone is ambiguous.
HINTED = {
    types.PICKING_SLA_BREACHED: {"model": "stock.picking", "key": "stock.picking:{_id}:late:{scheduled_date}"},
    types.STOCK_SHORTAGE_DETECTED: {"model": "stock.picking", "key": "stock.picking:{_id}:shortage:{write_date}"},
    types.SHIPMENT_DELAYED: {"model": "stock.picking", "key": "stock.picking:{_id}:delayed:{scheduled_date}"},
    types.INVOICE_MISMATCH_DETECTED: {"model": "account.move", "key": "account.move:{_id}:mismatch:{write_date}"},
    types.MASTERDATA_MISSING: {"model": None, "key": "{_model}:{_id}:masterdata:{write_date}"},
    types.SALE_ORDER_CONFIRMED: {"model": "sale.order", "key": "sale.order:{_id}:state:sale"},
    types.SALE_ORDER_CHANGED: {"model": "sale.order", "key": "sale.order:{_id}:changed:{write_date}"},
    types.PURCHASE_ETA_CHANGED: {"model": "purchase.order", "key": "purchase.order:{_id}:date_planned:{date_planned}"},
}

WATCHED_MODELS = sorted({rule["model"] for rule in RULES})


def matches(rule: dict, body: dict) -> bool:
    if rule["model"] != body.get("_model"):
        return False
    for field, wanted in rule["when"].items():
        allowed = wanted if isinstance(wanted, list) else [wanted]
        if body.get(field) not in allowed:
            return False
    return True
