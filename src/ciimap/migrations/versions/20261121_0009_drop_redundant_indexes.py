"""Drop indexes that a composite index already covers (each cost every bulk import a B-tree).

asset (hostname) and (primary_ip): covered by (hostname, id) and (primary_ip, id); ip_address
(address) and (asset_id): covered by (address, asset_id) and the unique (asset_id, address);
service_endpoint (asset_id): covered by the unique (asset_id, address, protocol, port). On SQLite
an index already ends with the rowid, so the dropped ones held exactly the same entries.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

DROPPED = [
    ("asset", "ix_asset_hostname", ["hostname"]),
    ("asset", "ix_asset_primary_ip", ["primary_ip"]),
    ("ip_address", "ix_ip_address_address", ["address"]),
    ("ip_address", "ix_ip_address_asset_id", ["asset_id"]),
    ("service_endpoint", "ix_service_endpoint_asset_id", ["asset_id"]),
]


def upgrade() -> None:
    for table, name, _cols in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for table, name, cols in DROPPED:
        op.create_index(name, table, cols, unique=False)
