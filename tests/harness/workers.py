"""Run the workers as a real gunicorn server for tests: ``with workers_server(env) as url: ...``."""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

from .processes import ROOT, free_port, python, spawn, stop, wait_until_up


@contextmanager
def workers_server(env: dict | None = None, *, workers: int = 2, threads: int = 4, database_url: str | None = None):
    """Start gunicorn with the workers app on a free port; yields the base URL. ``env`` adds ``KIT_*`` settings."""
    folder = Path(tempfile.mkdtemp(prefix="kit-workers-"))
    port = free_port()
    settings = {
        "KIT_BIND": f"127.0.0.1:{port}",
        "KIT_WORKERS": str(workers),
        "KIT_THREADS": str(threads),
        "KIT_DATABASE_URL": database_url or f"sqlite:///{folder}/kit.sqlite3",
        "KIT_LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "prom"),
        **(env or {}),
    }
    log_path = folder / "gunicorn.log"
    proc = spawn([python(), "-m", "gunicorn", "-c", str(ROOT / "python_nodes" / "gunicorn_conf.py"),
                  "python_nodes.app:create_app()"], settings, log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/healthz", proc, log_path=log_path)
        yield url
    finally:
        stop(proc)


