"""A map whose every table grows with one factor, for the query-count tests.

``build(db, n)`` writes ``n`` rows of every listed thing (organisations, contacts, sites, zones,
vendors and their profiles, products, systems, services, scan scopes and schedules, scenarios,
rollout plans, substitution plans, import runs, jobs, users, advisories, gradings, assessments with
results, risks, rectifications and evidence) and ``2 n`` assets, each
with an address, an endpoint, a software row, a change event and a vulnerability finding. Rows go
through the ORM and the domain services (so the audit hooks and each service's own checks run),
never through the API: the requests are what the tests count.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ciimap.alerts.models import Alert, AlertGroup, AlertSuppression, AlertWarning
from ciimap.auth import service as auth
from ciimap.compliance import assessment, obligations, rectification
from ciimap.compliance import service as grading
from ciimap.compliance.schemas import (
    AdvanceIn,
    AssessmentIn,
    DoneIn,
    GradingIn,
    KeyPostIn,
    RectificationIn,
    ResultIn,
    RiskIn,
    TestObjectIn,
    TrainingIn,
)
from ciimap.core.db import Database, utcnow
from ciimap.core.jobs import Job
from ciimap.crypto import assessment as crypto_assessment
from ciimap.crypto import service as crypto
from ciimap.crypto.schemas import AssessmentIn as CryptoAssessmentIn
from ciimap.crypto.schemas import ObjectIn, UnitIn
from ciimap.datagov import service as datagov
from ciimap.datagov.schemas import FlowIn, HoldingIn, Impact, ResourceIn
from ciimap.datagov.schemas import GradingIn as DataGradingIn
from ciimap.discovery import schedules as scan_schedules
from ciimap.discovery import service as discovery
from ciimap.graph import progress as rollouts
from ciimap.graph import service as graph
from ciimap.graph.schemas import Selector
from ciimap.incidents import drills as incident_drills
from ciimap.incidents import evidence as incident_evidence
from ciimap.incidents import grading as incident_grading
from ciimap.incidents import plans as incident_plans
from ciimap.incidents import reports as incident_reports
from ciimap.incidents import service as incidents
from ciimap.ingest.models import ChangeEvent, ImportRun, ScanDetail
from ciimap.intel.models import Indicator
from ciimap.inventory import models as m
from ciimap.notify import service as notify
from ciimap.notify.models import NotifyAttempt
from ciimap.supply import plans as supply_plans
from ciimap.supply import service as supply
from ciimap.vulns.models import Advisory, AdvisoryAlias, FeedImport, Finding


@dataclass
class Seeded:
    """The first id (or name) of each thing, for filling path parameters."""

    first: dict[str, Any] = field(default_factory=dict)


def build(db: Database, n: int) -> Seeded:
    """Fill an empty database with ``n`` of everything (``2 n`` assets); return first ids."""
    out = Seeded()
    with db.unit_of_work() as s:
        _inventory(s, n, out)
    with db.unit_of_work() as s:
        _domains(s, n, out)
    with db.unit_of_work() as s:
        _crypto(s, out)
    with db.unit_of_work() as s:
        _data(s, out)
    with db.unit_of_work() as s:
        _notify(s, n)
        _incidents(s, out)
    with db.unit_of_work() as s:
        _plans_drills(s, out)
    return out


def _data(s: Any, out: Seeded) -> None:
    """Per system two data resources (one graded important, one core, one reaching the PI threshold),
    held by the system and by one of its assets, with a cross-border flow."""
    systems, assets, contacts = out.first["system_ids"], out.first["asset_ids"], out.first["contact_ids"]
    ids = []
    for i, sid in enumerate(systems):
        for j, impact in enumerate(("economy:serious", "national:serious")):
            r = datagov.create_resource(
                s,
                data=ResourceIn(
                    name=f"数据{i}-{j}",
                    code=f"D{i}-{j}",
                    category="user.pi.basic",
                    contains_pi=True,
                    people=10_000_000 + i,
                    owner_id=contacts[i % len(contacts)],
                ),
            )
            obj, deg = impact.split(":")
            datagov.grade_resource(
                s,
                resource_id=r.id,
                data=DataGradingIn(impacts=[Impact(object=obj, degree=deg)], factors={"scale": "x"}),  # type: ignore[arg-type]
            )
            datagov.add_holding(s, resource_id=r.id, data=HoldingIn(holder_type="system", holder_id=sid))
            datagov.add_holding(
                s,
                resource_id=r.id,
                data=HoldingIn(holder_type="asset", holder_id=assets[(2 * i) % len(assets)]),
            )
            datagov.add_flow(
                s,
                resource_id=r.id,
                data=FlowIn(src_system_id=sid, recipient="海外", cross_border=True, country="SG"),
            )
            ids.append(r.id)
    out.first["data_resource"] = ids[0]


def _notify(s: Any, n: int) -> None:
    """``n`` notification channels, each with a rule, and ``n`` messages about ``incident:1`` per
    channel, each with an attempt (the outbox and the attempts routes)."""
    for c in range(n):
        notify.add_channel(s, name=f"ch{c}", kind="webhook", url=f"http://127.0.0.1:9/{c}", secret="k")
        notify.add_rule(s, name=f"rule{c}", channel=f"ch{c}", grades=["重大"])
    for i in range(n):
        for mid in notify.publish(
            s,
            kind="incident.opened",
            subject="incident:1",
            attrs={"grade": "重大"},
            title=f"t{i}",
            idempotency_key=f"k{i}",
        ):
            s.add(
                NotifyAttempt(
                    message_id=mid, channel_id=1, subject="incident:1", idempotency_key=f"k{i}", status="ok"
                )
            )
    s.flush()


_TLS = (
    "\n  TLSv1.0: \n    ciphers: \n      TLS_RSA_WITH_3DES_EDE_CBC_SHA (rsa 2048) - C\n|_  least strength: C"
)
_SSH = (
    "\n  kex_algorithms: (1)\n      diffie-hellman-group14-sha1\n  encryption_algorithms: (1)\n      sm4-ctr"
)


def _crypto(s: Any, out: Seeded) -> None:
    """Crypto evidence on every asset (scan detail with TLS and SSH script output) and one
    manual product per system (the crypto inventory is derived from these)."""
    rows = [
        ScanDetail(
            asset_id=aid,
            source="nmap",
            run_id=1,
            data={
                "port_scripts": [
                    ["tcp", 443, "ssl-enum-ciphers", _TLS, None],
                    ["tcp", 22, "ssh2-enum-algos", _SSH, None],
                ]
            },
        )
        for aid in out.first["asset_ids"]
    ]
    _add(s, rows)
    for sid in out.first["system_ids"]:
        crypto.add_manual(
            s,
            kind="product",
            layer="network",
            name="VPN",
            system_id=sid,
            algorithm="SM2",
            certificate_no="GM1",
        )
    objs = [ObjectIn(name=f"库{i}", d=True, a=i % 2 == 0, k=True, ra=0.5) for i in range(3)]
    for sid in out.first["system_ids"]:
        a = crypto_assessment.create(
            s,
            data=CryptoAssessmentIn(system_id=sid, assessed_on=dt.date(2026, 11, 30), assessor="qc", level=3),
        )
        out.first.setdefault("crypto_assessment", a["id"])
        unit = UnitIn(layer="应用和数据", unit="重要数据存储机密性", objects=objs)
        crypto_assessment.set_unit(s, assessment_id=a["id"], data=unit)
        mgmt = UnitIn(layer="管理制度", unit="密钥管理规则", result="部分符合")
        crypto_assessment.set_unit(s, assessment_id=a["id"], data=mgmt)


def _incidents(s: Any, out: Seeded) -> None:
    """One graded incident per system with a role, a task, a comment, an initial report sent and an
    evidence file (so every incidents GET route has rows that grow with the map)."""
    ids = []
    for k, sid in enumerate(out.first["system_ids"]):
        inc = incidents.open_incident(
            s, viewer_org=None, title=f"事件{k}", system_ids=[sid], asset_ids=out.first["asset_ids"][:2],
            facts=incident_grading.Facts(pi_leaked=10_000_000),
        )  # fmt: skip
        incidents.assign_role(s, incident_id=inc.id, viewer_org=None, role="指挥", person=f"人员{k}")
        incidents.add_task(s, incident_id=inc.id, viewer_org=None, title="隔离", owner=f"人员{k}")
        incidents.comment(s, incident_id=inc.id, viewer_org=None, text="研判中")
        rep = incident_reports.create(
            s, incident_id=inc.id, viewer_org=None, kind="initial", items={"1": "单位", "2": "时间"}
        )
        incident_reports.send(
            s, report_id=rep["id"], viewer_org=None, authority="保护工作部门", channel="12387"
        )
        src = Path(tempfile.mkdtemp()) / f"e{k}.txt"
        src.write_text(f"evidence {k}", encoding="utf-8")
        ev = incident_evidence.attach(s, incident_id=inc.id, viewer_org=None, source=src)
        ids.append((inc.id, rep["id"], ev.id))
    out.first["incident"], out.first["incident_report"], out.first["incident_evidence"] = ids[0]


def _plans_drills(s: Any, out: Seeded) -> None:
    """Per system an emergency plan (steps, an inventory contact, the next system as its fallback) and a
    ransomware drill on it; a faulty-update drill per vendor with a kernel-level auto-updating product."""
    systems, contacts = out.first["system_ids"], out.first["contact_ids"]
    plan_ids, drill_ids = [], []
    for k, sid in enumerate(systems):
        p = incident_plans.create(
            s, viewer_org=None, title=f"预案{k}", system_id=sid, fallback_kind="system",
            fallback_ref=str(systems[(k + 1) % len(systems)]), contacts=[{"contact_id": contacts[k % len(contacts)]}],
            steps=[{"text": "切换", "owner_role": "处置"}, {"text": "通知", "owner_role": "联络"}],
        )  # fmt: skip
        plan_ids.append(p.id)
        drill_ids.append(incident_drills.start(s, viewer_org=None, kind="ransomware", target=str(sid)).id)
    for vendor in incident_drills.vendor_candidates(s):
        incident_drills.start(s, viewer_org=None, kind="vendor_update", target=str(vendor["id"]))
    out.first["incident_plan"], out.first["incident_drill"] = plan_ids[0], drill_ids[0]


def _add(s: Any, objs: list[Any]) -> list[Any]:
    s.add_all(objs)
    s.flush()
    return objs


def _inventory(s: Any, n: int, out: Seeded) -> None:
    orgs = _add(s, [m.Organization(name=f"组织{i}") for i in range(n)])
    contacts = _add(
        s,
        [
            m.Contact(name=f"联系人{i}", organization_id=orgs[i].id, email=f"c{i}@example.cn")
            for i in range(n)
        ],
    )
    sites = _add(
        s,
        [
            m.Site(
                name=f"站点{i}",
                city="北京",
                latitude=39.9 + i / 100,
                longitude=116.4,
                organization_id=orgs[i].id,
            )
            for i in range(n)
        ],
    )
    zones = _add(
        s,
        [
            m.NetworkZone(
                name=f"区域{i}",
                kind="dmz" if i % 2 else "production",
                cidrs=[f"10.{i}.0.0/16"],
                site_id=sites[i].id,
                internet_facing=bool(i % 2),
            )
            for i in range(n)
        ],
    )
    vendors = _add(
        s,
        [
            m.Vendor(name=f"厂商{i}", country="CN" if i % 2 else "US", is_domestic=bool(i % 2), aliases=[])
            for i in range(n)
        ],
    )
    products = _add(
        s,
        [
            m.Product(
                name=f"产品{i}",
                vendor_id=vendors[i].id,
                layer="os" if i % 2 else "security",
                auto_update=not i % 2,
                update_privilege="kernel" if not i % 2 else "none",
                update_channel=f"channel{i}",
            )
            for i in range(n)
        ],
    )
    systems = _add(
        s,
        [
            m.System(
                name=f"系统{i}",
                code=f"SYS-{i}",
                mlps_level=3,
                is_cii=not i % 2,
                criticality="high",
                owner_id=contacts[i].id,
            )
            for i in range(n)
        ],
    )
    services = _add(
        s,
        [
            m.BusinessService(name=f"业务{i}", criticality="critical", owner_id=contacts[i].id)
            for i in range(n)
        ],
    )
    assets = _add(
        s,
        [
            m.Asset(
                name=f"host-{i:03d}",
                hostname=f"host-{i:03d}",
                kind="server",
                primary_ip=f"10.{i % n}.0.{i + 1}",
                ips=[f"10.{i % n}.0.{i + 1}"],
                site_id=sites[i % n].id,
                zone_id=zones[i % n].id,
                system_id=systems[i % n].id,
                owner_id=contacts[i % n].id,
                declared=bool(i % 3),
                lifecycle_status="missing" if i % 5 == 4 else "active",
                source="seed",
            )
            for i in range(2 * n)
        ],
    )
    _add(s, [m.IpAddress(asset_id=a.id, address=a.primary_ip) for a in assets])
    endpoints = _add(
        s,
        [
            m.ServiceEndpoint(asset_id=a.id, address=a.primary_ip, port=443, name="https", product="nginx")
            for a in assets
        ],
    )
    software = _add(
        s,
        [
            m.Software(
                asset_id=a.id,
                product_id=products[i % n].id,
                name=f"产品{i % n}",
                version="1.0",
                purl=f"pkg:generic/p{i % n}@1.0",
            )
            for i, a in enumerate(assets)
        ],
    )
    edges = [
        m.Edge(src_type="business_service", src_id=services[i].id, dst_type="system", dst_id=systems[i].id)
        for i in range(n)
    ]
    edges += [
        m.Edge(
            src_type="system",
            src_id=a.system_id,
            dst_type="asset",
            dst_id=a.id,
            kind="runs_on",
            redundancy_group="g",
        )
        for a in assets
    ]
    edges = _add(s, edges)
    out.first.update(
        organizations=orgs[0].id,
        contacts=contacts[0].id,
        sites=sites[0].id,
        zones=zones[0].id,
        vendors=vendors[0].id,
        products=products[0].id,
        systems=systems[0].id,
        **{"business-services": services[0].id},
        assets=assets[0].id,
        endpoints=endpoints[0].id,
        software=software[0].id,
        edges=edges[0].id,
        product_names=[p.name for p in products],
    )
    out.first["software_rows"] = [
        (sw.id, sw.asset_id, sw.product_id, sw.system_id, a.system_id) for sw, a in zip(software, assets)
    ]
    out.first["vendor_ids"] = [v.id for v in vendors]
    out.first["system_ids"] = [x.id for x in systems]
    out.first["contact_ids"] = [c.id for c in contacts]
    out.first["domestic_products"] = [p.id for p, v in zip(products, vendors) if v.is_domestic]
    out.first["asset_ids"] = [a.id for a in assets]


def _domains(s: Any, n: int, out: Seeded) -> None:
    today = dt.date(2026, 1, 1)
    for i, vid in enumerate(out.first["vendor_ids"]):
        supply.set_profile(
            s,
            vendor_id=vid,
            changes={
                "contract_number": f"HT-{i}",
                "remote_access": "on_demand" if i % 2 else "none",
                "nda_signed": bool(i % 2),
            },
        )
    rows = out.first["software_rows"]
    plan_ids = []
    for i in range(n):
        sw_id, _asset, prod, _sys, asset_sys = rows[2 * i]  # even products are foreign
        cand = out.first["domestic_products"][0] if out.first["domestic_products"] else None
        p = supply_plans.create_plan(
            s,
            data={
                "system_id": asset_sys,
                "current_software_id": sw_id,
                "candidate_product_id": cand,
                "due_date": (today + dt.timedelta(days=30 * (i + 1))).isoformat(),
            },
        )
        plan_ids.append(p.id)
    scopes = [
        discovery.create_scope(s, name=f"scope{i}", cidrs=[f"10.{i}.0.0/16"], allowed_ports="22,443")
        for i in range(n)
    ]
    for i, sc in enumerate(scopes):
        scan_schedules.create_schedule(
            s, name=f"sched{i}", scope=sc.name, targets=[f"10.{i}.0.0/24"], ports="443", interval_minutes=60
        )
    scenarios = [
        graph.save_scenario(s, name=f"场景{i}", selectors=[Selector(kind="vendor", ref=f"厂商{i}")])
        for i in range(n)
    ]
    plans = [rollouts.create_plan(s, product=name, version="2.0") for name in out.first["product_names"]]
    now = utcnow()
    runs = _add(
        s,
        [
            ImportRun(
                kind="nmap",
                scope=f"scope{i}",
                status="done",
                started_at=now,
                finished_at=now,
                stats={"hosts": 2},
            )
            for i in range(n)
        ],
    )
    _add(
        s,
        [
            ChangeEvent(
                run_id=runs[i % n].id,
                asset_id=a,
                kind="asset_added",
                subject=f"host {a}",
                after={"x": 1},
                at=now,
            )
            for i, a in enumerate(out.first["asset_ids"])
        ],
    )
    jobs = _add(
        s,
        [
            Job(kind="ingest", status="done", params={"i": i}, result={"ok": True}, progress=1, total=1)
            for i in range(n)
        ],
    )
    for i in range(n):
        auth.create_user(s, username=f"user{i}", password="correct-horse-1", role="analyst")
    feed = _add(
        s, [FeedImport(kind="osv", source="osv-pypi-2026-12.zip", snapshot_date=today, checksum="0" * 64)]
    )[0]
    advisories = _add(
        s,
        [
            Advisory(
                advisory_id=f"GHSA-{i:04d}",
                source="osv",
                aliases=[f"CVE-2026-{i:04d}"],
                summary=f"advisory {i}",
                severity="high",
                feed_import_id=feed.id,
            )
            for i in range(n)
        ],
    )
    _add(
        s,
        [
            AdvisoryAlias(alias=alias, advisory_pk=a.id)
            for a in advisories
            for alias in (a.advisory_id, *a.aliases)
        ],
    )
    findings = _add(
        s,
        [
            Finding(
                target_type="software",
                target_id=sw_id,
                software_id=sw_id,
                asset_id=asset_id,
                system_id=asset_sys,
                advisory_pk=advisories[i % n].id,
                advisory_id=advisories[i % n].advisory_id,
                cve_ids=list(advisories[i % n].aliases),
                package=f"pkg:generic/p{prod}",
                version="1.0",
                match_kind="purl",
                score=5.0 + i % 5,
                priority=f"P{1 + i % 4}",
                triage_key=f"asset:{asset_id}|pkg:generic/p{prod}|{advisories[i % n].advisory_id}",
            )
            for i, (sw_id, asset_id, prod, _sys, asset_sys) in enumerate(rows)
        ],
    )
    gradings = []
    for i, sys_id in enumerate(out.first["system_ids"]):
        g = grading.create_grading(
            s,
            data=GradingIn(
                system_id=sys_id,
                s_object="order",
                s_degree="serious",
                a_object="rights",
                a_degree="serious",
                graded_on=today,
            ),
        )
        if i % 2:
            grading.advance(s, grading_id=g.id, data=AdvanceIn(to="review", on=today))
            grading.advance(
                s,
                grading_id=g.id,
                data=AdvanceIn(
                    to="filed",
                    skip_approval=True,
                    filing_number=f"F-{i}",
                    filing_date=today + dt.timedelta(days=5),
                    police_unit="公安局",
                ),
            )
        gradings.append(g.id)
    alerts = _add(
        s,
        [
            Alert(
                time=now - dt.timedelta(minutes=i),
                kind="suricata",
                event="alert",
                severity="high",
                priority="critical",
                src_ip=f"10.9.{i // 250}.{i % 250}",
                src_internal=True,
                dest_asset_id=a,
                system_ids=[sys] if sys else [],
                raw="{}",
                run_id=runs[i % n].id,
                intel_matches=[f"10.9.{i // 250}.{i % 250}"],
            )
            for i, (_sw, a, _prod, _sys, sys) in enumerate(rows)
        ],
    )
    alert_groups = _add(
        s,
        [
            AlertGroup(
                kind="suricata",
                rule_id=str(i % 7),
                target_asset_id=a,
                target_ip="",
                attacker_ip=f"10.9.{i // 250}.{i % 250}",
                first_seen=now - dt.timedelta(minutes=i),
                last_seen=now - dt.timedelta(minutes=i),
                count=1,
                open_count=1,
                severity="high",
                priority="critical",
                sample_ids=[alerts[i].id],
                system_ids=[sys] if sys else [],
            )
            for i, (_sw, a, _prod, _sys, sys) in enumerate(rows)
        ],
    )
    _add(
        s,
        [
            AlertSuppression(rule_id=str(i), asset_id=a, reason="noisy", created_by="t")
            for i, (_sw, a, _prod, _sys, _s2) in enumerate(rows)
        ],
    )
    warns = _add(
        s,
        [
            AlertWarning(
                rule="alert-burst",
                rule_kind="threshold",
                level="blue",
                title="burst",
                scope=f"asset:{a}",
                asset_ids=[a],
                first_alert_id=alerts[i].id,
                last_alert_id=alerts[i].id,
                first_alert_at=now,
                last_alert_at=now,
                count=1,
            )
            for i, (_sw, a, _prod, _sys, _s2) in enumerate(rows)
        ],
    )
    indicators = _add(
        s,
        [
            Indicator(
                type="ip",
                value=f"10.9.{i // 250}.{i % 250}",
                source="stix",
                source_ref=f"indicator--{i}",
                tlp="amber",
                labels=["malicious-activity"],
                cves=[f"CVE-2026-{j:04d}" for j in range(n)],  # every advisory: each has findings
                raw={"type": "indicator"},
                run_id=runs[i % n].id,
            )
            for i in range(len(rows))
        ],
    )
    assessments, results, risks, rects, evidence = _assessments(s, out)
    _obligations(s, out, today, assessments)
    out.first.update(
        assessment=assessments[0],
        result=results[0],
        risk=risks[0],
        rectification=rects[0],
        evidence=evidence[0],
        alert=alerts[0].id,
        warning=warns[0].id,
        alert_group=alert_groups[0].id,
        indicator=indicators[0].id,
        grading=gradings[0],
        plan=plan_ids[0],
        scope=scopes[0].name,
        scenario=scenarios[0].name,
        scenario_b=scenarios[1].name,
        rollout=plans[0].id,
        run=runs[0].id,
        job=jobs[0].id,
        finding=findings[0].id,
    )


def _obligations(s: Any, out: Seeded, today: dt.date, assessments: list[int]) -> None:
    """A key post per contact (the next two contacts share its duty), two training sessions per
    contact, and the recorded yearly test of every CII system (with its assessment)."""
    contacts = out.first["contact_ids"]
    n = len(contacts)
    for i, cid in enumerate(contacts):
        members = [c for c in dict.fromkeys(contacts[(i + k) % n] for k in (1, 2)) if c != cid]
        obligations.create_post(s, data=KeyPostIn(name=f"关键岗位{i}", responsible_id=cid, members=members))
        for k in range(2):
            obligations.add_training(
                s,
                data=TrainingIn(
                    contact_id=cid, held_on=today - dt.timedelta(days=k * 40), hours=8, topic="培训"
                ),
                today=today,
            )
    for sys_id, aid in zip(out.first["system_ids"], assessments, strict=True):
        if s.get(m.System, sys_id).is_cii:
            obligations.record_done(
                s,
                data=DoneIn(
                    system_id=sys_id, period="2025", done_on=dt.date(2025, 12, 20), assessment_id=aid
                ),
                today=today,
            )


def _assessments(s: Any, out: Seeded) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """An assessment per system (its assets and a document as test objects), a failed and a passed
    result on each object with links, a high risk, a rectification with links and an evidence file."""
    ids: tuple[list[int], list[int], list[int], list[int], list[int]] = ([], [], [], [], [])
    aids, rids, risk_ids, rect_ids, ev_ids = ids
    with tempfile.TemporaryDirectory() as tmp:
        for i, sys_id in enumerate(out.first["system_ids"]):
            a = assessment.create_assessment(s, data=AssessmentIn(system_id=sys_id, include_assets=True))
            assessment.add_object(s, assessment_id=a.id, data=TestObjectIn(name=f"制度{i}", kind="document"))
            objects = assessment.describe(s, assessment_id=a.id)["test_objects"]
            for obj in objects:
                links = [{"target_type": "asset", "target_id": obj["asset_id"]}] if obj["asset_id"] else []
                fail = assessment.set_result(
                    s,
                    assessment_id=a.id,
                    data=ResultIn(
                        item="22239-2019:8.1.4.1.a", object_id=obj["id"], result="fail", links=links
                    ),
                )
                assessment.set_result(
                    s,
                    assessment_id=a.id,
                    data=ResultIn(item="22239-2019:8.1.4.1.b", object_id=obj["id"], result="pass"),
                )
                rids.append(fail["id"])
                rect = rectification.create(
                    s,
                    data=RectificationIn(
                        result_id=fail["id"],
                        owner="运维部",
                        links=[{"target_type": "system", "target_id": sys_id}],
                    ),
                )
                rect_ids.append(rect.id)
                f = Path(tmp) / f"e{fail['id']}.txt"
                f.write_text(f"evidence {fail['id']}", "utf-8")
                ev_ids.append(assessment.attach_evidence(s, result_id=fail["id"], source=f).id)
            risk = assessment.add_risk(
                s,
                assessment_id=a.id,
                data=RiskIn(
                    level="high",
                    description=f"风险{i}",
                    item="22239-2019:8.1.4.1.a",
                    links=[{"target_type": "system", "target_id": sys_id}],
                ),
            )
            risk_ids.append(risk["id"])
            aids.append(a.id)
    return ids
