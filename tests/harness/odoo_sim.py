"""Start the Odoo simulator as a real subprocess on a free port for tests (see scripts/odoo_sim for its API)."""

import contextlib
import os
import selectors
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0
READY_LINE_PREFIX = "odoo_sim listening on "


@dataclass(frozen=True)
class SimInfo:
    """Where the simulator answers and how to log in (admin has full access; viewer is read-only)."""

    url: str
    db: str = "odoo"
    login: str = "admin"
    password: str = "admin"
    uid: int = 2
    readonly_login: str = "viewer"
    readonly_password: str = "viewer"

    @property
    def host(self):
        return self.url.split("://", 1)[1].rsplit(":", 1)[0]

    @property
    def port(self):
        return int(self.url.rsplit(":", 1)[1])

    def control(self, method, path, **kwargs):
        """Call a /_sim/ test control, e.g. sim.control("POST", "config", json={"webhook_repeat": 5})."""
        response = requests.request(method, f"{self.url}/_sim/{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()


@contextlib.contextmanager
def odoo_sim_server(seed=0, env=None):
    """Run `python -m scripts.odoo_sim --port 0`, wait until it answers, yield SimInfo, then stop it."""
    log_file = tempfile.NamedTemporaryFile(prefix="odoo_sim-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.odoo_sim", "--port", "0", "--seed", str(seed)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=log_file, text=True,
        env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = _wait_for_url(process, log_file.name)
        _wait_healthy(url, process, log_file.name)
        yield SimInfo(url=url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
        log_file.close()
        os.unlink(log_file.name)


def _wait_for_url(process, log_path):
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if selector.select(timeout=0.2):
                line = process.stdout.readline()
                if line.startswith(READY_LINE_PREFIX):
                    return line[len(READY_LINE_PREFIX):].split()[0]
    finally:
        selector.close()
    raise RuntimeError(f"odoo_sim did not start; log:\n{Path(log_path).read_text()}")


def _wait_healthy(url, process, log_path):
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if requests.get(f"{url}/_sim/health", timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.05)
    raise RuntimeError(f"odoo_sim not healthy at {url}; log:\n{Path(log_path).read_text()}")
