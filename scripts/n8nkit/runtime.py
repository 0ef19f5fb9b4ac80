"""Start and stop the pinned n8n on loopback with its own user folder and database, without a person."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import requests

from .paths import N8N_MAIN, NODE_BIN, NODE_HOME, RUNTIME, installed

DEFAULT_PORT = 5678
START_TIMEOUT = 240.0  # first start runs n8n's migrations; on 2 busy cores that takes a while
STOP_TIMEOUT = 30.0
PID_FILE = "n8n.pid"
LOG_FILE = "n8n.log"
# What the workflows read through $env besides the URLs the settings below give n8n: taken from the kit's own
# environment, as the workers take them (a test checks that every $env name in the workflows is covered).
WORKFLOW_VARIABLES = ("KIT_SLACK_API_URL", "KIT_MAIL_FROM", "KIT_CUSTOMER_SERVICE_EMAIL")


def workflow_variables(environ) -> dict:
    """The ``WORKFLOW_VARIABLES`` set in ``environ``, for an n8n started with a kit environment other than its own."""
    return {name: environ[name] for name in WORKFLOW_VARIABLES if environ.get(name)}


class NotInstalled(RuntimeError):
    """The pinned n8n is not in .runtime/: run scripts/install_n8n.sh first."""


@dataclass
class Settings:
    """How to run one n8n instance; ``environment()`` turns it into n8n's own variables."""

    user_folder: Path = RUNTIME / "n8n-data"
    port: int = DEFAULT_PORT
    # n8n's task broker (Code node runners) listens on its own port; two instances need two ports.
    broker_port: int = 0
    workers_url: str = "http://127.0.0.1:8080"
    # Where the error workflow records dead letters; "" = the workers URL. Point it at a second workers
    # instance so failures are recorded even while the instance n8n normally calls is down.
    dead_letters_url: str = ""
    # "" = SQLite in the user folder; or postgresql://user[:pw]@host:port/db for DB_TYPE=postgresdb.
    database_url: str = ""
    # legacy is ~3x faster than the default vm engine here (DESIGN.md: 46/s vs 16/s on 2.40.7).
    expression_engine: str = "legacy"
    save_successes: bool = True
    # Where the scripts reach n8n's API and webhooks (KIT_N8N_URL), e.g. the team's server for export and import;
    # "" = the instance this kit runs on loopback at ``port``.
    url: str = ""
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ=None, **overrides) -> "Settings":
        """Read ``KIT_N8N_*`` variables (see the report / .env.example), then apply overrides."""
        env = os.environ if environ is None else environ
        values = {}
        if env.get("KIT_N8N_USER_FOLDER"):
            values["user_folder"] = Path(env["KIT_N8N_USER_FOLDER"])
        if env.get("KIT_N8N_PORT"):
            values["port"] = int(env["KIT_N8N_PORT"])
        if env.get("KIT_N8N_BROKER_PORT"):
            values["broker_port"] = int(env["KIT_N8N_BROKER_PORT"])
        if env.get("KIT_WORKERS_URL"):
            values["workers_url"] = env["KIT_WORKERS_URL"]
        if env.get("KIT_DEAD_LETTERS_URL"):
            values["dead_letters_url"] = env["KIT_DEAD_LETTERS_URL"]
        if env.get("KIT_N8N_DATABASE_URL"):
            values["database_url"] = env["KIT_N8N_DATABASE_URL"]
        if env.get("KIT_N8N_EXPRESSION_ENGINE"):
            values["expression_engine"] = env["KIT_N8N_EXPRESSION_ENGINE"]
        if env.get("KIT_N8N_URL"):
            values["url"] = env["KIT_N8N_URL"]
        if env.get("KIT_N8N_SAVE_SUCCESSES"):
            values["save_successes"] = env["KIT_N8N_SAVE_SUCCESSES"].lower() in ("1", "true", "yes")
        values.update(overrides)
        return cls(**values)

    @property
    def local_url(self) -> str:
        """The n8n this kit starts: loopback at ``port``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The n8n the scripts talk to."""
        return self.url.rstrip("/") or self.local_url

    def environment(self) -> dict:
        """n8n's environment: loopback only, no telemetry, the workers' URL for ``$env.KIT_WORKERS_URL``."""
        env = {
            "N8N_USER_FOLDER": str(self.user_folder),
            "N8N_PORT": str(self.port),
            "N8N_LISTEN_ADDRESS": "127.0.0.1",
            "N8N_HOST": "127.0.0.1",
            "N8N_PROTOCOL": "http",
            "WEBHOOK_URL": self.local_url + "/",
            "N8N_EDITOR_BASE_URL": self.local_url + "/",
            # Plain http on loopback: a Secure cookie would never be sent back by the bootstrap client.
            "N8N_SECURE_COOKIE": "false",
            "N8N_DIAGNOSTICS_ENABLED": "false",
            "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
            "N8N_TEMPLATES_ENABLED": "false",
            "N8N_PERSONALIZATION_ENABLED": "false",
            "N8N_HIRING_BANNER_ENABLED": "false",
            "N8N_LOG_LEVEL": os.environ.get("KIT_N8N_LOG_LEVEL", "warn"),
            "N8N_EXPRESSION_ENGINE": self.expression_engine,
            # Workflows read KIT_WORKERS_URL through $env; n8n 2.x blocks $env unless told otherwise.
            "N8N_BLOCK_ENV_ACCESS_IN_NODE": "false",
            "KIT_WORKERS_URL": self.workers_url,
            "KIT_DEAD_LETTERS_URL": self.dead_letters_url or self.workers_url,
            "KIT_N8N_URL": self.local_url,
            "EXECUTIONS_DATA_SAVE_ON_SUCCESS": "all" if self.save_successes else "none",
            "EXECUTIONS_DATA_SAVE_ON_ERROR": "all",
            "EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS": "true",
            "N8N_RUNNERS_ENABLED": "true",
            "N8N_RUNNERS_BROKER_PORT": str(self.broker_port or self.port + 1),
            "GENERIC_TIMEZONE": "UTC",
            "TZ": "UTC",
            "PATH": f"{NODE_HOME / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        env.update(_database_env(self.database_url))
        env.update(self.extra)
        return env


def _database_env(url: str) -> dict:
    if not url:
        return {"DB_TYPE": "sqlite", "DB_SQLITE_POOL_SIZE": "4"}
    parsed = urlparse(url)
    if parsed.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"KIT_N8N_DATABASE_URL must be postgresql://..., not {url!r}")
    env = {"DB_TYPE": "postgresdb", "DB_POSTGRESDB_HOST": parsed.hostname or "127.0.0.1",
           "DB_POSTGRESDB_PORT": str(parsed.port or 5432), "DB_POSTGRESDB_DATABASE": parsed.path.lstrip("/"),
           "DB_POSTGRESDB_USER": parsed.username or "postgres"}
    if parsed.password:
        env["DB_POSTGRESDB_PASSWORD"] = parsed.password
    return env


def command(*args: str) -> list[str]:
    """The argv that runs the pinned n8n CLI with the pinned Node."""
    if not installed():
        raise NotInstalled("n8n is not installed in .runtime/: run scripts/install_n8n.sh")
    return [str(NODE_BIN), str(N8N_MAIN), *args]


def spawn(settings: Settings) -> subprocess.Popen:
    """Start ``n8n start`` in its own process group, logging to the user folder."""
    settings.user_folder.mkdir(parents=True, exist_ok=True)
    with open(settings.user_folder / LOG_FILE, "ab") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(command("start"), env={**os.environ, **settings.environment()}, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, cwd=settings.user_folder)
    (settings.user_folder / PID_FILE).write_text(str(proc.pid))
    return proc


def wait_ready(settings: Settings, proc: subprocess.Popen | None = None, timeout: float = START_TIMEOUT) -> None:
    """Block until n8n's readiness probe answers 200 (database connected, migrations done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"n8n exited with {proc.returncode}; log tail:\n{log_tail(settings)}")
        try:
            if requests.get(settings.local_url + "/healthz/readiness", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"n8n did not become ready in {timeout:.0f} s; log tail:\n{log_tail(settings)}")


def log_tail(settings: Settings, size: int = 4000) -> str:
    path = settings.user_folder / LOG_FILE
    return path.read_text(errors="replace")[-size:] if path.exists() else "(no log)"


def running_pid(settings: Settings) -> int | None:
    """The pid from the pid file when that process is still alive."""
    path = settings.user_folder / PID_FILE
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return None
    return pid


def stop_pid(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM n8n's process group (it shuts down its task runner too), SIGKILL if it lingers."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:  # reap it when it is our child
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop(settings: Settings, proc: subprocess.Popen | None = None) -> None:
    pid = proc.pid if proc is not None else running_pid(settings)
    if pid:
        stop_pid(pid)
        if proc is not None:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
    (settings.user_folder / PID_FILE).unlink(missing_ok=True)
