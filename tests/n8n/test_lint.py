"""Workflow lint, offline: the kit's workflows pass; fixtures with the classic mistakes are rejected."""
import copy
import json
from pathlib import Path

import pytest

from scripts.n8nkit import catalog, credentials, lint, paths
from scripts.workflows import openapi_from_code

FIXTURES = Path(__file__).parent / "fixtures"
REPO_FILES = sorted(paths.WORKFLOWS_DIR.glob("*.json"))


@pytest.fixture(scope="module")
def openapi():
    return openapi_from_code()


def run(files, openapi, **kwargs):
    return lint.lint_files(files, openapi=openapi, credential_templates=credentials.templates(), **kwargs)


def test_pinned_n8n_catalog_is_installed():
    versions = catalog.node_versions()
    assert versions is not None, "run scripts/install_n8n.sh: lint checks node types against the installed n8n"
    assert 2 in versions["n8n-nodes-base.webhook"]


def test_the_kits_workflows_are_clean(openapi):
    assert {p.name for p in REPO_FILES} >= {"order-confirmed.json", "error-handler.json"}
    assert run(REPO_FILES, openapi) == []


@pytest.mark.parametrize("fixture, rule", [
    ("hardcoded-secret.json", lint.LITERAL_SECRET),
    ("duplicate-webhook-path.json", lint.DUPLICATE_WEBHOOK_PATH),
    ("unknown-worker-path.json", lint.UNKNOWN_WORKER_PATH),
])
def test_fixture_is_rejected_for_its_mistake(openapi, fixture, rule):
    problems = run(REPO_FILES + [FIXTURES / fixture], openapi)
    assert problems, "lint accepted a broken workflow"
    assert {p.rule for p in problems if p.file == fixture} == {rule}, problems


def mutated(tmp_path, change) -> Path:
    workflow = json.loads((paths.WORKFLOWS_DIR / "order-confirmed.json").read_text())
    change(workflow)
    from scripts.n8nkit.normalize import dumps, normalize
    path = tmp_path / "order-confirmed.json"
    path.write_text(dumps(normalize(workflow)))
    return path


def _node(workflow, name):
    return next(n for n in workflow["nodes"] if n["name"] == name)


@pytest.mark.parametrize("change, rule", [
    (lambda w: w["settings"].pop("errorWorkflow"), lint.NO_ERROR_WORKFLOW),
    (lambda w: w["settings"].update(errorWorkflow="nope"), lint.NO_ERROR_WORKFLOW),
    (lambda w: _node(w, "Note: direct path").update(name="Sticky Note1"), lint.NODE_NAME),
    (lambda w: _node(w, "Answer outbox").update(id=_node(w, "Answer Odoo")["id"]), lint.NODE_NAME),
    (lambda w: _node(w, "Hand over for release").update(typeVersion=99), lint.UNKNOWN_NODE_TYPE),
    (lambda w: _node(w, "Hand over for release").update(type="n8n-nodes-base.noSuchNode"), lint.UNKNOWN_NODE_TYPE),
    (lambda w: _node(w, "Hand over for release")["parameters"].update(method="DELETE"), lint.UNKNOWN_WORKER_PATH),
    (lambda w: _node(w, "Record event in inbox")["parameters"]["queryParameters"]["parameters"][0].update(
        name="tokn"), lint.UNKNOWN_WORKER_PATH),
    (lambda w: _node(w, "Hand over for release")["credentials"]["httpHeaderAuth"].update(name="Someone's key"),
     lint.UNKNOWN_CREDENTIAL),
    (lambda w: _node(w, "Answer Odoo")["parameters"].update(
        responseBody="Authorization: Bearer abcdefghijklmnop1234"), lint.LITERAL_SECRET),
    (lambda w: _node(w, "Answer Odoo")["parameters"].update(
        responseBody="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"), lint.LITERAL_SECRET),
    (lambda w: w["connections"].update({"Ghost": {"main": [[]]}}), lint.STRUCTURE),
])
def test_each_rule_catches_its_mistake(tmp_path, openapi, change, rule):
    path = mutated(tmp_path, change)
    problems = run([path], openapi, known_workflows=[json.loads((paths.WORKFLOWS_DIR / "error-handler.json")
                                                                .read_text())])
    assert rule in {p.rule for p in problems}, problems


def test_credential_with_an_instance_id_is_refused(tmp_path, openapi):
    path = tmp_path / "order-confirmed.json"
    workflow = json.loads((paths.WORKFLOWS_DIR / "order-confirmed.json").read_text())
    _node(workflow, "Hand over for release")["credentials"]["httpHeaderAuth"]["id"] = "aB3dE5gH7jK9mN1p"
    path.write_text(json.dumps(workflow, indent=2, sort_keys=True) + "\n")
    rules = {p.rule for p in run([path], openapi)}
    assert lint.CREDENTIAL_NOT_BY_NAME in rules and lint.NOT_NORMALIZED in rules


def test_uuids_and_expressions_are_not_secrets(openapi):
    workflow = json.loads((paths.WORKFLOWS_DIR / "order-confirmed.json").read_text())
    node = copy.deepcopy(_node(workflow, "Answer Odoo"))
    node["parameters"]["responseBody"] = "={{ $json.body.event.id }} 6f1c1e0a-7f57-4a35-9d8e-3c1f6b0b2a11"
    assert lint._secrets("x.json", node) == []
