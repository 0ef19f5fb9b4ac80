"""Named lifecycle states of an exception case and the transitions allowed between them."""
from __future__ import annotations

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
IN_PROGRESS = "in_progress"
RESOLVED = "resolved"
DISMISSED = "dismissed"

STATES = (OPEN, ACKNOWLEDGED, IN_PROGRESS, RESOLVED, DISMISSED)
# A case in one of these states still "owns" its correlation key: repeats increment it instead of opening another.
ACTIVE_STATES = (OPEN, ACKNOWLEDGED, IN_PROGRESS)
TERMINAL_STATES = (RESOLVED, DISMISSED)

TRANSITIONS = {
    OPEN: (ACKNOWLEDGED, IN_PROGRESS, RESOLVED, DISMISSED),
    ACKNOWLEDGED: (IN_PROGRESS, RESOLVED, DISMISSED),
    IN_PROGRESS: (ACKNOWLEDGED, RESOLVED, DISMISSED),
    RESOLVED: (),
    DISMISSED: (),
}

# Which reason-code list (taxonomy.json "reason_codes") a terminal state draws from.
REASON_LIST_FOR = {RESOLVED: "resolve", DISMISSED: "dismiss"}


def can_move(current: str, target: str) -> bool:
    """True when ``current -> target`` is an allowed transition."""
    return target in TRANSITIONS.get(current, ())


def needs_reason(target: str) -> bool:
    """Closing a case (resolve or dismiss) must say why."""
    return target in TERMINAL_STATES
