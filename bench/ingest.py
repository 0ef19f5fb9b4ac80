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
Below the ratios it prints where each request's time went (Linux /proc, medians over the rounds): CPU of the gunicorn
processes (user and system), CPU of PostgreSQL's server processes, and what the machine left idle, per request.
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


TICK = os.sysconf("SC_CLK_TCK")
CPU_COLUMNS = ("workers user", "workers system", "database", "idle")


def cpu_seconds() -> dict:
    """CPU seconds used so far per process (``{pid: (column, user, system)}``: this bench's descendants, i.e. its
    gunicorn, as workers; PostgreSQL's server processes as the database) and the machine's idle seconds."""
    parents, processes = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # exited meanwhile
            continue
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        parents[int(entry)] = int(fields[1])
        processes[int(entry)] = (name, int(fields[11]) / TICK, int(fields[12]) / TICK)
    found = {}
    for pid, (name, user, system) in processes.items():
        ancestor = parents.get(pid)
        while ancestor not in (None, 0, 1, os.getpid()):
            ancestor = parents.get(ancestor)
        if ancestor == os.getpid():
            found[pid] = ("workers", user, system)
        elif name == "postgres":
            found[pid] = ("database", user, system)
    cpu = Path("/proc/stat").read_text().split()  # "cpu user nice system idle iowait ..."
    return {"processes": found, "idle": (int(cpu[4]) + int(cpu[5])) / TICK}


def cpu_per_request(before: dict, after: dict, requests_done: float) -> dict[str, float]:
    """Microseconds per request in each of ``CPU_COLUMNS`` between two ``cpu_seconds()`` (a process that exited in
    between is left out, one that started counts from zero, so a column can only undercount)."""
    spent = dict.fromkeys(CPU_COLUMNS, 0.0)
    for pid, (column, user, system) in after["processes"].items():
        _, user_before, system_before = before["processes"].get(pid, (column, 0.0, 0.0))
        if column == "workers":
            spent["workers user"] += user - user_before
            spent["workers system"] += system - system_before
        else:
            spent["database"] += user + system - user_before - system_before
    spent["idle"] = after["idle"] - before["idle"]
    return {column: max(0.0, seconds) / requests_done * 1e6 for column, seconds in spent.items()}


def with_cpu(measure):
    """``measure(seconds)`` that also answers the CPU spent per request (``cpu_per_request``)."""
    def measured(seconds: float) -> tuple[float, dict[str, float]]:
        before = cpu_seconds()
        started = time.monotonic()
        rate = measure(seconds=seconds)
        return rate, cpu_per_request(before, cpu_seconds(), rate * (time.monotonic() - started))
    return measured


def bench_backend(database_url: str, args) -> dict[str, tuple[float, float, float, dict]]:
    """``{connection mode: (trivial req/s, ingest req/s, ratio, cpu)}`` on one gunicorn: the rates' medians over
    the rounds, the median of each round's ratio (its two measures ran back to back, so a slow spell of the
    machine weighs on both sides of it), and ``cpu``: ``{"trivial"|"ingest": {column: median us per request}}``."""
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
            trivial, ingest = with_cpu(trivial), with_cpu(ingest)
            trivial(1)  # warm up both paths
            ingest(1)
            runs = {"trivial": [], "ingest": []}
            for _ in range(args.rounds):  # interleave so machine noise hits both alike
                runs["trivial"].append(trivial(args.seconds))
                runs["ingest"].append(ingest(args.seconds))
            rates = {endpoint: [rate for rate, _ in found_runs] for endpoint, found_runs in runs.items()}
            cpu = {endpoint: {column: statistics.median(spent[column] for _, spent in found_runs)
                              for column in CPU_COLUMNS} for endpoint, found_runs in runs.items()}
            found[mode] = (statistics.median(rates["trivial"]), statistics.median(rates["ingest"]),
                           statistics.median(i / t for t, i in zip(rates["trivial"], rates["ingest"])), cpu)
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
    spending = []
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
        for mode, (trivial, ingest, ratio, cpu) in found.items():
            verdict = "ceiling" if args.without_store else "ok" if ratio >= targets[backend] else "BELOW"
            print(f"{backend:<11} {mode:<11} {trivial:>14.0f} {ingest:>13.0f} {ratio:>6.2f} {targets[backend]:>6.2f} "
                  f"{verdict}")
            spending += [(backend, mode, endpoint, spent) for endpoint, spent in cpu.items()]
    print("\nper request, microseconds of CPU time (medians over the rounds; idle: unused time of all cores):")
    print(f"{'backend':<11} {'connections':<11} {'endpoint':<8} " + " ".join(f"{c:>14}" for c in CPU_COLUMNS))
    for backend, mode, endpoint, spent in spending:
        print(f"{backend:<11} {mode:<11} {endpoint:<8} " + " ".join(f"{spent[c]:>14.0f}" for c in CPU_COLUMNS))


if __name__ == "__main__":
    main()
