"""A local HTTP endpoint that records what it receives and can refuse on demand (a stand-in for n8n's webhook)."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self):
        self.received: list[dict] = []
        self.refuse_with: int | None = None  # answer this status instead of 200 while set
        self.starting_up = False  # answer like n8n while it migrates: a text 200 for any path
        self.answering = threading.Event()  # clear it to hold every answer (a slow n8n) until it is set again
        self.answering.set()
        self.answer = None  # a function of the posted JSON body that gives the JSON answer (default {"ok": true})
        self.lock = threading.Lock()
        self.url = ""

    def bodies(self) -> list[dict]:
        with self.lock:
            return [r["body"] for r in self.received if r["status"] == 200]

    def events(self) -> list[dict]:
        """The envelopes of accepted posts, a batch's (a JSON array) one by one."""
        return _one_by_one(self.bodies())

    def posted(self) -> list[dict]:
        """The envelopes of every post, however it was answered, a batch's one by one."""
        with self.lock:
            return _one_by_one([r["body"] for r in self.received])


def _one_by_one(bodies: list) -> list[dict]:
    return [event for body in bodies for event in (body if isinstance(body, list) else [body])]


def _decode(raw: bytes, content_type: str):
    """JSON bodies come back parsed; anything else (a form-encoded Slack callback, say) as text."""
    if content_type.startswith("application/json"):
        return json.loads(raw or b"null")
    return raw.decode()


@contextmanager
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = state.refuse_with or 200
            starting_up = state.starting_up
            posted = _decode(raw, self.headers.get("Content-Type", ""))
            with state.lock:
                state.received.append({"path": self.path, "headers": dict(self.headers),
                                       "status": 0 if starting_up else status, "body": posted})
            state.answering.wait(60)
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8" if starting_up else "application/json")
            self.end_headers()
            if starting_up:
                self.wfile.write(b"n8n is starting up. Please wait")
            else:
                self.wfile.write(json.dumps(state.answer(posted) if state.answer else {"ok": True}).encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
