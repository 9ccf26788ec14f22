"""alerts: the organisation a warning concerns (users bound to an organisation see only its warnings).

Revision ID: alr4
Revises: alr3
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "alr4"
down_revision = "alr3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_warning") as b:
        b.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        b.create_index("ix_alert_warning_organization_id", ["organization_id"], unique=False)
    # warnings raised before: the organisation of their first system, else of their first asset
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, system_ids, asset_ids FROM alert_warning")).all()
    for wid, systems, assets in rows:
        org = None
        for table, ids in (("system", systems), ("asset", assets)):
            if isinstance(ids, str):  # SQLite hands JSON back as text here
                ids = json.loads(ids)
            for i in sorted(ids or []):
                t = sa.table(table, sa.column("id"), sa.column("organization_id"))
                org = bind.execute(sa.select(t.c.organization_id).where(t.c.id == int(i))).scalar()
                if org is not None:
                    break
            if org is not None:
                break
        if org is not None:
            bind.execute(
                sa.text("UPDATE alert_warning SET organization_id = :o WHERE id = :w"), {"o": org, "w": wid}
            )


def downgrade() -> None:
    with op.batch_alter_table("alert_warning") as b:
        b.drop_index("ix_alert_warning_organization_id")
        b.drop_column("organization_id")
