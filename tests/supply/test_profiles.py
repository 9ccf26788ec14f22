"""Vendor profiles, the vendor register and supply-chain findings (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ciimap.core.audit import AuditLog
from ciimap.core.errors import Invalid, NotFound
from ciimap.supply import findings, service
from supply.conftest import TODAY  # the day the product is pinned to

DAY = dt.timedelta(days=1)
EVIL = '=HYPERLINK("http://evil.example/x","点击")'  # the vendor name conftest.build_map uses


def _set(db, vendor_id, **changes):
    with db.unit_of_work() as s:
        return service.set_profile(s, vendor_id=vendor_id, changes=changes).id


def test_profile_merge_validation_and_audit(database, supply_map):
    ids = supply_map
    _set(
        database,
        ids["v_cs"],
        certifications=["ISO 27001", {"name": "CC EAL2", "valid_until": "2020-01-01"}],
        remote_access="permanent",
        remote_channel="VPN",
    )
    _set(database, ids["v_cs"], contract_number="HT-2024-001")
    with database.read_session() as s:
        p = service.get_profile(s, vendor_id=ids["v_cs"])
        assert p.remote_access == "permanent" and p.contract_number == "HT-2024-001"
        assert p.certifications[0] == {"name": "ISO 27001", "number": None, "valid_until": None}
        assert p.certifications[1]["valid_until"] == "2020-01-01"
        log = s.scalars(
            select(AuditLog.action)
            .where(AuditLog.entity_type == "supply_vendor_profile")
            .order_by(AuditLog.id)
        ).all()
        assert log == ["create", "update"]
        assert service.resolve_vendor(s, "微软").id == ids["v_ms"]
        assert service.resolve_vendor(s, "crowdstrike").id == ids["v_cs"]
        with pytest.raises(NotFound, match="vendor 'Nobody'"):
            service.resolve_vendor(s, "Nobody")
        with pytest.raises(NotFound, match="no supply-chain profile"):
            service.get_profile(s, vendor_id=ids["v_ms"])
    bad = [
        ({"remote_access": "always"}, "remote_access"),
        ({"contract_start": "2025-01-01", "contract_end": "2024-01-01"}, "contract_end is before"),
        ({"nda_date": "2024-01-01"}, "nda_signed is false"),
        ({"colour": "red"}, "unknown profile field"),
    ]
    for changes, message in bad:
        with database.unit_of_work() as s, pytest.raises(Invalid, match=message):
            service.set_profile(s, vendor_id=ids["v_oracle"], changes=changes)
    with database.unit_of_work() as s, pytest.raises(NotFound):
        service.set_profile(s, vendor_id=99999, changes={})


def test_vendor_register_usage(database, supply_map):
    with database.read_session() as s:
        rows = {r["name"]: r for r in service.list_vendors(s)}
        foreign_used = {r["name"] for r in service.list_vendors(s, domestic=False, used_only=True)}
    ms = rows["Microsoft"]
    assert (ms["systems"], ms["cii_systems"], ms["assets"], ms["cii_assets"]) == (2, 1, 3, 2)
    assert rows["Oracle"]["assets"] == 2 and rows["Oracle"]["systems"] == 2  # via a2 and the office SBOM
    assert rows["Oracle"]["cii_assets"] == 1 and rows["Microsoft"]["profile"] is None
    assert foreign_used == {"Microsoft", "Oracle", "CrowdStrike", EVIL}
    assert rows["麒麟软件"]["is_domestic"] is True and rows["麒麟软件"]["cii_systems"] == 1


def test_findings(database, supply_map):
    ids = supply_map
    _set(
        database,
        ids["v_cs"],
        remote_access="permanent",
        contract_end=str(TODAY - DAY),
        contract_start=str(TODAY - 400 * DAY),
    )
    _set(
        database,
        ids["v_oracle"],
        remote_access="on_demand",
        remote_reviewed_on=str(TODAY - 10 * DAY),
        nda_signed=True,
        nda_date=str(TODAY - 800 * DAY),
        nda_expires=str(TODAY - DAY),
        security_review="pending",
        contract_end=str(TODAY + 30 * DAY),
    )
    _set(
        database,
        ids["v_kylin"],
        remote_access="on_demand",
        remote_reviewed_on=str(TODAY),
        nda_signed=True,
        security_review="passed",
        contract_end=str(TODAY + 365 * DAY),
    )
    _set(database, ids["v_dm"], security_review="failed")
    with database.read_session() as s:
        found = findings.findings(s)
        only_cs = findings.findings(s, vendor_id=ids["v_cs"])
    got = {(f["vendor"], f["code"]) for f in found}
    assert got == {
        ("CrowdStrike", "contract_expired"),
        ("CrowdStrike", "nda_missing"),
        ("CrowdStrike", "remote_review_stale"),
        ("CrowdStrike", "permanent_remote_cii"),
        ("CrowdStrike", "foreign_privileged_update_cii"),
        ("Oracle", "nda_expired"),
        ("Oracle", "security_review_pending"),
        ("Oracle", "contract_expiring"),
        ("达梦数据库", "security_review_failed"),
        ("Microsoft", "no_profile"),
        (EVIL, "no_profile"),
    }
    by = {(f["vendor"], f["code"]): f for f in found}
    assert by[("CrowdStrike", "contract_expired")]["severity"] == "high"  # remote access raises it
    kernel = by[("CrowdStrike", "foreign_privileged_update_cii")]["detail"]
    assert kernel["cii_assets"] == 2 and kernel["products"][0]["product"] == "Falcon Sensor"
    assert found[0]["severity"] == "critical"  # most severe first
    assert {f["vendor"] for f in only_cs} == {"CrowdStrike"}
