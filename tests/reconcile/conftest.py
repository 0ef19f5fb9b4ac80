"""Fixtures for sweep tests: the module's Odoo simulator (tests/conftest.py), reset per test, and the app on it."""
from __future__ import annotations

import pytest

from python_nodes.app import create_app
from python_nodes.config import Config


@pytest.fixture
def fresh_sim(sim):
    sim.control("POST", "reset", json={"seed": 0})
    return sim


@pytest.fixture
def sweep_app(tmp_path, fresh_sim):
    config = Config(database_url=f"sqlite:///{tmp_path}/kit.sqlite3", odoo_url=fresh_sim.url, odoo_db=fresh_sim.db,
                    odoo_user=fresh_sim.login, odoo_password=fresh_sim.password)
    application = create_app(config)
    yield application
    application.extensions["kit.db"].close()


@pytest.fixture
def api(sweep_app):
    return sweep_app.test_client()


@pytest.fixture
def odoo(sweep_app):
    """The same Odoo client the workers use, for arranging and inspecting simulator records."""
    return sweep_app.extensions["kit.odoo"]()
