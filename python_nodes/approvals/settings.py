"""Approval settings that are not (yet) fields of the shared ``Config``; read from the same ``KIT_*`` variables."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields

from ..config import PREFIX, ConfigError, coerce


@dataclass(frozen=True)
class ApprovalSettings:
    """Link lifetime, approval lifetime and SMTP; each ``name`` comes from ``Config.name`` or ``KIT_NAME``."""

    link_ttl_hours: float = 72.0
    approval_ttl_hours: float = 168.0
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "Odoo Ops Kit <approvals@localhost>"
    smtp_timeout: float = 10.0

    @classmethod
    def from_config(cls, config, environ=None) -> "ApprovalSettings":
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            if hasattr(config, f.name):
                values[f.name] = getattr(config, f.name)
                continue
            raw = environ.get(PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = coerce(f.name, f.type, raw)
        settings = cls(**values)
        if settings.link_ttl_hours <= 0 or settings.approval_ttl_hours <= 0:
            raise ConfigError("KIT_LINK_TTL_HOURS and KIT_APPROVAL_TTL_HOURS must be positive")
        return settings

