"""Event types the kit knows, shared by the mapping, the schemas (``event-data.<type>.v1``) and the tests."""

SALE_ORDER_CONFIRMED = "sale.order.confirmed"
SALE_ORDER_CHANGED = "sale.order.changed"
STOCK_SHORTAGE_DETECTED = "stock.shortage.detected"
PICKING_SLA_BREACHED = "picking.sla.breached"
PURCHASE_ETA_CHANGED = "purchase.eta.changed"
SHIPMENT_DELAYED = "shipment.delayed"
CARRIER_CALL_FAILED = "carrier.call.failed"
INVOICE_MISMATCH_DETECTED = "invoice.mismatch.detected"
MASTERDATA_MISSING = "masterdata.missing"
APPROVAL_REQUESTED = "approval.requested"
APPROVAL_DECIDED = "approval.decided"
EXCEPTION_OPENED = "exception.opened"
EXCEPTION_RESOLVED = "exception.resolved"
EXCEPTION_ESCALATED = "exception.escalated"

ALL = (
    SALE_ORDER_CONFIRMED, SALE_ORDER_CHANGED, STOCK_SHORTAGE_DETECTED, PICKING_SLA_BREACHED, PURCHASE_ETA_CHANGED,
    SHIPMENT_DELAYED, CARRIER_CALL_FAILED, INVOICE_MISMATCH_DETECTED, MASTERDATA_MISSING, APPROVAL_REQUESTED,
    APPROVAL_DECIDED, EXCEPTION_OPENED, EXCEPTION_RESOLVED, EXCEPTION_ESCALATED,
)

SCHEMA_VERSION = "v1"


def data_schema(event_type: str) -> str:
    """Schema name of an event type's ``data`` (``payload_schemas/event-data.<type>.v1.schema.json``)."""
    return f"event-data.{event_type}.{SCHEMA_VERSION}"


def data_schema_uri(event_type: str) -> str:
    from ..contracts import ID_BASE, SCHEMA_SUFFIX

    return ID_BASE + data_schema(event_type) + SCHEMA_SUFFIX
