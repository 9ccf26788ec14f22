"""Substring search on the entity lists: SQLite FTS5 trigram tables (with sync triggers), PostgreSQL
pg_trgm GIN indexes.

On PostgreSQL the migration creates the ``pg_trgm`` extension; if the database user may not (no
CREATE privilege on the database, or the contrib package is missing), it prints a warning and creates
no trigram index: the lists keep their prefix search until an administrator runs
``CREATE EXTENSION pg_trgm`` and then ``ciimap db search-index``.

The tables and columns are a copy of ``ciimap.core.textsearch.COLUMNS`` as it was when this migration
was written (a test checks they still agree).

Revision ID: polish1
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sys

from alembic import op
from sqlalchemy import text

from ciimap.core import textsearch

revision = "polish1"
down_revision = "0009"
branch_labels = ("polish",)
depends_on = None

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


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for table, cols in COLUMNS.items():
            for stmt in textsearch.sqlite_ddl(table, cols):
                conn.execute(text(stmt))
        return
    refused = textsearch.pg_create_extension(conn)
    if refused:
        print(
            f"warning: pg_trgm could not be created ({refused}); the lists keep the prefix search. "
            "Run CREATE EXTENSION pg_trgm as an administrator, then 'ciimap db search-index'.",
            file=sys.stderr,
        )
        return
    for table, cols in COLUMNS.items():
        for stmt in textsearch.pg_ddl(table, cols):
            conn.execute(text(stmt))


def downgrade() -> None:
    conn = op.get_bind()
    for table, cols in COLUMNS.items():
        stmts = (
            textsearch.sqlite_drop(table)
            if conn.dialect.name == "sqlite"
            else textsearch.pg_drop(table, cols)
        )
        for stmt in stmts:
            conn.execute(text(stmt))
