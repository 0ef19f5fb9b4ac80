"""One configuration object for the workers, read from environment variables prefixed ``KIT_``."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

PREFIX = "KIT_"
DEVELOPMENT = "development"
PRODUCTION = "production"

# Counts that make no sense below one (the outbox would never send).
AT_LEAST_ONE = ("outbox_batch", "outbox_concurrency", "outbox_events_per_post")
# The most events one hand-over call takes (POST /v1/orders/release/handovers).
MAX_EVENTS_PER_POST = 100
# Settings that must be set explicitly in production: the workers refuse to start without them.
PRODUCTION_SECRETS = ("webhook_secret", "api_token", "n8n_token", "slack_signing_secret")


class ConfigError(RuntimeError):
    """The configuration cannot be used (missing secret in production, malformed value)."""


@dataclass(frozen=True)
class Config:
    """Settings of the workers; each field ``name`` is read from ``KIT_NAME``."""

    env: str = DEVELOPMENT
    database_url: str = "sqlite:///.runtime/kit.sqlite3"
    db_pool_size: int = 8
    max_body_bytes: int = 256 * 1024
    log_level: str = "INFO"
    # Shared secret Odoo puts in the webhook URL (?token=) and n8n sends as X-Kit-Token.
    webhook_secret: str = ""
    # Token n8n (and any other caller) sends as X-Kit-Token to the /v1 API; empty = open (development only).
    api_token: str = ""
    # Token the workers send to n8n's kit webhooks (Header Auth credential "Kit workers").
    n8n_token: str = ""
    slack_signing_secret: str = ""
    slack_bot_token: str = ""
    slack_api_url: str = "https://slack.com/api"
    public_url: str = "http://127.0.0.1:8080"
    idempotency_retention_hours: int = 48
    # In-progress claims older than this are considered abandoned (a crashed worker) and may be taken over.
    idempotency_lock_seconds: int = 60
    odoo_url: str = "http://127.0.0.1:8069"
    odoo_db: str = "odoo"
    odoo_user: str = "admin"
    odoo_password: str = ""
    odoo_timeout: float = 10.0
    # Where the outbox forwards new events: n8n's base webhook URL ("" disables forwarding).
    n8n_webhook_base: str = ""
    outbox_enabled: bool = True
    outbox_poll_seconds: float = 0.2
    outbox_batch: int = 50
    # Deliveries each worker process keeps in flight: a hand-over runs while n8n holds the delivery open (it
    # reads and writes Odoo), so one at a time would let a slow Odoo throttle the whole backlog; each also holds
    # a worker thread for the hand-over, so more than half the threads would keep Odoo's webhooks waiting.
    outbox_concurrency: int = 2
    # Most events in one post to a workflow that takes batches (its one execution hands them all over): under a
    # backlog n8n's per-execution cost is paid once per batch instead of once per event.
    outbox_events_per_post: int = 20
    outbox_max_attempts: int = 20
    outbox_backoff_base: float = 0.5
    outbox_backoff_max: float = 60.0
    outbox_timeout: float = 10.0
    # An event a workflow records and handles itself (n8n's direct path, ``handled_by``) is forwarded only if that
    # workflow has not finished it this many seconds later: longer than a hand-over's lease, so a run that died is
    # taken over by the outbox's delivery.
    outbox_handoff_seconds: float = 120.0
    network_file: str = ""
    policy_file: str = ""
    approvers_file: str = ""

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> "Config":
        """Build the config from ``KIT_*`` variables, then apply explicit overrides."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = coerce(f.name, f.type, raw)
        config = replace(cls(), **values, **overrides)
        config.check()
        return config

    @property
    def production(self) -> bool:
        return self.env == PRODUCTION

    def check(self) -> None:
        """Fail closed: production needs every secret, and the env must be known."""
        if self.env not in (DEVELOPMENT, PRODUCTION):
            raise ConfigError(f"KIT_ENV must be {DEVELOPMENT!r} or {PRODUCTION!r}, not {self.env!r}")
        for name in AT_LEAST_ONE:
            if getattr(self, name) < 1:
                raise ConfigError(f"{PREFIX}{name.upper()} must be at least 1, not {getattr(self, name)}")
        if self.outbox_events_per_post > MAX_EVENTS_PER_POST:
            raise ConfigError(f"{PREFIX}OUTBOX_EVENTS_PER_POST must be at most {MAX_EVENTS_PER_POST}, "
                              f"not {self.outbox_events_per_post}")
        if self.production:
            missing = [PREFIX + name.upper() for name in PRODUCTION_SECRETS if not getattr(self, name)]
            if missing:
                raise ConfigError("production mode needs these secrets: " + ", ".join(missing))


def coerce(name: str, kind: str, raw: str):
    """The value of setting ``name`` read from text as ``kind`` (bool, int, float or str)."""
    try:
        if kind == "bool":
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes")
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name.upper()}: cannot read {raw!r} as {kind}") from None
    return raw
