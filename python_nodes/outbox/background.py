"""Start the outbox dispatcher thread in each worker process (leases keep processes from double-sending)."""
import threading

from . import service


def start(app) -> threading.Event:
    config = app.extensions["kit.config"]
    stop = app.extensions["kit.db"].closed
    if config.outbox_enabled and config.n8n_webhook_base:
        thread = threading.Thread(target=service.run_dispatcher, name="outbox",
                                  args=(app.extensions["kit.db"], config, stop), daemon=True)
        thread.start()
    return stop
