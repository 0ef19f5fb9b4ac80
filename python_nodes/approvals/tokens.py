"""Bearer secrets for approval links and Slack buttons: random, stored only as SHA-256 digests, single-use."""
from __future__ import annotations

import hashlib
import re
import secrets

# 32 random bytes = 256 bits, well above the 128 the design asks for; urlsafe so it fits a path segment.
TOKEN_BYTES = 32
LINK = "link"    # an email link: GET shows, POST decides
SLACK = "slack"  # the value of a Slack button; the clicking Slack user must be the bound approver

_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def mint() -> str:
    """A fresh secret; the caller keeps it only long enough to send it."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    """What the store keeps: a leak of the table does not leak usable links."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def well_formed(token: str) -> bool:
    """Cheap shape check, so garbage never reaches the database."""
    return bool(token) and bool(_SHAPE.match(token))
