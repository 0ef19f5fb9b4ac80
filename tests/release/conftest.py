"""The Odoo simulator and an odoorpc client logged in to it, for the release tests over real processes."""
from __future__ import annotations

import odoorpc
import pytest

from tests.harness.odoo_sim import odoo_sim_server


@pytest.fixture(scope="module")
def sim():
    with odoo_sim_server() as info:
        yield info


@pytest.fixture(scope="module")
def odoo(sim):
    client = odoorpc.ODOO(sim.host, port=sim.port)
    client.login(sim.db, sim.login, sim.password)
    return client
