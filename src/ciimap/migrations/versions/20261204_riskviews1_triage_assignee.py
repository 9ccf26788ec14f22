"""vulns: a triage decision's assignee and due date (bulk triage from the findings page).

Revision ID: riskviews1
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "riskviews1"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vuln_triage") as b:
        b.add_column(sa.Column("assignee", sa.String(length=100), nullable=True))
        b.add_column(sa.Column("due_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vuln_triage") as b:
        b.drop_column("due_date")
        b.drop_column("assignee")
