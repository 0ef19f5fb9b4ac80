#!/usr/bin/env bash
# Install everything the tests need (Python deps, the pinned n8n), make sure PostgreSQL/Redis run, then run pytest.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/core -x
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
bash scripts/install_n8n.sh
bash scripts/services.sh
exec .venv/bin/python -m pytest "$@"
