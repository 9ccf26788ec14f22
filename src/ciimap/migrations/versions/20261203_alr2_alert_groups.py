"""alerts: groups, scoped suppressions, early warnings (预警); alert.suppression_id

Revision ID: alr2
Revises: alri
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "alr2"
down_revision = "alri"
branch_labels = None
depends_on = None


def _ts() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("alert") as b:
        b.add_column(sa.Column("suppression_id", sa.Integer(), nullable=True))
    op.create_table(
        "alert_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("rule_name", sa.String(length=500), nullable=True),
        sa.Column("target_asset_id", sa.Integer(), nullable=True),
        sa.Column("target_ip", sa.String(length=45), nullable=False),
        sa.Column("attacker_ip", sa.String(length=45), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("open_count", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("sample_ids", sa.JSON(), nullable=False),
        sa.Column("system_ids", sa.JSON(), nullable=False),
        sa.Column("service_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_group")),
    )
    op.create_index(
        "ix_alert_group_key",
        "alert_group",
        ["kind", "rule_id", "target_asset_id", "target_ip", "attacker_ip"],
    )
    op.create_index("ix_alert_group_last_seen_id", "alert_group", ["last_seen", "id"])
    op.create_table(
        "alert_suppression",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=45), nullable=True),
        sa.Column("attacker_ip", sa.String(length=45), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_suppression")),
    )
    op.create_table(
        "alert_warning",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("rule_kind", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("asset_ids", sa.JSON(), nullable=False),
        sa.Column("system_ids", sa.JSON(), nullable=False),
        sa.Column("service_ids", sa.JSON(), nullable=False),
        sa.Column("first_alert_id", sa.Integer(), nullable=False),
        sa.Column("last_alert_id", sa.Integer(), nullable=False),
        sa.Column("first_alert_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_alert_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_warning")),
    )
    op.create_index("ix_alert_warning_rule_scope", "alert_warning", ["rule", "scope"])
    op.create_index("ix_alert_warning_last_alert_at_id", "alert_warning", ["last_alert_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_alert_warning_last_alert_at_id", table_name="alert_warning")
    op.drop_index("ix_alert_warning_rule_scope", table_name="alert_warning")
    op.drop_table("alert_warning")
    op.drop_table("alert_suppression")
    op.drop_index("ix_alert_group_last_seen_id", table_name="alert_group")
    op.drop_index("ix_alert_group_key", table_name="alert_group")
    op.drop_table("alert_group")
    with op.batch_alter_table("alert") as b:
        b.drop_column("suppression_id")
