#!/usr/bin/env bash
# The kit's main job: install (Python deps, the pinned Node + n8n), then start the Odoo simulator, the workers,
# Slack and mail stand-ins and n8n, import the workflows, provision Odoo and drive the order scenario end to end.
# Arguments go to scripts/demo.py (e.g. --exit to stop after the scenario).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
bash scripts/install_n8n.sh
exec .venv/bin/python scripts/demo.py "$@"
