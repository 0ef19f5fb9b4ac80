"""Fixtures for exception tests: the app over a fresh database with a recording stand-in for Odoo."""
from __future__ import annotations

import pytest

from python_nodes.app import create_app
from python_nodes.config import Config
from python_nodes.errors import UpstreamError


class RecordingOdoo:
    """Answers the calls the exception write-back makes and remembers them; ``down`` makes every call fail."""

    def __init__(self):
        self.calls = []
        self.down = False
        self.activities = {}
        self.next_id = 100

    def _log(self, *call):
        if self.down:
            raise UpstreamError("Odoo unreachable: test says so", code="odoo_unreachable")
        self.calls.append(call)

    def search_read(self, model, domain, fields, **kwargs):
        self._log("search_read", model, domain)
        if model == "ir.model":
            return [{"id": 7}]
        return []

    def create(self, model, values):
        self._log("create", model, values)
        self.next_id += 1
        self.activities[self.next_id] = dict(values)
        return self.next_id

    def read(self, model, ids, fields):
        self._log("read", model, ids)
        return [{"id": i} for i in ids if i in self.activities]

    def message_post(self, model, record_id, body, **kwargs):
        self._log("message_post", model, record_id, body)
        return 1

    def call(self, model, method, *args, **kwargs):
        self._log("call", model, method, args, kwargs)
        if method == "check_object_reference":
            return ["mail.activity.type", 4]
        if method == "action_feedback":
            for i in args[0]:
                self.activities.pop(i, None)
        return True

    def named(self, kind, model=None):
        return [c for c in self.calls if c[0] == kind and (model is None or c[1] == model)]


@pytest.fixture
def odoo():
    return RecordingOdoo()


@pytest.fixture
def exc_app(tmp_path, odoo):
    config = Config(database_url=f"sqlite:///{tmp_path}/kit.sqlite3")
    application = create_app(config, odoo_factory=lambda: odoo)
    yield application
    application.extensions["kit.db"].close()


@pytest.fixture
def api(exc_app):
    return exc_app.test_client()
