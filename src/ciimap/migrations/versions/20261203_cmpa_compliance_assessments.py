"""compliance: assessments (测评), results, evidence, links, risks and rectifications (整改)

Revision ID: cmpa
Revises: cmp1
Create Date: 2026-12-03 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cmpa"
down_revision = "cmp1"
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
    t = "compliance_assessment"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("grading_id", sa.Integer(), nullable=True),
        sa.Column("cycle", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("catalog", sa.String(length=40), nullable=False),
        sa.Column("catalog_version", sa.String(length=40), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("s_level", sa.Integer(), nullable=False),
        sa.Column("a_level", sa.Integer(), nullable=False),
        sa.Column("extensions", sa.JSON(), nullable=False),
        sa.Column("level_source", sa.String(length=16), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("next_due", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("conclusion", sa.String(length=4), nullable=True),
        sa.Column("high_risks", sa.Integer(), nullable=True),
        sa.Column("medium_risks", sa.Integer(), nullable=True),
        sa.Column("profile", sa.String(length=100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        *_ts(),
        _fk("system_id", "system", t, "CASCADE"),
        _fk("grading_id", "compliance_grading", t, "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("system_id", "cycle", "kind", name=op.f(f"uq_{t}_system_id_cycle_kind")),
    )
    op.create_index(op.f(f"ix_{t}_system_id"), t, ["system_id"], unique=False)

    t = "compliance_assessment_item"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=80), nullable=False),
        sa.Column("item_key", sa.String(length=80), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("control_point", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        _fk(
            "assessment_id", "compliance_assessment", t, "CASCADE", "fk_compliance_assessment_item_assessment"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("assessment_id", "item_id", name=op.f(f"uq_{t}_assessment_id_item_id")),
    )
    op.create_index("ix_compliance_assessment_item_key", t, ["assessment_id", "item_key"], unique=False)

    t = "compliance_test_object"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        *_ts(),
        _fk("assessment_id", "compliance_assessment", t, "CASCADE"),
        _fk("asset_id", "asset", t, "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("assessment_id", "name", name=op.f(f"uq_{t}_assessment_id_name")),
        sa.UniqueConstraint("assessment_id", "asset_id", name=op.f(f"uq_{t}_assessment_id_asset_id")),
    )

    t = "compliance_item_result"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_row_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("assessor", sa.String(length=100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        *_ts(),
        _fk("assessment_id", "compliance_assessment", t, "CASCADE"),
        _fk("item_row_id", "compliance_assessment_item", t, "CASCADE"),
        _fk("object_id", "compliance_test_object", t, "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("item_row_id", "object_id", name=op.f(f"uq_{t}_item_row_id_object_id")),
    )
    op.create_index("ix_compliance_item_result_assessment_id", t, ["assessment_id"], unique=False)
    op.create_index("ix_compliance_item_result_object_id", t, ["object_id"], unique=False)

    t = "compliance_evidence"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("result_id", "compliance_item_result", t, "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_result_id"), t, ["result_id"], unique=False)
    op.create_index(op.f(f"ix_{t}_sha256"), t, ["sha256"], unique=False)

    t = "compliance_link"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_type", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("target_type", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint(
            "owner_type",
            "owner_id",
            "target_type",
            "target_id",
            name=op.f(f"uq_{t}_owner_type_owner_id_target_type_target_id"),
        ),
    )
    op.create_index("ix_compliance_link_target", t, ["target_type", "target_id"], unique=False)

    t = "compliance_risk"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_row_id", sa.Integer(), nullable=True),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("compensating", sa.Text(), nullable=True),
        *_ts(),
        _fk("assessment_id", "compliance_assessment", t, "CASCADE"),
        _fk("item_row_id", "compliance_assessment_item", t, "SET NULL"),
        _fk("object_id", "compliance_test_object", t, "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_assessment_id"), t, ["assessment_id"], unique=False)

    t = "compliance_rectification"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=True),
        sa.Column("result_id", sa.Integer(), nullable=True),
        sa.Column("risk_id", sa.Integer(), nullable=True),
        sa.Column("item_key", sa.String(length=80), nullable=True),
        sa.Column("item_id", sa.String(length=80), nullable=True),
        sa.Column("object_asset_id", sa.Integer(), nullable=True),
        sa.Column("object_name", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("owner_contact_id", sa.Integer(), nullable=True),
        sa.Column("owner_text", sa.String(length=200), nullable=True),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("verification_note", sa.Text(), nullable=True),
        sa.Column("verified_on", sa.Date(), nullable=True),
        sa.Column("verified_by_assessment_id", sa.Integer(), nullable=True),
        *_ts(),
        _fk("system_id", "system", t, "CASCADE"),
        _fk("assessment_id", "compliance_assessment", t, "SET NULL"),
        _fk("result_id", "compliance_item_result", t, "SET NULL"),
        _fk("risk_id", "compliance_risk", t, "SET NULL"),
        _fk("owner_contact_id", "contact", t, "SET NULL"),
        _fk(
            "verified_by_assessment_id",
            "compliance_assessment",
            t,
            "SET NULL",
            "fk_compliance_rectification_verified_by",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(
        "ix_compliance_rectification_system_item", t, ["system_id", "item_key", "status"], unique=False
    )
    op.create_index(op.f(f"ix_{t}_result_id"), t, ["result_id"], unique=False)


def downgrade() -> None:
    for t in (
        "compliance_rectification",
        "compliance_risk",
        "compliance_link",
        "compliance_evidence",
        "compliance_item_result",
        "compliance_test_object",
        "compliance_assessment_item",
        "compliance_assessment",
    ):
        op.drop_table(t)
