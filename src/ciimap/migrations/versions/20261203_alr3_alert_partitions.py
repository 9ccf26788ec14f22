"""alerts: PostgreSQL day partitions of ``alert``; console indexes (both databases)

On PostgreSQL the ``alert`` table becomes a table partitioned by range of ``time`` (UTC days): the
rows are copied into the new table's DEFAULT partition (``alert_default``), and the maintenance job
(``ciimap alerts maintain``, ``alerts/partitions.py``) creates the day partitions ahead, moves rows
out of the default partition into their day and drops the days past retention. The primary key
becomes ``(id, time)`` (a partitioned table's keys must hold the partition key); ids keep coming from
the same sequence. SQLite keeps one table (retention deletes in batches there).

Revision ID: alr3
Revises: alr2
Create Date: 2026-12-03 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "alr3"
down_revision = "alr2"
branch_labels = None
depends_on = None

#: The alert table's indexes (name, columns), re-created on the partitioned table.
INDEXES = (
    ("ix_alert_time_id", "time, id"),
    ("ix_alert_dest_asset_id_time", "dest_asset_id, time"),
    ("ix_alert_src_asset_id_time", "src_asset_id, time"),
    ("ix_alert_run_id", "run_id"),
)


def _swap(partitioned: bool) -> None:
    """Replace ``alert`` by a copy that is (or is not) partitioned by day, keeping rows and ids."""
    seq = op.get_bind().scalar(sa.text("SELECT pg_get_serial_sequence('alert', 'id')"))
    op.execute(f"ALTER SEQUENCE {seq} OWNED BY NONE")
    op.execute("ALTER TABLE alert RENAME TO alert_old")
    op.execute("ALTER TABLE alert_old RENAME CONSTRAINT pk_alert TO pk_alert_old")
    for name, _cols in INDEXES:
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_old")
    if partitioned:
        op.execute("CREATE TABLE alert (LIKE alert_old INCLUDING DEFAULTS) PARTITION BY RANGE (time)")
        op.execute("ALTER TABLE alert ADD CONSTRAINT pk_alert PRIMARY KEY (id, time)")
        op.execute("CREATE TABLE alert_default PARTITION OF alert DEFAULT")
    else:
        op.execute("CREATE TABLE alert (LIKE alert_old INCLUDING DEFAULTS)")
        op.execute("ALTER TABLE alert ADD CONSTRAINT pk_alert PRIMARY KEY (id)")
    for name, cols in INDEXES:
        op.execute(f"CREATE INDEX {name} ON alert ({cols})")
    op.execute("INSERT INTO alert SELECT * FROM alert_old")
    op.execute("DROP TABLE alert_old")
    op.execute(f"ALTER SEQUENCE {seq} OWNED BY alert.id")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _swap(partitioned=True)
    op.create_index("ix_alert_group_target_last_seen", "alert_group", ["target_asset_id", "last_seen", "id"])
    op.create_index("ix_alert_group_zone_last_seen", "alert_group", ["zone_id", "last_seen", "id"])
    op.create_index("ix_alert_group_severity_last_seen", "alert_group", ["severity", "last_seen", "id"])


def downgrade() -> None:
    op.drop_index("ix_alert_group_severity_last_seen", table_name="alert_group")
    op.drop_index("ix_alert_group_zone_last_seen", table_name="alert_group")
    op.drop_index("ix_alert_group_target_last_seen", table_name="alert_group")
    if op.get_bind().dialect.name == "postgresql":
        _swap(partitioned=False)
