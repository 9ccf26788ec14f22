"""notify: routing rules by grade threshold (min_grade: this grade or more severe)

Revision ID: ntf2
Revises: ntf1
Create Date: 2026-12-03 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ntf2"
down_revision = "ntf1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notify_rule", sa.Column("min_grade", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notify_rule") as batch:
        batch.drop_column("min_grade")
