""".env.example documents every variable the kit reads, one comment each, and nothing that nobody reads."""
from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from python_nodes.approvals.settings import ApprovalSettings
from python_nodes.config import PREFIX, Config

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / ".env.example"
# Where the kit reads its variables: code and docs of the workers and scripts, workflows ($env.KIT_...),
# credential templates (${KIT_...}).
READERS = ("python_nodes", "scripts", "n8n/workflows", "n8n/credentials.example")
SKIPPED_DIRS = {"__pycache__", "node_modules", "n8n-runtime"}
TEXT_SUFFIXES = {".py", ".sh", ".json", ".md", ".sql"}
# A whole KIT_ name: not the tail of another identifier (AUTH_KIT_HEADER), not a prefix (KIT_OUTBOX_*).
KIT_NAME = re.compile(r"(?<![A-Za-z0-9_])KIT_[A-Z0-9_]*[A-Z0-9](?![A-Za-z0-9_])")
COMPOSE_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")
# KIT_-shaped strings in the code that are not environment variables.
NOT_VARIABLES = {
    "KIT_NAME",  # the docstring placeholder for "KIT_ + field name"
    "KIT_VALIDATE_RESPONSES",  # a Flask app.config key set by create_app, never read from the environment
}
ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
SECRET = re.compile(r"(SECRET|TOKEN|PASSWORD|_KEY)$")


def documented() -> dict[str, str]:
    """Name -> value of every NAME=value line, including commented-out ``# NAME=`` (documented, left unset)."""
    found = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = ASSIGNMENT.match(line)
        if match:
            found[match.group(2)] = match.group(3).strip().strip('"')
    return found


def read_by_the_kit() -> set[str]:
    """Every variable named in the readers, the workers' settings dataclasses, and docker-compose.yml."""
    names = {PREFIX + f.name.upper() for cls in (Config, ApprovalSettings) for f in fields(cls)}
    for folder in READERS:
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in TEXT_SUFFIXES and not SKIPPED_DIRS & set(path.parts):
                names |= set(KIT_NAME.findall(path.read_text(errors="replace")))
    names |= set(COMPOSE_VARIABLE.findall((ROOT / "docker-compose.yml").read_text()))
    return names - NOT_VARIABLES


def test_every_variable_the_kit_reads_is_documented():
    missing = sorted(read_by_the_kit() - set(documented()))
    assert not missing, f"add these to .env.example: {missing}"


def test_every_documented_variable_is_read_by_something():
    stale = sorted(set(documented()) - read_by_the_kit())
    assert not stale, f"nothing reads these .env.example variables: {stale}"


def test_each_variable_has_its_own_comment_line():
    lines = ENV_EXAMPLE.read_text().splitlines()
    bare = [ASSIGNMENT.match(line).group(2) for i, line in enumerate(lines) if ASSIGNMENT.match(line)
            and (i == 0 or not lines[i - 1].startswith("#") or ASSIGNMENT.match(lines[i - 1]))]
    assert not bare, f"give each of these its own comment line above it: {bare}"


def test_no_variable_is_documented_twice():
    names = [m.group(2) for m in map(ASSIGNMENT.match, ENV_EXAMPLE.read_text().splitlines()) if m]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


@pytest.mark.parametrize("name", sorted(n for n in documented() if SECRET.search(n)))
def test_secrets_are_empty(name):
    assert documented()[name] == "", f"{name} must be empty in .env.example, never a real-looking secret"


def test_example_values_are_valid_settings():
    env = {k: v for k, v in documented().items() if k.startswith(PREFIX)}
    ApprovalSettings.from_config(Config.from_env(env), env)
