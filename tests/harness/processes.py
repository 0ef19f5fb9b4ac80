"""Start real server processes for tests (the same helpers the demo uses)."""
from scripts.procs import ROOT, free_port, python, spawn, stop, wait_until_up

__all__ = ["ROOT", "free_port", "python", "spawn", "stop", "wait_until_up"]
