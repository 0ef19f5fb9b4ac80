"""The README's main-job command: the demo drives the whole loop through a real n8n and says so."""
import subprocess

import pytest

from scripts.procs import ROOT, python

pytestmark = pytest.mark.e2e


def test_demo_runs_every_scenario_end_to_end(tmp_path):
    done = subprocess.run([python(), str(ROOT / "scripts" / "demo.py"), "--exit", "--folder", str(tmp_path / "demo")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "Within policy: no approval needed" in out
    assert "Anna presses Approve" in out and "decision: approve" in out
    assert "answered HTTP 201, 200" in out and "1 event recorded" in out
    assert "release.applied" in out and "all four scenarios passed" in out
    # The over-credit order was decided once, by its hand-over; its approvals started from that decision.
    [audit] = [line for line in out.splitlines() if "] audit " in line]
    assert audit.count("release.decided") == 1, audit
    assert "scheduled date" in out.split("scenario 4:")[1] and "slack    #" in out.split("scenario 4:")[1]
