#!/usr/bin/env python3
"""A local SMTP sink (aiosmtpd) that keeps every message and serves them as JSON over HTTP, for tests and demos.

    python scripts/mail_sink.py --smtp-port 1025 --http-port 8025

HTTP: GET /health, GET /messages (oldest first: id, from, to, subject, text, html, headers), POST /reset.
"""
from __future__ import annotations

import argparse
import email
import email.policy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


class Inbox:
    """Every accepted message, parsed once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages: list[dict] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        with self.lock:
            self.messages.append({
                "id": len(self.messages) + 1, "received_at": time.time(),
                "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                "from": str(parsed.get("From", "")), "to": str(parsed.get("To", "")),
                "subject": str(parsed.get("Subject", "")),
                "text": text.get_content() if text is not None else "",
                "html": html.get_content() if html is not None else "",
                "headers": {k: str(v) for k, v in parsed.items()},
            })
        return "250 Message accepted for delivery"


def http_handler(inbox: Inbox):
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, data) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/health":
                self._reply(200, {"ok": True})
            elif path == "/messages":
                with inbox.lock:
                    self._reply(200, list(inbox.messages))
            else:
                self._reply(404, {"error": "not_found"})

        def do_POST(self):
            if self.path.split("?")[0] == "/reset":
                with inbox.lock:
                    inbox.messages.clear()
                self._reply(200, {"ok": True})
            else:
                self._reply(404, {"error": "not_found"})

        def log_message(self, *args):
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    args = parser.parse_args()
    inbox = Inbox()
    controller = Controller(inbox, hostname=args.host, port=args.smtp_port)
    controller.start()
    server = ThreadingHTTPServer((args.host, args.http_port), http_handler(inbox))
    print(f"mail sink: smtp {args.host}:{args.smtp_port}, http http://{args.host}:{args.http_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
