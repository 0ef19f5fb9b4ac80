"""Configuration: read from KIT_* variables, and fail closed in production without secrets."""
from pathlib import Path

import pytest

from python_nodes.app import create_app
from python_nodes.config import Config, ConfigError

APPROVERS = Path(__file__).parents[2] / "python_nodes" / "approvals" / "approvers.example.json"
SECRETS = {"KIT_WEBHOOK_SECRET": "a", "KIT_API_TOKEN": "b", "KIT_N8N_TOKEN": "c", "KIT_SLACK_SIGNING_SECRET": "d"}


def test_reads_prefixed_variables_with_types():
    config = Config.from_env({"KIT_DB_POOL_SIZE": "3", "KIT_OUTBOX_ENABLED": "false", "KIT_ODOO_TIMEOUT": "2.5"})
    assert (config.db_pool_size, config.outbox_enabled, config.odoo_timeout) == (3, False, 2.5)


def test_malformed_value_is_a_clear_error():
    with pytest.raises(ConfigError, match="KIT_DB_POOL_SIZE"):
        Config.from_env({"KIT_DB_POOL_SIZE": "many"})


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_production_refuses_to_start_without_each_secret(missing):
    env = {"KIT_ENV": "production", **SECRETS}
    del env[missing]
    with pytest.raises(ConfigError, match=missing):
        Config.from_env(env)


def test_production_starts_with_all_secrets(tmp_path):
    config = Config.from_env({"KIT_ENV": "production", **SECRETS, "KIT_APPROVERS_FILE": str(APPROVERS),
                              "KIT_DATABASE_URL": f"sqlite:///{tmp_path}/k.sqlite3"})
    app = create_app(config)
    client = app.test_client()
    assert client.get("/v1/outbox").status_code == 401
    assert client.get("/v1/outbox", headers={"X-Kit-Token": "b"}).status_code == 200
    app.extensions["kit.db"].close()


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError):
        Config.from_env({"KIT_ENV": "staging"})


@pytest.mark.parametrize("name", ["KIT_OUTBOX_CONCURRENCY", "KIT_OUTBOX_BATCH", "KIT_OUTBOX_EVENTS_PER_POST"])
def test_an_outbox_that_could_never_send_is_refused(name):
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: "0"})


def test_more_events_per_post_than_one_hand_over_takes_is_refused():
    assert Config.from_env({"KIT_OUTBOX_EVENTS_PER_POST": "100"}).outbox_events_per_post == 100
    with pytest.raises(ConfigError, match="KIT_OUTBOX_EVENTS_PER_POST must be at most 100"):
        Config.from_env({"KIT_OUTBOX_EVENTS_PER_POST": "101"})
