"""HTTP: the timeline of one business object."""
from flask import Blueprint, current_app

from ..contracts import contract
from . import service

bp = Blueprint("audit", __name__)


@bp.get("/v1/timeline/<path:correlation_id>")
@contract(response="timeline-response")
def timeline(correlation_id: str):
    """Everything recorded for one business object (correlation id such as ``sale.order:42``)."""
    with current_app.extensions["kit.db"].transaction() as tx:
        entries = service.timeline(tx, correlation_id)
    return {"correlation_id": correlation_id, "entries": entries}
