"""Indexes behind the prefix search of service endpoints (name, product) and edges (redundancy group).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_endpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_endpoint_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_endpoint_product"), ["product"], unique=False)
    with op.batch_alter_table("edge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_edge_redundancy_group"), ["redundancy_group"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("edge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_edge_redundancy_group"))
    with op.batch_alter_table("service_endpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_endpoint_product"))
        batch_op.drop_index(batch_op.f("ix_service_endpoint_name"))
