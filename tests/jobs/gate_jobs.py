"""A job kind for queue tests: it reports progress, then waits for a gate file, so a test can see
queued → running → succeeded happen (and on PostgreSQL, in another process)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ciimap.core import jobs
from ciimap.core.errors import Invalid


@jobs.job("test-gate")
def gate(session, params, progress):
    if params.get("fail"):
        raise Invalid(f"gate job refused: {params['fail']}")
    gate_file = Path(params["gate"])
    progress(1, 2, "waiting for the gate", force=True)
    deadline = time.monotonic() + 60
    while not gate_file.exists():
        if time.monotonic() > deadline:
            raise Invalid("gate never opened")
        time.sleep(0.05)
    progress(2, 2, "gate open", force=True)
    return {"pid": os.getpid(), "gate": gate_file.read_text()}
