"""alerts: intel_matches (the threat-intelligence indicator values an alert names)

Revision ID: alri
Revises: alr1
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "alri"
down_revision = "alr1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.add_column(sa.Column("intel_matches", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.drop_column("intel_matches")
