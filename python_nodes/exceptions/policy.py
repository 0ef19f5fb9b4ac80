"""The exception policy as data: taxonomy, severity rules and owner teams, validated and cross-checked at load."""
from __future__ import annotations

import json
import operator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from ..contracts import problems

HERE = Path(__file__).resolve().parent
TAXONOMY_FILE = HERE / "taxonomy.json"
SEVERITY_RULES_FILE = HERE / "severity_rules.json"
TEAMS_FILE = HERE / "teams.json"

LOW, MEDIUM, HIGH, CRITICAL = "low", "medium", "high", "critical"
SEVERITIES = (LOW, MEDIUM, HIGH, CRITICAL)

# Reason codes naming why a severity was chosen (besides the matching rule names).
SEVERITY_EXPLICIT = "severity_explicit"
SEVERITY_TYPE_FLOOR = "severity_type_floor"
SEVERITY_DEFAULT = "severity_default"


class PolicyError(ValueError):
    """A policy data file is malformed or inconsistent; the workers must not start with it."""


@dataclass(frozen=True)
class Policy:
    """Taxonomy, severity rules and teams, already validated against their schemas and each other."""

    taxonomy: dict
    severity_rules: dict
    teams: dict

    def type_info(self, event_type: str) -> dict | None:
        return self.taxonomy["types"].get(event_type)

    def category(self, name: str) -> dict:
        return self.taxonomy["categories"][name]

    def team(self, name: str) -> dict:
        return self.teams["teams"][name]

    def reason_codes(self, action: str) -> list[str]:
        return self.taxonomy["reason_codes"][action]


def _read(path: Path, schema: str) -> dict:
    try:
        body = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise PolicyError(f"{path}: {exc}") from None
    found = problems(schema, body)
    if found:
        raise PolicyError(f"{path} breaks {schema}: {found}")
    return body


def load_policy(taxonomy: Path = TAXONOMY_FILE, severity_rules: Path = SEVERITY_RULES_FILE,
                teams: Path = TEAMS_FILE) -> Policy:
    """Read the three data files and check that every reference between them resolves."""
    policy = Policy(_read(taxonomy, "exception-taxonomy"), _read(severity_rules, "exception-severity-rules"),
                    _read(teams, "exception-teams"))
    for name, category in policy.taxonomy["categories"].items():
        if category["owner_team"] not in policy.teams["teams"]:
            raise PolicyError(f"category {name!r} is owned by unknown team {category['owner_team']!r}")
    for name, info in policy.taxonomy["types"].items():
        if info["category"] not in policy.taxonomy["categories"]:
            raise PolicyError(f"type {name!r} names unknown category {info['category']!r}")
    return policy


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The shipped policy (read once per process)."""
    return load_policy()


def parse_instant(value) -> datetime | None:
    """A promise as a UTC datetime: ISO date-time, Odoo ``YYYY-MM-DD HH:MM:SS`` (UTC) or a date (end of that day)."""
    if value in (None, False, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), tzinfo=timezone.utc)
    text = str(value).strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(23, 59, 59), tzinfo=timezone.utc)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def facts_from_context(context: dict, now: datetime) -> dict:
    """The facts severity rules look at: order value, customer tier, hours until the promise."""
    facts = {}
    if isinstance(context.get("order_value"), (int, float)):
        facts["order_value"] = float(context["order_value"])
    if context.get("customer_tier"):
        facts["customer_tier"] = str(context["customer_tier"])
    promise = parse_instant(context.get("promised_at"))
    if promise is not None:
        facts["hours_to_promise"] = (promise - now).total_seconds() / 3600.0
    return facts


_COMPARE = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}


def _matches(condition: dict, facts: dict) -> bool:
    """A rule matches when every fact it names is known and passes every test on it."""
    for fact, tests in condition.items():
        if fact not in facts:
            return False
        value = facts[fact]
        for op, bound in tests.items():
            ok = value in bound if op == "in" else _COMPARE[op](value, bound)
            if not ok:
                return False
    return True


def rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def assess_severity(policy: Policy, event_type: str, facts: dict, explicit: str | None = None) -> tuple[str, list[str]]:
    """Severity of a new case and the reasons: the highest matching rule, raised to the type's floor."""
    if explicit:
        return explicit, [SEVERITY_EXPLICIT]
    rules = policy.severity_rules
    severity, reasons = rules["default"], []
    for rule in rules["rules"]:
        if _matches(rule["when"], facts):
            reasons.append(rule["name"])
            if rank(rule["severity"]) > rank(severity):
                severity = rule["severity"]
    floor = (policy.type_info(event_type) or {}).get("min_severity")
    if floor and rank(floor) > rank(severity):
        severity = floor
        reasons.append(SEVERITY_TYPE_FLOOR)
    if not reasons:
        reasons.append(SEVERITY_DEFAULT)
    return severity, reasons


def sla_due(policy: Policy, category: str, severity: str, opened_at: datetime) -> datetime:
    """When the owner team must have resolved a case of this category and severity."""
    hours = policy.category(category)["sla_hours"][severity]
    return opened_at + timedelta(hours=hours)
