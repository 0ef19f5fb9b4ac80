"""Prometheus metrics; with gunicorn they are aggregated across worker processes (``PROMETHEUS_MULTIPROC_DIR``)."""
from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

REQUESTS = Counter("kit_http_requests_total", "HTTP requests answered", ["method", "endpoint", "status"])
LATENCY = Histogram("kit_http_request_seconds", "HTTP request latency", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
EVENTS = Counter("kit_events_total", "Events taken by POST /v1/events", ["type", "result"])
OUTBOX = Counter("kit_outbox_deliveries_total", "Outbox delivery attempts", ["result"])


def exposition(*collectors) -> tuple[bytes, str]:
    """This process's metrics (under gunicorn: all its processes'), then what ``collectors`` read at this scrape."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    now = CollectorRegistry(auto_describe=False)  # registering reads nothing; collecting at the scrape does
    for collector in collectors:
        now.register(collector)
    return generate_latest(registry) + generate_latest(now), CONTENT_TYPE_LATEST
