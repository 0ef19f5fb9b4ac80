"""Throughput of POST /v1/events (fresh keys) against a trivial endpoint on the same gunicorn, same run.

Prints requests/s for both and their ratio, per store backend. Targets: ratio >= 0.8 on SQLite, >= 0.7 on PostgreSQL.
Usage: .venv/bin/python bench/ingest.py [--seconds 5] [--clients 8] [--rounds 3] [--backends sqlite,postgresql]
"""
from __future__ import annotations

import argparse
import itertools
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
from tests.harness.workers import workers_server  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
# Measured as deployed: production mode (no response self-checks), secrets set, request logging at WARNING.
PRODUCTION = {"KIT_ENV": "production", "KIT_LOG_LEVEL": "WARNING", "KIT_WEBHOOK_SECRET": "bench",
              "KIT_API_TOKEN": "bench", "KIT_N8N_TOKEN": "bench", "KIT_SLACK_SIGNING_SECRET": "bench",
              "KIT_APPROVERS_FILE": str(Path(__file__).resolve().parents[1] / "python_nodes/approvals/approvers.example.json")}
_counter = itertools.count(1)


def webhook() -> dict:
    order_id = next(_counter)
    return {"_action": "Kit: sale order confirmed(#12)", "_id": order_id, "_model": "sale.order", "id": order_id,
            "amount_total": 1250.0, "name": f"S{order_id:06d}", "partner_id": 7, "state": "sale",
            "write_date": "2026-11-20 09:15:02"}


def measure(send, seconds: float, clients: int) -> float:
    """Requests per second that ``clients`` threads complete in ``seconds``; every answer must be a success."""
    stop = time.monotonic() + seconds
    counts = [0] * clients
    failures = []

    def run(slot: int):
        session = requests.Session()
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


def bench_backend(name: str, database_url: str, args) -> tuple[float, float]:
    with workers_server(PRODUCTION, database_url=database_url, workers=args.workers, threads=args.threads) as base:
        trivial = lambda s: s.get(f"{base}/healthz", timeout=10)  # noqa: E731
        ingest = lambda s: s.post(f"{base}/v1/events", params={"token": "bench"}, json=webhook(),  # noqa: E731
                                  timeout=10)
        measure(trivial, 1, args.clients)  # warm up both paths
        measure(ingest, 1, args.clients)
        trivial_rates, ingest_rates = [], []
        for _ in range(args.rounds):  # interleave so machine noise hits both alike
            trivial_rates.append(measure(trivial, args.seconds, args.clients))
            ingest_rates.append(measure(ingest, args.seconds, args.clients))
    return statistics.median(trivial_rates), statistics.median(ingest_rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    targets = {"sqlite": 0.8, "postgresql": 0.7}
    print(f"{'backend':<11} {'trivial req/s':>14} {'ingest req/s':>13} {'ratio':>6} {'target':>7}")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            folder = tempfile.mkdtemp(prefix="kit-bench-")
            trivial, ingest = bench_backend(backend, f"sqlite:///{folder}/kit.sqlite3", args)
        else:
            name = "kit_bench_" + uuid.uuid4().hex[:8]
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                trivial, ingest = bench_backend(backend, f"postgresql://postgres@127.0.0.1:5432/{name}", args)
            finally:
                with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        ratio = ingest / trivial
        verdict = "ok" if ratio >= targets[backend] else "BELOW"
        print(f"{backend:<11} {trivial:>14.0f} {ingest:>13.0f} {ratio:>6.2f} {targets[backend]:>6.2f} {verdict}")


if __name__ == "__main__":
    main()
