"""Round trip through a real n8n: the files in git are n8n's normal form, and export -> import -> export is a no-op."""
import pytest

from scripts import workflows as cli
from scripts.n8nkit import paths

pytestmark = pytest.mark.e2e


def cli_args(n8n, command, folder):
    return [command, "--dir", str(folder), "--port", str(n8n.settings.port),
            "--user-folder", str(n8n.settings.user_folder)]


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json"))}


def test_export_import_export_is_byte_identical(n8n, tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    assert cli.main(cli_args(n8n, "export", first)) == 0
    repo = snapshot(paths.WORKFLOWS_DIR)
    # What n8n gives back after importing the repository is exactly what is committed.
    assert snapshot(first) == repo
    assert cli.main(cli_args(n8n, "import", first)) == 0
    assert cli.main(cli_args(n8n, "export", second)) == 0
    assert snapshot(second) == snapshot(first)


def test_export_reaches_an_n8n_given_by_url(n8n, tmp_path):
    folder = tmp_path / "remote"
    url = f"http://localhost:{n8n.settings.port}/"  # no --port: the scripts' default port has no n8n
    assert cli.main(["export", "--dir", str(folder), "--url", url, "--user-folder", str(n8n.settings.user_folder)]) == 0
    assert snapshot(folder) == snapshot(paths.WORKFLOWS_DIR)


def test_import_keeps_ids_and_publishes(n8n):
    by_id = {w["id"]: w for w in n8n.api.workflows()}
    assert by_id["odooOpsOrderConf"]["active"] is True
    assert by_id["odooOpsErrorHndl"]["active"] is True
    order = n8n.api.workflow("odooOpsOrderConf")
    assert order["settings"]["errorWorkflow"] == "odooOpsErrorHndl"
    # Credentials are resolved by name on import, to this instance's ids.
    handover = next(n for n in order["nodes"] if n["name"] == "Hand over for release")
    assert handover["credentials"]["httpHeaderAuth"]["name"] == "Kit workers API"
    assert handover["credentials"]["httpHeaderAuth"]["id"]


def test_bootstrap_again_is_an_upsert(n8n):
    from scripts.n8nkit import bootstrap

    before = {c["name"]: c["id"] for c in n8n.api.credentials()}
    bootstrap.bootstrap(n8n.settings, {**n8n.environ, "KIT_API_TOKEN": "rotated"}, log=lambda *_: None)
    after = {c["name"]: c["id"] for c in n8n.api.credentials()}
    assert after == before
    assert len(n8n.api.workflows()) == len(list(paths.WORKFLOWS_DIR.glob("*.json")))
