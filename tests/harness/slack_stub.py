"""Run ``scripts/slack_stub.py`` as a subprocess on a free port: ``with slack_stub_server(...) as slack: ...``."""
from __future__ import annotations

import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from scripts.procs import ROOT, free_port, python, spawn, stop, wait_until_up


class SlackStub:
    """Client for the stub's control API."""

    def __init__(self, url: str, bot_token: str, signing_secret: str):
        self.url = url
        self.api_url = url + "/api"
        self.bot_token = bot_token
        self.signing_secret = signing_secret

    def messages(self) -> list[dict]:
        return requests.get(self.url + "/_stub/messages", timeout=5).json()

    def responses(self) -> list[dict]:
        return requests.get(self.url + "/_stub/responses", timeout=5).json()

    def calls(self) -> list[dict]:
        return requests.get(self.url + "/_stub/calls", timeout=5).json()

    def configure(self, **settings) -> None:
        requests.post(self.url + "/_stub/config", json=settings, timeout=5).raise_for_status()

    def click(self, action_id: str, user_id: str, **spec) -> dict:
        """Send the signed block_actions request for a button; returns the target's status/body and the request."""
        answer = requests.post(self.url + "/_stub/click", json={"action_id": action_id, "user_id": user_id, **spec},
                               timeout=30)
        answer.raise_for_status()
        return answer.json()

    def wait_for(self, predicate, what: str = "messages", timeout: float = 15.0) -> list[dict]:
        """Poll ``messages``/``responses`` until ``predicate(list)`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            found = getattr(self, what)()
            if predicate(found):
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"slack stub {what} never matched; last: {found!r}"[:2000])
            time.sleep(0.1)


@contextmanager
def slack_stub_server(*, bot_token: str = "xoxb-test-token", signing_secret: str = "test-signing-secret",
                      interactivity_url: str = "http://127.0.0.1:9/unset"):
    folder = Path(tempfile.mkdtemp(prefix="kit-slack-"))
    port = free_port()
    log_path = folder / "slack_stub.log"
    proc = spawn([python(), str(ROOT / "scripts" / "slack_stub.py"), "--port", str(port), "--bot-token=" + bot_token,
                  "--signing-secret=" + signing_secret, "--interactivity-url", interactivity_url], {}, log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/_stub/health", proc, log_path=log_path)
        yield SlackStub(url, bot_token, signing_secret)
    finally:
        stop(proc)
