"""Compliance results and data grades for the demo (合规与数据演示数据), each written through the owning
domain's services (never their tables), so every rule they hold applies — levels from the MLPS matrix,
filing states in order, assessment scores and conclusions from the results, rectifications tied to
failed results, data levels from the GB/T 43697 impact rules:

- **MLPS gradings** (定级) of three CII systems: two filed (备案) a year ago, one still in 专家评审;
- a **closed external assessment** (等级测评) of the first, with results on two of its servers (most items
  符合, a few 不符合/部分符合), its score and conclusion, and **rectification items** for the failed
  results — one past its due date, one not;
- an **open self-assessment** of the second, partly done;
- **data resources** (数据分类分级): passengers' identity and payment data, train-control data and
  network-wide passenger-flow data, graded and held by the systems that process them.

Dates are relative to the load time and never in the future (the services refuse future dates).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.compliance import assessment, rectification
from ciimap.compliance import service as mlps
from ciimap.compliance.schemas import (
    AdvanceIn,
    AssessmentIn,
    BulkIn,
    GradingIn,
    RectificationIn,
    ResultIn,
    TestObjectIn,
)
from ciimap.datagov import service as datagov
from ciimap.datagov.schemas import GradingIn as DataGradingIn
from ciimap.datagov.schemas import HoldingIn, ResourceIn
from ciimap.inventory.models import Asset, System

#: MLPS level → the (S, A) judgements that give it (harmed object, degree).
JUDGEMENT = {3: ("order", "serious"), 4: ("order", "especially_serious")}
#: Results that are not 符合 on the closed assessment: (item, object index, result).
FINDINGS = (
    ("22239-2019:8.1.4.1.a", 0, "fail"),  # 身份鉴别: default passwords on an application server
    ("22239-2019:8.1.4.1.b", 1, "partial"),
    ("22239-2019:8.1.4.2.a", 0, "fail"),  # 访问控制
)
#: name, category, PI, sensitive PI, impacts, holder system name fragment
DATA = (
    (
        "乘客实名与支付信息",
        "user.pi.identity",
        True,
        True,
        [("public_interest", "serious"), ("individual", "serious")],
        "AFC",
    ),
    ("列车运行控制数据", "business.control", False, False, [("social_order", "especially_serious")], "CBTC"),
    ("线网客流统计数据", "business.trade", False, False, [("economy", "serious")], "ACC"),
)


def _systems(session: Session) -> list[System]:
    return list(
        session.scalars(
            select(System)
            .where(System.is_cii.is_(True), System.mlps_level.in_(tuple(JUDGEMENT)))
            .order_by(System.id)
            .limit(3)
        )
    )


def _assets(session: Session, system_id: int, n: int) -> list[int]:
    return list(
        session.scalars(
            select(Asset.id)
            .where(Asset.system_id == system_id, Asset.kind == "server")
            .order_by(Asset.id)
            .limit(n)
        )
    )


def load_governance(session: Session, *, now: dt.datetime) -> dict[str, Any]:
    """Write the demo's compliance results and data grades in the caller's transaction."""
    session.flush()
    today = min(now.date(), mlps._today())
    systems = _systems(session)
    out: dict[str, Any] = {"gradings": 0, "assessments": [], "rectifications": 0, "data_resources": 0}
    for k, sys_ in enumerate(systems):
        s_obj, degree = JUDGEMENT[int(sys_.mlps_level or 3)]
        g = mlps.create_grading(
            session,
            data=GradingIn.model_validate(
                {
                    "system_id": sys_.id,
                    "s_object": s_obj,
                    "s_degree": degree,
                    "a_object": s_obj,
                    "a_degree": degree,
                    "graded_on": today - dt.timedelta(days=420),
                    "notes": "演示数据：年度定级复核",
                }
            ),
        )
        mlps.advance(session, grading_id=g.id, data=AdvanceIn(to="review", on=today - dt.timedelta(days=410)))
        if k < 2:
            mlps.advance(
                session,
                grading_id=g.id,
                data=AdvanceIn(to="approved", on=today - dt.timedelta(days=400), authority="市交通运输局"),
            )
            mlps.advance(
                session,
                grading_id=g.id,
                data=AdvanceIn(
                    to="filed",
                    filing_number=sys_.filing_number or f"DEMO-{sys_.id:05d}",
                    filing_date=today - dt.timedelta(days=390),
                    police_unit="市公安局网络安全保卫支队",
                ),
            )
        out["gradings"] += 1
    if systems:
        out["assessments"].append(_closed_assessment(session, systems[0], today, out))
    if len(systems) > 1:
        out["assessments"].append(_open_assessment(session, systems[1], today))
    out["data_resources"] = _data(session, today)
    return out


def _closed_assessment(session: Session, sys_: System, today: dt.date, out: dict[str, Any]) -> dict[str, Any]:
    a = assessment.create_assessment(
        session,
        data=AssessmentIn(
            system_id=sys_.id,
            kind="external",
            body="某网络安全等级保护测评中心",
            started_on=today - dt.timedelta(days=75),
            notes="演示数据：年度等级测评",
        ),
    )
    objs = [
        assessment.add_object(session, assessment_id=a.id, data=TestObjectIn(asset_id=aid)).id
        for aid in _assets(session, sys_.id, 2)
    ]
    if not objs:
        return {"id": a.id, "state": "open"}
    assessment.bulk_set(session, assessment_id=a.id, data=BulkIn(result="pass", method="interview"))
    failed = []
    for item, i, result in FINDINGS:
        r = assessment.set_result(
            session,
            assessment_id=a.id,
            data=ResultIn.model_validate(
                {"item": item, "object_id": objs[min(i, len(objs) - 1)], "result": result, "method": "test"}
            ),
        )
        failed.append(r["id"])
    closed = assessment.close(session, assessment_id=a.id, closed_on=today - dt.timedelta(days=45))
    for n, (rid, due, title) in enumerate(
        zip(
            failed[:2],
            (today - dt.timedelta(days=10), today + dt.timedelta(days=60)),
            ("修改应用服务器默认口令并启用双因素认证", "补充口令复杂度策略与定期更换"),
            strict=False,
        )
    ):
        rectification.create(
            session,
            data=RectificationIn(
                result_id=rid, title=title, owner="信息中心", plan="按测评报告整改", due_date=due
            ),
        )
        out["rectifications"] = n + 1
    return {"id": a.id, "state": closed.state, "score": closed.score, "conclusion": closed.conclusion}


def _open_assessment(session: Session, sys_: System, today: dt.date) -> dict[str, Any]:
    a = assessment.create_assessment(
        session, data=AssessmentIn(system_id=sys_.id, started_on=today - dt.timedelta(days=10))
    )
    for aid in _assets(session, sys_.id, 1):
        assessment.add_object(session, assessment_id=a.id, data=TestObjectIn(asset_id=aid))
    assessment.bulk_set(session, assessment_id=a.id, data=BulkIn(result="pass", category="安全计算环境"))
    return {"id": a.id, "state": "open"}


def _data(session: Session, today: dt.date) -> int:
    names = list(session.execute(select(System.id, System.name).order_by(System.id)).tuples())
    n = 0
    for name, category, pi, spi, impacts, holder in DATA:
        r = datagov.create_resource(
            session,
            data=ResourceIn.model_validate(
                {
                    "name": name,
                    "category": category,
                    "contains_pi": pi,
                    "contains_sensitive_pi": spi,
                    "description": "演示数据",
                }
            ),
        )
        datagov.grade_resource(
            session,
            resource_id=r.id,
            data=DataGradingIn.model_validate(
                {
                    "impacts": [{"object": o, "degree": d} for o, d in impacts],
                    "graded_on": today - dt.timedelta(days=200),
                }
            ),
        )
        for sid, sname in names:
            if holder in (sname or ""):
                datagov.add_holding(
                    session,
                    resource_id=r.id,
                    data=HoldingIn(holder_type="system", holder_id=sid, role="processes"),
                )
                break
        n += 1
    return n
