"""Structured JSON logs, one object per line, carrying the request's correlation id."""
from __future__ import annotations

import json
import logging
import sys

from flask import g, has_request_context

from . import clock


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": clock.iso(), "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        if has_request_context() and getattr(g, "correlation_id", None):
            entry["correlation_id"] = g.correlation_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str) -> None:
    root = logging.getLogger("kit")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.propagate = False
    root.setLevel(level.upper())


def get(name: str) -> logging.Logger:
    return logging.getLogger("kit." + name)
