"""Fixtures: one simulator process per test module (reset before each test) and a local webhook receiver."""

import http.server
import json
import threading
import time

import odoorpc
import pytest

from tests.harness.odoo_sim import odoo_sim_server


@pytest.fixture(scope="module")
def sim_process():
    with odoo_sim_server() as sim:
        yield sim


@pytest.fixture
def sim(sim_process):
    """The simulator, back to its seed data and default knobs."""
    sim_process.control("POST", "reset", json={"seed": 7})
    return sim_process


@pytest.fixture
def odoo(sim):
    """odoorpc logged in as admin, exactly as a user connects to a real Odoo."""
    client = odoorpc.ODOO(sim.host, port=sim.port)
    client.login(sim.db, sim.login, sim.password)
    return client


class Receiver:
    """Records every POST; answers `status` after `delay` seconds."""

    def __init__(self):
        self.requests = []
        self.status = 200
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body.decode()})
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self):
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.close()
