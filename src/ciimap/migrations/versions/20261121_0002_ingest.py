"""ingest: import runs, identity evidence, provenance, scope state, scan detail, change events, link decisions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = ("ingest",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_run")),
    )
    op.create_index(op.f("ix_import_run_kind"), "import_run", ["kind"], unique=False)
    op.create_index(op.f("ix_import_run_scope"), "import_run", ["scope"], unique=False)
    op.create_index(op.f("ix_import_run_status"), "import_run", ["status"], unique=False)
    op.create_table(
        "asset_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("how", sa.String(length=48), nullable=False),
        sa.Column("first_run_id", sa.Integer(), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["asset.id"], name=op.f("fk_asset_identity_asset_id_asset"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_identity")),
        sa.UniqueConstraint("key", "value", name=op.f("uq_asset_identity_key_value")),
    )
    op.create_index(op.f("ix_asset_identity_asset_id"), "asset_identity", ["asset_id"], unique=False)
    op.create_index(op.f("ix_asset_identity_value"), "asset_identity", ["value"], unique=False)
    op.create_table(
        "attribute_provenance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("attribute", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["asset.id"],
            name=op.f("fk_attribute_provenance_asset_id_asset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attribute_provenance")),
        sa.UniqueConstraint(
            "asset_id", "attribute", "source", name=op.f("uq_attribute_provenance_asset_id_attribute_source")
        ),
    )
    op.create_index(
        op.f("ix_attribute_provenance_asset_id"), "attribute_provenance", ["asset_id"], unique=False
    )
    op.create_table(
        "change_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["asset.id"], name=op.f("fk_change_event_asset_id_asset"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_run.id"], name=op.f("fk_change_event_run_id_import_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_event")),
    )
    op.create_index("ix_change_event_asset_at", "change_event", ["asset_id", "at"], unique=False)
    op.create_index(op.f("ix_change_event_at"), "change_event", ["at"], unique=False)
    op.create_index(op.f("ix_change_event_kind"), "change_event", ["kind"], unique=False)
    op.create_index(op.f("ix_change_event_run_id"), "change_event", ["run_id"], unique=False)
    op.create_table(
        "link_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["asset.id"], name=op.f("fk_link_decision_asset_id_asset"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_decision")),
        sa.UniqueConstraint(
            "action", "key", "value", "asset_id", name=op.f("uq_link_decision_action_key_value_asset_id")
        ),
    )
    op.create_index(op.f("ix_link_decision_asset_id"), "link_decision", ["asset_id"], unique=False)
    op.create_table(
        "scan_detail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["asset.id"], name=op.f("fk_scan_detail_asset_id_asset"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_detail")),
        sa.UniqueConstraint("asset_id", "source", name=op.f("uq_scan_detail_asset_id_source")),
    )
    op.create_index(op.f("ix_scan_detail_asset_id"), "scan_detail", ["asset_id"], unique=False)
    op.create_table(
        "scope_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=40), nullable=False),
        sa.Column("first_run_id", sa.Integer(), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("missing", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["asset.id"], name=op.f("fk_scope_state_asset_id_asset"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scope_state")),
        sa.UniqueConstraint("scope", "asset_id", name=op.f("uq_scope_state_scope_asset_id")),
    )
    op.create_index(op.f("ix_scope_state_asset_id"), "scope_state", ["asset_id"], unique=False)
    op.create_index("ix_scope_state_scope_run", "scope_state", ["scope", "last_run_id"], unique=False)


def downgrade() -> None:
    op.drop_table("scope_state")
    op.drop_table("scan_detail")
    op.drop_table("link_decision")
    op.drop_table("change_event")
    op.drop_table("attribute_provenance")
    op.drop_table("asset_identity")
    op.drop_table("import_run")
