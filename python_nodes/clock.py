"""Time in one place: UTC, ISO-8601 text for storage, injectable for tests."""
from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None = None) -> str:
    """UTC ISO-8601 with microseconds and a Z, so stored text sorts as time does."""
    moment = moment or now()
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
