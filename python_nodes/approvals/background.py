"""Per-process loops: deliver queued approval side effects, and expire approvals past their lifetime."""
from __future__ import annotations

import threading

from .. import logs
from . import actions
from .outbox import Deliverer
from .routes import EXTENSION

EXPIRY_SWEEP_SECONDS = 30.0

log = logs.get("approvals.background")


def start(app) -> threading.Event:
    config = app.extensions["kit.config"]
    deps: actions.Deps = app.extensions[EXTENSION]
    stop = deps.db.closed
    if config.outbox_enabled:
        deliverer = Deliverer(deps.db, config, deps.settings)
        app.extensions["kit.approvals.deliverer"] = deliverer
        threading.Thread(target=deliverer.loop, args=(stop,), name="approvals-outbox", daemon=True).start()
        threading.Thread(target=_expiry_loop, args=(deps, stop), name="approvals-expiry", daemon=True).start()
    return stop


def _expiry_loop(deps: actions.Deps, stop: threading.Event) -> None:
    while not stop.wait(EXPIRY_SWEEP_SECONDS):
        try:
            actions.expire_due(deps)
        except Exception:  # keep sweeping after a transient database error
            log.exception("approval expiry sweep failed")
