"""In-process (SQLite) jobs show live progress while their own transaction holds the write lock."""

from __future__ import annotations

import subprocess
import sys
import threading

from ciimap.core import jobs

_release = threading.Event()
_reached = threading.Event()


@jobs.job("test.slow_progress")
def _slow(session, params, progress):  # noqa: ANN001
    from ciimap.inventory.models import Vendor

    session.add(Vendor(name="锁住写入"))  # take SQLite's write lock like a real import does
    session.flush()
    progress(40, 100, "halfway", force=True)
    _reached.set()
    _release.wait(300)  # the test releases it; the bound only stops a failed test from holding the lock
    return {"ok": True}


def test_live_progress_visible_during_job(sqlite_database):
    _release.clear()
    _reached.clear()
    try:
        _check_live_progress(sqlite_database)
    finally:
        _release.set()  # never leave the job holding SQLite's write lock for the next test


def _check_live_progress(sqlite_database):
    with sqlite_database.unit_of_work() as s:
        job_id = jobs.submit(s, "test.slow_progress", {}, actor="admin").id
    assert _reached.wait(60)
    with sqlite_database.read_session() as s:
        j = jobs.get(s, job_id)
        assert (j.status, j.progress, j.total, j.message) == ("running", 40, 100, "halfway")
    # another server process (ciimap serve --workers N) sees the same live progress
    code = (
        "import sys; from ciimap.core.db import Database, set_database; from ciimap.core import jobs; "
        "set_database(Database(sys.argv[1])); s = jobs.get_database().sessionmaker(); "
        "j = jobs.get(s, int(sys.argv[2])); print(j.status, j.progress, j.total, j.message)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, sqlite_database.url, str(job_id)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.split() == ["running", "40", "100", "halfway"], out.stderr
    _release.set()
    done = jobs.wait(job_id, timeout=60)
    assert done.status == "succeeded" and done.result == {"ok": True}
    assert (done.progress, done.total) == (100, 100)
