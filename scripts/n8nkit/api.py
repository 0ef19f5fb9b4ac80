"""A small client for the n8n REST endpoints the kit needs: owner setup, login, API keys, workflows, credentials."""
from __future__ import annotations

import requests

# What the bootstrap API key may do: manage workflows and credentials, read executions.
API_KEY_SCOPES = ["workflow:create", "workflow:read", "workflow:update", "workflow:delete", "workflow:list",
                  "workflow:activate", "workflow:deactivate", "credential:create", "credential:update",
                  "credential:delete", "credential:list", "execution:read", "execution:list", "execution:retry"]
TIMEOUT = 30


class N8nError(RuntimeError):
    """n8n answered an API call with an error."""


class N8nApi:
    """Talks to one n8n: ``/rest`` as the owner (cookie session), ``/api/v1`` with the API key."""

    def __init__(self, base_url: str, api_key: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.session = requests.Session()

    # -- owner session (internal REST) ------------------------------------------------------------------
    def setup_owner(self, email: str, password: str, first_name: str = "Kit", last_name: str = "Owner") -> bool:
        """Create the instance owner; False when an owner exists already (then log in instead)."""
        answer = self.session.post(self._url("/rest/owner/setup"), timeout=TIMEOUT, json={
            "email": email, "password": password, "firstName": first_name, "lastName": last_name})
        if answer.status_code == 200:
            return True
        if answer.status_code == 400 and "already" in answer.text.lower():
            self.login(email, password)
            return False
        raise N8nError(f"owner setup failed: HTTP {answer.status_code} {answer.text[:300]}")

    def login(self, email: str, password: str) -> None:
        answer = self.session.post(self._url("/rest/login"), timeout=TIMEOUT,
                                   json={"emailOrLdapLoginId": email, "password": password})
        _check(answer, "login")

    def create_api_key(self, label: str, scopes: list[str] = API_KEY_SCOPES) -> str:
        """A new API key (the raw key is shown only once, in this answer)."""
        answer = self.session.post(self._url("/rest/api-keys"), timeout=TIMEOUT,
                                   json={"label": label, "scopes": scopes, "expiresAt": None})
        return _check(answer, "create API key")["data"]["rawApiKey"]

    def workflow_exists(self, workflow_id: str) -> bool:
        answer = self.session.get(self._url(f"/rest/workflows/{workflow_id}/exists"), timeout=TIMEOUT)
        return bool(_check(answer, "workflow exists")["data"]["exists"])

    def create_workflow(self, workflow: dict) -> dict:
        """Create with the file's own id (only the internal endpoint accepts one), so references stay stable."""
        answer = self.session.post(self._url("/rest/workflows"), json=_writable(workflow), timeout=TIMEOUT)
        return _check(answer, f"create workflow {workflow.get('name')!r}")["data"]

    def update_workflow(self, workflow: dict) -> dict:
        body = {k: v for k, v in _writable(workflow).items() if k != "id"}
        answer = self.session.patch(self._url(f"/rest/workflows/{workflow['id']}"), params={"forceSave": "true"},
                                    json=body, timeout=TIMEOUT)
        return _check(answer, f"update workflow {workflow.get('name')!r}")["data"]

    # -- public API (API key) -----------------------------------------------------------------------------
    def public(self, method: str, path: str, **kwargs) -> dict:
        if not self.api_key:
            raise N8nError("this call needs an API key (run scripts/n8n.py bootstrap)")
        answer = self.session.request(method, self._url("/api/v1" + path), timeout=TIMEOUT,
                                      headers={"X-N8N-API-KEY": self.api_key}, **kwargs)
        return _check(answer, f"{method} /api/v1{path}")

    def workflows(self) -> list[dict]:
        """Every workflow with its nodes, following the cursor."""
        found, cursor = [], None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = self.public("GET", "/workflows", params=params)
            found += page["data"]
            cursor = page.get("nextCursor")
            if not cursor:
                return found

    def workflow(self, workflow_id: str) -> dict:
        return self.public("GET", f"/workflows/{workflow_id}")

    def activate(self, workflow_id: str) -> dict:
        """Publish the workflow's current version so its triggers (webhooks) go live."""
        return self.public("POST", f"/workflows/{workflow_id}/activate", json={})

    def deactivate(self, workflow_id: str) -> dict:
        return self.public("POST", f"/workflows/{workflow_id}/deactivate")

    def credentials(self) -> list[dict]:
        found, cursor = [], None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = self.public("GET", "/credentials", params=params)
            found += page["data"]
            cursor = page.get("nextCursor")
            if not cursor:
                return found

    def upsert_credential(self, name: str, kind: str, data: dict) -> str:
        """Create the credential, or replace its data when one with this name and type exists; returns its id."""
        for existing in self.credentials():
            if existing["name"] == name and existing["type"] == kind:
                self.public("PATCH", f"/credentials/{existing['id']}", json={"name": name, "type": kind, "data": data})
                return existing["id"]
        return self.public("POST", "/credentials", json={"name": name, "type": kind, "data": data})["id"]

    def executions(self, workflow_id: str | None = None, status: str | None = None, include_data: bool = False,
                   limit: int = 250) -> list[dict]:
        found, cursor = [], None
        while True:
            params = {"limit": limit, "includeData": str(include_data).lower()}
            if workflow_id:
                params["workflowId"] = workflow_id
            if status:
                params["status"] = status
            if cursor:
                params["cursor"] = cursor
            page = self.public("GET", "/executions", params=params)
            found += page["data"]
            cursor = page.get("nextCursor")
            if not cursor:
                return found

    def _url(self, path: str) -> str:
        return self.base_url + path


# Fields n8n accepts when saving a workflow through /rest/workflows.
WRITABLE = ("id", "name", "nodes", "connections", "settings", "meta", "pinData")


def _writable(workflow: dict) -> dict:
    return {k: workflow[k] for k in WRITABLE if k in workflow}


def _check(answer: requests.Response, what: str) -> dict:
    if answer.status_code >= 400:
        raise N8nError(f"{what}: HTTP {answer.status_code} {answer.text[:500]}")
    return answer.json() if answer.content else {}
