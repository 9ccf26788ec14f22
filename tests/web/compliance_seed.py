"""A small compliance map for the page tests: a graded and filed CII system with two closed
assessments (a score trend), an open one with two test objects, an overdue rectification; and an
ungraded system."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ciimap.compliance import assessment, rectification
from ciimap.compliance import service as grading
from ciimap.compliance.schemas import (
    AdvanceIn,
    AssessmentIn,
    BulkIn,
    GradingIn,
    RectificationIn,
    ResultIn,
    TestObjectIn,
)
from ciimap.core.db import Database
from ciimap.inventory import models as m

#: The item with results in the seed.
ITEM = "22239-2019:8.1.4.1.a"
#: The item the map proposes 不符合 for (telnet open on db-1).
PROPOSED_ITEM = "22239-2019:8.1.4.1.c"


def build(db: Database) -> dict[str, Any]:
    today = dt.date.today()
    ids: dict[str, Any] = {}
    with db.unit_of_work() as s:
        scada = m.System(name="调度系统", code="SCADA", mlps_level=3, is_cii=True)
        office = m.System(name="办公系统", code="OA")
        s.add_all([scada, office])
        s.flush()
        db1 = m.Asset(name="db-1", system_id=scada.id)
        s.add_all([db1, m.Asset(name="web-1", system_id=scada.id)])
        s.flush()
        # telnet open: the map proposes 不符合 for 8.1.4.1.c (identification and authentication)
        s.add(m.ServiceEndpoint(asset_id=db1.id, port=23, protocol="tcp", name="telnet"))
        s.flush()
        g = grading.create_grading(
            s,
            data=GradingIn(
                system_id=scada.id,
                s_object="order",
                s_degree="serious",
                a_object="order",
                a_degree="general",
                graded_on=today - dt.timedelta(days=400),
            ),
        )
        grading.advance(s, grading_id=g.id, data=AdvanceIn(to="review", on=today - dt.timedelta(days=399)))
        grading.advance(
            s,
            grading_id=g.id,
            data=AdvanceIn(
                to="filed",
                on=today - dt.timedelta(days=390),
                skip_approval=True,
                filing_number="11010000001-00001",
                filing_date=today - dt.timedelta(days=390),
                police_unit="北京市公安局网安总队",
            ),
        )
        closed = []
        # two closed rounds: all 符合 then one 不符合 in round 2 (a falling score)
        for n, cycle in enumerate(("2024", "2025")):
            started = today - dt.timedelta(days=380 - 100 * n)
            a = assessment.create_assessment(
                s, data=AssessmentIn(system_id=scada.id, cycle=cycle, started_on=started, include_assets=True)
            )
            assessment.bulk_set(s, assessment_id=a.id, data=BulkIn(result="pass"))
            obj = assessment.describe(s, assessment_id=a.id)["test_objects"][0]["id"]
            if n == 1:
                fail = assessment.set_result(
                    s, assessment_id=a.id, data=ResultIn(item=ITEM, object_id=obj, result="fail")
                )
                ids["fail_result"] = fail["id"]
            assessment.close(s, assessment_id=a.id, closed_on=started + dt.timedelta(days=30))
            closed.append(a.id)
        rect = rectification.create(
            s,
            data=RectificationIn(
                result_id=ids["fail_result"],
                title="关闭互联网区的远程管理端口",
                owner="运维部",
                due_date=today - dt.timedelta(days=10),
            ),
        )
        a = assessment.create_assessment(
            s, data=AssessmentIn(system_id=scada.id, cycle="2026", include_assets=True)
        )
        assessment.add_object(s, assessment_id=a.id, data=TestObjectIn(name="安全管理制度", kind="document"))
        objects = assessment.describe(s, assessment_id=a.id)["test_objects"]
        assessment.set_result(
            s,
            assessment_id=a.id,
            data=ResultIn(item=ITEM, object_id=objects[0]["id"], result="partial", notes="端口22仅限堡垒机"),
        )
        ids.update(
            scada=scada.id,
            office=office.id,
            grading=g.id,
            closed=closed,
            open=a.id,
            objects=[o["id"] for o in objects],
            rectification=rect.id,
        )
    return ids
