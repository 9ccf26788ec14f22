"""supply-chain register: vendor profiles and domestic substitution plans

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-21 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = ("supply",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supply_vendor_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("certifications", sa.JSON(), nullable=False),
        sa.Column("contract_number", sa.String(length=100), nullable=True),
        sa.Column("contract_start", sa.Date(), nullable=True),
        sa.Column("contract_end", sa.Date(), nullable=True),
        sa.Column("service_level", sa.String(length=200), nullable=True),
        sa.Column("remote_access", sa.String(length=16), nullable=False),
        sa.Column("remote_channel", sa.String(length=200), nullable=True),
        sa.Column("remote_reviewed_on", sa.Date(), nullable=True),
        sa.Column("nda_signed", sa.Boolean(), nullable=False),
        sa.Column("nda_date", sa.Date(), nullable=True),
        sa.Column("nda_expires", sa.Date(), nullable=True),
        sa.Column("security_review", sa.String(length=16), nullable=True),
        sa.Column("security_review_date", sa.Date(), nullable=True),
        sa.Column("risk_rating", sa.String(length=16), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendor.id"],
            name=op.f("fk_supply_vendor_profile_vendor_id_vendor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_vendor_profile")),
        sa.UniqueConstraint("vendor_id", name=op.f("uq_supply_vendor_profile_vendor_id")),
    )
    op.create_table(
        "supply_substitution_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("layer", sa.String(length=32), nullable=False),
        sa.Column("current_product_id", sa.Integer(), nullable=True),
        sa.Column("current_software_id", sa.Integer(), nullable=True),
        sa.Column("current_asset_id", sa.Integer(), nullable=True),
        sa.Column("candidate_product_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("milestones", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_product_id"],
            ["product.id"],
            name=op.f("fk_supply_substitution_plan_candidate_product_id_product"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["current_asset_id"],
            ["asset.id"],
            name=op.f("fk_supply_substitution_plan_current_asset_id_asset"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["current_product_id"],
            ["product.id"],
            name=op.f("fk_supply_substitution_plan_current_product_id_product"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["current_software_id"],
            ["software.id"],
            name=op.f("fk_supply_substitution_plan_current_software_id_software"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["contact.id"],
            name=op.f("fk_supply_substitution_plan_owner_id_contact"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["system.id"],
            name=op.f("fk_supply_substitution_plan_system_id_system"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_substitution_plan")),
    )
    with op.batch_alter_table("supply_substitution_plan", schema=None) as batch_op:
        batch_op.create_index(
            "ix_supply_substitution_plan_system_status", ["system_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("supply_substitution_plan", schema=None) as batch_op:
        batch_op.drop_index("ix_supply_substitution_plan_system_status")
    op.drop_table("supply_substitution_plan")
    op.drop_table("supply_vendor_profile")
