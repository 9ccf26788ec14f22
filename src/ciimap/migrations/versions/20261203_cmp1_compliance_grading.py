"""compliance: grading (定级) and filing (备案) rounds per system

Revision ID: cmp1
Revises: 0001
Create Date: 2026-12-03 17:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cmp1"
down_revision = "0001"
branch_labels = ("compliance",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_grading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("extensions", sa.JSON(), nullable=False),
        sa.Column("s_object", sa.String(length=16), nullable=False),
        sa.Column("s_degree", sa.String(length=24), nullable=False),
        sa.Column("a_object", sa.String(length=16), nullable=False),
        sa.Column("a_degree", sa.String(length=24), nullable=False),
        sa.Column("s_level", sa.Integer(), nullable=False),
        sa.Column("a_level", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("matrix", sa.String(length=100), nullable=False),
        sa.Column("rationale_zh", sa.Text(), nullable=False),
        sa.Column("rationale_en", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("graded_on", sa.Date(), nullable=False),
        sa.Column("filing_due", sa.Date(), nullable=True),
        sa.Column("due_rule", sa.String(length=32), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("authority", sa.String(length=200), nullable=True),
        sa.Column("approval_skipped", sa.Boolean(), nullable=False),
        sa.Column("filing_number", sa.String(length=64), nullable=True),
        sa.Column("filing_date", sa.Date(), nullable=True),
        sa.Column("police_unit", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["system.id"],
            name=op.f("fk_compliance_grading_system_id_system"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_grading")),
        sa.UniqueConstraint("system_id", "round", name=op.f("uq_compliance_grading_system_id_round")),
    )
    op.create_index(
        "ix_compliance_grading_state_filing_due", "compliance_grading", ["state", "filing_due"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_compliance_grading_state_filing_due", table_name="compliance_grading")
    op.drop_table("compliance_grading")
