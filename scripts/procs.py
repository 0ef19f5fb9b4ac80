"""Start local server processes (workers, stand-ins, the simulator): free ports, wait until they answer, stop them."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
WORKERS_APP = "python_nodes.app:create_app()"  # gunicorn's app target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 30.0, log_path: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text()[-3000:] if log_path and log_path.exists() else ""
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered:\n{tail}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def wait_for(predicate, timeout: float, interval: float = 0.5, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy (returned), or raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; closes the log file ``spawn`` opened."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log = getattr(proc, "log_file", None)
    if log is not None:
        log.close()


def start_workers(env: dict, port: int, folder: Path, name: str = "workers", health: str = "/healthz",
                  app: str = WORKERS_APP) -> subprocess.Popen:
    """gunicorn serving the workers ``app`` on 127.0.0.1:``port`` (2 processes x 4 threads unless ``env`` says
    otherwise), its log and Prometheus files in ``folder``; returns once ``health`` answers."""
    prometheus = folder / f"prom-{name}"
    prometheus.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"{name}.log"
    settings = {"KIT_BIND": f"127.0.0.1:{port}", "KIT_WORKERS": "2", "KIT_THREADS": "4", "KIT_LOG_LEVEL": "WARNING",
                "PROMETHEUS_MULTIPROC_DIR": str(prometheus), **env}
    proc = spawn([python(), "-m", "gunicorn", "-c", str(ROOT / "python_nodes" / "gunicorn_conf.py"), app],
                 settings, log_path)
    try:
        wait_until_up(f"http://127.0.0.1:{port}{health}", proc, log_path=log_path)
    except BaseException:
        stop(proc)
        raise
    return proc


def python() -> str:
    return sys.executable


def spawn(args: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    """Start ``args`` in the checkout with ``env`` added, output appended to ``log_path``."""
    log = open(log_path, "ab")
    proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    proc.log_file = log
    return proc
