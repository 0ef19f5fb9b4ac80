"""Run the workers as a real gunicorn server for tests: ``with workers_server(env) as url: ...``."""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

from scripts.procs import WORKERS_APP, free_port, start_workers, stop


@contextmanager
def workers_server(env: dict | None = None, *, workers: int = 2, threads: int = 4, database_url: str | None = None,
                   folder: Path | None = None, app: str = WORKERS_APP):
    """Start gunicorn with the workers ``app`` on a free port; yields the base URL. ``env`` adds ``KIT_*`` settings;
    its database (unless ``database_url``) and its log ``workers.log`` go in ``folder`` (default: a new one)."""
    folder = folder or Path(tempfile.mkdtemp(prefix="kit-workers-"))
    port = free_port()
    settings = {"KIT_WORKERS": str(workers), "KIT_THREADS": str(threads),
                "KIT_DATABASE_URL": database_url or f"sqlite:///{folder}/kit.sqlite3", **(env or {})}
    proc = start_workers(settings, port, folder, app=app)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def order_confirmed(order_id: int) -> dict:
    """The body Odoo's webhook posts when the kit's automation rule sees sale order ``order_id`` confirmed."""
    return {"_action": "Kit: sale order confirmed(#12)", "_id": order_id, "_model": "sale.order", "id": order_id,
            "state": "sale", "write_date": "2026-11-20 09:15:02"}
