"""compliance: CII obligations (关基保护义务): key posts and their staff, training, recorded completions

Revision ID: cmpo
Revises: cmpa
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cmpo"
down_revision = "cmpa"
branch_labels = None
depends_on = None


def _ts() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _fk(
    cols: str, target: str, table: str, ondelete: str, name: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [cols], [f"{target}.id"], name=op.f(name or f"fk_{table}_{cols}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    t = "compliance_key_post"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("system_id", sa.Integer(), nullable=True),
        sa.Column("responsible_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        *_ts(),
        _fk("organization_id", "organization", t, "SET NULL"),
        _fk("system_id", "system", t, "SET NULL"),
        _fk("responsible_id", "contact", t, "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("name", name=op.f(f"uq_{t}_name")),
    )

    t = "compliance_key_post_member"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("post_id", "compliance_key_post", t, "CASCADE"),
        _fk("contact_id", "contact", t, "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("post_id", "contact_id", name=op.f(f"uq_{t}_post_id_contact_id")),
    )
    op.create_index(op.f(f"ix_{t}_contact_id"), t, ["contact_id"], unique=False)

    t = "compliance_training"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        *_ts(),
        _fk("contact_id", "contact", t, "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index("ix_compliance_training_contact_held", t, ["contact_id", "held_on"], unique=False)
    op.create_index(op.f(f"ix_{t}_held_on"), t, ["held_on"], unique=False)

    t = "compliance_obligation_done"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("done_by", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("assessment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("system_id", "system", t, "CASCADE"),
        _fk(
            "assessment_id",
            "compliance_assessment",
            t,
            "SET NULL",
            "fk_compliance_obligation_done_assessment",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("kind", "system_id", "period", name=op.f(f"uq_{t}_kind_system_id_period")),
    )


def downgrade() -> None:
    for t in (
        "compliance_obligation_done",
        "compliance_training",
        "compliance_key_post_member",
        "compliance_key_post",
    ):
        op.drop_table(t)
