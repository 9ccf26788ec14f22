"""Rectification (整改): from results and risks, owners, statuses, progress, and verification by a later
assessment's 符合 on the same item and test object (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ciimap.compliance import assessment, rectification
from ciimap.compliance.models import Rectification
from ciimap.compliance.schemas import BulkIn, RectificationIn, RectificationUpdate, ResultIn, RiskIn
from ciimap.core.audit import AuditLog
from ciimap.core.errors import Conflict, Invalid, NotFound

from .amap import add_object, audit_count, build, count, new_assessment
from .conftest import TODAY

ITEM = "22239-2019:8.1.4.1.a"


@pytest.fixture
def amap(database):
    return build(database)


def _set(db, aid, obj, result, item=ITEM):
    with db.unit_of_work() as s:
        return assessment.set_result(
            s, assessment_id=aid, data=ResultIn(item=item, object_id=obj, result=result)
        )


def _new(db, **kw):
    with db.unit_of_work() as s:
        return rectification.create(s, data=RectificationIn(**kw)).id


def _show(db, rid):
    with db.read_session() as s:
        return rectification.describe(s, rectification_id=rid)


def test_fail_and_partial_results_and_high_risks_become_items(database, amap) -> None:
    aid = new_assessment(database, amap["l3"])
    obj = add_object(database, aid, asset_id=amap["a1"])
    fail = _set(database, aid, obj, "fail")["id"]
    ok = _set(database, aid, obj, "pass", item="22239-2019:8.1.4.1.b")["id"]
    rid = _new(
        database,
        result_id=fail,
        owner_contact_id=amap["contact"],
        plan="启用双因素认证",
        due_date=TODAY + dt.timedelta(days=30),
        links=[
            {"target_type": "asset", "target_id": amap["a1"]},
            {"target_type": "finding", "target_id": amap["finding"]},
            {"target_type": "supplier", "target_id": amap["vendor"]},
        ],
    )
    r = _show(database, rid)
    assert (r["status"], r["item_id"], r["object_asset_id"], r["owner_contact_id"]) == (
        "open",
        ITEM,
        amap["a1"],
        amap["contact"],
    )
    assert {lk["target_type"] for lk in r["links"]} == {"asset", "finding", "supplier"}
    assert "不符合" in r["title"] and r["overdue"] is False
    before = audit_count(database)
    with pytest.raises(Invalid, match="only 不符合"):
        _new(database, result_id=ok)
    with pytest.raises(Conflict, match="already has open rectification"):
        _new(database, result_id=fail)
    with pytest.raises(NotFound):
        _new(database, result_id=fail + 1000)
    with pytest.raises(NotFound):
        _new(database, result_id=fail, owner_contact_id=999999)
    assert audit_count(database) == before and count(database, Rectification) == 1
    with database.unit_of_work() as s:
        high = assessment.add_risk(
            s, assessment_id=aid, data=RiskIn(level="high", description="默认口令", item=ITEM)
        )
        low = assessment.add_risk(s, assessment_id=aid, data=RiskIn(level="low", description="x"))
    by_risk = _show(database, _new(database, risk_id=high["id"], owner="运维部 王五"))
    assert (by_risk["owner"], by_risk["item_id"], by_risk["title"]) == (
        "运维部 王五",
        ITEM,
        "高风险: 默认口令",
    )
    with pytest.raises(Invalid, match="high and medium"):
        _new(database, risk_id=low["id"])


def test_statuses_final_states_and_progress_per_system(database, amap) -> None:
    aid = new_assessment(database, amap["l3"], include_assets=True)
    with database.read_session() as s:
        o1, o2 = (o["id"] for o in assessment.describe(s, assessment_id=aid)["test_objects"])
    late = _new(
        database, result_id=_set(database, aid, o1, "fail")["id"], due_date=TODAY - dt.timedelta(days=1)
    )
    other = _new(database, result_id=_set(database, aid, o2, "partial")["id"])
    with database.unit_of_work() as s:
        rectification.update(s, rectification_id=other, changes=RectificationUpdate(status="in_progress"))
    with pytest.raises(Invalid, match="verification_note"), database.unit_of_work() as s:
        rectification.update(s, rectification_id=other, changes=RectificationUpdate(status="verified"))
    with database.unit_of_work() as s:
        rectification.update(
            s,
            rectification_id=other,
            changes=RectificationUpdate(status="verified", verification_note="现场核查：已启用"),
        )
    with pytest.raises(Conflict, match="can no longer change"), database.unit_of_work() as s:
        rectification.update(s, rectification_id=other, changes=RectificationUpdate(plan="x"))
    with database.read_session() as s:
        prog = rectification.progress(s)
        overdue = rectification.list_rectifications(s, overdue=True)
        verified = rectification.list_rectifications(s, status="verified")
    assert [p["system"] for p in prog] == ["调度系统"]
    p = prog[0]
    assert (p["total"], p["overdue"], p["percent_verified"]) == (2, 1, 50.0)
    assert p["by_status"] == {"open": 1, "in_progress": 0, "done": 0, "verified": 1, "cancelled": 0}
    assert [r["id"] for r in overdue] == [late] and overdue[0]["overdue"] is True
    assert [r["id"] for r in verified] == [other] and verified[0]["verified_on"] == TODAY
    with pytest.raises(Invalid), database.read_session() as s:
        rectification.list_rectifications(s, status="bogus")


def test_a_later_pass_on_the_same_item_and_object_verifies_open_items(database, amap) -> None:
    first = new_assessment(database, amap["l3"], started_on=dt.date(2025, 11, 1))
    asset_obj = add_object(database, first, asset_id=amap["a1"])
    room = add_object(database, first, name="主机房", kind="room")
    r_asset = _new(database, result_id=_set(database, first, asset_obj, "fail")["id"])
    r_room = _new(database, result_id=_set(database, first, room, "partial")["id"])
    r_other_item = _new(
        database, result_id=_set(database, first, asset_obj, "fail", item="22239-2019:8.1.4.1.b")["id"]
    )
    # a pass in the same assessment verifies nothing (an assessment does not verify its own findings)
    assert _set(database, first, room, "pass", item=ITEM)["verified_rectifications"] == []
    second = new_assessment(database, amap["l3"])  # cycle 2026
    obj2 = add_object(database, second, asset_id=amap["a1"])
    room2 = add_object(database, second, name="主机房", kind="room")
    other_asset = add_object(database, second, asset_id=amap["a2"])
    assert _set(database, second, other_asset, "pass")["verified_rectifications"] == []  # another object
    assert _set(database, second, obj2, "partial")["verified_rectifications"] == []  # not 符合
    assert _show(database, r_asset)["status"] == "open"
    out = _set(database, second, obj2, "pass")
    assert out["verified_rectifications"] == [r_asset]
    shown = _show(database, r_asset)
    assert (shown["status"], shown["verified_by_assessment_id"], shown["verified_on"]) == (
        "verified",
        second,
        TODAY,
    )
    assert f"assessment {second}" in shown["verification_note"]
    assert _show(database, r_other_item)["status"] == "open"
    with database.read_session() as s:
        logged = list(
            s.scalars(
                select(AuditLog).where(
                    AuditLog.entity_type == "compliance_rectification",
                    AuditLog.entity_id == str(r_asset),
                    AuditLog.action == "update",
                )
            )
        )
        after = [e.after.get("status") for e in logged]
    assert after == ["verified"]
    # bulk: 符合 for the room verifies its item too
    with database.unit_of_work() as s:
        bulk = assessment.bulk_set(
            s, assessment_id=second, data=BulkIn(result="pass", items=[ITEM], object_ids=[room2])
        )
    assert bulk["verified_rectifications"] == [r_room]
    assert _show(database, r_room)["status"] == "verified"


def test_a_bulk_pass_that_leaves_a_fail_in_place_verifies_nothing(database, amap) -> None:
    first = new_assessment(database, amap["l3"], started_on=dt.date(2025, 11, 1))
    obj = add_object(database, first, asset_id=amap["a1"])
    rect = _new(database, result_id=_set(database, first, obj, "fail")["id"])
    second = new_assessment(database, amap["l3"], include_assets=True)
    with database.read_session() as s:
        obj2 = next(
            o["id"]
            for o in assessment.describe(s, assessment_id=second)["test_objects"]
            if o["asset_id"] == amap["a1"]
        )
    _set(database, second, obj2, "fail")  # still failing on re-assessment
    with database.unit_of_work() as s:
        kept = assessment.bulk_set(s, assessment_id=second, data=BulkIn(result="pass", only_unset=True))
    assert kept["verified_rectifications"] == [] and kept["created"] == 211 * 2 - 1
    assert _show(database, rect)["status"] == "open"
    with database.unit_of_work() as s:
        fixed = assessment.bulk_set(s, assessment_id=second, data=BulkIn(result="pass", items=[ITEM]))
    assert fixed["verified_rectifications"] == [rect] and fixed["updated"] == 1
    assert _show(database, rect)["status"] == "verified"
