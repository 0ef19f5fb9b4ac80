"""docker-compose.yml is valid Compose and agrees with the code: commands, ports, versions, variables."""
from __future__ import annotations

import json
import os
import re
from dataclasses import fields
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

from python_nodes.app import create_app
from python_nodes.approvals.settings import ApprovalSettings
from python_nodes.config import PREFIX, PRODUCTION_SECRETS, Config
from scripts import n8n as n8n_script
from scripts.n8nkit import credentials

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_SPEC = Path(__file__).parent / "data" / "compose-spec.json"
APPROVERS_EXAMPLE = ROOT / "python_nodes" / "approvals" / "approvers.example.json"
INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::([-?])([^}]*))?\}")
WORKFLOW_ENV = re.compile(r"\$env\.(KIT_[A-Z0-9_]+)")
N8N_SERVICES = ("n8n", "n8n-worker")
# The bootstrap creates this key and sets it only when absent: a value from compose, even empty, would win.
CREATED_BY_BOOTSTRAP = {"KIT_N8N_API_KEY"}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def resolve(environment: dict) -> dict:
    """A service's environment as Compose would give it with a .env holding only the required (``:?``) values."""
    def one(match):
        name, op, default = match.groups()
        return f"required-{name.lower()}" if op == "?" else (default if op == "-" else "")

    return {name: INTERPOLATION.sub(one, str(value)) for name, value in environment.items()}


def test_valid_against_the_compose_specification(compose):
    if not COMPOSE_SPEC.exists():
        pytest.fail(f"the Compose Specification schema is expected at {COMPOSE_SPEC}")
    errors = sorted(Draft7Validator(json.loads(COMPOSE_SPEC.read_text())).iter_errors(compose), key=str)
    assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors]


def test_every_image_is_pinned(compose):
    for name, service in compose["services"].items():
        image = service.get("image")
        if image is None:
            assert "build" in service, f"{name} has neither image nor build"
            continue
        tag = image.rsplit(":", 1)[-1] if ":" in image.split("/")[-1] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: image {image!r} is not pinned"


def test_n8n_version_matches_the_pinned_runtime(compose):
    pinned = json.loads((ROOT / "scripts" / "n8n-runtime" / "package.json").read_text())["dependencies"]["n8n"]
    for name in ("n8n", "n8n-worker"):
        assert compose["services"][name]["image"].endswith(":" + pinned), name


def test_workers_command_port_and_healthcheck_agree_with_the_code(compose, tmp_path):
    workers = compose["services"]["workers"]
    assert workers["command"] == ["gunicorn", "-c", "python_nodes/gunicorn_conf.py", "python_nodes.app:create_app()"]
    assert (ROOT / workers["command"][2]).exists()
    port = workers["environment"]["KIT_BIND"].rsplit(":", 1)[1]
    assert workers["ports"] == [f"{port}:{port}"]
    probe = " ".join(workers["healthcheck"]["test"])
    path = re.search(r"127\.0\.0\.1:(\d+)(/\w+)", probe)
    assert path and path.group(1) == port
    app = create_app(Config(database_url=f"sqlite:///{tmp_path}/k.sqlite3"))
    assert app.test_client().get(path.group(2)).status_code == 200
    app.extensions["kit.db"].close()


def test_workers_environment_names_real_settings(compose):
    known = {PREFIX + f.name.upper() for cls in (Config, ApprovalSettings) for f in fields(cls)}
    known |= {"KIT_BIND", "KIT_WORKERS", "KIT_THREADS"}
    unknown = set(compose["services"]["workers"]["environment"]) - known
    assert not unknown, f"compose sets variables the workers do not read: {unknown}"


def test_workers_reach_n8n_and_odoo_on_their_service_ports(compose):
    env = compose["services"]["workers"]["environment"]
    n8n_port = compose["services"]["n8n"]["ports"][0].split(":")[1]
    odoo_port = compose["services"]["odoo"]["ports"][0].split(":")[1]
    assert env["KIT_N8N_WEBHOOK_BASE"] == f"http://n8n:{n8n_port}/webhook"
    assert env["KIT_ODOO_URL"] == f"http://odoo:{odoo_port}"
    assert compose["x-n8n-env"]["KIT_WORKERS_URL"] == "http://workers:" + env["KIT_BIND"].rsplit(":", 1)[1]


def test_workers_get_every_production_secret_and_the_approvers_file(compose, tmp_path):
    workers = compose["services"]["workers"]
    env = workers["environment"]
    assert env["KIT_ENV"] == "production"
    for name in (PREFIX + secret.upper() for secret in PRODUCTION_SECRETS):
        assert re.fullmatch(r"\$\{%s:\?[^}]+\}" % name, env.get(name, "")), f"{name} must be required: ${{{name}:?...}}"
    mounts = [v for v in workers.get("volumes", []) if isinstance(v, dict) and v["target"] == env["KIT_APPROVERS_FILE"]]
    assert len(mounts) == 1, "KIT_APPROVERS_FILE must be a file mounted from the host"
    mount = mounts[0]
    assert mount["type"] == "bind" and mount["read_only"] is True
    # Docker would otherwise create an empty directory where the user forgot the file.
    assert mount["bind"]["create_host_path"] is False
    resolved = {**resolve(env), "KIT_APPROVERS_FILE": str(APPROVERS_EXAMPLE),
                "KIT_DATABASE_URL": f"sqlite:///{tmp_path}/k.sqlite3"}
    app = create_app(Config.from_env(resolved, outbox_enabled=False))
    app.extensions["kit.db"].close()


def test_queue_mode(compose):
    n8n_env = compose["services"]["n8n"]["environment"]
    assert n8n_env["EXECUTIONS_MODE"] == "queue" and n8n_env["QUEUE_BULL_REDIS_HOST"] == "redis"
    assert compose["services"]["n8n-worker"]["command"] == "worker"


def test_every_env_the_workflows_read_is_set_on_the_n8n_services(compose):
    used = {name for path in (ROOT / "n8n" / "workflows").glob("*.json")
            for name in WORKFLOW_ENV.findall(path.read_text())}
    assert used, "no $env.KIT_* found in the workflows: has the expression syntax changed?"
    for service in N8N_SERVICES:
        env = compose["services"][service]["environment"]
        assert env["N8N_BLOCK_ENV_ACCESS_IN_NODE"] == "false", f"{service} blocks $env in expressions"
        missing = sorted(used - set(env))
        assert not missing, f"{service} lacks variables the workflows read: {missing}"


def test_n8n_services_reach_the_workers_and_n8n_itself(compose):
    workers_port = compose["services"]["workers"]["environment"]["KIT_BIND"].rsplit(":", 1)[1]
    for service in N8N_SERVICES:
        env = compose["services"][service]["environment"]
        assert env["KIT_WORKERS_URL"] == env["KIT_DEAD_LETTERS_URL"] == f"http://workers:{workers_port}"
        assert env["KIT_N8N_URL"] == f"http://n8n:{env['N8N_PORT']}"


def test_import_service_runs_the_real_bootstrap_against_the_n8n_service(compose, monkeypatch):
    importer = compose["services"]["n8n-import"]
    assert importer["restart"] == "no"
    assert importer["depends_on"]["n8n"]["condition"] == "service_healthy"
    assert importer["image"] == compose["services"]["workers"]["image"], "the scripts ship in the workers image"
    command = importer["command"]
    assert command[:3] == ["python", "scripts/n8n.py", "bootstrap"] and (ROOT / command[1]).is_file()

    # Run the script's own argument parsing and settings with the importer's environment; stop at bootstrap.
    seen = []
    monkeypatch.setattr(n8n_script.boot, "bootstrap", seen.append)
    for name in [n for n in os.environ if n.startswith(PREFIX)]:
        monkeypatch.delenv(name)
    for name, value in resolve(importer["environment"]).items():
        monkeypatch.setenv(name, value)
    assert n8n_script.main(command[2:]) == 0
    (settings,) = seen
    assert settings.base_url == f"http://n8n:{compose['services']['n8n']['environment']['N8N_PORT']}"
    targets = {v.split(":")[1] for v in importer.get("volumes", []) if isinstance(v, str)}
    assert str(settings.user_folder) in targets, "the owner login and API key must survive a second run"


def test_import_service_has_every_variable_the_credential_templates_need(compose):
    env = compose["services"]["n8n-import"]["environment"]
    needed = set(credentials.variables())
    assert CREATED_BY_BOOTSTRAP <= needed
    assert not CREATED_BY_BOOTSTRAP & set(env), "let the bootstrap set the key it creates"
    missing = sorted(needed - CREATED_BY_BOOTSTRAP - set(env))
    assert not missing, f"n8n-import lacks variables for n8n/credentials.example/: {missing}"
    # Every non-optional value is non-empty even when .env sets only the required ones, and typed ones parse.
    rendered = credentials.render({**resolve(env), **{name: "created" for name in CREATED_BY_BOOTSTRAP}})
    assert len(rendered) == len(credentials.templates())


def test_import_service_gives_the_credentials_the_container_urls(compose):
    env = compose["services"]["n8n-import"]["environment"]
    assert env["KIT_ODOO_URL"] == compose["services"]["workers"]["environment"]["KIT_ODOO_URL"]


def test_mail_goes_to_the_mail_sink_unless_set(compose):
    smtp_ports = {p.split(":")[1] for p in compose["services"]["mailpit"]["ports"]}
    for service in ("workers", "n8n-import"):
        env = resolve(compose["services"][service]["environment"])
        assert env["KIT_SMTP_HOST"] == "mailpit" and env["KIT_SMTP_PORT"] in smtp_ports, service
