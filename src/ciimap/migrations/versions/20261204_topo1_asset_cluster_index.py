"""topo: covering index for the command map's clusters (asset counts per system and zone)

Revision ID: topo1
Revises: 0001
Create Date: 2026-12-04 16:00:00
"""

from __future__ import annotations

from alembic import op

revision = "topo1"
down_revision = "0001"
branch_labels = ("topo",)
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_asset_system_zone_state", "asset", ["system_id", "zone_id", "lifecycle_status", "declared"]
    )


def downgrade() -> None:
    op.drop_index("ix_asset_system_zone_state", table_name="asset")
