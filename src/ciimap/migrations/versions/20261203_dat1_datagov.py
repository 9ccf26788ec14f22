"""datagov: data catalogue, holdings, flows and grading rounds (GB/T 43697-2024)

Revision ID: dat1
Revises: 0001
Create Date: 2026-12-03 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "dat1"
down_revision = "0001"
branch_labels = ("datagov",)
depends_on = None


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "data_resource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("contains_pi", sa.Boolean(), nullable=False),
        sa.Column("contains_sensitive_pi", sa.Boolean(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=True),
        sa.Column("people", sa.BigInteger(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("graded_on", sa.Date(), nullable=True),
        sa.Column("review_due", sa.Date(), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["contact.id"], name=op.f("fk_data_resource_owner_id_contact"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_resource")),
        sa.UniqueConstraint("code", name=op.f("uq_data_resource_code")),
    )
    op.create_index("ix_data_resource_name", "data_resource", ["name"], unique=False)
    op.create_index("ix_data_resource_owner_id", "data_resource", ["owner_id"], unique=False)
    op.create_index("ix_data_resource_review_due", "data_resource", ["review_due"], unique=False)
    op.create_index("ix_data_resource_level_id", "data_resource", ["level", "id"], unique=False)
    op.create_index("ix_data_resource_category_id", "data_resource", ["category", "id"], unique=False)
    op.create_table(
        "data_holding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("holder_type", sa.String(length=24), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["data_resource.id"],
            name=op.f("fk_data_holding_resource_id_data_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_holding")),
        sa.UniqueConstraint(
            "resource_id",
            "holder_type",
            "holder_id",
            name=op.f("uq_data_holding_resource_id_holder_type_holder_id"),
        ),
    )
    op.create_index("ix_data_holding_holder", "data_holding", ["holder_type", "holder_id"], unique=False)
    op.create_table(
        "data_flow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("src_system_id", sa.Integer(), nullable=True),
        sa.Column("dst_system_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=200), nullable=True),
        sa.Column("cross_border", sa.Boolean(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("purpose", sa.String(length=300), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["data_resource.id"],
            name=op.f("fk_data_flow_resource_id_data_resource"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["src_system_id"],
            ["system.id"],
            name=op.f("fk_data_flow_src_system_id_system"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dst_system_id"],
            ["system.id"],
            name=op.f("fk_data_flow_dst_system_id_system"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_flow")),
    )
    op.create_index("ix_data_flow_resource_id", "data_flow", ["resource_id"], unique=False)
    op.create_index("ix_data_flow_src_system_id", "data_flow", ["src_system_id"], unique=False)
    op.create_index("ix_data_flow_dst_system_id", "data_flow", ["dst_system_id"], unique=False)
    op.create_index("ix_data_flow_cross_border", "data_flow", ["cross_border"], unique=False)
    op.create_table(
        "data_grading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("impacts", sa.JSON(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("deciding", sa.JSON(), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("mapping", sa.String(length=100), nullable=False),
        sa.Column("rationale_zh", sa.Text(), nullable=False),
        sa.Column("rationale_en", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("graded_on", sa.Date(), nullable=False),
        sa.Column("review_due", sa.Date(), nullable=True),
        sa.Column("graded_by", sa.String(length=100), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["data_resource.id"],
            name=op.f("fk_data_grading_resource_id_data_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_grading")),
        sa.UniqueConstraint("resource_id", "round", name=op.f("uq_data_grading_resource_id_round")),
    )


def downgrade() -> None:
    op.drop_table("data_grading")
    op.drop_table("data_flow")
    op.drop_table("data_holding")
    op.drop_table("data_resource")
