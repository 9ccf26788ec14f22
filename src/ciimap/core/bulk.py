"""Fast bulk writes for every loader (imports, the demo operator, vulnerability findings): rows go
straight to the driver — ``COPY`` on PostgreSQL, one ``executemany`` elsewhere.

Hand-written on purpose: SQLAlchemy's executemany path builds and type-processes a parameter dict
per row (about 60 % of a 65k-host import in cProfile); here each column gets one converter chosen
once per batch (JSON → text, DateTime → SQLite's text format with a memo for the run's single
timestamp). Only for our own bulk loads, where the rows are already validated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import psycopg

from sqlalchemy import JSON, Boolean, DateTime, func, select
from sqlalchemy.orm import Session

_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, ...] = ()


@contextlib.contextmanager
def fewer_gc_passes(first_generation: int = 50_000) -> Iterator[None]:
    """Run the cyclic garbage collector less often during a bulk load.

    A load allocates millions of small tuples and records, almost none in reference cycles; with
    the default threshold (700) the collector runs thousands of times, traversing every live row
    each time a full pass triggers (10-15 % of a 65k-host nmap import). Memory stays bounded: the
    collector still runs, and plain reference counting frees everything else at once. Process-wide
    while any load runs (concurrent loads share it; the last one restores the old thresholds).
    """
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(first_generation, *_gc_saved[1:])
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0:
                gc.set_threshold(*_gc_saved)


def _sqlite_ts() -> Callable[[Any], Any]:
    last: list[Any] = [None, None]  # the run's timestamp repeats: compare by identity first

    def conv(v: Any) -> Any:
        if v is last[0]:
            return last[1]
        if v is None:
            return None
        u = v.astimezone(dt.UTC).replace(tzinfo=None) if v.tzinfo else v
        text = u.isoformat(" ")  # SQLAlchemy's "%Y-%m-%d %H:%M:%S.%f", 5x faster than strftime
        last[0], last[1] = v, text if u.microsecond else text + ".000000"
        return last[1]

    return conv


_PLAIN = re.compile(r'^[^"\\\x00-\x1f]*$')


_json_memo: dict[tuple[Any, ...], str] = {}


def _json(v: Any) -> Any:
    if v is None:
        return None
    if not v:
        return "[]" if isinstance(v, list) else "{}"
    if type(v) is list:
        if all(type(x) is int for x in v):  # id lists (alert and group samples, systems, services)
            return "[" + ",".join(map(str, v)) + "]"
        key = tuple(v)
        try:
            return _json_memo[key]  # CPE lists repeat across thousands of endpoints
        except (KeyError, TypeError):
            pass
        if all(type(x) is str and _PLAIN.match(x) for x in v):
            text = '["' + '","'.join(v) + '"]'  # lists of plain strings (CPEs, IPs): no escaping needed
        else:
            text = json.dumps(v, ensure_ascii=False)
        if len(_json_memo) > 50_000:
            _json_memo.clear()
        with contextlib.suppress(TypeError):  # unhashable items (dicts): not memoised
            _json_memo[key] = text
        return text
    return json.dumps(v, ensure_ascii=False)


def allocate_ids(session: Session, table: Any, n: int) -> list[int]:
    """Primary keys for ``n`` new rows, so parents and children can be bulk-inserted without RETURNING.

    SQLite: the import transaction already holds the write lock, so max(id)+1.. is ours.
    PostgreSQL: draw from the column's sequence.
    """
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        start = int(conn.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1
        return list(range(start, start + n))
    seq = conn.scalar(select(func.pg_get_serial_sequence(table.name, "id")))
    return [int(v) for v in conn.scalars(select(func.nextval(seq)).select_from(func.generate_series(1, n)))]


def _converters(table: Any, cols: list[str], sqlite: bool) -> list[Callable[[Any], Any] | None]:
    out: list[Callable[[Any], Any] | None] = []
    for c in cols:
        typ = table.c[c].type
        if isinstance(typ, JSON):
            out.append(_json)
        elif sqlite and isinstance(typ, DateTime):
            out.append(_sqlite_ts())
        elif sqlite and isinstance(typ, Boolean):
            out.append(lambda v: None if v is None else int(v))
        else:
            out.append(None)
    return out


def insert_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table`` with one executemany."""
    if not rows:
        return
    cols = list(rows[0])
    getter = itemgetter(*cols)
    insert_tuples(
        session, table, cols, [getter(r) for r in rows] if len(cols) > 1 else [(getter(r),) for r in rows]
    )


def db_timestamp(session: Session, value: dt.datetime) -> Any:
    """A timestamp as the driver stores it (SQLite: SQLAlchemy's text form), for rows built with
    :func:`json_text` values and inserted with ``insert_tuples(..., stored=True)``."""
    return _sqlite_ts()(value) if session.connection().dialect.name == "sqlite" else value


def json_text(value: Any) -> Any:
    """A JSON column value as stored (memoised for the lists that repeat, such as CPEs)."""
    return _json(value)


def insert_tuples(
    session: Session, table: Any, cols: Sequence[str], raw: list[tuple[Any, ...]], *, stored: bool = False
) -> None:
    """INSERT rows given as tuples in ``cols`` order (the hot path: no per-row dict).

    ``stored``: JSON and timestamp values are already in stored form (:func:`json_text`,
    :func:`db_timestamp`), so no per-row conversion runs (15 % of a 65k-host import).
    """
    if not raw:
        return
    conn = session.connection()
    convs = [None] * len(cols) if stored else _converters(table, list(cols), conn.dialect.name == "sqlite")
    prep = conn.dialect.identifier_preparer
    todo = [(i, f) for i, f in enumerate(convs) if f is not None]
    if todo:

        def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
            out = list(row)
            for i, f in todo:
                out[i] = f(out[i])
            return tuple(out)

        raw = list(map(convert, raw))
    if conn.dialect.name == "postgresql":  # COPY: one stream, 3-4x faster than batched INSERTs
        columns = ", ".join(prep.quote(c) for c in cols)
        driver = cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)
        with (
            driver.cursor() as cur,
            cur.copy(f"COPY {prep.format_table(table)} ({columns}) FROM STDIN") as copy,
        ):
            for row in raw:
                copy.write_row(row)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    # identifiers come from our own table metadata, values are bound parameters
    sql = (
        f"INSERT INTO {prep.format_table(table)} ({', '.join(prep.quote(c) for c in cols)}) "  # noqa: S608
        f"VALUES ({', '.join([mark] * len(cols))})"
    )
    conn.exec_driver_sql(sql, raw)


def update_tuples(session: Session, table: Any, cols: Sequence[str], raw: list[tuple[Any, ...]]) -> None:
    """UPDATE rows by primary key ``id``: each tuple holds ``cols`` values then the id; one executemany
    with the same per-column converters as :func:`insert_tuples` (no per-row dict)."""
    if not raw:
        return
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    todo = [(i, f) for i, f in enumerate(_converters(table, list(cols), sqlite)) if f is not None]
    if todo:

        def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
            out = list(row)
            for i, f in todo:
                out[i] = f(out[i])
            return tuple(out)

        raw = list(map(convert, raw))
    prep = conn.dialect.identifier_preparer
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sets = ", ".join(f"{prep.quote(c)} = {mark}" for c in cols)
    # identifiers come from our own table metadata, values are bound parameters
    sql = f"UPDATE {prep.format_table(table)} SET {sets} WHERE id = {mark}"  # noqa: S608
    conn.exec_driver_sql(sql, raw)
