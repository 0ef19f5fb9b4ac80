"""HTTP: liveness, readiness, metrics and the OpenAPI document."""
from functools import partial

from flask import Blueprint, Response, current_app

from .. import metrics
from ..contracts import contract
from ..errors import Unavailable
from ..openapi import build_spec
from . import backlog
from .deadline import TimedRead

bp = Blueprint("ops", __name__)

# How long /readyz and /metrics wait for the store: inside the probes' own timeouts (Prometheus: 10 s per scrape).
STORE_READ_SECONDS = 5.0


@bp.record_once
def _store_reads(state) -> None:
    db = state.app.extensions["kit.db"]
    state.app.extensions["kit.ops"] = {"ping": TimedRead(db.ping, STORE_READ_SECONDS),
                                       "backlog": TimedRead(partial(backlog.read, db), STORE_READ_SECONDS)}


@bp.get("/healthz")
def healthz():
    """The process answers."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """The store is reachable, so requests can be served."""
    try:
        current_app.extensions["kit.ops"]["ping"]()
    except Exception as exc:  # any driver error means not ready
        raise Unavailable(f"store unreachable: {exc}", code="store_unreachable") from exc
    return {"status": "ready", "store": current_app.extensions["kit.db"].dialect}


@bp.get("/metrics")
@contract(media_type="text/plain")
def prometheus():
    """Prometheus text exposition: request and event counters, and the backlog read from the store."""
    body, content_type = metrics.exposition(backlog.BacklogCollector(current_app.extensions["kit.ops"]["backlog"]))
    return Response(body, content_type=content_type)


@bp.get("/openapi.json")
def openapi():
    """The API contract, generated from the routes and their JSON Schemas."""
    return build_spec(current_app)
