"""gunicorn's threaded worker, answering the requests gunicorn refuses before the app sees them (a request line or
header over its limits, a malformed request) in the kit's one JSON error shape instead of gunicorn's HTML page."""
from __future__ import annotations

import json
import uuid

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from . import logs

log = logs.get("http")

# gunicorn's statuses for what it refuses itself (gunicorn.workers.base.Worker.handle_error), as error codes.
CODES = {400: "bad_request", 403: "forbidden", 414: "request_line_too_long", 417: "expectation_failed",
         431: "request_headers_too_large", 500: "internal_error", 501: "not_implemented"}


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """What ``gunicorn.util.write_error`` writes, as ``{"error": {"code", "message", "details"}}``, with a fresh
    correlation id (no request was read to take one from) in its header and in the log line that records it."""
    code = CODES.get(status_int, "bad_request")
    correlation_id = uuid.uuid4().hex
    log.warning("request refused before the app", extra={"fields": {
        "status": status_int, "code": code, "reason": mesg or reason, "correlation_id": correlation_id}})
    body = json.dumps({"error": {"code": code, "message": mesg or reason, "details": []}}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"X-Correlation-Id: {correlation_id}\r\nContent-Length: {len(body)}\r\n\r\n").encode("latin1")
    util.write_nonblock(sock, head + body)


class JsonErrorWorker(ThreadWorker):
    """``gthread`` with JSON error pages. gunicorn's ``handle_error`` maps each refusal to its status and message and
    then calls ``gunicorn.util.write_error``; this worker process points that one function at ``write_json_error``."""

    def init_process(self):
        util.write_error = write_json_error
        super().init_process()
