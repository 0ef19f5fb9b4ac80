"""gunicorn's threaded worker, answering the requests gunicorn refuses before the app sees them (a request line or
header over its limits, a malformed request) in the kit's one JSON error shape instead of gunicorn's HTML page."""
from __future__ import annotations

import json

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

# gunicorn's statuses for what it refuses itself (gunicorn.workers.base.Worker.handle_error), as error codes.
CODES = {400: "bad_request", 403: "forbidden", 414: "request_line_too_long", 417: "expectation_failed",
         431: "request_headers_too_large", 500: "internal_error", 501: "not_implemented"}


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """What ``gunicorn.util.write_error`` writes, as ``{"error": {"code", "message", "details"}}``."""
    body = json.dumps({"error": {"code": CODES.get(status_int, "bad_request"), "message": mesg or reason,
                                 "details": []}}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin1")
    util.write_nonblock(sock, head + body)


class JsonErrorWorker(ThreadWorker):
    """``gthread`` with JSON error pages. gunicorn's ``handle_error`` maps each refusal to its status and message and
    then calls ``gunicorn.util.write_error``; this worker process points that one function at ``write_json_error``."""

    def init_process(self):
        util.write_error = write_json_error
        super().init_process()
