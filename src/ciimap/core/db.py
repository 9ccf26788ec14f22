"""Engine, declarative base and the unit of work.

Services receive a ``Session`` and never commit; the unit of work around a request, a CLI command
or a job commits once or rolls back once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, MetaData, String, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


T = TypeVar("T")

# Batch sizes, each declared once here (tests/test_vocabularies.py fails on a private copy elsewhere).
#: Values per ``IN (...)`` list: below SQLite's default limit of host parameters per statement (999 before
#: SQLite 3.32), cheap on PostgreSQL. Every batched ``WHERE x IN (...)`` uses it, through ``chunks``.
IN_BATCH = 900
#: Rows per ``insert(Model), rows`` call. Not bound by the parameter limit (SQLAlchemy's insertmanyvalues
#: pages each statement itself); it only bounds the rows materialised in Python for one call.
INSERT_BATCH = 5000


def chunks(items: Iterable[T], size: int = IN_BATCH) -> Iterator[list[T]]:
    """Consecutive batches of ``items`` (batched queries and bulk writes, never a query per row)."""
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, list[Any]: JSON}

    #: Models with ``__audited__ = True`` have every create/update/delete written to the audit log.
    __audited__ = False
    #: Columns never copied into the audit log (password and token hashes): a digest stands in.
    __audit_secret__: frozenset[str] = frozenset()


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ObservedMixin:
    """An observed fact: who reported it and when it was first and last seen.

    Nothing is deleted because a source stops reporting it; ingestion marks it missing instead.
    """

    source: Mapped[str] = mapped_column(String(64), default="manual")
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def _postgresql_utc(dbapi_conn: Any, _record: Any) -> None:
    """Sessions in UTC, like SQLite's stored text: on a server whose TimeZone is Asia/Shanghai, date()
    groupings and due dates would move by eight hours. A SET, not a startup option, which PgBouncer refuses."""
    with dbapi_conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
    dbapi_conn.commit()


def make_engine(url: str, **kw: Any) -> Engine:
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            import pathlib

            pathlib.Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        if ":memory:" not in url and "poolclass" not in kw:
            # a pooled connection keeps its page cache; overflow connections are closed on return,
            # so size the pool for the server's concurrent requests (default 5 churned under load)
            kw.setdefault("pool_size", 16)
            kw.setdefault("max_overflow", 16)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kw)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        if "poolclass" not in kw:
            kw.setdefault("pool_size", 10)
            kw.setdefault("max_overflow", 20)
        kw.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kw)
        event.listen(engine, "connect", _postgresql_utc)
    return engine


class Database:
    """One engine and its session factory; created once per process from the settings."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextlib.contextmanager
    def read_session(self) -> Iterator[Session]:
        session = self.sessionmaker()
        try:
            yield session
        finally:
            session.rollback()
            session.close()


_db: Database | None = None


def get_database() -> Database:
    """The process-wide database (lazily created from the settings)."""
    global _db
    if _db is None:
        from ciimap.config import get_settings

        _db = Database(get_settings().database_url)
    return _db


def set_database(db: Database | None) -> None:
    """Swap the process-wide database (tests, ``--database`` option)."""
    global _db
    if _db is not None and db is not _db:
        _db.engine.dispose()
    _db = db
