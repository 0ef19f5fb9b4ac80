"""Owner, API key, credentials, workflows, activation: everything a person would click, done by a script."""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import requests

from . import credentials, sync
from .api import N8nApi
from .paths import CREDENTIALS_DIR, WORKFLOWS_DIR
from .runtime import Settings

STATE_FILE = "kit-bootstrap.json"
DEFAULT_OWNER_EMAIL = "owner@odoo-ops-kit.dev"


@dataclass
class Access:
    """How scripts reach this n8n later; kept in the (git-ignored) user folder, readable by the owner only."""

    email: str
    password: str
    api_key: str = ""

    @classmethod
    def load(cls, settings: Settings) -> "Access | None":
        path = settings.user_folder / STATE_FILE
        return cls(**json.loads(path.read_text())) if path.exists() else None

    def save(self, settings: Settings) -> None:
        path = settings.user_folder / STATE_FILE
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        path.chmod(0o600)


def new_access(environ) -> Access:
    # n8n wants 8+ characters with a digit and an upper-case letter.
    password = environ.get("KIT_N8N_OWNER_PASSWORD") or "Kit-" + secrets.token_urlsafe(18) + "-A1"
    return Access(email=environ.get("KIT_N8N_OWNER_EMAIL") or DEFAULT_OWNER_EMAIL, password=password)


def connect(settings: Settings, environ=None) -> tuple[N8nApi, Access]:
    """Log in as the owner (creating it on a fresh n8n) and make sure a working API key exists."""
    environ = os.environ if environ is None else environ
    access = Access.load(settings) or new_access(environ)
    api = N8nApi(settings.base_url)
    api.setup_owner(access.email, access.password)
    if not access.api_key or not _key_works(settings, access.api_key):
        label = "odoo-ops-kit " + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        access.api_key = api.create_api_key(label)
    access.save(settings)
    api.api_key = access.api_key
    return api, access


def _key_works(settings: Settings, key: str) -> bool:
    answer = requests.get(settings.base_url + "/api/v1/workflows", params={"limit": 1},
                          headers={"X-N8N-API-KEY": key}, timeout=10)
    return answer.status_code == 200


def bootstrap(settings: Settings, environ=None, *, workflows_dir: Path = WORKFLOWS_DIR,
              credentials_dir: Path = CREDENTIALS_DIR, log=print) -> N8nApi:
    """Bring a running n8n to the kit's state; safe to run again (everything is an upsert)."""
    environ = dict(os.environ if environ is None else environ)
    workflows = sync.read_files(workflows_dir)
    api, access = connect(settings, environ)
    log(f"owner    {access.email} (password and API key in {settings.user_folder / STATE_FILE})")
    # The error workflow reads failed runs through n8n's own API with the key created just above.
    if not environ.get("KIT_N8N_API_KEY"):  # unset or empty (an env file's "KIT_N8N_API_KEY=")
        environ["KIT_N8N_API_KEY"] = access.api_key
    for credential in credentials.render(environ, credentials_dir):
        api.upsert_credential(credential["name"], credential["type"], credential["data"])
        log(f"credential {credential['name']} ({credential['type']})")
    sync.import_workflows(api, workflows, log=log)
    sync.wait_for_webhooks(settings.base_url, sync.webhook_paths(workflows))
    log(f"ready    webhooks at {settings.base_url}/webhook/  canvas at {settings.base_url}/")
    return api
