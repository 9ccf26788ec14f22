"""incidents: emergency plans (应急预案) and drills (演练)

Revision ID: incd
Revises: inc1
Create Date: 2026-12-03 21:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "incd"
down_revision = "inc1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("system_id", sa.Integer(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("fallback_kind", sa.String(length=24), nullable=True),
        sa.Column("fallback_ref", sa.String(length=200), nullable=True),
        sa.Column("fallback_note", sa.String(length=1000), nullable=True),
        sa.Column("review_months", sa.Integer(), nullable=False),
        sa.Column("last_reviewed", sa.Date(), nullable=True),
        sa.Column("next_review", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_incident_plan_organization_id_organization"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["business_service.id"],
            name=op.f("fk_incident_plan_service_id_business_service"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["system_id"], ["system.id"], name=op.f("fk_incident_plan_system_id_system"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_plan")),
    )
    op.create_index(
        op.f("ix_incident_plan_organization_id"), "incident_plan", ["organization_id"], unique=False
    )
    op.create_index(op.f("ix_incident_plan_service_id"), "incident_plan", ["service_id"], unique=False)
    op.create_index(op.f("ix_incident_plan_system_id"), "incident_plan", ["system_id"], unique=False)
    op.create_table(
        "incident_drill",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("target_name", sa.String(length=200), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("scenario", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_drill_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_incident_drill_organization_id_organization"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_drill")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_incident_drill_incident_id")),
    )
    op.create_index(
        op.f("ix_incident_drill_organization_id"), "incident_drill", ["organization_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_incident_drill_organization_id"), table_name="incident_drill")
    op.drop_table("incident_drill")
    op.drop_index(op.f("ix_incident_plan_system_id"), table_name="incident_plan")
    op.drop_index(op.f("ix_incident_plan_service_id"), table_name="incident_plan")
    op.drop_index(op.f("ix_incident_plan_organization_id"), table_name="incident_plan")
    op.drop_table("incident_plan")
