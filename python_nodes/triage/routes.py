"""HTTP: ``POST /v1/backorders/triage``."""
from __future__ import annotations

from flask import Blueprint, g

from ..contracts import contract
from . import service

bp = Blueprint("triage", __name__)


@bp.post("/v1/backorders/triage")
@contract(request="backorder-triage-request", response="backorder-triage-response")
def triage():
    """Rank the orders a shortage hits, highest priority first, with every factor's contribution."""
    return service.triage(g.body)
