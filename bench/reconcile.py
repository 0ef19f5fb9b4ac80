"""Benchmark the missed-event sweep: 100,000 confirmed orders in the Odoo simulator, none delivered by webhook.

Run: ``.venv/bin/python bench/reconcile.py [--orders 100000] [--batch-size 1000] [--database-url postgresql://...]``.
Starts the simulator and one gunicorn worker process, bulk-seeds the orders through ``/_sim/bulk/sale.order``,
runs ``POST /v1/reconcile/missed-events`` once, and prints records/s and the worker's peak RSS growth
(targets: >= 2,000 records/s, < 100 MB). A second run shows the cost of a sweep that finds nothing new.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.odoo_sim import odoo_sim_server  # noqa: E402
from scripts.procs import free_port, start_workers, stop  # noqa: E402

TARGET_RATE = 2000.0
TARGET_RSS_MB = 100.0
BULK_CHUNK = 10_000


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def worker_pid(master: int, timeout: float = 10.0) -> int:
    """The single gunicorn worker process under ``master``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


class PeakSampler(threading.Thread):
    """Samples a process's RSS every 20 ms and keeps the highest value."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, rss_kb(pid), threading.Event()

    def run(self):
        while not self.done.wait(0.02):
            self.peak = max(self.peak, rss_kb(self.pid))


def sweep(url: str, body: dict) -> tuple[dict, float]:
    started = time.perf_counter()
    response = requests.post(url + "/v1/reconcile/missed-events", json=body, timeout=3600)
    response.raise_for_status()
    return response.json(), time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    with odoo_sim_server() as sim:
        started = time.perf_counter()
        for offset in range(0, args.orders, BULK_CHUNK):
            sim.control("POST", "bulk/sale.order", json={"count": min(BULK_CHUNK, args.orders - offset),
                                                          "state": "sale"})
        print(f"seeded {args.orders} confirmed orders in {time.perf_counter() - started:.1f} s", flush=True)

        folder = Path(tempfile.mkdtemp(prefix="kit-bench-"))
        port = free_port()
        env = {"KIT_WORKERS": "1", "KIT_THREADS": "2",
               "KIT_DATABASE_URL": args.database_url or f"sqlite:///{folder}/kit.sqlite3",
               "KIT_ODOO_URL": sim.url, "KIT_ODOO_DB": sim.db, "KIT_ODOO_USER": sim.login,
               "KIT_ODOO_PASSWORD": sim.password, "KIT_OUTBOX_ENABLED": "false"}
        proc = start_workers(env, port, folder)
        url = f"http://127.0.0.1:{port}"
        try:
            pid = worker_pid(proc.pid)
            # Warm up: Odoo login, schema caches, one record swept (the watermark keeps its place).
            warm, _ = sweep(url, {"batch_size": 1, "max_batches": 1})
            baseline = rss_kb(pid)
            sampler = PeakSampler(pid)
            sampler.start()
            result, elapsed = sweep(url, {"batch_size": args.batch_size})
            sampler.done.set()
            sampler.join()
            totals = result["totals"]
            rate = totals["scanned"] / elapsed
            growth_mb = (sampler.peak - baseline) / 1024
            print(f"first sweep: scanned {totals['scanned']} ingested {totals['ingested']} "
                  f"already {totals['already_recorded']} in {elapsed:.1f} s "
                  f"(+{warm['totals']['ingested']} in warm-up)")
            print(f"records/s: {rate:,.0f} (target >= {TARGET_RATE:,.0f})")
            print(f"worker RSS: baseline {baseline / 1024:.1f} MB, peak {sampler.peak / 1024:.1f} MB, "
                  f"growth {growth_mb:.1f} MB (target < {TARGET_RSS_MB:.0f} MB)")
            again, elapsed2 = sweep(url, {"batch_size": args.batch_size})
            print(f"second sweep: scanned {again['totals']['scanned']} ingested {again['totals']['ingested']} "
                  f"in {elapsed2:.2f} s")
            ok = rate >= TARGET_RATE and growth_mb < TARGET_RSS_MB and again["totals"]["ingested"] == 0
            print("PASS" if ok else "BELOW TARGET", flush=True)
            return 0 if ok else 1
        finally:
            stop(proc)


if __name__ == "__main__":
    sys.exit(main())
