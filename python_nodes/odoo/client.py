"""Odoo over JSON-RPC through odoorpc, behind a small interface that services receive injected."""
from __future__ import annotations

import threading
import time
from urllib.parse import urlparse

import odoorpc
from odoorpc.error import RPCError

from ..errors import ApiError, Forbidden, NotFound, Unprocessable, UpstreamError

# Odoo exception class -> our error type (everything else is an upstream failure).
ODOO_ERRORS = {
    "odoo.exceptions.MissingError": NotFound,
    "odoo.exceptions.AccessError": Forbidden,
    "odoo.exceptions.AccessDenied": Forbidden,
    "odoo.exceptions.ValidationError": Unprocessable,
    "odoo.exceptions.UserError": Unprocessable,
}


# A model's fields change only when a module is installed or upgraded: ask Odoo again after this long.
FIELDS_TTL_SECONDS = 300.0


class OdooClient:
    """The Odoo calls the workers make; every call goes through ``execute_kw`` like any RPC client's."""

    def __init__(self, odoo: odoorpc.ODOO, clock=time.monotonic):
        self._odoo = odoo
        self._clock = clock
        self._fields: dict[str, tuple[float, frozenset]] = {}

    def call(self, model: str, method: str, *args, **kwargs):
        try:
            return self._odoo.execute_kw(model, method, list(args), kwargs)
        except RPCError as exc:
            raise translate(exc) from exc
        except OSError as exc:
            raise UpstreamError(f"Odoo unreachable: {exc}", code="odoo_unreachable") from exc

    def field_names(self, model: str) -> frozenset:
        """The model's field names (``fields_get``), kept for ``FIELDS_TTL_SECONDS``."""
        now = self._clock()
        cached = self._fields.get(model)
        if cached is None or now - cached[0] >= FIELDS_TTL_SECONDS:
            cached = (now, frozenset(self.call(model, "fields_get", [], attributes=["type"])))
            self._fields[model] = cached
        return cached[1]

    def search_read(self, model: str, domain: list, fields: list[str], **kwargs) -> list[dict]:
        return self.call(model, "search_read", domain, fields, **kwargs)

    def read(self, model: str, ids: list[int], fields: list[str]) -> list[dict]:
        return self.call(model, "read", ids, fields)

    def read_one(self, model: str, record_id: int, fields: list[str]) -> dict:
        rows = self.read(model, [record_id], fields)
        if not rows:
            raise NotFound(f"{model} {record_id} does not exist in Odoo", code="odoo_record_missing")
        return rows[0]

    def write(self, model: str, ids: list[int], values: dict) -> bool:
        return self.call(model, "write", ids, values)

    def create(self, model: str, values: dict) -> int:
        return self.call(model, "create", values)

    def message_post(self, model: str, record_id: int, body: str, **kwargs) -> int:
        return self.call(model, "message_post", [record_id], body=body, **kwargs)


def translate(exc: RPCError) -> ApiError:
    """Map Odoo's error envelope to our error hierarchy, keeping Odoo's message."""
    data = (exc.info or {}).get("data", {}) if isinstance(exc.info, dict) else {}
    error_type = ODOO_ERRORS.get(data.get("name", ""), UpstreamError)
    message = data.get("message") or str(exc)
    return error_type(f"Odoo: {message}", code="odoo_" + data.get("name", "error").rsplit(".", 1)[-1].lower())


def factory(config):
    """A callable giving a logged-in client, one per thread (odoorpc sessions are not shared across threads)."""
    local = threading.local()

    def get() -> OdooClient:
        client = getattr(local, "client", None)
        if client is None:
            client = OdooClient(_login(config))
            local.client = client
        return client

    return get


def _login(config) -> odoorpc.ODOO:
    url = urlparse(config.odoo_url)
    protocol = "jsonrpc+ssl" if url.scheme == "https" else "jsonrpc"
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        odoo = odoorpc.ODOO(url.hostname, protocol=protocol, port=port, timeout=config.odoo_timeout)
        odoo.login(config.odoo_db, config.odoo_user, config.odoo_password)
    except RPCError as exc:
        raise translate(exc) from exc
    except OSError as exc:
        raise UpstreamError(f"Odoo unreachable at {config.odoo_url}: {exc}", code="odoo_unreachable") from exc
    return odoo
