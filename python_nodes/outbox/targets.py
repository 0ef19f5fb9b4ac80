"""Which n8n webhook receives which event type from the outbox (path below the n8n webhook base URL)."""

from ..events import types

ROUTES = {
    types.SALE_ORDER_CONFIRMED: "kit/sale-order-confirmed",
    types.EXCEPTION_OPENED: "kit/exception-opened",
    types.EXCEPTION_ESCALATED: "kit/exception-escalated",
    types.STOCK_SHORTAGE_DETECTED: "kit/stock-shortage",
}
