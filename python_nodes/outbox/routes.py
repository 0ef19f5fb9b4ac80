"""HTTP: look at the outbox and put a dead delivery back in line."""
from flask import Blueprint, current_app, g

from ..contracts import contract, limit_parameter
from . import service

bp = Blueprint("outbox", __name__)


@bp.get("/v1/outbox")
@contract(response="outbox-list", query={"state": {"enum": list(service.STATES)}, "limit": limit_parameter()})
def listing():
    """Deliveries to n8n by state (pending, delivered, dead) with attempts and last error."""
    db = current_app.extensions["kit.db"]
    items = service.listing(db, g.query.get("state"), g.query["limit"])
    return {"items": items, "backlog": service.backlog(db)}


@bp.post("/v1/outbox/<int:row_id>/retry")
@contract(response="outbox-item")
def retry(row_id: int):
    """Send a dead or waiting delivery again now (409 while it is being sent)."""
    return service.retry(current_app.extensions["kit.db"], row_id)
