"""graph: saved what-if scenarios and staged update rollouts

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-21 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = ("graph",)
depends_on = None


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "graph_scenario",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("selectors", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("map_version", sa.String(length=100), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_graph_scenario")),
        sa.UniqueConstraint("name", name=op.f("uq_graph_scenario_name")),
    )
    op.create_table(
        "graph_rollout_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("update_channel", sa.String(length=100), nullable=True),
        sa.Column("version", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_ring", sa.Integer(), nullable=True),
        sa.Column("halted_reason", sa.Text(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_graph_rollout_plan_product_id_product"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_graph_rollout_plan")),
    )
    with op.batch_alter_table("graph_rollout_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_graph_rollout_plan_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_graph_rollout_plan_status"), ["status"], unique=False)
    op.create_table(
        "graph_rollout_ring",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("asset_count", sa.Integer(), nullable=False),
        sa.Column("soak_hours", sa.Float(), nullable=False),
        sa.Column("gates", sa.JSON(), nullable=False),
        sa.Column("observed", sa.JSON(), nullable=False),
        sa.Column("rationale", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["graph_rollout_plan.id"],
            name=op.f("fk_graph_rollout_ring_plan_id_graph_rollout_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_graph_rollout_ring")),
    )
    with op.batch_alter_table("graph_rollout_ring", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_graph_rollout_ring_plan_id"), ["plan_id"], unique=False)
    op.create_table(
        "graph_rollout_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("ring_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["graph_rollout_plan.id"],
            name=op.f("fk_graph_rollout_member_plan_id_graph_rollout_plan"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ring_id"],
            ["graph_rollout_ring.id"],
            name=op.f("fk_graph_rollout_member_ring_id_graph_rollout_ring"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_graph_rollout_member")),
    )
    with op.batch_alter_table("graph_rollout_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_graph_rollout_member_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_graph_rollout_member_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index("ix_graph_rollout_member_ring_asset", ["ring_id", "asset_id"], unique=False)
    op.create_table(
        "graph_rollout_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("ring_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["graph_rollout_plan.id"],
            name=op.f("fk_graph_rollout_event_plan_id_graph_rollout_plan"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ring_id"],
            ["graph_rollout_ring.id"],
            name=op.f("fk_graph_rollout_event_ring_id_graph_rollout_ring"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_graph_rollout_event")),
    )
    with op.batch_alter_table("graph_rollout_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_graph_rollout_event_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    for table in (
        "graph_rollout_event",
        "graph_rollout_member",
        "graph_rollout_ring",
        "graph_rollout_plan",
        "graph_scenario",
    ):
        op.drop_table(table)
