"""A real n8n for the round-trip tests, bootstrapped from the repository's files (module scope: ~30 s to start)."""
import pytest

from tests.harness import n8n as n8n_harness

# The credential templates only need values to be importable here; nothing is called through them.
PLACEHOLDER_ENV = {"KIT_API_TOKEN": "rt-api", "KIT_N8N_TOKEN": "rt-n8n", "KIT_ODOO_URL": "http://127.0.0.1:9",
                   "KIT_ODOO_DB": "odoo", "KIT_ODOO_USER": "admin", "KIT_ODOO_PASSWORD": "admin",
                   "KIT_SLACK_BOT_TOKEN": "xoxb-round-trip", "KIT_SMTP_HOST": "127.0.0.1", "KIT_SMTP_PORT": "2525"}


@pytest.fixture(scope="module")
def n8n():
    if not n8n_harness.installed():
        pytest.fail("the real n8n is required: run scripts/install_n8n.sh first")
    with n8n_harness.n8n_server(PLACEHOLDER_ENV) as info:
        yield info
