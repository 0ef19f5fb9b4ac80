"""Flask application factory for the workers: one blueprint per capability, one config, one error shape."""
from __future__ import annotations

import hmac
import importlib
import time
import uuid

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from . import logs, metrics
from .config import Config
from .errors import ApiError, BadRequest, Unauthorized
from .odoo import client as odoo_client
from .store import connect
from .store.database import MAX_ROW_ID
from .store.migrations import migrate

# Capability packages; each has routes.py exposing ``bp`` and, when it stores data, store.py with MIGRATIONS.
# An entry may name the package or its routes module.
CAPABILITIES = [
    "python_nodes.ops",
    "python_nodes.audit",
    "python_nodes.idempotency",
    "python_nodes.events",
    "python_nodes.outbox",
    "python_nodes.approvals",
    "python_nodes.exceptions",
    "python_nodes.reconcile",
    "python_nodes.release",
    "python_nodes.allocation",
    "python_nodes.triage",
    "python_nodes.deadletters",
]

# Paths that authenticate themselves (URL token, Slack signature, approval link token) or are public probes.
OPEN_PATHS = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/slack/", "/a/")
WEBHOOK = ("POST", "/v1/events")  # the inbox checks the webhook secret itself (events/service.py)

HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
              415: "unsupported_media_type"}

log = logs.get("app")


def decimal_at_most(limit: int) -> str:
    """A regular expression for the decimal numbers 0..``limit`` (digit by digit, so a longer one never matches)."""
    digits = str(limit)
    shorter = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    below = [f"{digits[:i]}[0-{int(d) - 1}]" + rf"\d{{{len(digits) - i - 1}}}"
             for i, d in enumerate(digits) if d != "0"]
    return "(?:" + "|".join([*shorter, *below, digits]) + ")"


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in a path: a number past the stores' ids matches no route (404), never reaching the database.
    The bound is in the pattern: werkzeug answers 405 when ``max`` refuses a path that a rule for another method
    of the same shape (``PATCH /v1/exceptions/<id>``) would take."""

    regex = decimal_at_most(MAX_ROW_ID)


def create_app(config: Config | None = None, *, odoo_factory=None) -> Flask:
    """Build the workers app; tests pass their own ``config`` and ``odoo_factory``."""
    config = config or Config.from_env()
    config.check()
    logs.configure(config.log_level)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.url_map.converters["int"] = RowIdConverter
    app.config["KIT_VALIDATE_RESPONSES"] = not config.production
    app.extensions["kit.config"] = config
    db = connect(config.database_url, config.db_pool_size)
    app.extensions["kit.db"] = db
    app.extensions["kit.odoo"] = odoo_factory or odoo_client.factory(config)
    packages = capability_packages()
    migrate(db, [m + ".store" for m in packages if _has_module(m + ".store")])
    for name in packages:
        if _has_module(name + ".routes"):
            app.register_blueprint(importlib.import_module(name + ".routes").bp)
    _install_request_hooks(app)
    _install_error_handlers(app)
    _start_background(app)
    return app


def capability_packages() -> list[str]:
    return list(dict.fromkeys(name.removesuffix(".routes") for name in CAPABILITIES))


def _has_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return False
        raise
    return True


def _start_background(app: Flask) -> None:
    """Start each capability's background loop (``background.start(app)``), e.g. the outbox dispatcher."""
    for name in capability_packages():
        if _has_module(name + ".background"):
            importlib.import_module(name + ".background").start(app)


def _install_request_hooks(app: Flask) -> None:
    @app.before_request
    def _begin():
        g.started = time.perf_counter()
        g.correlation_id = request.headers.get("X-Correlation-Id") or uuid.uuid4().hex
        _require_api_token(app.extensions["kit.config"])
        if "\x00" in request.path or any("\x00" in value for value in request.args.values()):
            raise BadRequest("the URL must not contain the NUL character (%00)", code="nul_character")

    @app.after_request
    def _finish(response):
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        metrics.LATENCY.labels(endpoint).observe(elapsed)
        response.headers["X-Correlation-Id"] = g.get("correlation_id", "")
        if response.status_code >= 400 or app.logger.isEnabledFor(10):
            log.info("request", extra={"fields": {"method": request.method, "path": request.path,
                                                   "status": response.status_code, "ms": round(elapsed * 1000, 2)}})
        return response


def _require_api_token(config: Config) -> None:
    """With ``KIT_API_TOKEN`` set, every other ``/v1`` call needs it (n8n sends it from the "Kit workers" credential)."""
    if not config.api_token or (request.method, request.path) == WEBHOOK or request.path.startswith(OPEN_PATHS):
        return
    presented = request.headers.get("X-Kit-Token") or ""
    if not hmac.compare_digest(presented.encode(), config.api_token.encode()):
        raise Unauthorized("missing or wrong X-Kit-Token", code="bad_api_token")


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error.to_dict(), error.status

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        code = HTTP_CODES.get(status, "http_error")
        message = error.description or error.name
        if status == 413:
            message = f"request body larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        # Keep what the error adds besides its body, e.g. the Allow header a 405 must carry (RFC 9110).
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        return {"error": {"code": code, "message": message, "details": []}}, status, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        return {"error": {"code": "internal_error", "message": "internal error; see the workers' log",
                          "details": []}}, 500
