"""intel: threat-intelligence indicators (STIX, MISP)

Revision ID: int1
Revises: 0001
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "int1"
down_revision = "0001"
branch_labels = ("intel",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intel_indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=1000), nullable=False),
        sa.Column("hash_algo", sa.String(length=8), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=100), nullable=False),
        sa.Column("producer", sa.String(length=255), nullable=True),
        sa.Column("context", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=True),
        sa.Column("tlp", sa.String(length=16), nullable=True),
        sa.Column("confidence", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("cves", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_indicator")),
    )
    op.create_index("ix_intel_indicator_value", "intel_indicator", ["value"], unique=False)
    op.create_index("ix_intel_indicator_type_id", "intel_indicator", ["type", "id"], unique=False)
    op.create_index(
        "ix_intel_indicator_source_ref", "intel_indicator", ["source", "source_ref"], unique=False
    )
    op.create_index("ix_intel_indicator_run_id", "intel_indicator", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_table("intel_indicator")
