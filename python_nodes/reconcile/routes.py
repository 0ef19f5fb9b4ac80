"""HTTP: run one reconciliation sweep and answer its counts (and findings)."""
from flask import Blueprint, current_app, g

from ..app import capability_packages
from ..contracts import contract
from ..errors import NotFound
from ..exceptions.policy import default_policy
from . import settings
from .service import Sweeps

bp = Blueprint("reconcile", __name__)

APPROVALS_PACKAGE = "python_nodes.approvals"


def _sweeps() -> Sweeps:
    app = current_app
    return Sweeps(app.extensions["kit.db"], app.extensions["kit.config"], app.extensions["kit.odoo"],
                  default_policy(), approvals_enabled=APPROVALS_PACKAGE in capability_packages())


@bp.post("/v1/reconcile/<kind>")
@contract(request="reconcile-request", response="reconcile-result")
def run(kind: str):
    """Run ``missed-events``, ``stale-records`` or ``three-way-match`` once; safe to repeat and to overlap."""
    sweeps = _sweeps()
    if kind == "missed-events":
        return sweeps.missed_events(settings.watch(), g.body)
    if kind == "stale-records":
        return sweeps.stale_records(settings.tolerances(), g.body)
    if kind == "three-way-match":
        return sweeps.three_way_match(settings.tolerances(), g.body)
    raise NotFound(f"no sweep {kind!r}", code="unknown_sweep",
                   details=[{"path": "kind", "message": "missed-events, stale-records or three-way-match"}])
