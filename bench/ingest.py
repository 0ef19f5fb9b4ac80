"""Throughput of POST /v1/events (fresh keys) against a trivial endpoint on the same gunicorn, same run.

Prints requests/s for both and their ratio, per store backend and per way of connecting. Targets: ratio >= 0.8 on
SQLite, >= 0.7 on PostgreSQL.
- ``new``: a new connection per request, as Odoo sends its webhooks (``requests.post`` without a session).
- ``keep-alive``: connections reused; this mode opens 4x ``--clients`` connections, more than the workers have
  threads, so requests wait in a process and the workers answer ``Connection: close`` then (gunicorn_worker.py):
  the clients reconnect through the shared queue, which keeps the processes even. ``new`` is the steadier measure.
The load comes from wrk (C, Debian package ``wrk``) when it is installed, so the client's own cost (building JSON
bodies in Python threads) does not weigh on one side of the ratio; otherwise from Python threads (``--client``).
``--without-store`` serves the app with ingest's database transaction skipped (the webhook is still authenticated,
parsed, validated, normalized and answered as a new event): the ratio ingest could reach if recording the event
cost nothing, which tells how much of the gap is the store's and how much the HTTP and JSON layers'.
Usage: .venv/bin/python bench/ingest.py [--seconds 5] [--clients 8] [--rounds 3] [--backends sqlite,postgresql]
                                        [--connections new,keep-alive] [--without-store]
"""
from __future__ import annotations

import argparse
import functools
import itertools
import os
import re
import shutil
import subprocess
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.procs import WORKERS_APP  # noqa: E402
from tests.harness.workers import workers_server  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
# Measured as deployed: production mode (no response self-checks), secrets set, request logging at WARNING, n8n
# configured so each new event also queues its outbox row; the dispatcher is off, so forwarding is not measured.
PRODUCTION = {"KIT_ENV": "production", "KIT_LOG_LEVEL": "WARNING", "KIT_WEBHOOK_SECRET": "bench",
              "KIT_N8N_WEBHOOK_BASE": "http://127.0.0.1:9/webhook", "KIT_OUTBOX_ENABLED": "false",
              "KIT_API_TOKEN": "bench", "KIT_N8N_TOKEN": "bench", "KIT_SLACK_SIGNING_SECRET": "bench",
              "KIT_APPROVERS_FILE": str(Path(__file__).resolve().parents[1] / "python_nodes/approvals/approvers.example.json")}
_counter = itertools.count(1)
APP_WITHOUT_STORE = "bench.ingest:app_without_store()"


def app_without_store():
    """The workers app whose inbox normalizes each event and answers it as new without recording it (no
    transaction); only for ``--without-store``."""
    from python_nodes.app import create_app
    from python_nodes.events import service

    def ingest(db, config, body, *, type_hint=None, handled_by=None):
        return 201, {"event": service.normalize(body, type_hint=type_hint), "duplicate": False}

    service.ingest = ingest
    return create_app()


def webhook() -> dict:
    order_id = next(_counter)
    return {"_action": "Kit: sale order confirmed(#12)", "_id": order_id, "_model": "sale.order", "id": order_id,
            "amount_total": 1250.0, "name": f"S{order_id:06d}", "partner_id": 7, "state": "sale",
            "write_date": "2026-11-20 09:15:02"}


def measure(send, seconds: float, clients: int, keep_alive: bool) -> float:
    """Requests per second that ``clients`` threads complete in ``seconds``; every answer must be a success."""
    stop = time.monotonic() + seconds
    counts = [0] * clients
    failures = []

    def run(slot: int):
        session = requests.Session() if keep_alive else requests
        while time.monotonic() < stop:
            answer = send(session)
            if answer.status_code >= 300:
                failures.append(answer.status_code)
                return
            counts[slot] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"requests failed during the benchmark: {failures[:5]}")
    return sum(counts) / (time.monotonic() - started)


# Each wrk thread numbers its orders from its own offset (and each run from its own), so every key is fresh.
WRK_SCRIPT = r"""
local threads, n, offset = 0, 0, 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args) offset = tonumber(os.getenv("KIT_BENCH_OFFSET")) + tid * 10000000 end
function request()
  n = n + 1
  local id = offset + n
  local body = string.format('{"_action": "Kit: sale order confirmed(#12)", "_id": %d, "_model": "sale.order", '
    .. '"amount_total": 1250.0, "id": %d, "name": "S%06d", "partner_id": 7, "state": "sale", '
    .. '"write_date": "2026-11-20 09:15:02"}', id, id, id % 1000000)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"""
_runs = itertools.count(1)


def measure_wrk(url: str, seconds: float, clients: int, script: str | None, keep_alive: bool) -> float:
    """Requests per second wrk completes with ``clients`` connections; every answer must be a success."""
    command = ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", url]
    if not keep_alive:
        command[1:1] = ["-H", "Connection: close"]
    if script:
        command[1:1] = ["-s", script]
    done = subprocess.run(command, capture_output=True, text=True, check=True,
                          env={**os.environ, "KIT_BENCH_OFFSET": str(next(_runs) * 100000000)})
    if "Non-2xx" in done.stdout or "Socket errors" in done.stdout:
        raise SystemExit(f"requests failed during the benchmark:\n{done.stdout}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))


def bench_backend(database_url: str, args) -> dict[str, tuple[float, float, float]]:
    """``{connection mode: (trivial req/s, ingest req/s, ratio)}`` on one gunicorn: the rates' medians over the
    rounds, and the median of each round's ratio (its two measures ran back to back, so a slow spell of the
    machine weighs on both sides of it)."""
    found = {}
    app = APP_WITHOUT_STORE if args.without_store else WORKERS_APP
    with workers_server(PRODUCTION, database_url=database_url, workers=args.workers, threads=args.threads,
                        app=app) as base:
        script = Path(tempfile.mkdtemp(prefix="kit-wrk-")) / "ingest.lua"
        script.write_text(WRK_SCRIPT)
        for mode in args.connections.split(","):
            keep_alive = mode == "keep-alive"
            clients = args.clients * 4 if keep_alive else args.clients
            if args.client == "wrk":
                trivial = functools.partial(measure_wrk, f"{base}/healthz", clients=clients, script=None,
                                            keep_alive=keep_alive)
                ingest = functools.partial(measure_wrk, f"{base}/v1/events?token=bench", clients=clients,
                                           script=str(script), keep_alive=keep_alive)
            else:
                trivial = functools.partial(measure, lambda s: s.get(f"{base}/healthz", timeout=10),
                                            clients=clients, keep_alive=keep_alive)
                ingest = functools.partial(measure, lambda s: s.post(f"{base}/v1/events", params={"token": "bench"},
                                                                     json=webhook(), timeout=10),
                                           clients=clients, keep_alive=keep_alive)
            trivial(seconds=1)  # warm up both paths
            ingest(seconds=1)
            trivial_rates, ingest_rates = [], []
            for _ in range(args.rounds):  # interleave so machine noise hits both alike
                trivial_rates.append(trivial(seconds=args.seconds))
                ingest_rates.append(ingest(seconds=args.seconds))
            found[mode] = (statistics.median(trivial_rates), statistics.median(ingest_rates),
                           statistics.median(i / t for t, i in zip(trivial_rates, ingest_rates)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python")
    parser.add_argument("--connections", default="new,keep-alive", help="new (as Odoo sends), keep-alive or both")
    parser.add_argument("--without-store", action="store_true", help="skip ingest's database transaction")
    args = parser.parse_args()
    targets = {"sqlite": 0.8, "postgresql": 0.7}
    print(f"load from {args.client}, {args.clients} connections ({args.clients * 4} when kept alive), "
          f"{args.workers} gunicorn workers x {args.threads} threads"
          + (", ingest WITHOUT its store transaction (not a measure of the kit)" if args.without_store else ""))
    print(f"{'backend':<11} {'connections':<11} {'trivial req/s':>14} {'ingest req/s':>13} {'ratio':>6} {'target':>7}")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            folder = tempfile.mkdtemp(prefix="kit-bench-")
            found = bench_backend(f"sqlite:///{folder}/kit.sqlite3", args)
        else:
            name = "kit_bench_" + uuid.uuid4().hex[:8]
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                found = bench_backend(f"postgresql://postgres@127.0.0.1:5432/{name}", args)
            finally:
                with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for mode, (trivial, ingest, ratio) in found.items():
            verdict = "ceiling" if args.without_store else "ok" if ratio >= targets[backend] else "BELOW"
            print(f"{backend:<11} {mode:<11} {trivial:>14.0f} {ingest:>13.0f} {ratio:>6.2f} {targets[backend]:>6.2f} "
                  f"{verdict}")


if __name__ == "__main__":
    main()
