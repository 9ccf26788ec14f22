"""The demo is alive on first look: a month of scan history with change events (through the ingest
tables the importers write), real advisories (the bundled OSV/KEV slice) matched into findings that
include KEV ones; deterministic with the seed; replaced with the map on --reset."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import delete, func, select

from ciimap.compliance import overview as compliance_overview
from ciimap.compliance import service as compliance_service
from ciimap.compliance.models import Grading, Rectification
from ciimap.core.audit import AuditLog
from ciimap.core.db import Database, utcnow
from ciimap.datagov import service as datagov
from ciimap.datagov.models import DataResource
from ciimap.demo import advisories as demo_advisories
from ciimap.demo import service
from ciimap.incidents import service as incidents
from ciimap.incidents.models import Incident
from ciimap.ingest import changes
from ciimap.ingest.models import ChangeEvent, ImportRun
from ciimap.inventory import models as m
from ciimap.inventory import overview
from ciimap.vulns import service as vulns
from ciimap.vulns.models import Advisory, Finding, KevEntry

NOW = utcnow().replace(microsecond=0)


def _load(db: Database, seed: int = 7, reset: bool = False) -> dict:
    with db.unit_of_work() as s:
        return service.load(s, scale=800, seed=seed, reset=reset, now=NOW, history=True, advisories=True)


def _events_digest(db: Database) -> str:
    with db.read_session() as s:
        rows = s.execute(
            select(
                ChangeEvent.kind,
                ChangeEvent.asset_id,
                ChangeEvent.subject,
                ChangeEvent.before,
                ChangeEvent.after,
            ).order_by(ChangeEvent.at, ChangeEvent.asset_id, ChangeEvent.kind, ChangeEvent.subject)
        ).all()
        return hashlib.sha256(
            json.dumps([list(r) for r in rows], sort_keys=True, default=str).encode()
        ).hexdigest()


def test_month_of_scan_history_with_changes(database: Database) -> None:
    result = _load(database)
    h = result["history"]
    assert h["days"] >= 28 and h["events"] > 100
    for kind in (
        "asset_new",
        "asset_missing",
        "asset_returned",
        "port_opened",
        "port_closed",
        "version_changed",
        "software_version_changed",
    ):
        assert h["by_kind"].get(kind, 0) > 0, kind
    with database.read_session() as s:
        days = {str(d)[:10] for d in s.scalars(select(func.date(ChangeEvent.at)).distinct())}
        assert len(days) >= 28
        assert min(s.scalars(select(ChangeEvent.at))).replace(tzinfo=None) >= (
            NOW.replace(tzinfo=None) - dt.timedelta(days=30)
        )
        runs = s.execute(select(ImportRun.kind, func.count()).group_by(ImportRun.kind)).tuples().all()
        assert dict(runs)["nmap"] >= 30 * 5 and dict(runs)["osquery"] == 30
        # every event belongs to a succeeded run of its day
        bad = s.scalar(
            select(func.count())
            .select_from(ChangeEvent)
            .join(ImportRun, ImportRun.id == ChangeEvent.run_id)
            .where(ImportRun.status != "succeeded")
        )
        assert bad == 0
        # the map agrees with the events: a new asset's first_seen is the event's time; a closed port
        # stays as a closed endpoint
        new = s.execute(
            select(ChangeEvent.asset_id, ChangeEvent.at).where(ChangeEvent.kind == "asset_new").limit(20)
        ).all()
        for aid, at in new:
            a = s.get(m.Asset, aid)
            assert a is not None and a.first_seen.replace(tzinfo=None) == at.replace(tzinfo=None)
        closed = s.execute(
            select(ChangeEvent.asset_id, ChangeEvent.subject).where(ChangeEvent.kind == "port_closed")
        ).first()
        assert closed is not None
        port = int(closed[1].split("/")[-1])
        ep = s.scalars(
            select(m.ServiceEndpoint).where(
                m.ServiceEndpoint.asset_id == closed[0], m.ServiceEndpoint.port == port
            )
        ).one()
        assert ep.state == "closed"
        # the change feed and the dashboard's 30-day chart show them
        assert changes.list_changes(s, since=NOW - dt.timedelta(days=7), limit=1)["total"] > 0
        trend = overview.charts(s)["assets_first_seen"]
        assert sum(1 for _d, n in trend if n) >= 20
        audited = s.scalars(select(AuditLog.entity_type).where(AuditLog.action == "demo_load")).all()
        assert {"import_run", "change_event"} <= set(audited)


def test_history_is_deterministic_and_replaced_on_reset(database: Database) -> None:
    _load(database, seed=3)
    first = _events_digest(database)
    _load(database, seed=3, reset=True)
    assert _events_digest(database) == first
    with database.read_session() as s:
        assert s.scalar(select(func.count()).select_from(ImportRun).where(ImportRun.kind == "osquery")) == 30


def test_bundled_advisories_make_findings_with_kev(database: Database) -> None:
    result = _load(database)
    adv = result["advisories"]
    assert adv["osv"] == len(list(demo_advisories.OSV.glob("*.*")))
    assert adv["kev"] >= 1 and adv["findings"] > 0 and adv["kev_findings"] > 0
    with database.read_session() as s:
        kev, total = vulns.list_findings(s, kev=True, limit=5)
        assert total == adv["kev_findings"]
        assert {f.advisory_id for f in kev} == {"GHSA-jfh8-c2jp-5v3q"}
        assert all(f.package.endswith("log4j-core") and f.version == "2.14.1" for f in kev)
        assert all(f.priority in ("P1", "P2") for f in kev)  # KEV floor
        assert s.get(KevEntry, "CVE-2021-44228") is not None
        # real PyPI records, matched on the demo's pins
        pkgs = {f.package for f in vulns.list_findings(s, limit=10_000)[0]}
        assert {"pkg:pypi/django", "pkg:pypi/requests", "pkg:pypi/jinja2"} <= pkgs
        # every bundled advisory id is a real record's id (kept unchanged from the feed)
        ids = set(s.scalars(select(Advisory.advisory_id)))
        assert "PYSEC-2019-217" in ids  # jinja2 2.10 sandbox escape (CVE-2019-10906)
    with database.unit_of_work() as s:  # the scoped match found what matching everything finds
        assert vulns.match(s)["findings"] == adv["findings"]


def test_bundled_advisories_leave_existing_feeds_alone(database: Database) -> None:
    _load(database)
    with database.unit_of_work() as s:
        s.execute(delete(KevEntry))
        s.add(KevEntry(cve_id="CVE-2014-0160"))
    with database.unit_of_work() as s:
        out = demo_advisories.load_advisories(s)
        assert "osv" not in out and "kev" not in out  # both feeds exist: only matched again
        assert s.get(KevEntry, "CVE-2014-0160") is not None
        assert out["kev_findings"] == 0


def test_without_the_optional_steps(database: Database) -> None:
    with database.unit_of_work() as s:
        r = service.load(s, scale=600, seed=1, now=NOW)
        assert "history" not in r and "advisories" not in r
        assert s.scalar(select(func.count()).select_from(ChangeEvent)) == 0


def test_staged_attack_is_an_open_incident_with_its_reporting_clock(database: Database) -> None:
    with database.unit_of_work() as s:
        r = service.load(s, scale=600, seed=7, now=NOW, alerts=True)
    inc = r["incident"]
    assert inc["grade"] == "较大" and "first_report" in inc["deadlines"]
    with database.read_session() as s:
        counts = incidents.open_counts(s, viewer_org=None)
        assert counts["by_grade"]["较大"] == 1
        due = counts["next_deadline"]
        assert due is not None
        assert abs((due - NOW).total_seconds() - 35 * 60) < 2  # discovered 25 min ago, first report in 60
        detail = incidents.detail(s, incident_id=inc["incident_id"], viewer_org=None)
        assert detail["origin"] == "warning" and detail["system_ids"]


def test_compliance_results_and_data_grades_through_their_services(database: Database) -> None:
    with database.unit_of_work() as s:
        r = service.load(s, scale=1500, seed=42, now=NOW, governance=True)
    g = r["governance"]
    assert g["gradings"] == 3 and g["rectifications"] == 2 and g["data_resources"] == 3
    closed = g["assessments"][0]
    assert (
        closed["state"] == "closed" and closed["conclusion"] in ("优", "良", "中", "差") and closed["score"]
    )
    with database.read_session() as s:
        c = compliance_overview.cards(s)
        assert c["assessed"] == 1 and sum(c["by_conclusion"].values()) == 1
        assert c["open_rectifications"] == 2 and c["overdue_rectifications"] == 1
        states = sorted(x["state"] for x in compliance_service.list_gradings(s))
        assert states == ["filed", "filed", "review"]
        d = datagov.cards(s)
        assert d["resources"] == 3 and d["ungraded"] == 0
        assert d["by_level"]["core"] == 1 and d["by_level"]["important"] == 2
        assert d["systems_marked"] >= 2
        audited = set(s.scalars(select(AuditLog.entity_type)))
        assert {"compliance_grading", "compliance_rectification"} <= audited


def test_reset_replaces_everything_the_alive_demo_wrote(database: Database) -> None:
    def counts() -> list[int]:
        with database.read_session() as s:
            history_runs = (
                select(func.count()).select_from(ImportRun).where(ImportRun.created_by == "ciimap-demo")
            )
            return [s.scalar(history_runs) or 0] + [
                s.scalar(select(func.count()).select_from(t)) or 0
                for t in (ChangeEvent, DataResource, Incident, Grading, Rectification, Finding)
            ]  # other import runs (feeds, the alert file) stay in the log of runs, as after any --reset

    for reset in (False, True):
        with database.unit_of_work() as s:
            service.load(
                s,
                scale=600,
                seed=1,
                reset=reset,
                now=NOW,
                alerts=True,
                history=True,
                advisories=True,
                governance=True,
            )
        if not reset:
            first = counts()
    assert counts() == first and all(first)
