"""Node types and versions the installed n8n knows, read from its packages' ``dist/types/nodes.json``."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .paths import N8N_MODULES

# Node packages bundled with n8n and the prefix their node types carry in workflow JSON.
NODE_PACKAGES = {"n8n-nodes-base": "n8n-nodes-base", "@n8n/n8n-nodes-langchain": "@n8n/n8n-nodes-langchain"}


@lru_cache(maxsize=4)
def node_versions(modules: Path = N8N_MODULES) -> dict[str, set[float]] | None:
    """``{"n8n-nodes-base.webhook": {1, 1.1, 2, 2.1}, ...}``, or None when n8n is not installed here."""
    found: dict[str, set[float]] = {}
    for package, prefix in NODE_PACKAGES.items():
        path = modules / package / "dist" / "types" / "nodes.json"
        if not path.exists():
            continue
        for description in json.loads(path.read_text()):
            versions = found.setdefault(f"{prefix}.{description['name']}", set())
            versions.update(_flatten(description.get("version", 1)))
    return found or None


def _flatten(value) -> list[float]:
    if isinstance(value, list):
        return [v for item in value for v in _flatten(item)]
    return [value]
