"""Background jobs with progress.

Every long piece of work (scan, import, re-match) is a registered job function
``fn(session, params, progress) -> result``. On SQLite it runs in-process on a thread pool; on
PostgreSQL it is deferred to a procrastinate queue whose workers (``ciimap worker``) may run on
other machines. Either way the ``job`` row carries status and progress for the API, CLI and UI.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, event, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ciimap.config import get_settings
from ciimap.core import queue, tasks, uploads
from ciimap.core.audit import Actor, acting_as
from ciimap.core.db import Base, Database, chunks, get_database, utcnow
from ciimap.core.errors import CiimapError, NotFound, check_choice, check_range
from ciimap.core.live import LiveStore, store_for

log = logging.getLogger(__name__)

JobFn = Callable[[Session, dict[str, Any], "Progress"], dict[str, Any] | None]
_REGISTRY: dict[str, JobFn] = {}
#: A job still to run or running, and one that has ended (STATUSES is the two together).
ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")
STATUSES = (*ACTIVE, *FINISHED)
#: Job parameter naming the upload folder the job owns (removed when the job ends).
UPLOAD_DIR = "upload_dir"


class Job(Base):
    __tablename__ = "job"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


def job(kind: str) -> Callable[[JobFn], JobFn]:
    """Register a job function under ``kind``."""

    def deco(fn: JobFn) -> JobFn:
        _REGISTRY[kind] = fn
        return fn

    return deco


def registered() -> dict[str, JobFn]:
    """The job kinds registered so far: each domain's ``jobs`` module registers its own when imported
    (``ciimap.registry`` imports them all; a command that queues a job imports its domain's module)."""
    return dict(_REGISTRY)


class Progress:
    """Progress reporter; writes to the job row in its own short transactions (throttled)."""

    def __init__(
        self, job_id: int | None, callback: Callable[[int, int | None, str | None], None] | None = None
    ):
        self.job_id = job_id
        self.callback = callback
        self._last = 0.0
        self.done = 0
        self.total: int | None = None

    def __call__(
        self, done: int, total: int | None = None, message: str | None = None, *, force: bool = False
    ) -> None:
        import time

        self.done, self.total = done, total if total is not None else self.total
        if self.callback:
            self.callback(done, self.total, message)
        now = time.monotonic()
        if self.job_id is None or (not force and now - self._last < 0.5):
            return
        self._last = now
        db = get_database()
        if db.is_sqlite:
            # In-process jobs: the job's own transaction holds SQLite's write lock, and readers only see
            # committed rows, so live progress goes to a side store every server process reads.
            _live().put(self.job_id, done, self.total, message)
            return
        with db.unit_of_work() as s:
            s.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(progress=done, total=self.total, message=message)
            )


def _live() -> LiveStore:
    """Live progress of running in-process jobs (SQLite mode), shared by the server's processes."""
    db = get_database()
    return store_for(
        db.url, db.engine.url.database if db.engine.url.database not in (None, "", ":memory:") else None
    )


def _with_live(session: Session, j: Job) -> Job:
    live = _live().get(j.id) if j.status == "running" and get_database().is_sqlite else None
    if live is not None:
        session.expunge(j)  # show live values without writing them back
        j.progress, j.total, j.message = live
    return j


def run_inline(kind: str, params: dict[str, Any], progress: Progress | None = None) -> dict[str, Any] | None:
    """Run a job function now, in one unit of work (CLI without a queue, tests)."""
    fn = registered().get(kind)
    if fn is None:
        raise NotFound(f"no job kind '{kind}'")
    with get_database().unit_of_work() as s:
        return fn(s, params, progress or Progress(None))


#: Longest error a failed job keeps (the reason; a traceback goes to the server log).
MAX_ERROR = 1000


def one_line(text: str, limit: int = MAX_ERROR) -> str:
    """The first non-empty line of ``text``, at most ``limit`` characters (a job's error is one line)."""
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def execute(job_id: int) -> None:
    """Run a queued job by id (used by the thread pool and by procrastinate workers).

    The job's upload folder (``params["upload_dir"]``, see :func:`submit`) is removed when it ends.
    """
    db = get_database()
    with db.unit_of_work() as s:
        j = s.get(Job, job_id)
        if j is None or j.status != "queued":
            if j is not None and j.status in FINISHED:  # e.g. cancelled before it ran
                uploads.discard(j.params.get(UPLOAD_DIR))
            return
        j.status, j.started_at = "running", utcnow()
        kind, params, actor = j.kind, dict(j.params), j.created_by
    try:
        values = _run(db, job_id, kind, params, actor)
    finally:  # before the final status: whoever sees the job finished sees its folder gone
        uploads.discard(params.get(UPLOAD_DIR))
    with db.unit_of_work() as s:
        s.execute(update(Job).where(Job.id == job_id).values(finished_at=utcnow(), **values))


def _run(db: Database, job_id: int, kind: str, params: dict[str, Any], actor: str) -> dict[str, Any]:
    """Run the job function in its own unit of work; the values of the job row's final status."""
    fn = registered().get(kind)
    try:
        if fn is None:
            raise NotFound(f"no job kind '{kind}'")
        with acting_as(Actor(actor, via="job", request_id=f"job-{job_id}")), db.unit_of_work() as s:
            result = fn(s, params, Progress(job_id))
        values: dict[str, Any] = {
            "status": "succeeded",
            "result": result or {},
            "message": "done",
            "progress": func.coalesce(Job.total, Job.progress),
        }  # a done job shows 100%
    except CiimapError as e:
        values = {"status": "failed", "error": one_line(e.message), "message": one_line(e.message, 300)}
    except Exception as e:  # a bug: the trace goes to the server log, the job keeps one line
        log.exception("job %s (%s) failed", job_id, kind)
        error = one_line(f"{type(e).__name__}: {e}")
        values = {"status": "failed", "error": error, "message": one_line(f"internal error: {error}", 300)}
    live = _live().pop(job_id) if db.is_sqlite else None
    if live is not None:  # keep the last in-memory progress; a succeeded job shows 100%
        done, total, _msg = live
        values.update(total=total, progress=(total or done) if values["status"] == "succeeded" else done)
    return values


def discard_uploads(session: Session, job_ids: list[int]) -> None:
    """Remove the upload folders of jobs that will never run (interrupted or lost)."""
    for batch in chunks(job_ids):
        for params in session.scalars(select(Job.params).where(Job.id.in_(batch))):
            uploads.discard((params or {}).get(UPLOAD_DIR))


INTERRUPTED = "interrupted: the server stopped before this job finished; start it again"


def recover_interrupted() -> list[int]:
    """At server start on SQLite: fail the jobs the previous server left queued or running.

    In-process jobs die with their server, so without this they would show 'running' forever. They
    are failed, not re-run: a half-done scan or import is for a person to restart. (A job another
    process, e.g. a CLI import, is really still running writes its own final status when it ends.)
    On PostgreSQL procrastinate's heartbeats find lost jobs instead (``queue.reap_stalled``).
    """
    db = get_database()
    if not db.is_sqlite:
        return []
    with db.unit_of_work() as s:
        ids = list(s.scalars(select(Job.id).where(Job.status.in_(ACTIVE)).order_by(Job.id)))
        if ids:
            s.execute(
                update(Job)
                .where(Job.id.in_(ids))
                .values(status="failed", error=INTERRUPTED, message=INTERRUPTED, finished_at=utcnow())
            )
            discard_uploads(s, ids)
    _live().clear()
    return ids


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=get_settings().job_threads, thread_name_prefix="ciimap-job"
            )
        return _pool


def submit(
    session: Session,
    kind: str,
    params: dict[str, Any],
    *,
    actor: str = "system",
    upload_dir: Path | None = None,
) -> Job:
    """Queue a job. The job starts after the caller's transaction commits.

    ``upload_dir`` (from :func:`ciimap.core.uploads.store`) belongs to the job from now on: it is
    removed when the job ends, when the caller's transaction rolls back, or when queueing fails.
    """
    with contextlib.ExitStack() as guard:
        if upload_dir is not None:
            guard.callback(uploads.discard, upload_dir)
            params = {**params, UPLOAD_DIR: str(upload_dir)}
        if kind not in registered():
            raise NotFound(f"no job kind '{kind}'")
        j = Job(kind=kind, params=params, created_by=actor)
        session.add(j)
        session.flush()
        guard.pop_all()
    job_id = j.id

    def _start(_s: Session) -> None:
        if upload_dir is not None:
            event.remove(session, "after_rollback", _drop)
        try:
            dispatch(job_id)
        except Exception as e:  # the queue is unreachable: the job will never run, say so on its row
            log.exception("could not queue job %s", job_id)
            uploads.discard(upload_dir)
            _fail_unqueued(job_id, f"could not queue the job: {e}"[:300])

    def _drop(_s: Session) -> None:
        event.remove(session, "after_commit", _start)
        uploads.discard(upload_dir)

    event.listen(session, "after_commit", _start, once=True)
    if upload_dir is not None:
        event.listen(session, "after_rollback", _drop, once=True)
    return j


def _fail_unqueued(job_id: int, message: str) -> None:
    with get_database().unit_of_work() as s:
        s.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="failed", error=message, message=message, finished_at=utcnow())
        )


def dispatch(job_id: int) -> None:
    db = get_database()
    if db.is_sqlite:
        _thread_pool().submit(execute, job_id)
    else:
        queue.defer(job_id)


# --- PostgreSQL: procrastinate tasks (core/queue.py) --------------------------------------------


def mark_lost(job_ids: list[int]) -> int:
    """Fail ciimap jobs still 'running' whose worker is gone, so nobody waits for them forever."""
    if not job_ids:
        return 0
    with get_database().unit_of_work() as s:
        res = s.execute(
            update(Job)
            .where(Job.id.in_(job_ids), Job.status == "running")
            .values(status="failed", error=tasks.LOST, message=tasks.LOST, finished_at=utcnow())
        )
        discard_uploads(s, job_ids)
        return int(res.rowcount or 0)  # type: ignore[attr-defined]


async def reap_stalled(app: Any, *, seconds_since_heartbeat: float = 60) -> list[int]:
    """Jobs whose worker stopped sending heartbeats are failed (procrastinate's row and ours)."""
    return await queue.reap_stalled(app, on_lost=mark_lost, seconds_since_heartbeat=seconds_since_heartbeat)


def _run_job(job_id: int) -> None:
    execute(job_id)


async def _reap(context: Any, timestamp: int) -> None:
    assert context.app is not None
    await reap_stalled(context.app)


@tasks.installer
def _install_tasks(app: Any) -> None:
    """The job runner and, every five minutes, the reaper of jobs whose worker was lost."""
    app.task(name=tasks.RUN_JOB, queue=tasks.QUEUE)(_run_job)
    reap = app.task(name=tasks.REAP, queue=tasks.QUEUE, queueing_lock=tasks.REAP, pass_context=True)(_reap)
    app.periodic(cron="*/5 * * * *", periodic_id="reap-stalled")(reap)


def wait(job_id: int, timeout: float = 60.0) -> Job:
    """Block until a job finishes (CLI ``--wait``, tests)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        with get_database().read_session() as s:
            j = s.get(Job, job_id)
            if j is None:
                raise NotFound(f"job {job_id} does not exist")
            if j.status in FINISHED:
                s.expunge(j)
                return j
        if time.monotonic() > deadline:
            raise CiimapError(f"job {job_id} still {j.status} after {timeout:.0f}s")
        time.sleep(0.1)


def get(session: Session, job_id: int) -> Job:
    j = session.get(Job, job_id)
    if j is None:
        raise NotFound(f"job {job_id} does not exist")
    return _with_live(session, j)


def list_jobs(
    session: Session, *, kind: str | None = None, status: str | None = None, limit: int = 50
) -> list[Job]:
    check_choice("status", status, STATUSES)
    check_range("limit", limit, 1, 1000)
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    if status:
        stmt = stmt.where(Job.status == status)
    return [_with_live(session, j) for j in session.scalars(stmt)]
