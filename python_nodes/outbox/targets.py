"""Which n8n webhook receives which event type from the outbox (path below the n8n webhook base URL)."""

from ..events import types

ROUTES = {
    types.SALE_ORDER_CONFIRMED: "kit/sale-order-confirmed",
    types.EXCEPTION_OPENED: "kit/exception-opened",
    types.EXCEPTION_ESCALATED: "kit/exception-escalated",
    types.STOCK_SHORTAGE_DETECTED: "kit/stock-shortage",
}

# Webhooks whose workflow takes a JSON array of envelopes (it hands them over in one call and answers
# ``{"items": [{"event_id", "handover", ...}]}``): the outbox sends them a backlog in batches.
BATCHED = frozenset({ROUTES[types.SALE_ORDER_CONFIRMED]})
