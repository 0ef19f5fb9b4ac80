"""Run ``scripts/mail_sink.py`` (aiosmtpd) as a subprocess on free ports: ``with mail_sink_server() as mail: ...``."""
from __future__ import annotations

import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from scripts.procs import ROOT, free_port, python, spawn, stop, wait_until_up


class MailSink:
    def __init__(self, smtp_port: int, http_url: str):
        self.smtp_host = "127.0.0.1"
        self.smtp_port = smtp_port
        self.url = http_url

    def messages(self) -> list[dict]:
        return requests.get(self.url + "/messages", timeout=5).json()

    def reset(self) -> None:
        requests.post(self.url + "/reset", timeout=5).raise_for_status()

    def wait_for(self, predicate, timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages()
            if predicate(found):
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"mail sink never matched; last subjects: {[m['subject'] for m in found]}")
            time.sleep(0.1)


@contextmanager
def mail_sink_server():
    folder = Path(tempfile.mkdtemp(prefix="kit-mail-"))
    smtp_port, http_port = free_port(), free_port()
    log_path = folder / "mail_sink.log"
    proc = spawn([python(), str(ROOT / "scripts" / "mail_sink.py"), "--smtp-port", str(smtp_port),
                  "--http-port", str(http_port)], {}, log_path)
    url = f"http://127.0.0.1:{http_port}"
    try:
        wait_until_up(url + "/health", proc, log_path=log_path)
        yield MailSink(smtp_port, url)
    finally:
        stop(proc)
