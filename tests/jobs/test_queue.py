"""Background jobs: in-process on SQLite, through procrastinate and a separate worker on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from ciimap.core import jobs, queue
from ciimap.core.jobs import Job

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gate_jobs  # noqa: E402,F401

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _status(db, job_id):
    with db.read_session() as s:  # through the service: on SQLite live progress is in a side store
        j = jobs.get(s, job_id)
        return j.status, j.progress, j.total, j.message


def _poll(db, job_id, want, timeout=90.0):  # includes a worker's cold start on a busy machine
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = _status(db, job_id)
        if st[0] == want:
            return st
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {want}: {_status(db, job_id)}")


@pytest.fixture
def clean_queue(database):
    """procrastinate's tables are not emptied by the shared fixture: clear them around each test."""

    def clear():
        if not database.is_sqlite:
            with database.engine.begin() as c:
                c.execute(text("DELETE FROM procrastinate_jobs"))

    clear()
    yield database
    queue.close()
    clear()


def _submit(db, params):
    with db.unit_of_work() as s:
        j = jobs.submit(s, "test-gate", params, actor="tester")
        assert j.status == "queued"  # visible before commit, before any worker can take it
        return j.id


def _start_worker(db, tmp_path):
    env = {**os.environ, "CIIMAP_DATABASE_URL": db.url, "CIIMAP_DATA_DIR": str(tmp_path)}
    with (tmp_path / "worker.log").open("w") as log:  # a file: an unread pipe could fill and block the worker
        return subprocess.Popen(
            [sys.executable, str(HERE / "worker_main.py")],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_job_lifecycle(clean_queue, tmp_path):
    db = clean_queue
    gate = tmp_path / "gate"
    job_id = _submit(db, {"gate": str(gate)})
    worker = None
    try:
        if db.is_sqlite:
            assert _status(db, job_id)[0] in ("queued", "running")  # in-process thread pool picks it up
        else:
            assert _status(db, job_id)[0] == "queued"
            with db.engine.connect() as c:
                row = c.execute(
                    text(
                        "SELECT task_name, args, status, queue_name FROM procrastinate_jobs "
                        "WHERE task_name <> :tick"
                    ),
                    {"tick": queue.TICK},
                ).one()
            assert row.task_name == queue.RUN_JOB and row.args == {"job_id": job_id}
            assert row.status == "todo" and row.queue_name == queue.QUEUE
            time.sleep(0.5)
            assert _status(db, job_id)[0] == "queued"  # nothing runs it until a worker starts
            worker = _start_worker(db, tmp_path)
        st = _poll(db, job_id, "running")
        deadline = time.monotonic() + 20
        while st[3] != "waiting for the gate" and time.monotonic() < deadline:
            time.sleep(0.05)
            st = _status(db, job_id)
        assert st[1:] == (1, 2, "waiting for the gate")
        opening = (
            tmp_path / "gate.new"
        )  # written whole, then renamed: the job must never read a half-written gate
        opening.write_text("opened")
        opening.rename(gate)
        st = _poll(db, job_id, "succeeded")
        assert st[1] == 2
        with db.read_session() as s:
            j = s.get(Job, job_id)
            assert (
                j.result["gate"] == "opened" and j.started_at and j.finished_at and j.created_by == "tester"
            )
            ran_here = j.result["pid"] == os.getpid()
        assert ran_here is db.is_sqlite  # SQLite: this process; PostgreSQL: the separate worker
        if not db.is_sqlite:
            deadline = time.monotonic() + 15  # procrastinate records its own status after the task returns
            while time.monotonic() < deadline:
                with db.engine.connect() as c:
                    status = c.scalar(
                        text("SELECT status FROM procrastinate_jobs WHERE task_name = :t"),
                        {"t": queue.RUN_JOB},
                    )
                if status == "succeeded":
                    break
                time.sleep(0.05)
            assert status == "succeeded"
    finally:
        if worker is not None:
            _stop(worker)


def test_failed_job_keeps_a_clear_error(clean_queue, tmp_path):
    db = clean_queue
    job_id = _submit(db, {"fail": "bad input"})
    worker = None if db.is_sqlite else _start_worker(db, tmp_path)
    try:
        st = _poll(db, job_id, "failed")
        assert st[3] == "gate job refused: bad input"
    finally:
        if worker is not None:
            _stop(worker)
    from ciimap.cli import app

    r = CliRunner().invoke(app, ["jobs", "wait", str(job_id), "--timeout", "5"])
    assert r.exit_code != 0 and "gate job refused: bad input" in str(r.exception)


def test_jobs_cli(database, tmp_path):
    import json

    from ciimap.cli import app

    gate = tmp_path / "gate"
    gate.write_text("ready")
    with database.unit_of_work() as s:  # a finished job row, no queue involved
        j = Job(
            kind="test-gate",
            params={"gate": str(gate)},
            status="succeeded",
            result={"x": 1},
            progress=2,
            total=2,
            message="done",
            created_by="tester",
        )
        s.add(j)
        s.flush()
        job_id = j.id
    runner = CliRunner()
    r = runner.invoke(app, ["jobs", "list", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [(x["id"], x["status"], x["kind"]) for x in rows] == [(job_id, "succeeded", "test-gate")]
    r = runner.invoke(app, ["jobs", "show", str(job_id), "--json"])
    assert json.loads(r.output)["result"] == {"x": 1}
    r = runner.invoke(app, ["jobs", "wait", str(job_id), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["status"] == "succeeded"
    r = runner.invoke(app, ["jobs", "show", "999999"])
    assert r.exit_code != 0 and "job 999999 does not exist" in str(r.exception)


def test_worker_refuses_sqlite(sqlite_database):
    from ciimap.cli import app

    r = CliRunner().invoke(app, ["worker", "--burst"])
    assert r.exit_code != 0 and "needs PostgreSQL" in str(r.exception)


def test_queue_schema_is_idempotent(database):
    assert queue.ensure_queue_schema(database.url) is False  # already applied by the migration step
    if not database.is_sqlite:
        from ciimap.core.migrate import upgrade

        upgrade(database.url)  # re-applying must not fail
        with database.engine.connect() as c:
            assert c.scalar(text("SELECT to_regclass('procrastinate_jobs')")) is not None


def test_libpq_url():
    assert (
        queue.libpq_url("postgresql+psycopg://u:p%40ss@h:5432/db?sslmode=require")
        == "postgresql://u:p%40ss@h:5432/db?sslmode=require"
    )


def test_job_of_a_dead_worker_is_marked_failed(clean_queue, tmp_path, monkeypatch):
    """A worker killed mid-job leaves no job 'running' forever: the reaper fails it with a clear reason."""
    import asyncio

    from ciimap.config import get_settings
    from ciimap.core import uploads

    db = clean_queue
    if db.is_sqlite:  # no worker processes on SQLite; the marking step itself is the same
        monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
        upload = uploads.root() / "lost"
        upload.mkdir(parents=True)
        with db.unit_of_work() as s:
            j = Job(
                kind="test-gate", params={jobs.UPLOAD_DIR: str(upload)}, status="running", created_by="tester"
            )
            s.add(j)
            s.flush()
            job_id = j.id
        assert jobs.mark_lost([job_id, job_id + 1]) == 1
        assert not upload.exists()  # the lost job's upload folder goes too
    else:
        job_id = _submit(db, {"gate": str(tmp_path / "never")})
        worker = _start_worker(db, tmp_path)
        try:
            _poll(db, job_id, "running")
        finally:
            worker.kill()  # SIGKILL: no graceful shutdown, the job stays 'doing'
            worker.wait()

        async def reap():
            app = queue.make_app(db.url)
            async with app.open_async():
                return await jobs.reap_stalled(app, seconds_since_heartbeat=0)

        assert asyncio.run(reap()) == [job_id]
        with db.engine.connect() as c:
            status = c.scalar(
                text("SELECT status FROM procrastinate_jobs WHERE task_name = :t"), {"t": queue.RUN_JOB}
            )
        assert status == "failed"
    with db.read_session() as s:
        j = s.get(Job, job_id)
        assert j.status == "failed" and j.error == queue.LOST and j.finished_at is not None


def test_worker_removes_the_upload_folder_when_the_job_ends(clean_queue, tmp_path, monkeypatch):
    """The job wrapper cleans up wherever the job runs: the thread pool (SQLite) or a procrastinate worker
    process (PostgreSQL), after success and after failure."""
    from ciimap.config import get_settings
    from ciimap.core import uploads

    db = clean_queue
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)  # the worker gets the same CIIMAP_DATA_DIR
    gate = tmp_path / "gate"
    gate.write_text("open")
    ids, dirs = [], []
    for params in ({"gate": str(gate)}, {"fail": "bad upload"}):
        folder = uploads.root() / f"job-{len(dirs)}"
        folder.mkdir(parents=True)
        (folder / "scan.xml").write_text("<nmaprun/>")
        with db.unit_of_work() as s:
            ids.append(jobs.submit(s, "test-gate", params, actor="tester", upload_dir=folder).id)
        dirs.append(folder)
    worker = None if db.is_sqlite else _start_worker(db, tmp_path)
    try:
        _poll(db, ids[0], "succeeded")
        _poll(db, ids[1], "failed")
    finally:
        if worker is not None:
            _stop(worker)
    assert [d.exists() for d in dirs] == [False, False]
