"""SQLite runs jobs in the server's own threads: a server killed mid-job must not leave it 'running'."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from ciimap.core import jobs
from ciimap.core.jobs import Job

HERE = Path(__file__).resolve().parent

# a stand-in server: submits a gate job that never opens, runs it in its thread pool, and is then killed
SERVER = f"""
import sys, time
sys.path.insert(0, {str(HERE)!r})
import gate_jobs
from ciimap.core import jobs
from ciimap.core.db import Database, set_database
db = Database(sys.argv[1]); set_database(db)
with db.unit_of_work() as s:
    jobs.submit(s, "test-gate", {{"gate": sys.argv[2]}}, actor="tester")
time.sleep(600)
"""


def test_jobs_cut_off_by_a_killed_server_are_failed_at_next_start(sqlite_database, tmp_path, monkeypatch):
    from ciimap.config import get_settings
    from ciimap.core import uploads

    db = sqlite_database
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    upload = uploads.root() / "left-behind"
    upload.mkdir(parents=True)
    with db.unit_of_work() as s:
        s.add(Job(kind="test-gate", params={}, status="succeeded", result={"x": 1}, created_by="tester"))
        s.add(
            Job(kind="test-gate", params={jobs.UPLOAD_DIR: str(upload)}, status="queued", created_by="tester")
        )  # never dispatched; its upload folder must not stay forever
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, db.url, str(tmp_path / "never")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with db.read_session() as s:
                running = [(j.id, j.progress, j.message) for j in jobs.list_jobs(s) if j.status == "running"]
            if running and running[0][2] == "waiting for the gate":  # live progress from the other process
                break
            assert time.monotonic() < deadline, "the stand-in server never started its job"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    killed = running[0][0]

    lost = jobs.recover_interrupted()

    with db.read_session() as s:
        states = {j.id: (j.status, j.message, j.finished_at is not None) for j in jobs.list_jobs(s)}
    assert sorted(lost) == sorted(i for i, st in states.items() if st[0] == "failed") and killed in lost
    assert len(lost) == 2
    for i in lost:
        assert states[i] == ("failed", jobs.INTERRUPTED, True)
    assert [st[0] for i, st in states.items() if i not in lost] == ["succeeded"]
    assert jobs._live().get(killed) is None  # its last live progress is gone too
    assert not upload.exists()  # and the upload of the job that never ran
    assert jobs.recover_interrupted() == []  # nothing left to recover
