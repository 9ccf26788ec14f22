"""auth: users bound to an organisation (incidents and reports seen only for it); the regulator role

Revision ID: auth2
Revises: auth1
Create Date: 2026-12-03 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "auth2"
down_revision = "auth1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_user_account_organization_id_organization"),
            "organization",
            ["organization_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint(op.f("fk_user_account_organization_id_organization"), type_="foreignkey")
        batch.drop_column("organization_id")
