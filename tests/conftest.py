"""Shared fixtures: a Flask app over a fresh database (SQLite, or PostgreSQL for the ``backend`` fixture), and the
Odoo simulator with an odoorpc client logged in to it."""
from __future__ import annotations

import uuid
from contextlib import contextmanager

import odoorpc
import psycopg
import pytest

from python_nodes.app import create_app
from python_nodes.config import Config
from tests.harness.odoo_sim import odoo_sim_server

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path}/kit.sqlite3"


@contextmanager
def fresh_postgres_database():
    """A fresh, empty PostgreSQL database (its URL), dropped afterwards."""
    name = "kit_" + uuid.uuid4().hex[:12]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    """Run a test once per store backend."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def config(sqlite_url):
    return Config(database_url=sqlite_url)


@pytest.fixture
def app(config):
    application = create_app(config)
    yield application
    application.extensions["kit.db"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def sim():
    """The Odoo simulator as a real process, one per test module."""
    with odoo_sim_server() as info:
        yield info


@pytest.fixture(scope="module")
def odoo(sim):
    """odoorpc logged in to the module's simulator, for arranging and inspecting records."""
    client = odoorpc.ODOO(sim.host, port=sim.port)
    client.login(sim.db, sim.login, sim.password)
    return client
