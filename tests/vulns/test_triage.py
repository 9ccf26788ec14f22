"""Triage survives re-matching, re-import and version changes; fixed/risk-accepted reopen by the rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from ciimap.core.audit import AuditLog
from ciimap.core.db import Database
from ciimap.core.errors import Invalid
from ciimap.inventory.models import Software
from ciimap.vulns import service, triage
from ciimap.vulns.feed_import import import_feed
from ciimap.vulns.models import Finding, Triage

from .helpers import asset, osv_subset


def _setup(database: Database, tmp_path: Path, version: str = "2.10") -> int:
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp_path, ("jinja2",)), rematch=False)
        a = asset(s, "web01")
        s.add(Software(asset_id=a.id, name="jinja2", version=version, purl=f"pkg:pypi/jinja2@{version}"))
        s.flush()
        service.match(s)
        return a.id


def _finding(s, advisory: str = "PYSEC-2019-217", active: bool = True) -> Finding:  # noqa: ANN001
    return s.scalars(select(Finding).where(Finding.advisory_id == advisory, Finding.active.is_(active))).one()


def _reinstall(s, asset_id: int, version: str) -> None:  # noqa: ANN001
    """What an import does: drop the asset's software rows and write new ones."""
    for sw in s.scalars(select(Software).where(Software.asset_id == asset_id)):
        s.delete(sw)
    s.flush()
    s.add(Software(asset_id=asset_id, name="jinja2", version=version, purl=f"pkg:pypi/jinja2@{version}"))
    s.flush()


def test_not_affected_survives_reimport_and_version_change(database: Database, tmp_path: Path) -> None:
    asset_id = _setup(database, tmp_path)
    with database.unit_of_work() as s:
        t = service.set_triage(
            s,
            finding_id=_finding(s).id,
            state="not_affected",
            justification="code_not_reachable",
            detail="no sandboxed templates",
        )
        assert t.key == f"asset:{asset_id}|pkg:pypi/jinja2|PYSEC-2019-217"
    with database.unit_of_work() as s:
        _reinstall(s, asset_id, "2.10")  # new Software id, same package and version
        service.rematch_for(s, asset_ids=[asset_id])
        assert _finding(s).status == "not_affected"
        assert _finding(s, "PYSEC-2021-66").status == "new"
    with database.unit_of_work() as s:
        _reinstall(s, asset_id, "2.9.6")  # version change, still vulnerable
        service.rematch_for(s, asset_ids=[asset_id])
        f = _finding(s)
        assert (f.version, f.status) == ("2.9.6", "not_affected")
    with database.read_session() as s:
        audit = s.scalars(
            select(AuditLog).where(AuditLog.entity_type == "vuln_triage").order_by(AuditLog.id)
        ).all()
        assert audit and audit[0].after["state"] == "not_affected"


def test_fixed_reopens_when_vulnerable_version_reappears(database: Database, tmp_path: Path) -> None:
    asset_id = _setup(database, tmp_path)
    with database.unit_of_work() as s:
        service.set_triage(s, finding_id=_finding(s).id, state="fixed", detail="upgraded in change CHG-1")
        _reinstall(s, asset_id, "3.1.4")
        r = service.rematch_for(s, asset_ids=[asset_id])
        assert r["findings"] == 0 and s.scalars(select(Finding).where(Finding.active.is_(True))).all() == []
    with database.unit_of_work() as s:
        _reinstall(s, asset_id, "2.10")  # rolled back to the vulnerable version
        r = service.rematch_for(s, asset_ids=[asset_id])
        assert r["reopened"] == 1
        assert _finding(s).status == "new"
        t = s.scalars(select(Triage)).one()
        assert t.state == "new" and "matched again" in t.history[-1]["reason"]


def test_fixed_kept_while_same_version_still_matches(database: Database, tmp_path: Path) -> None:
    """A backported fix: marked fixed, the version string does not change, the mark stays."""
    _setup(database, tmp_path)
    with database.unit_of_work() as s:
        service.set_triage(s, finding_id=_finding(s).id, state="fixed", detail="distro backport")
        service.match(s)
        assert _finding(s).status == "fixed"


def test_risk_accepted_reopens_after_expiry(database: Database, tmp_path: Path) -> None:
    _setup(database, tmp_path)
    today = dt.date.today()
    with database.unit_of_work() as s:
        service.set_triage(
            s, finding_id=_finding(s).id, state="risk_accepted", expires=today + dt.timedelta(days=30)
        )
        service.match(s)
        assert _finding(s).status == "risk_accepted"
    with database.unit_of_work() as s:
        assert triage.reopen_expired(s, today=today + dt.timedelta(days=31)) == 1
        assert _finding(s).status == "new"
        t = s.scalars(select(Triage)).one()
        assert t.state == "new" and t.expires is None and "expired" in t.history[-1]["reason"]


def test_triage_validation(database: Database, tmp_path: Path) -> None:
    _setup(database, tmp_path)
    with database.unit_of_work() as s:
        fid = _finding(s).id
        with pytest.raises(Invalid, match="not_affected needs --justification"):
            service.set_triage(s, finding_id=fid, state="not_affected", justification="because")
        with pytest.raises(Invalid, match="expiry date in the future"):
            service.set_triage(s, finding_id=fid, state="risk_accepted", expires=dt.date.today())
        with pytest.raises(Invalid, match="unknown triage state 'ignored'"):
            service.set_triage(s, finding_id=fid, state="ignored")
