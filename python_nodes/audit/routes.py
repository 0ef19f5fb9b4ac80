"""HTTP: the timeline of one business object."""
from flask import Blueprint, current_app

from ..contracts import contract
from ..events import store as events
from . import service

bp = Blueprint("audit", __name__)


@bp.get("/v1/timeline/<path:correlation_id>")
@contract(response="timeline-response")
def timeline(correlation_id: str):
    """Everything recorded for one business object (correlation id such as ``sale.order:42``): the events that
    reported it and the audit log's decisions, by time (an event before what it caused at the same instant)."""
    with current_app.extensions["kit.db"].transaction() as tx:
        entries = events.timeline_entries(tx, correlation_id) + service.timeline(tx, correlation_id)
    entries.sort(key=lambda entry: entry["at"])  # stable: keeps each source's own order
    return {"correlation_id": correlation_id, "entries": entries}
