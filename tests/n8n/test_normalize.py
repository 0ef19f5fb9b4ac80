"""Normalization and credential rendering: pure functions, no n8n needed."""
import json
import re

import pytest

from scripts.n8nkit import credentials, paths, runtime
from scripts.n8nkit.normalize import dumps, normalize, slug

EXPORTED = {
    "id": "abc123", "name": "Order confirmed", "active": True, "versionId": "v-1", "activeVersionId": "v-1",
    "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-02T00:00:00.000Z", "triggerCount": 2,
    "shared": [{"role": "workflow:owner"}], "pinData": {}, "staticData": None, "tags": [], "isArchived": False,
    "meta": {"instanceId": "f00", "templateCredsSetupCompleted": True},
    "settings": {"executionOrder": "v1", "errorWorkflow": "eh"},
    "connections": {"B node": {"main": [[{"node": "A node", "type": "main", "index": 0}]]}},
    "nodes": [
        {"name": "B node", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
         "parameters": {"path": "x"}},
        {"id": "keep-me", "name": "A node", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2,
         "position": [1, 1], "parameters": {}, "credentials": {"httpHeaderAuth": {"id": "inst1", "name": "Kit"}}},
    ],
}


def test_volatile_fields_are_dropped_and_ids_made_stable():
    out = normalize(EXPORTED)
    assert set(out) == {"id", "name", "nodes", "connections", "settings", "meta"}
    assert out["meta"] == {"templateCredsSetupCompleted": True}
    assert [n["name"] for n in out["nodes"]] == ["A node", "B node"]
    assert out["nodes"][0]["id"] == "keep-me"
    assert out["nodes"][0]["credentials"] == {"httpHeaderAuth": {"id": None, "name": "Kit"}}
    webhook = out["nodes"][1]
    assert webhook["id"] and webhook["webhookId"]
    assert normalize(EXPORTED)["nodes"][1]["id"] == webhook["id"]  # derived, so the same every time


def test_normal_form_is_a_fixed_point_and_byte_stable():
    once = dumps(normalize(EXPORTED))
    assert dumps(normalize(json.loads(once))) == once
    assert once.endswith("}\n") and '\n  "connections"' in once


def test_repo_workflows_are_in_normal_form():
    for path in sorted(paths.WORKFLOWS_DIR.glob("*.json")):
        assert dumps(normalize(json.loads(path.read_text()))) == path.read_text(), path.name


@pytest.mark.parametrize("name, stem", [("Order confirmed", "order-confirmed"), ("Error handler", "error-handler"),
                                        ("  SLA: late / pickings! ", "sla-late-pickings")])
def test_slug(name, stem):
    assert slug(name) == stem


def test_credentials_render_from_env_and_fail_clearly_when_missing():
    env = {name: f"value-of-{name}" for name in credentials.variables()}
    env["KIT_SMTP_PORT"] = "2525"
    env["KIT_SMTP_STARTTLS"] = "true"
    rendered = {c["name"]: c for c in credentials.render(env)}
    assert rendered["Kit workers API"]["data"] == {"name": "X-Kit-Token", "value": "value-of-KIT_API_TOKEN"}
    assert rendered["Kit SMTP"]["data"]["port"] == 2525
    assert rendered["Kit SMTP"]["data"]["disableStartTls"] is False  # n8n speaks STARTTLS, as the workers do
    for unset in ({**env, "KIT_SMTP_STARTTLS": "false"}, {k: v for k, v in env.items() if k != "KIT_SMTP_STARTTLS"}):
        assert {c["name"]: c for c in credentials.render(unset)}["Kit SMTP"]["data"]["disableStartTls"] is True
    with pytest.raises(credentials.MissingVariables, match="KIT_SMTP_STARTTLS"):
        credentials.render({**env, "KIT_SMTP_STARTTLS": "maybe"})
    missing = {k: v for k, v in env.items() if k != "KIT_API_TOKEN"}
    with pytest.raises(credentials.MissingVariables, match="KIT_API_TOKEN"):
        credentials.render(missing)


def test_credential_templates_hold_placeholders_not_secrets():
    for template in credentials.templates():
        for key, value in template["data"].items():
            if isinstance(value, str) and key.lower() in ("value", "password", "accesstoken"):
                assert credentials.PLACEHOLDER.fullmatch(value), (template["name"], key)


def test_scripts_reach_the_n8n_kit_n8n_url_names_while_the_local_one_stays_on_loopback():
    remote = runtime.Settings.from_env({"KIT_N8N_URL": "https://n8n.example.com/", "KIT_N8N_PORT": "5700"})
    assert remote.base_url == "https://n8n.example.com"
    started = remote.environment()  # what the kit's own n8n would be started with
    assert started["WEBHOOK_URL"] == "http://127.0.0.1:5700/" and started["KIT_N8N_URL"] == "http://127.0.0.1:5700"
    assert runtime.Settings.from_env({"KIT_N8N_PORT": "5700"}).base_url == "http://127.0.0.1:5700"


def test_every_env_variable_a_workflow_reads_reaches_n8n():
    read = {name for path in paths.WORKFLOWS_DIR.glob("*.json")
            for name in re.findall(r"\$env\.(\w+)", path.read_text())}
    given = set(runtime.Settings().environment()) | set(runtime.WORKFLOW_VARIABLES)
    assert read and read <= given, read - given
    assert runtime.workflow_variables({"KIT_SLACK_API_URL": "http://stub/api", "KIT_MAIL_FROM": "",
                                       "OTHER": "x"}) == {"KIT_SLACK_API_URL": "http://stub/api"}
