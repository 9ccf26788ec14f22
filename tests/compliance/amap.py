"""A small map for the assessment tests: systems at levels 3 and 4 (fields), one with a filed grading
(S3A2 + cloud), one without a level; assets, a contact, a vendor and a finding to link to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ciimap.compliance import assessment
from ciimap.compliance.schemas import AdvanceIn, AssessmentIn, GradingIn, TestObjectIn
from ciimap.core.audit import AuditLog
from ciimap.core.db import Database
from ciimap.inventory import models as m
from ciimap.vulns.models import Advisory, Finding

from .conftest import TODAY


def _add(s: Any, obj: Any) -> Any:
    s.add(obj)
    s.flush()
    return obj


def build(db: Database) -> dict[str, int]:
    from ciimap.compliance import service

    ids: dict[str, int] = {}
    with db.unit_of_work() as s:
        l3 = _add(s, m.System(name="调度系统", code="SCADA", mlps_level=3, is_cii=True))
        l4 = _add(s, m.System(name="电网系统", code="GRID", mlps_level=4))
        cloudy = _add(s, m.System(name="云平台", code="CLOUD"))
        none = _add(s, m.System(name="无等级系统", code="NONE"))
        a1 = _add(s, m.Asset(name="db-1", system_id=l3.id))
        a2 = _add(s, m.Asset(name="web-1", system_id=l3.id))
        other = _add(s, m.Asset(name="fw-1"))
        contact = _add(s, m.Contact(name="张工"))
        vendor = _add(s, m.Vendor(name="某厂商"))
        adv = _add(s, Advisory(advisory_id="CVE-2026-0001", source="osv", aliases=[]))
        finding = _add(
            s,
            Finding(
                target_type="software",
                target_id=1,
                asset_id=a1.id,
                system_id=l3.id,
                advisory_pk=adv.id,
                advisory_id=adv.advisory_id,
                package="pkg:generic/x",
                match_kind="purl",
                triage_key="k",
            ),
        )
        g = service.create_grading(
            s,
            data=GradingIn(
                system_id=cloudy.id,
                s_object="order",
                s_degree="serious",
                a_object="rights",
                a_degree="serious",
                extensions=["cloud", "big_data"],
                graded_on=TODAY,
            ),
        )
        service.advance(s, grading_id=g.id, data=AdvanceIn(to="review", on=TODAY))
        service.advance(
            s,
            grading_id=g.id,
            data=AdvanceIn(
                to="filed", skip_approval=True, filing_number="F-1", filing_date=TODAY, police_unit="公安局"
            ),
        )
        ids.update(
            l3=l3.id,
            l4=l4.id,
            cloudy=cloudy.id,
            none=none.id,
            a1=a1.id,
            a2=a2.id,
            other=other.id,
            contact=contact.id,
            vendor=vendor.id,
            finding=finding.id,
            grading=g.id,
        )
    return ids


def new_assessment(db: Database, system_id: int, **kw: Any) -> int:
    with db.unit_of_work() as s:
        return assessment.create_assessment(s, data=AssessmentIn(system_id=system_id, **kw)).id


def add_object(db: Database, assessment_id: int, **kw: Any) -> int:
    with db.unit_of_work() as s:
        return assessment.add_object(s, assessment_id=assessment_id, data=TestObjectIn(**kw)).id


def count(db: Database, model: Any) -> int:
    with db.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def audit_count(db: Database) -> int:
    return count(db, AuditLog)
