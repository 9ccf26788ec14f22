"""crypto: derived crypto inventory, its cache key, manual entries

Revision ID: cry1
Revises: 0001
Create Date: 2026-12-03 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cry1"
down_revision = "0001"
branch_labels = ("crypto",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crypto_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("system_id", sa.Integer(), nullable=True),
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("protocol", sa.String(length=8), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("algorithms", sa.JSON(), nullable=False),
        sa.Column("gm", sa.Boolean(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("warning", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["asset.id"], name=op.f("fk_crypto_item_asset_id_asset"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["system_id"], ["system.id"], name=op.f("fk_crypto_item_system_id_system"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crypto_item")),
    )
    op.create_index(op.f("ix_crypto_item_asset_id"), "crypto_item", ["asset_id"], unique=False)
    op.create_index(op.f("ix_crypto_item_system_id"), "crypto_item", ["system_id"], unique=False)
    op.create_table(
        "crypto_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crypto_state")),
    )
    op.create_table(
        "crypto_manual",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=True),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("algorithm", sa.String(length=100), nullable=True),
        sa.Column("key_bits", sa.Integer(), nullable=True),
        sa.Column("certificate_no", sa.String(length=100), nullable=True),
        sa.Column("not_after", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["asset.id"], name=op.f("fk_crypto_manual_asset_id_asset"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["system_id"], ["system.id"], name=op.f("fk_crypto_manual_system_id_system"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crypto_manual")),
    )
    op.create_index(op.f("ix_crypto_manual_asset_id"), "crypto_manual", ["asset_id"], unique=False)
    op.create_index(op.f("ix_crypto_manual_system_id"), "crypto_manual", ["system_id"], unique=False)


def downgrade() -> None:
    op.drop_table("crypto_manual")
    op.drop_table("crypto_state")
    op.drop_table("crypto_item")
