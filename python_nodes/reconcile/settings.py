"""The sweeps' data files (watched models, tolerances), validated against their schemas when read."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from ..contracts import problems

HERE = Path(__file__).resolve().parent
WATCH_FILE = HERE / "watch.json"
TOLERANCES_FILE = HERE / "tolerances.json"


class SettingsError(ValueError):
    """A sweep data file is malformed; the sweep must not run with it."""


def read(path: Path, schema: str) -> dict:
    try:
        body = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{path}: {exc}") from None
    found = problems(schema, body)
    if found:
        raise SettingsError(f"{path} breaks {schema}: {found}")
    return body


@lru_cache(maxsize=1)
def watch() -> dict:
    return read(WATCH_FILE, "reconcile-watch")


@lru_cache(maxsize=1)
def tolerances() -> dict:
    return read(TOLERANCES_FILE, "reconcile-tolerances")
