"""alertsin: live alert inputs (followed files' positions, webhook tokens)

Revision ID: ain1
Revises: 0001
Create Date: 2026-12-03 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ain1"
down_revision = "0001"
branch_labels = ("alertsin",)
# No depends_on on the alerts head: these tables reference none of its, and a dependency makes Alembic
# record only ain1 for both, which core/migrate.check_on_first_use reads as "schema behind".
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_follow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("identity", sa.String(length=64), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_follow")),
        sa.UniqueConstraint("path", name=op.f("uq_alert_follow_path")),
    )
    op.create_table(
        "alert_webhook_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=True),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_webhook_token")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_webhook_token_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_alert_webhook_token_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("alert_webhook_token")
    op.drop_table("alert_follow")
