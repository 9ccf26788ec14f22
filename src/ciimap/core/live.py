"""Live progress of in-process jobs on SQLite, visible to every server process.

A running job's unit of work holds SQLite's write lock until it commits, and readers see only
committed rows, so its progress cannot go to the job row. It goes to a small side database next to
the main one (``<file>-live``, WAL, autocommit), which every ``ciimap serve`` worker process reads.
For an in-memory database (one process by definition) a dict does.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

Progress = tuple[int, int | None, str | None]


class LiveStore:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: dict[int, Progress] = {}
        self._local = threading.local()
        if path is not None:
            with self._connect() as c:
                c.execute(
                    "CREATE TABLE IF NOT EXISTS live (job_id INTEGER PRIMARY KEY, done INTEGER NOT NULL,"
                    " total INTEGER, message TEXT)"
                )

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(str(self.path), timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # progress is advisory: a crash may lose the last value
            self._local.conn = conn
        return conn

    def put(self, job_id: int, done: int, total: int | None, message: str | None) -> None:
        if self.path is None:
            self._memory[job_id] = (done, total, message)
            return
        self._connect().execute(
            "INSERT OR REPLACE INTO live (job_id, done, total, message) VALUES (?, ?, ?, ?)",
            (job_id, done, total, message),
        )

    def get(self, job_id: int) -> Progress | None:
        if self.path is None:
            return self._memory.get(job_id)
        row = (
            self._connect()
            .execute("SELECT done, total, message FROM live WHERE job_id = ?", (job_id,))
            .fetchone()
        )
        return None if row is None else (int(row[0]), row[1], row[2])

    def pop(self, job_id: int) -> Progress | None:
        value = self.get(job_id)
        if self.path is None:
            self._memory.pop(job_id, None)
        else:
            self._connect().execute("DELETE FROM live WHERE job_id = ?", (job_id,))
        return value

    def clear(self) -> None:
        """Forget every job's progress (server start: none of them is running any more)."""
        if self.path is None:
            self._memory.clear()
        else:
            self._connect().execute("DELETE FROM live")


_stores: dict[str, LiveStore] = {}
_lock = threading.Lock()


def store_for(url: str, database_path: str | None) -> LiveStore:
    """The live store of a SQLite database (``database_path`` None: in memory)."""
    with _lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = LiveStore(Path(database_path + "-live") if database_path else None)
        return store
