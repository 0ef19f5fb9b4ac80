"""Who may approve what: approvers (Slack user id, email, roles, authority limit) and roles (SLA, escalation) as data."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

EXAMPLE_FILE = Path(__file__).resolve().parent / "approvers.example.json"
SCHEMA_NAME = "approval-approvers"
DEFAULT_SLA_MINUTES = 240


@dataclass(frozen=True)
class Approver:
    """One person who may decide steps of the roles they hold, up to their authority limit."""

    id: str
    name: str
    email: str
    slack_user_id: str = ""
    roles: tuple[str, ...] = ()
    limit: float = 0.0

    def public(self) -> dict:
        return {"id": self.id, "name": self.name, "email": self.email, "slack_user_id": self.slack_user_id}


@dataclass(frozen=True)
class Role:
    """A role a chain step asks for: how long a step may wait, and who takes over when it is overdue."""

    name: str
    label: str
    sla_minutes: int = DEFAULT_SLA_MINUTES
    escalate_to: str | None = None


@dataclass(frozen=True)
class Directory:
    """The approvers file, indexed for the lookups decisions need."""

    currency: str
    roles: dict[str, Role]
    approvers: tuple[Approver, ...]
    version: int = 1
    _by_id: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        self._by_id.update({a.id: a for a in self.approvers})

    def approver(self, approver_id: str) -> Approver | None:
        return self._by_id.get(approver_id)

    def by_slack_user(self, slack_user_id: str) -> Approver | None:
        return next((a for a in self.approvers if slack_user_id and a.slack_user_id == slack_user_id), None)

    def by_email(self, email: str) -> Approver | None:
        wanted = (email or "").strip().lower()
        return next((a for a in self.approvers if wanted and a.email.lower() == wanted), None)

    def holders(self, role: str) -> list[Approver]:
        return [a for a in self.approvers if role in a.roles]

    def role(self, name: str) -> Role:
        return self.roles.get(name) or Role(name=name, label=name)


def parse(document: dict) -> Directory:
    """Build a directory from the (already schema-validated) approvers document."""
    roles = {name: Role(name=name, label=spec.get("label", name),
                        sla_minutes=int(spec.get("sla_minutes", DEFAULT_SLA_MINUTES)),
                        escalate_to=spec.get("escalate_to"))
             for name, spec in document.get("roles", {}).items()}
    approvers = tuple(Approver(id=a["id"], name=a["name"], email=a["email"], slack_user_id=a.get("slack_user_id", ""),
                               roles=tuple(a.get("roles", ())), limit=float(a.get("limit", 0)))
                      for a in document["approvers"])
    ids = [a.id for a in approvers]
    if len(ids) != len(set(ids)):
        raise ValueError("approver ids must be unique")
    slack_ids = [a.slack_user_id for a in approvers if a.slack_user_id]
    if len(slack_ids) != len(set(slack_ids)):
        raise ValueError("Slack user ids must be unique: a click must map to exactly one approver")
    for role in roles.values():
        if role.escalate_to and role.escalate_to not in roles:
            raise ValueError(f"role {role.name!r} escalates to unknown role {role.escalate_to!r}")
    return Directory(currency=document["currency"], roles=roles, approvers=approvers,
                     version=int(document.get("version", 1)))


def load(path: str | Path | None = None) -> Directory:
    """Read, validate and parse the approvers file (the bundled example when no path is configured)."""
    from ..contracts import validate

    document = json.loads(Path(path or EXAMPLE_FILE).read_text())
    validate(SCHEMA_NAME, document)
    return parse(document)
