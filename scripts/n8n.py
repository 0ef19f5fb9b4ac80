#!/usr/bin/env python3
"""Run the kit's pinned n8n: ``install | start | stop | status | bootstrap | up`` (up = start + bootstrap)."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.n8nkit import bootstrap as boot  # noqa: E402
from scripts.n8nkit import credentials, paths, runtime  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["install", "start", "stop", "status", "bootstrap", "up"])
    parser.add_argument("--port", type=int, help="n8n port (default KIT_N8N_PORT or 5678)")
    parser.add_argument("--user-folder", type=Path, help="n8n data folder (default KIT_N8N_USER_FOLDER or "
                                                         ".runtime/n8n-data)")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("port", args.port), ("user_folder", args.user_folder)) if v}
    settings = runtime.Settings.from_env(**overrides)

    if args.command == "install":
        return subprocess.call(["bash", str(paths.INSTALL_SCRIPT)])
    if args.command == "status":
        pid = runtime.running_pid(settings)
        print(f"n8n {paths.pinned_version()} {'running, pid ' + str(pid) if pid else 'stopped'} "
              f"({settings.local_url}, data in {settings.user_folder})")
        return 0 if pid else 1
    if args.command == "stop":
        runtime.stop(settings)
        print("n8n stopped")
        return 0
    if args.command in ("start", "up"):
        if runtime.running_pid(settings):
            print(f"n8n already running at {settings.local_url}")
        else:
            print(f"starting n8n {paths.pinned_version()} at {settings.local_url} (data in {settings.user_folder})")
            proc = runtime.spawn(settings)
            runtime.wait_ready(settings, proc)
            print(f"n8n is ready: canvas at {settings.local_url}/  log in {settings.user_folder / runtime.LOG_FILE}")
    if args.command in ("bootstrap", "up"):
        try:
            boot.bootstrap(settings)
        except credentials.MissingVariables as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
