"""Reloading the workers (``kill -HUP`` on gunicorn, as a deploy does) while Odoo sends webhooks loses none of them.

It fails with gunicorn's ``reuse_port`` (a socket per worker process): a stopping worker's queued connections are reset
unless the kernel migrates them (``net.ipv4.tcp_migrate_req=1``), seen here as a dozen resets per run.
"""
from __future__ import annotations

import itertools
import signal
import sqlite3
import threading
import time

import requests

from scripts.procs import free_port, start_workers, stop
from tests.harness.workers import order_confirmed

SENDERS = 8
RELOADS = 4
SECRET = "reload-test-secret"


def test_reloads_during_a_webhook_burst_lose_none(tmp_path):
    port = free_port()
    proc = start_workers({"KIT_WEBHOOK_SECRET": SECRET, "KIT_DATABASE_URL": f"sqlite:///{tmp_path}/kit.sqlite3"},
                         port, tmp_path)
    numbers = itertools.count(1)
    sent, failures = [], []
    stopping = threading.Event()

    def send():
        while not stopping.is_set():
            order_id = next(numbers)
            sent.append(order_id)
            try:  # a new connection each time, as Odoo sends them, and Odoo does not send again
                answer = requests.post(f"http://127.0.0.1:{port}/v1/events", params={"token": SECRET},
                                       json=order_confirmed(order_id), timeout=10)
                if answer.status_code != 201:
                    failures.append(f"order {order_id}: {answer.status_code} {answer.text[:200]}")
            except requests.RequestException as error:
                failures.append(f"order {order_id}: {type(error).__name__}: {error}")

    senders = [threading.Thread(target=send) for _ in range(SENDERS)]
    try:
        for sender in senders:
            sender.start()
        for _ in range(RELOADS):
            time.sleep(0.8)
            proc.send_signal(signal.SIGHUP)  # new workers start; the old ones finish what they hold and stop
        time.sleep(0.8)
    finally:
        stopping.set()
        for sender in senders:
            sender.join()
        stop(proc)
    assert (tmp_path / "workers.log").read_text().count("Handling signal: hup") == RELOADS
    assert len(sent) > 200  # the burst overlapped the reloads
    assert failures == [], failures[:5]
    with sqlite3.connect(tmp_path / "kit.sqlite3") as db:
        recorded = {int(subject.rsplit("/", 1)[1]) for (subject,) in db.execute("SELECT subject FROM events")}
    assert recorded == set(sent)
