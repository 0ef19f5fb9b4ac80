"""Render credential templates (``n8n/credentials.example/*.json``) with values from the environment."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .paths import CREDENTIALS_DIR

# ${VAR} is replaced by text; a value that is exactly ${VAR:int}, ${VAR:bool} or ${VAR:notbool} becomes a number,
# a boolean or the boolean's negation (n8n's SMTP credential asks "disable STARTTLS?", the kit "use STARTTLS?").
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::(int|bool|notbool))?\}")
# Variables a template may leave empty (an SMTP sink without login; a boolean left empty is false); all others
# must be set and non-empty.
OPTIONAL = ("KIT_SMTP_USER", "KIT_SMTP_PASSWORD", "KIT_SMTP_STARTTLS")


class MissingVariables(RuntimeError):
    """Some ``${VAR}`` a credential template needs is unset or empty: refuse rather than import a blank secret."""


def templates(folder: Path = CREDENTIALS_DIR) -> list[dict]:
    """Every credential template, sorted by file name; each is ``{id, name, type, data}``."""
    found = []
    for path in sorted(folder.glob("*.json")):
        body = json.loads(path.read_text())
        for key in ("id", "name", "type", "data"):
            if key not in body:
                raise ValueError(f"{path}: credential template lacks {key!r}")
        found.append(body)
    return found


def variables(folder: Path = CREDENTIALS_DIR) -> list[str]:
    """The environment variables the templates need, sorted."""
    return sorted({m[0] for t in templates(folder) for m in PLACEHOLDER.findall(json.dumps(t["data"]))})


def render(environ: dict | None = None, folder: Path = CREDENTIALS_DIR) -> list[dict]:
    """The templates with every ``${VAR}`` replaced; raises ``MissingVariables`` naming all that are missing."""
    environ = os.environ if environ is None else environ
    missing = sorted(name for name in variables(folder) if not environ.get(name) and name not in OPTIONAL)
    if missing:
        raise MissingVariables("set these environment variables for the n8n credentials: " + ", ".join(missing))

    def fill(value):
        if isinstance(value, str):
            whole = PLACEHOLDER.fullmatch(value)
            if whole and whole.group(2):
                return _typed(whole.group(1), environ.get(whole.group(1), ""), whole.group(2))
            return PLACEHOLDER.sub(lambda m: environ.get(m.group(1), ""), value)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return [{**t, "data": fill(t["data"])} for t in templates(folder)]


def _typed(name: str, raw: str, kind: str):
    try:
        if kind == "int":
            return int(raw)
        if raw.lower() not in ("", "1", "0", "true", "false", "yes", "no"):
            raise ValueError(raw)
        return (raw.lower() in ("1", "true", "yes")) != (kind == "notbool")
    except ValueError:
        raise MissingVariables(f"{name}={raw!r} is not a valid {kind}") from None
