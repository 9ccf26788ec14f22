"""discovery: scan scopes and scan schedules

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-21 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = ("discovery",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_scope",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("cidrs", sa.JSON(), nullable=False),
        sa.Column("allowed_ports", sa.String(length=500), nullable=True),
        sa.Column("max_rate", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_scope")),
        sa.UniqueConstraint("name", name=op.f("uq_scan_scope_name")),
    )
    op.create_table(
        "scan_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("profile", sa.String(length=16), nullable=False),
        sa.Column("ports", sa.String(length=500), nullable=True),
        sa.Column("rate", sa.Integer(), nullable=True),
        sa.Column("interval_minutes", sa.Integer(), nullable=True),
        sa.Column("cron", sa.String(length=100), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_job_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scope_id"],
            ["scan_scope.id"],
            name=op.f("fk_scan_schedule_scope_id_scan_scope"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_schedule")),
        sa.UniqueConstraint("name", name=op.f("uq_scan_schedule_name")),
    )
    with op.batch_alter_table("scan_schedule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_schedule_scope_id"), ["scope_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scan_schedule_next_run_at"), ["next_run_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scan_schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_schedule_next_run_at"))
        batch_op.drop_index(batch_op.f("ix_scan_schedule_scope_id"))
    op.drop_table("scan_schedule")
    op.drop_table("scan_scope")
