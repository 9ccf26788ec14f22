"""Alembic environment: all models' metadata, batch mode for SQLite."""

from __future__ import annotations

import re

from alembic import context
from sqlalchemy import Connection, pool

from ciimap.core.db import Base, make_engine
from ciimap.registry import load_all

load_all()
config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


#: PostgreSQL partitions of the alert table (alerts/partitions.py): created and dropped by a job.
_PARTITION = re.compile(r"^alert_(p\d{8}|default)$")
#: Substring search (core/textsearch.py): SQLite FTS5 tables and their shadow tables, pg_trgm indexes.
_FTS = re.compile(r"_fts(_(data|idx|docsize|config|content))?$")


def _include_name(name: str | None, type_: str, _parent: object) -> bool:
    """procrastinate's own tables (the PostgreSQL job queue, core/queue.py) are not ours to diff, nor
    the alert table's day partitions, nor the substring search's FTS5 tables and trigram indexes (they
    are not models: core/textsearch.py and migration polish1 own them)."""
    if type_ == "index":
        return not (name or "").endswith("_trgm")
    if type_ != "table":
        return True
    return not (
        (name or "").startswith("procrastinate_") or _PARTITION.match(name or "") or _FTS.search(name or "")
    )


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
