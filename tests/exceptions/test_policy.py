"""Unit tests of the exception policy data and its pure rules: severity, SLA, owners, lifecycle."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from python_nodes.exceptions import lifecycle, policy
from python_nodes.exceptions.policy import PolicyError, assess_severity, facts_from_context, load_policy, sla_due

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)
CATEGORIES = {"order_fulfillment", "warehouse_execution", "procurement_dependency", "finance_control",
              "logistics_integration", "master_data_quality"}


@pytest.fixture(scope="module")
def shipped():
    return load_policy()


def test_shipped_policy_covers_the_six_categories_with_owners_and_full_sla(shipped):
    assert set(shipped.taxonomy["categories"]) == CATEGORIES
    for name, category in shipped.taxonomy["categories"].items():
        assert category["owner_team"] in shipped.teams["teams"], name
        assert set(category["sla_hours"]) == set(policy.SEVERITIES)
        hours = [category["sla_hours"][s] for s in policy.SEVERITIES]
        assert hours == sorted(hours, reverse=True), f"{name}: a more severe case must not get more time"


@pytest.mark.parametrize("context, expected, reason", [
    ({}, "medium", policy.SEVERITY_TYPE_FLOOR),
    ({"order_value": 30000}, "high", "large_order"),
    ({"order_value": 30000, "promised_at": "2025-03-10T20:00:00Z"}, "critical", "large_order_promise_within_24h"),
    ({"customer_tier": "A", "promised_at": "2025-03-11"}, "critical", "key_account_promise_within_48h"),
    ({"customer_tier": "B", "promised_at": "2025-03-09"}, "high", "promise_already_missed"),
    ({"customer_tier": "C", "promised_at": "2025-03-30", "order_value": 100}, "medium", policy.SEVERITY_TYPE_FLOOR),
    ({"order_value": 5000}, "medium", "medium_order"),
    ({"promised_at": "2025-03-10 18:00:00"}, "medium", "promise_within_24h"),
])
def test_severity_rules(shipped, context, expected, reason):
    severity, reasons = assess_severity(shipped, "stock.shortage.detected", facts_from_context(context, NOW))
    assert severity == expected
    assert reason in reasons


def test_default_severity_for_a_type_without_floor(shipped):
    assert assess_severity(shipped, "masterdata.missing", {}) == ("low", [policy.SEVERITY_DEFAULT])


def test_explicit_severity_wins(shipped):
    assert assess_severity(shipped, "masterdata.missing", {"order_value": 1e6}, "critical") == \
        ("critical", [policy.SEVERITY_EXPLICIT])


def test_order_value_boundary_is_inclusive(shipped):
    assert assess_severity(shipped, "masterdata.missing", {"order_value": 24999.99})[0] == "medium"
    assert assess_severity(shipped, "masterdata.missing", {"order_value": 25000.0})[0] == "high"


def test_sla_deadline_per_category_and_severity(shipped):
    assert sla_due(shipped, "warehouse_execution", "critical", NOW) == NOW + timedelta(hours=1)
    assert sla_due(shipped, "finance_control", "low", NOW) == NOW + timedelta(hours=168)


def test_promise_parsing_variants():
    assert policy.parse_instant("2025-03-10") == datetime(2025, 3, 10, 23, 59, 59, tzinfo=timezone.utc)
    assert policy.parse_instant("2025-03-10 08:00:00") == datetime(2025, 3, 10, 8, tzinfo=timezone.utc)
    assert policy.parse_instant("2025-03-10T10:00:00+02:00") == datetime(2025, 3, 10, 8, tzinfo=timezone.utc)
    assert policy.parse_instant(False) is None


def test_unknown_owner_team_is_refused(tmp_path):
    taxonomy = json.loads(policy.TAXONOMY_FILE.read_text())
    taxonomy["categories"]["finance_control"]["owner_team"] = "nobody"
    path = tmp_path / "taxonomy.json"
    path.write_text(json.dumps(taxonomy))
    with pytest.raises(PolicyError, match="unknown team 'nobody'"):
        load_policy(taxonomy=path)


def test_malformed_policy_is_refused(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"default": "urgent", "rules": []}))
    with pytest.raises(PolicyError, match="exception-severity-rules"):
        load_policy(severity_rules=path)


@pytest.mark.parametrize("current, target, allowed", [
    ("open", "acknowledged", True), ("open", "resolved", True), ("acknowledged", "in_progress", True),
    ("in_progress", "dismissed", True), ("resolved", "open", False), ("dismissed", "in_progress", False),
    ("resolved", "dismissed", False), ("acknowledged", "open", False),
])
def test_transitions(current, target, allowed):
    assert lifecycle.can_move(current, target) is allowed


def test_every_state_has_a_transition_entry():
    assert set(lifecycle.TRANSITIONS) == set(lifecycle.STATES)
    assert set(lifecycle.ACTIVE_STATES) | set(lifecycle.TERMINAL_STATES) == set(lifecycle.STATES)
