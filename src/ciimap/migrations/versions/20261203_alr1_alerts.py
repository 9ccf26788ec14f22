"""alerts: one row per line read from a sensor's file (Suricata, Wazuh, syslog, CEF)

Revision ID: alr1
Revises: 0001
Create Date: 2026-12-03 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "alr1"
down_revision = "0001"
branch_labels = ("alerts",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("sensor", sa.String(length=255), nullable=True),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("rule_name", sa.String(length=500), nullable=True),
        sa.Column("raw_severity", sa.String(length=32), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("priority_reasons", sa.JSON(), nullable=False),
        sa.Column("src_ip", sa.String(length=45), nullable=True),
        sa.Column("src_port", sa.Integer(), nullable=True),
        sa.Column("dest_ip", sa.String(length=45), nullable=True),
        sa.Column("dest_port", sa.Integer(), nullable=True),
        sa.Column("proto", sa.String(length=16), nullable=True),
        sa.Column("cves", sa.JSON(), nullable=False),
        sa.Column("src_asset_id", sa.Integer(), nullable=True),
        sa.Column("dest_asset_id", sa.Integer(), nullable=True),
        sa.Column("src_zone_id", sa.Integer(), nullable=True),
        sa.Column("dest_zone_id", sa.Integer(), nullable=True),
        sa.Column("src_matched_by", sa.String(length=16), nullable=True),
        sa.Column("dest_matched_by", sa.String(length=16), nullable=True),
        sa.Column("src_internal", sa.Boolean(), nullable=False),
        sa.Column("dest_internal", sa.Boolean(), nullable=False),
        sa.Column("system_ids", sa.JSON(), nullable=False),
        sa.Column("service_ids", sa.JSON(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("reject", sa.String(length=300), nullable=True),
        sa.Column("line_no", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    op.create_index("ix_alert_time_id", "alert", ["time", "id"], unique=False)
    op.create_index("ix_alert_dest_asset_id_time", "alert", ["dest_asset_id", "time"], unique=False)
    op.create_index("ix_alert_src_asset_id_time", "alert", ["src_asset_id", "time"], unique=False)
    op.create_index("ix_alert_run_id", "alert", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alert_run_id", table_name="alert")
    op.drop_index("ix_alert_src_asset_id_time", table_name="alert")
    op.drop_index("ix_alert_dest_asset_id_time", table_name="alert")
    op.drop_index("ix_alert_time_id", table_name="alert")
    op.drop_table("alert")
