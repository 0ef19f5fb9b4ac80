"""Retry due exception follow-ups (Odoo write-backs, announcements) from each worker process, every few seconds."""
import threading

from .. import logs
from . import followups
from .policy import default_policy

INTERVAL_SECONDS = 15.0

log = logs.get("exceptions.background")


def start(app) -> threading.Event:
    stop = app.extensions["kit.db"].closed

    def loop():
        while not stop.wait(INTERVAL_SECONDS):
            try:
                followups.run_due(app.extensions["kit.db"], app.extensions["kit.config"], default_policy(),
                                  app.extensions["kit.odoo"])
            except Exception:  # keep the loop alive; the next round retries
                log.exception("follow-up round failed")

    threading.Thread(target=loop, name="exception-followups", daemon=True).start()
    return stop
