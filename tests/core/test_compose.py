"""docker-compose.yml is valid Compose and agrees with the code: commands, ports, versions, variables."""
from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

from python_nodes.app import create_app
from python_nodes.config import PREFIX, Config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_SPEC = ROOT.parent / "shared" / "schemas" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


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
    known = {PREFIX + f.name.upper() for f in fields(Config)} | {"KIT_BIND", "KIT_WORKERS", "KIT_THREADS"}
    unknown = set(compose["services"]["workers"]["environment"]) - known
    assert not unknown, f"compose sets variables the workers do not read: {unknown}"


def test_workers_reach_n8n_and_odoo_on_their_service_ports(compose):
    env = compose["services"]["workers"]["environment"]
    n8n_port = compose["services"]["n8n"]["ports"][0].split(":")[1]
    odoo_port = compose["services"]["odoo"]["ports"][0].split(":")[1]
    assert env["KIT_N8N_WEBHOOK_BASE"] == f"http://n8n:{n8n_port}/webhook"
    assert env["KIT_ODOO_URL"] == f"http://odoo:{odoo_port}"
    assert compose["x-n8n-env"]["KIT_WORKERS_URL"] == "http://workers:" + env["KIT_BIND"].rsplit(":", 1)[1]


def test_queue_mode_and_import_service(compose):
    n8n_env = compose["services"]["n8n"]["environment"]
    assert n8n_env["EXECUTIONS_MODE"] == "queue" and n8n_env["QUEUE_BULL_REDIS_HOST"] == "redis"
    assert compose["services"]["n8n-worker"]["command"] == "worker"
    importer = compose["services"]["n8n-import"]
    assert importer["restart"] == "no"
    assert importer["depends_on"]["n8n"]["condition"] == "service_healthy"
    module = importer["command"][2]
    assert (ROOT / Path(*module.split("."))).is_dir() or (ROOT / (module.replace(".", "/") + ".py")).exists()


def test_every_variable_compose_reads_is_documented(compose):
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    documented = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert used <= documented, f"undocumented in .env.example: {sorted(used - documented)}"
