"""Bulk writing for generated rows: batches with explicit ids inside the caller's transaction, a
running sha256 digest and count per table (for ``audit.record_bulk``).

Rows are written by ``core.bulk.insert_tuples`` (``COPY`` on PostgreSQL, one ``executemany``
elsewhere) on the session's own connection, so they stay inside the one all-or-nothing transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import operator
import pickle
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Index, Table, text
from sqlalchemy.orm import Session

from ciimap.core import bulk

_DT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


class TableWriter:
    """Writes rows (dicts with every column) of one table; keeps count and digest.

    Values are first put in one canonical, backend-neutral form (datetimes as UTC text in
    SQLAlchemy's SQLite storage format, dates ISO, JSON as text), so the digest is the same on
    both databases and the drivers get plain strings (SQLAlchemy's per-row bind processing was
    the main cost: 75 % of the load time in a profile at 20,000 assets).
    """

    def __init__(self, session: Session, table: Table) -> None:
        self.session = session
        self.conn = session.connection()
        self.table = table
        self.cols = [c.name for c in table.columns]
        self.dt_idx = [i for i, c in enumerate(table.columns) if isinstance(c.type, DateTime)]
        self.date_idx = [
            i
            for i, c in enumerate(table.columns)
            if isinstance(c.type, Date) and not isinstance(c.type, DateTime)
        ]
        self.json_idx = [i for i, c in enumerate(table.columns) if isinstance(c.type, JSON)]
        self.pg = self.conn.dialect.name == "postgresql"
        self.getter = operator.itemgetter(*self.cols)
        self.digest = hashlib.sha256()
        self.count = 0
        self._dt_cache: dict[dt.datetime, str] = {}

    def _canonical(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        cols, cache = self.cols, self._dt_cache
        out = []
        for r in rows:
            row = [r[c] for c in cols]
            for i in self.dt_idx:
                v = row[i]
                if v is not None:
                    s = cache.get(v)
                    if s is None:
                        s = cache[v] = v.astimezone(dt.UTC).strftime(_DT_FORMAT)
                    row[i] = s
            for i in self.date_idx:
                if row[i] is not None:
                    row[i] = row[i].isoformat()
            for i in self.json_idx:
                v = row[i]
                if v is not None:
                    row[i] = "[]" if v == [] else ("{}" if v == {} else _json(v))
            out.append(tuple(row))
        return out

    def write(self, rows: list[dict[str, Any]], *, canonical: bool = False) -> None:
        """Write rows; ``canonical`` rows already hold canonical values (the asset stream makes
        them so, which saves a conversion pass over millions of rows)."""
        if not rows:
            return
        values = list(map(self.getter, rows)) if canonical else self._canonical(rows)
        # pickle of the canonical batch: 3x cheaper than repr at a million assets, and as
        # deterministic (same generator, same seed -> same bytes on either backend).
        self.digest.update(pickle.dumps(values, protocol=5))
        self.count += len(values)
        if self.pg and self.dt_idx:  # canonical timestamps are UTC text: say so to timestamptz
            values = [self._utc(t) for t in values]
        bulk.insert_tuples(self.session, self.table, self.cols, values, stored=True)

    def _utc(self, t: tuple[Any, ...]) -> tuple[Any, ...]:
        row = list(t)
        for i in self.dt_idx:
            if row[i] is not None:
                row[i] += "+00"
        return tuple(row)

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def drop_indexes(session: Session, tables: list[Table]) -> list[Index]:
    """Drop the secondary indexes of empty tables before a bulk load (rebuilt once afterwards:
    building an index over sorted data is several times faster than maintaining it per row)."""
    conn = session.connection()
    dropped = []
    for t in tables:
        for idx in sorted(t.indexes, key=lambda i: str(i.name)):
            idx.drop(bind=conn)
            dropped.append(idx)
    return dropped


def create_indexes(session: Session, indexes: list[Index]) -> None:
    conn = session.connection()
    for idx in indexes:
        idx.create(bind=conn)


def finish(session: Session, tables: list[Table], *, big: tuple[str, ...] = ()) -> None:
    """After explicit-id inserts: move PostgreSQL sequences past the new ids; refresh planner stats
    (on PostgreSQL the ``big`` tables are left to ``VACUUM (ANALYZE)`` after the commit)."""
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("PRAGMA analysis_limit=2000")
    for t in tables:
        if not sqlite:
            # table names come from the metadata, never from input
            sql = (
                f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), (SELECT max(id) FROM \"{t.name}\"))"  # noqa: S608
            )
            conn.execute(text(sql))
            if t.name in big:
                continue
        conn.execute(text(f'ANALYZE "{t.name}"'))
