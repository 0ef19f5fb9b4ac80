"""Run the real, pinned n8n for tests: ``with n8n_server(env) as n8n: ...`` (fresh user folder, free port)."""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from scripts.n8nkit import bootstrap, paths, runtime
from scripts.n8nkit.api import N8nApi

from scripts.procs import free_port


@dataclass
class N8nInfo:
    """A running n8n: its URL, an API client logged in as owner with an API key, and how to stop/restart it."""

    url: str
    api: N8nApi
    settings: runtime.Settings
    environ: dict
    proc: object = field(repr=False, default=None)

    def webhook(self, path: str) -> str:
        return f"{self.url}/webhook/{path}"

    def stop(self) -> None:
        """Stop n8n (its data stays), e.g. to test what happens while it is down."""
        runtime.stop(self.settings, self.proc)
        self.proc = None

    def start(self) -> None:
        """Start n8n again on the same port and data; active workflows come back with it."""
        self.proc = runtime.spawn(self.settings)
        runtime.wait_ready(self.settings, self.proc)
        from scripts.n8nkit import sync
        sync.wait_for_webhooks(self.url, sync.webhook_paths(sync.read_files(paths.WORKFLOWS_DIR)))


def installed() -> bool:
    return paths.installed()


@contextmanager
def n8n_server(env: dict | None = None, *, bootstrap_kit: bool = True, save_successes: bool = True,
               workers_url: str = "http://127.0.0.1:9", dead_letters_url: str = "", port: int | None = None):
    """Start n8n on a free port with a fresh user folder; bootstrap owner, key, credentials and workflows.
    ``env`` is the kit's environment: the credentials' values and what the workflows read through ``$env``."""
    if not paths.installed():
        raise RuntimeError("n8n is not installed: run scripts/install_n8n.sh (the tests need the real n8n)")
    folder = Path(tempfile.mkdtemp(prefix="kit-n8n-"))
    settings = runtime.Settings(user_folder=folder, port=port or free_port(), broker_port=free_port(), workers_url=workers_url,
                                dead_letters_url=dead_letters_url, save_successes=save_successes,
                                # A stop waits at most 5 s for running executions, then abandons them, as an
                                # n8n that is killed would (the default 30 s only makes tests slower).
                                extra={"N8N_GRACEFUL_SHUTDOWN_TIMEOUT": "5", **runtime.workflow_variables(env or {})})
    proc = runtime.spawn(settings)
    info = N8nInfo(url=settings.base_url, api=N8nApi(settings.base_url), settings=settings, environ=dict(env or {}),
                   proc=proc)
    try:
        runtime.wait_ready(settings, proc)
        if bootstrap_kit:
            info.api = bootstrap.bootstrap(settings, info.environ, log=lambda *_: None)
        else:
            info.api, _ = bootstrap.connect(settings, info.environ)
        yield info
    finally:
        runtime.stop(settings, info.proc)
        shutil.rmtree(folder, ignore_errors=True)
