#!/usr/bin/env python3
"""Workflow round trip: ``export`` from a running n8n, ``import`` into it, ``normalize`` files, ``lint`` them offline."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from scripts.n8nkit import credentials, lint, paths, runtime, sync  # noqa: E402
from scripts.n8nkit.bootstrap import connect  # noqa: E402
from scripts.n8nkit.normalize import dumps, normalize  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("export", "import"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--dir", type=Path, default=paths.WORKFLOWS_DIR)
        cmd.add_argument("--port", type=int)
        cmd.add_argument("--url", help="an n8n that is not the kit's local one, e.g. https://n8n.example.com "
                                       "(default KIT_N8N_URL); owner login from KIT_N8N_OWNER_EMAIL/_PASSWORD")
        cmd.add_argument("--user-folder", type=Path, help="where the owner login and API key are kept")
    normal = sub.add_parser("normalize")
    normal.add_argument("files", nargs="*", type=Path)
    checks = sub.add_parser("lint")
    checks.add_argument("files", nargs="*", type=Path)
    checks.add_argument("--openapi", help="URL or file of the workers' /openapi.json (default: built from the code)")
    args = parser.parse_args(argv)

    if args.command == "normalize":
        for path in args.files or sorted(paths.WORKFLOWS_DIR.glob("*.json")):
            path.write_text(dumps(normalize(json.loads(path.read_text()))))
            print(f"normalized {path}")
        return 0
    if args.command == "lint":
        files = args.files or sorted(paths.WORKFLOWS_DIR.glob("*.json"))
        problems = lint.lint_files(files, openapi=load_openapi(args.openapi),
                                   credential_templates=credentials.templates())
        for problem in problems:
            print(problem)
        print(f"{len(files)} workflow file(s), {len(problems)} problem(s)")
        return 1 if problems else 0
    overrides = {k: v for k, v in (("port", args.port), ("url", args.url), ("user_folder", args.user_folder)) if v}
    settings = runtime.Settings.from_env(**overrides)
    api, _ = connect(settings)
    if args.command == "export":
        sync.export_workflows(api, args.dir)
    else:
        workflows = sync.read_files(args.dir)
        sync.import_workflows(api, workflows)
        sync.wait_for_webhooks(settings.base_url, sync.webhook_paths(workflows))
    return 0


def load_openapi(source: str | None) -> dict:
    """The workers' OpenAPI document from a URL, a file, or (default) the workers' own code."""
    if source and source.startswith(("http://", "https://")):
        return requests.get(source, timeout=10).json()
    if source:
        return json.loads(Path(source).read_text())
    return openapi_from_code()


def openapi_from_code() -> dict:
    from python_nodes.app import create_app
    from python_nodes.config import Config
    from python_nodes.openapi import build_spec

    with tempfile.TemporaryDirectory(prefix="kit-lint-") as folder:
        app = create_app(Config(database_url=f"sqlite:///{folder}/lint.sqlite3", outbox_enabled=False,
                                log_level="WARNING"))
        try:
            return build_spec(app)
        finally:
            app.extensions["kit.db"].close()


if __name__ == "__main__":
    sys.exit(main())
