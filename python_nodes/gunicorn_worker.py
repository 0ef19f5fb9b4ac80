"""gunicorn's threaded worker, answering the requests gunicorn refuses before the app sees them (a request line or
header over its limits, a malformed request) in the kit's one JSON error shape instead of gunicorn's HTML page."""
from __future__ import annotations

import json
import threading
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
    """``gthread`` with JSON error pages, which takes a new connection only when one of its threads is free.

    Error pages: gunicorn's ``handle_error`` maps each refusal to its status and message and then calls
    ``gunicorn.util.write_error``; this worker process points that one function at ``write_json_error``.

    Accepting: gthread accepts while it holds fewer than ``worker_connections`` (1000) connections, so a process whose
    threads all wait (on the SQLite write lock, on Odoo) goes on taking connections that then queue behind them,
    while another process sits idle: under a burst of webhooks one process ended up with most of them and the
    workers ran at the speed of one. Here a connection stays in the listening socket's queue, shared by all the
    processes, until one has a thread for it. A kept-alive connection's next request queues in the process holding
    it, so while requests wait there for a thread the answers say ``Connection: close`` (as gunicorn does when it
    keeps too many idle connections): such clients come back through the shared queue and the processes stay even.
    """

    def __init__(self, *args, **kwargs):
        self._running = 0  # requests handed to the thread pool and not finished (counted on the main thread)
        self._waiting = 0  # of those, the ones no thread has started yet
        self._waiting_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    # gunicorn's loop accepts while ``nr_conns < worker_connections``: no room while every thread is busy.
    @property
    def worker_connections(self) -> int:
        return self._most_connections if self._running < self.cfg.threads else 0

    @worker_connections.setter
    def worker_connections(self, value: int) -> None:
        self._most_connections = value

    # gunicorn's ``handle_request`` closes the connection after the answer when ``max_keepalived`` idle ones are kept.
    @property
    def max_keepalived(self) -> int:
        return self._most_keepalived if not self._waiting else 0

    @max_keepalived.setter
    def max_keepalived(self, value: int) -> None:
        self._most_keepalived = value

    def init_process(self):
        util.write_error = write_json_error
        super().init_process()

    def enqueue_req(self, conn):
        self._running += 1
        with self._waiting_lock:
            self._waiting += 1
        super().enqueue_req(conn)

    def handle(self, conn):
        with self._waiting_lock:
            self._waiting -= 1
        return super().handle(conn)

    def finish_request(self, conn, fs):
        self._running -= 1
        super().finish_request(conn, fs)
