"""Covering indexes for prefix search at scale (issue 2 performance).

(hostname, id), (primary_ip, id) on asset and (address, asset_id) on ip_address let PostgreSQL
answer "first N ids matching a prefix" with index-only scans instead of bitmap heap scans over
~14,000 heap pages for a broad prefix at 1M assets (SQLite indexes already carry the rowid).

Revision ID: 0007
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0001"
branch_labels = ("perf",)
depends_on = None


def upgrade() -> None:
    op.create_index("ix_asset_hostname_id", "asset", ["hostname", "id"], unique=False)
    op.create_index("ix_asset_primary_ip_id", "asset", ["primary_ip", "id"], unique=False)
    op.create_index("ix_ip_address_address_asset_id", "ip_address", ["address", "asset_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ip_address_address_asset_id", table_name="ip_address")
    op.drop_index("ix_asset_primary_ip_id", table_name="asset")
    op.drop_index("ix_asset_hostname_id", table_name="asset")
