"""vulns: feed imports, advisories, affected ranges, CPE matches, KEV, EPSS, findings, triage

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-21 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0001"
branch_labels = ("vulns",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vuln_feed_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=100), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vuln_feed_import")),
    )
    op.create_index(op.f("ix_vuln_feed_import_kind"), "vuln_feed_import", ["kind"], unique=False)
    op.create_table(
        "vuln_triage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("scope_type", sa.String(length=8), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("package", sa.String(length=400), nullable=False),
        sa.Column("advisory_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("justification", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("expires", sa.Date(), nullable=True),
        sa.Column("version", sa.String(length=100), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vuln_triage")),
        sa.UniqueConstraint("key", name=op.f("uq_vuln_triage_key")),
    )
    op.create_index(op.f("ix_vuln_triage_advisory_id"), "vuln_triage", ["advisory_id"], unique=False)
    op.create_table(
        "vuln_advisory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advisory_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("cvss_vector", sa.String(length=200), nullable=True),
        sa.Column("cvss_score", sa.Float(), nullable=True),
        sa.Column("published", sa.DateTime(timezone=True), nullable=True),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("feed_import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_import_id"],
            ["vuln_feed_import.id"],
            name=op.f("fk_vuln_advisory_feed_import_id_vuln_feed_import"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vuln_advisory")),
        sa.UniqueConstraint("advisory_id", name=op.f("uq_vuln_advisory_advisory_id")),
    )
    op.create_index(op.f("ix_vuln_advisory_source"), "vuln_advisory", ["source"], unique=False)
    op.create_table(
        "vuln_epss",
        sa.Column("cve_id", sa.String(length=32), nullable=False),
        sa.Column("epss", sa.Float(), nullable=False),
        sa.Column("percentile", sa.Float(), nullable=True),
        sa.Column("score_date", sa.Date(), nullable=True),
        sa.Column("feed_import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_import_id"],
            ["vuln_feed_import.id"],
            name=op.f("fk_vuln_epss_feed_import_id_vuln_feed_import"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("cve_id", name=op.f("pk_vuln_epss")),
    )
    op.create_table(
        "vuln_kev",
        sa.Column("cve_id", sa.String(length=32), nullable=False),
        sa.Column("vendor_project", sa.String(length=200), nullable=True),
        sa.Column("product", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("date_added", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("ransomware", sa.Boolean(), nullable=False),
        sa.Column("required_action", sa.Text(), nullable=True),
        sa.Column("cwes", sa.JSON(), nullable=False),
        sa.Column("feed_import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_import_id"],
            ["vuln_feed_import.id"],
            name=op.f("fk_vuln_kev_feed_import_id_vuln_feed_import"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("cve_id", name=op.f("pk_vuln_kev")),
    )
    op.create_table(
        "vuln_advisory_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("advisory_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisory_pk"],
            ["vuln_advisory.id"],
            name=op.f("fk_vuln_advisory_alias_advisory_pk_vuln_advisory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vuln_advisory_alias")),
        sa.UniqueConstraint("alias", "advisory_pk", name=op.f("uq_vuln_advisory_alias_alias_advisory_pk")),
    )
    op.create_index(
        op.f("ix_vuln_advisory_alias_advisory_pk"), "vuln_advisory_alias", ["advisory_pk"], unique=False
    )
    op.create_index(op.f("ix_vuln_advisory_alias_alias"), "vuln_advisory_alias", ["alias"], unique=False)
    op.create_table(
        "vuln_affected_range",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advisory_pk", sa.Integer(), nullable=False),
        sa.Column("ecosystem", sa.String(length=32), nullable=False),
        sa.Column("package", sa.String(length=300), nullable=False),
        sa.Column("osv_ecosystem", sa.String(length=64), nullable=True),
        sa.Column("range_type", sa.String(length=16), nullable=False),
        sa.Column("introduced", sa.String(length=100), nullable=True),
        sa.Column("fixed", sa.String(length=100), nullable=True),
        sa.Column("last_affected", sa.String(length=100), nullable=True),
        sa.Column("limit", sa.String(length=100), nullable=True),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("versions_canonical", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisory_pk"],
            ["vuln_advisory.id"],
            name=op.f("fk_vuln_affected_range_advisory_pk_vuln_advisory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vuln_affected_range")),
    )
    op.create_index(
        op.f("ix_vuln_affected_range_advisory_pk"), "vuln_affected_range", ["advisory_pk"], unique=False
    )
    op.create_index(
        "ix_vuln_affected_range_eco_pkg", "vuln_affected_range", ["ecosystem", "package"], unique=False
    )
    op.create_table(
        "vuln_cpe_match",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advisory_pk", sa.Integer(), nullable=False),
        sa.Column("config_index", sa.Integer(), nullable=False),
        sa.Column("config_operator", sa.String(length=3), nullable=False),
        sa.Column("node_index", sa.Integer(), nullable=False),
        sa.Column("node_operator", sa.String(length=3), nullable=False),
        sa.Column("negate", sa.Boolean(), nullable=False),
        sa.Column("vulnerable", sa.Boolean(), nullable=False),
        sa.Column("criteria", sa.String(length=300), nullable=False),
        sa.Column("part", sa.String(length=1), nullable=False),
        sa.Column("vendor", sa.String(length=120), nullable=False),
        sa.Column("product", sa.String(length=120), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("update", sa.String(length=100), nullable=False),
        sa.Column("target_sw", sa.String(length=100), nullable=False),
        sa.Column("version_start_including", sa.String(length=100), nullable=True),
        sa.Column("version_start_excluding", sa.String(length=100), nullable=True),
        sa.Column("version_end_including", sa.String(length=100), nullable=True),
        sa.Column("version_end_excluding", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["advisory_pk"],
            ["vuln_advisory.id"],
            name=op.f("fk_vuln_cpe_match_advisory_pk_vuln_advisory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vuln_cpe_match")),
    )
    op.create_index(op.f("ix_vuln_cpe_match_advisory_pk"), "vuln_cpe_match", ["advisory_pk"], unique=False)
    op.create_index("ix_vuln_cpe_match_product_vendor", "vuln_cpe_match", ["product", "vendor"], unique=False)
    op.create_table(
        "vuln_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_type", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("software_id", sa.Integer(), nullable=True),
        sa.Column("endpoint_id", sa.Integer(), nullable=True),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("system_id", sa.Integer(), nullable=True),
        sa.Column("advisory_pk", sa.Integer(), nullable=False),
        sa.Column("advisory_id", sa.String(length=64), nullable=False),
        sa.Column("cve_ids", sa.JSON(), nullable=False),
        sa.Column("package", sa.String(length=400), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=True),
        sa.Column("match_kind", sa.String(length=8), nullable=False),
        sa.Column("confidence", sa.String(length=8), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("first_matched", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_matched", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("triage_key", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisory_pk"],
            ["vuln_advisory.id"],
            name=op.f("fk_vuln_finding_advisory_pk_vuln_advisory"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["service_endpoint.id"],
            name=op.f("fk_vuln_finding_endpoint_id_service_endpoint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["software_id"],
            ["software.id"],
            name=op.f("fk_vuln_finding_software_id_software"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vuln_finding")),
        sa.UniqueConstraint(
            "target_type",
            "target_id",
            "advisory_pk",
            name=op.f("uq_vuln_finding_target_type_target_id_advisory_pk"),
        ),
    )
    op.create_index(op.f("ix_vuln_finding_advisory_pk"), "vuln_finding", ["advisory_pk"], unique=False)
    op.create_index(
        "ix_vuln_finding_asset_id_priority", "vuln_finding", ["asset_id", "priority"], unique=False
    )
    op.create_index(op.f("ix_vuln_finding_endpoint_id"), "vuln_finding", ["endpoint_id"], unique=False)
    op.create_index(op.f("ix_vuln_finding_software_id"), "vuln_finding", ["software_id"], unique=False)
    op.create_index(
        "ix_vuln_finding_system_id_priority", "vuln_finding", ["system_id", "priority"], unique=False
    )
    op.create_index("ix_vuln_finding_triage_key", "vuln_finding", ["triage_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_vuln_finding_triage_key", table_name="vuln_finding")
    op.drop_index("ix_vuln_finding_system_id_priority", table_name="vuln_finding")
    op.drop_index(op.f("ix_vuln_finding_software_id"), table_name="vuln_finding")
    op.drop_index(op.f("ix_vuln_finding_endpoint_id"), table_name="vuln_finding")
    op.drop_index("ix_vuln_finding_asset_id_priority", table_name="vuln_finding")
    op.drop_index(op.f("ix_vuln_finding_advisory_pk"), table_name="vuln_finding")
    op.drop_table("vuln_finding")
    op.drop_index("ix_vuln_cpe_match_product_vendor", table_name="vuln_cpe_match")
    op.drop_index(op.f("ix_vuln_cpe_match_advisory_pk"), table_name="vuln_cpe_match")
    op.drop_table("vuln_cpe_match")
    op.drop_index("ix_vuln_affected_range_eco_pkg", table_name="vuln_affected_range")
    op.drop_index(op.f("ix_vuln_affected_range_advisory_pk"), table_name="vuln_affected_range")
    op.drop_table("vuln_affected_range")
    op.drop_index(op.f("ix_vuln_advisory_alias_alias"), table_name="vuln_advisory_alias")
    op.drop_index(op.f("ix_vuln_advisory_alias_advisory_pk"), table_name="vuln_advisory_alias")
    op.drop_table("vuln_advisory_alias")
    op.drop_table("vuln_kev")
    op.drop_table("vuln_epss")
    op.drop_index(op.f("ix_vuln_advisory_source"), table_name="vuln_advisory")
    op.drop_table("vuln_advisory")
    op.drop_index(op.f("ix_vuln_triage_advisory_id"), table_name="vuln_triage")
    op.drop_table("vuln_triage")
    op.drop_index(op.f("ix_vuln_feed_import_kind"), table_name="vuln_feed_import")
    op.drop_table("vuln_feed_import")
