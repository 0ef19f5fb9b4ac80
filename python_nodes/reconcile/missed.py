"""The missed-event sweep: page through Odoo after a watermark and ingest every event the webhooks did not deliver.

Pages are keyset-ordered on ``(write_date, id)`` so memory stays bounded by one batch and no record is skipped
when many share a second. Each missing event goes through the events inbox (``events.service.ingest``), whose
idempotency key makes the sweep safe to repeat and to race a late webhook; the watermark moves only after a
batch's events are committed, so a crash re-reads that batch instead of losing it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .. import clock, logs
from ..events import service as events
from ..events import mapping
from ..events import store as event_store
from . import store
from .stale import m2o_id

log = logs.get("reconcile")

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"
SWEEP_ACTION = "Reconciliation sweep"
ORDER = "write_date asc, id asc"

# Per-model counters in the answer.
COUNTERS = ("scanned", "unmapped", "already_recorded", "ingested", "raced", "rejected", "batches")


def sweep(db, config, odoo, watch: dict, *, models: list[str] | None = None, batch_size: int | None = None,
          max_batches: int | None = None) -> dict:
    """Reconcile every watched model (or the named ones); answer counts per model and in total."""
    batch_size = batch_size or watch["batch_size"]
    results = []
    for spec in watch["models"]:
        if models and spec["model"] not in models:
            continue
        results.append(sweep_model(db, config, odoo, spec, batch_size=batch_size,
                                   overlap=timedelta(seconds=watch["overlap_seconds"]), max_batches=max_batches))
    totals = {name: sum(r[name] for r in results) for name in COUNTERS}
    return {"models": results, "totals": totals}


def sweep_model(db, config, odoo, spec: dict, *, batch_size: int, overlap: timedelta,
                max_batches: int | None = None) -> dict:
    model = spec["model"]
    counts = {"model": model, **{name: 0 for name in COUNTERS}}
    with db.transaction() as tx:
        mark = store.watermark(tx, model)
    # Start ``overlap`` before the watermark: Odoo stamps write_date when a transaction starts, so a record
    # committed after our last read may carry an older stamp. Re-reading it costs one idempotent lookup.
    cursor = (_shift(mark[0], -overlap), 0) if mark else None
    counts["watermark_before"] = mark[0] if mark else None
    fields = sorted(set(spec["fields"]) | {spec["state_field"], "write_date"})
    while max_batches is None or counts["batches"] < max_batches:
        domain = list(spec["domain"]) + _after(cursor)
        rows = odoo.search_read(model, domain, fields, order=ORDER, limit=batch_size)
        if not rows:
            break
        counts["batches"] += 1
        _reconcile_batch(db, config, spec, rows, counts)
        last = rows[-1]
        cursor = (last["write_date"], last["id"])
        with db.transaction() as tx:
            store.advance(tx, model, last["write_date"], last["id"], clock.iso())
        if len(rows) < batch_size:
            break
    with db.transaction() as tx:
        mark = store.watermark(tx, model)
    counts["watermark"] = mark[0] if mark else None
    return counts


def _reconcile_batch(db, config, spec: dict, rows: list[dict], counts: dict) -> None:
    wanted = []
    for row in rows:
        counts["scanned"] += 1
        event_type = spec["events"].get(row.get(spec["state_field"]))
        if event_type is None:
            counts["unmapped"] += 1
            continue
        body = webhook_body(spec["model"], row)
        wanted.append((event_key(event_type, body), event_type, body))
    with db.transaction() as tx:
        recorded = event_store.existing_keys(tx, [key for key, _, _ in wanted if key])
    missing = [(body, event_type) for key, event_type, body in wanted if key not in recorded]
    counts["already_recorded"] += len(wanted) - len(missing)
    # One transaction per batch: the same checks and keys as a webhook, without a commit per event.
    for status, answer in events.ingest_many(db, config, missing, origin=events.ORIGIN_SWEEP):
        if status == 201:
            counts["ingested"] += 1
        elif status == 200:
            counts["already_recorded"] += 1
        elif status == 409:  # the same key claimed by another sweep still running
            counts["raced"] += 1
        else:  # the record cannot become an event (e.g. a field the key needs is empty): report, don't block
            counts["rejected"] += 1
            log.warning("sweep skipped a record", extra={"fields": {"model": spec["model"], "error": answer["error"]}})


def event_key(event_type: str, body: dict) -> str | None:
    """The idempotency key the inbox will give this event, rendered from the events mapping's template.

    Only a shortcut to skip events already recorded without validating each body; the inbox itself still
    decides (a key rendered differently just means the inbox answers "duplicate" instead).
    """
    rule = mapping.HINTED.get(event_type)
    if rule is None:
        return None
    try:
        return rule["key"].format_map(body)
    except (KeyError, IndexError, ValueError):
        return None


def webhook_body(model: str, row: dict) -> dict:
    """The body Odoo's webhook would have sent for this record: many2one as bare ids, like ``read(load=None)``."""
    body = {"_model": model, "_id": row["id"], "_action": SWEEP_ACTION}
    for name, value in row.items():
        if name == "id":
            continue
        body[name] = m2o_id(value) if isinstance(value, (list, tuple)) and len(value) == 2 \
            and isinstance(value[1], str) else value
    return dict(sorted(body.items()))


def _after(cursor) -> list:
    """Odoo domain for records after ``(write_date, id)`` in ``write_date, id`` order."""
    if cursor is None:
        return []
    write_date, record_id = cursor
    return ["|", ["write_date", ">", write_date], "&", ["write_date", "=", write_date], ["id", ">", record_id]]


def _shift(odoo_datetime: str, delta: timedelta) -> str:
    moment = datetime.strptime(odoo_datetime, ODOO_DATETIME) + delta
    return moment.strftime(ODOO_DATETIME)
