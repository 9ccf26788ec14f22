"""Substring search on the entity lists: which tables have a trigram index, and how to ask it.

Why this exists: the lists' search was a prefix search (``hostname >= 'plc' AND < 'plc\\uffff'``),
so "PLC" found nothing among hundreds of "1号PLC控制器". A substring search over 1M rows needs an
index that knows every three-character piece of a value:

- **SQLite**: one FTS5 table per searched table, ``<table>_fts``, ``tokenize='trigram'``, external
  content (the entity's own rows, no copy of the text), kept in sync by insert/update/delete
  triggers. ``<table>_fts MATCH '"plc"'`` finds the rowids whose searched columns contain "plc"
  (case-insensitive), in rowid order.
- **PostgreSQL**: ``pg_trgm`` GIN indexes ``ix_<table>_<column>_trgm`` answering ``column ILIKE '%plc%'``.
  The migration (``polish1``) creates the extension; when the database user may not (pg_trgm is a
  trusted extension from PostgreSQL 13, so the database owner can), it skips the indexes with a
  warning and the lists keep the prefix search — ``ciimap db search-index`` creates them later, once
  an administrator has run ``CREATE EXTENSION pg_trgm``.

Queries shorter than :data:`MIN_CHARS` characters have no trigram: they stay prefix searches (a
substring scan of 1M rows for one or two characters would miss the 300 ms budget).

The tables and columns are declared once here (:data:`COLUMNS`); the migration copies them (a
migration must not change when the code does) and ``tests/core/test_substring_search.py`` checks both
against the entity specs' ``search`` fields. Bench after a change: ``bench/web_lists.py``.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

#: Searched table -> its searched columns (the entity specs' ``search``), in FTS column order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "organization": ("name", "short_name"),
    "contact": ("name", "email"),
    "site": ("name", "code"),
    "network_zone": ("name",),
    "business_service": ("name", "code"),
    "system": ("name", "code", "filing_number"),
    "vendor": ("name",),
    "product": ("name",),
    "asset": ("hostname", "primary_ip", "name", "serial"),
    "service_endpoint": ("name", "product"),
    "software": ("name", "purl"),
    "edge": ("redundancy_group",),
}

#: A trigram index needs three characters; shorter queries stay prefix searches.
MIN_CHARS = 3

_lock = threading.Lock()
_available: dict[str, frozenset[str]] = {}


def fts_table(table: str) -> str:
    return f"{table}_fts"


def trgm_index(table: str, column: str) -> str:
    return f"ix_{table}_{column}_trgm"


def _indexed_tables(session: Session) -> frozenset[str]:
    """Tables whose substring index exists in this database (asked once per database URL)."""
    bind = session.get_bind()
    key = str(bind.engine.url)
    with _lock:
        hit = _available.get(key)
    if hit is not None:
        return hit
    conn = session.connection()
    if bind.dialect.name == "sqlite":
        names = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
        found = frozenset(t for t in COLUMNS if fts_table(t) in names)
    else:
        names = set(
            conn.execute(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_%_trgm'")).scalars()
        )
        found = frozenset(t for t, cols in COLUMNS.items() if all(trgm_index(t, c) in names for c in cols))
    with _lock:
        _available[key] = found
    return found


def clear_cache() -> None:
    """Forget what was found (after ``ciimap db search-index`` or in tests)."""
    with _lock:
        _available.clear()


def mode(session: Session, spec: Any, q: str) -> str:
    """How ``q`` is searched on this entity: ``"fts"`` (SQLite FTS5), ``"trgm"`` (PostgreSQL pg_trgm)
    or ``"prefix"`` (a short query, or no substring index)."""
    table = spec.model.__tablename__
    if len(q.strip()) < MIN_CHARS or tuple(spec.search) != COLUMNS.get(table):
        return "prefix"
    if table not in _indexed_tables(session):
        return "prefix"
    return "fts" if session.get_bind().dialect.name == "sqlite" else "trgm"


def fts_query(q: str) -> str:
    """The FTS5 MATCH string for a substring: one quoted phrase (quotes doubled), so operators and
    punctuation in the query are text, not syntax."""
    return '"' + q.strip().replace('"', '""') + '"'


def like_pattern(q: str) -> str:
    """``%q%`` with LIKE's wildcards in ``q`` escaped (escape character ``\\``)."""
    esc = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{esc}%"


# -- DDL (the migration and ``ciimap db search-index``) ------------------------------------------------


def sqlite_ddl(table: str, columns: tuple[str, ...]) -> list[str]:
    """The FTS5 table over ``table``, filled, and the triggers that keep it in sync (identifiers from
    :data:`COLUMNS`, never from input)."""
    fts = fts_table(table)
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='id', "
        "tokenize='trigram')",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",  # noqa: S608 (identifiers from COLUMNS)
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
    ]


def sqlite_drop(table: str) -> list[str]:
    fts = fts_table(table)
    return [f"DROP TRIGGER IF EXISTS {fts}_{s}" for s in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {fts}"]


def pg_ddl(table: str, columns: tuple[str, ...]) -> list[str]:
    return [
        f"CREATE INDEX IF NOT EXISTS {trgm_index(table, c)} ON {table} USING gin ({c} gin_trgm_ops)"
        for c in columns
    ]


def pg_drop(table: str, columns: tuple[str, ...]) -> list[str]:
    return [f"DROP INDEX IF EXISTS {trgm_index(table, c)}" for c in columns]


def pg_create_extension(conn: Any) -> str | None:
    """Create pg_trgm if it is not there; the reason it could not be created, or None.

    Runs in a savepoint, so a refusal (no privilege, extension not installed) leaves the surrounding
    transaction — the migration's — usable."""
    if conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return None
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except Exception as e:  # InsufficientPrivilege, UndefinedFile (contrib not installed), ...
        return str(e).splitlines()[0]
    return None


def ensure(conn: Any) -> dict[str, Any]:
    """Create the substring indexes that are missing (``ciimap db search-index``): on PostgreSQL after
    the extension could not be created by the migration; on SQLite after an FTS table was dropped.
    Returns ``{"created": [tables], "refused": reason or None}``."""
    created: list[str] = []
    if conn.dialect.name == "sqlite":
        names = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
        for table, cols in COLUMNS.items():
            if fts_table(table) not in names:
                for stmt in sqlite_drop(table) + sqlite_ddl(table, cols):
                    conn.execute(text(stmt))
                created.append(table)
    else:
        refused = pg_create_extension(conn)
        if refused:
            return {"created": [], "refused": refused}
        names = set(
            conn.execute(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_%_trgm'")).scalars()
        )
        for table, cols in COLUMNS.items():
            if not all(trgm_index(table, c) in names for c in cols):
                for stmt in pg_ddl(table, cols):
                    conn.execute(text(stmt))
                created.append(table)
    clear_cache()
    return {"created": created, "refused": None}
