"""gunicorn takes a connection only into a process with a free thread, and sends kept-alive clients back to the
shared queue while requests wait in a process (python_nodes/gunicorn_worker.py)."""
from __future__ import annotations

import http.client
import socket
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests

from tests.harness.workers import workers_server


@contextmanager
def stuck_request(base: str):
    """A webhook whose body is still on its way: it holds one thread of whichever process took it. ``finish()``
    sends the rest (not JSON: answered 400)."""
    address = urlsplit(base)
    sock = socket.create_connection((address.hostname, address.port))
    sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: kit\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 10\r\n\r\n{")
    time.sleep(0.5)  # accepted and read up to the body by then

    def finish() -> bytes:
        sock.sendall(b"not json!")
        return sock.recv(65536)

    try:
        yield finish
    finally:
        sock.close()


def test_a_process_whose_threads_are_busy_leaves_new_connections_to_the_others(tmp_path):
    with workers_server(workers=2, threads=1, folder=tmp_path) as base, stuck_request(base):
        # Each request is a new connection, as Odoo sends webhooks; the busy process must take none of them.
        for _ in range(12):
            started = time.monotonic()
            assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
            assert time.monotonic() - started < 2


def test_kept_alive_clients_are_told_to_reconnect_while_requests_wait_for_a_thread(tmp_path):
    with workers_server(workers=1, threads=1, folder=tmp_path) as base:
        address = urlsplit(base)
        clients = [http.client.HTTPConnection(address.hostname, address.port, timeout=10) for _ in range(2)]
        for client in clients:  # answered at once: kept alive
            client.request("GET", "/healthz")
            answer = client.getresponse()
            answer.read()
            assert answer.getheader("Connection", "").lower() != "close"
        with stuck_request(base) as finish:
            for client in clients:  # both wait behind the stuck request for the process's one thread
                client.request("GET", "/healthz")
            time.sleep(0.3)
            assert b" 400 " in finish()
            closing = []
            for client in clients:
                answer = client.getresponse()
                answer.read()
                assert answer.status == 200
                closing.append(answer.getheader("Connection", "").lower() == "close")
        # The first answered still had the other waiting behind it; the last had none.
        assert sorted(closing) == [False, True]
        for client in clients:
            client.close()
