"""Grading rounds: workflow transitions, filing onto the system, history and re-grading (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ciimap.compliance import service
from ciimap.compliance.schemas import AdvanceIn, GradingIn, GradingUpdate
from ciimap.core.audit import Actor, AuditLog, acting_as
from ciimap.core.errors import Conflict, Invalid, NotFound
from ciimap.inventory import models as m

from .conftest import TODAY, new_grading

FILING = {"filing_number": "11010099001-00001", "filing_date": TODAY, "police_unit": "北京市公安局网安总队"}


def _advance(db, gid: int, to: str, **kw):
    with db.unit_of_work() as s:
        return service.describe(
            s, grading_id=service.advance(s, grading_id=gid, data=AdvanceIn(to=to, **kw)).id
        )


def _show(db, gid: int):
    with db.read_session() as s:
        return service.describe(s, grading_id=gid)


def test_a_new_grading_is_a_draft_with_levels_rationale_and_who(database, gmap) -> None:
    with acting_as(Actor("alice")):
        gid = new_grading(
            database,
            gmap["office"],
            object_type="information_system",
            extensions=["cloud"],
            notes="对外服务",
            graded_on=dt.date(2026, 12, 1),
        )
    g = _show(database, gid)
    assert (g["round"], g["state"], g["s_level"], g["a_level"], g["level"]) == (1, "draft", 3, 2, 3)
    assert g["extensions"] == ["cloud"] and g["notes"] == "对外服务" and "第三级" in g["rationale_zh"]
    assert [(st["state"], st["on"], st["by"]) for st in g["steps"]] == [("draft", "2026-12-01", "alice")]
    assert g["current"] is False and g["system"] == "办公系统"


def test_the_workflow_runs_in_order_and_filing_updates_the_system(database, gmap) -> None:
    with acting_as(Actor("alice")):
        gid = new_grading(database, gmap["office"], graded_on=dt.date(2026, 12, 1))
    with acting_as(Actor("bob")):
        _advance(database, gid, "review", on=dt.date(2026, 12, 2), note="专家组意见：同意第三级")
    with acting_as(Actor("carol")):
        _advance(database, gid, "approved", on=dt.date(2026, 12, 3), authority="国家能源局")
    with acting_as(Actor("dave")):
        g = _advance(database, gid, "filed", **FILING)
    assert g["state"] == "filed" and g["current"] is True and g["authority"] == "国家能源局"
    assert [(st["state"], st["on"], st["by"]) for st in g["steps"]] == [
        ("draft", "2026-12-01", "alice"),
        ("review", "2026-12-02", "bob"),
        ("approved", "2026-12-03", "carol"),
        ("filed", TODAY.isoformat(), "dave"),
    ]
    assert g["steps"][1]["note"] == "专家组意见：同意第三级"
    assert (g["filing_number"], g["police_unit"], g["approval_skipped"]) == (
        FILING["filing_number"],
        FILING["police_unit"],
        False,
    )
    with database.read_session() as s:
        system = s.get(m.System, gmap["office"])
        assert (system.mlps_level, system.mlps_s_level, system.mlps_a_level) == (3, 3, 2)
        assert (system.filing_number, system.filing_date) == (FILING["filing_number"], TODAY)
        audited = s.scalars(
            select(AuditLog).where(
                AuditLog.entity_type == "system", AuditLog.entity_id == str(gmap["office"])
            )
        ).all()
        assert any((a.after or {}).get("filing_number") == FILING["filing_number"] for a in audited)
        assert any(a.entity_type == "compliance_grading" for a in s.scalars(select(AuditLog)))


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ((), "approved"),  # draft cannot skip expert review
        ((), "filed"),
        (("review",), "review"),  # no step repeats
        (("review",), "filed"),  # approval first, unless skipped explicitly
        (("review", "approved"), "review"),  # no way back
        (("withdrawn",), "review"),  # withdrawn is final
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(database, gmap, path, to) -> None:
    gid = new_grading(database, gmap["office"], graded_on=dt.date(2026, 12, 1))
    for step in path:
        _advance(database, gid, step, **({"authority": "主管部门"} if step == "approved" else {}))
    before = _show(database, gid)
    extra = FILING if to == "filed" else {}
    with pytest.raises(Conflict):
        _advance(database, gid, to, **extra)
    after = _show(database, gid)
    assert (after["state"], after["steps"]) == (before["state"], before["steps"])


def test_filed_is_final(database, gmap) -> None:
    gid = new_grading(database, gmap["office"], graded_on=dt.date(2026, 12, 1))
    _advance(database, gid, "review")
    _advance(database, gid, "filed", skip_approval=True, **FILING)
    for to in ("review", "approved", "withdrawn"):
        with pytest.raises(Conflict, match="final"):
            _advance(database, gid, to, **({"authority": "x"} if to == "approved" else {}))


def test_approval_is_skipped_only_when_asked_for(database, gmap) -> None:
    gid = new_grading(database, gmap["office"], graded_on=dt.date(2026, 12, 1))
    _advance(database, gid, "review")
    with pytest.raises(Conflict, match="主管部门核准"):
        _advance(database, gid, "filed", **FILING)
    g = _advance(database, gid, "filed", skip_approval=True, **FILING)
    assert g["approval_skipped"] is True and [st["state"] for st in g["steps"]] == [
        "draft",
        "review",
        "filed",
    ]
    gid2 = new_grading(database, gmap["cloud"], graded_on=dt.date(2026, 12, 1))
    with pytest.raises(Conflict, match="cannot go to filed"):
        _advance(database, gid2, "filed", skip_approval=True, **FILING)  # from draft: nothing to skip to
    _advance(database, gid2, "review")
    _advance(database, gid2, "approved", authority="主管部门")
    with pytest.raises(Invalid, match="skip_approval only applies"):
        _advance(database, gid2, "filed", skip_approval=True, **FILING)  # approved: nothing was skipped
    assert _show(database, gid2)["state"] == "approved"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"filing_date": TODAY, "police_unit": "x"}, "filing needs filing_number"),
        ({}, "filing needs filing_number, filing_date, police_unit"),
        ({**FILING, "filing_date": TODAY + dt.timedelta(days=1)}, "in the future"),
        ({**FILING, "filing_date": dt.date(2026, 11, 30)}, "before the previous step"),
    ],
)
def test_filing_needs_its_facts_in_order(database, gmap, kw, message) -> None:
    gid = new_grading(database, gmap["office"], graded_on=dt.date(2026, 12, 1))
    _advance(database, gid, "review", on=dt.date(2026, 12, 1))
    _advance(database, gid, "approved", authority="主管部门", on=dt.date(2026, 12, 1))
    with pytest.raises((Invalid, ValueError), match=message):
        _advance(database, gid, "filed", **kw)
    assert _show(database, gid)["state"] == "approved"
    with database.read_session() as s:
        assert s.get(m.System, gmap["office"]).filing_number is None


def test_step_dates_are_checked(database, gmap) -> None:
    gid = new_grading(database, gmap["office"], graded_on=dt.date(2026, 12, 5))
    with pytest.raises(Invalid, match="before the previous step"):
        _advance(database, gid, "review", on=dt.date(2026, 12, 4))
    with pytest.raises(Invalid, match="in the future"):
        _advance(database, gid, "review", on=TODAY + dt.timedelta(days=1))
    with pytest.raises(Invalid, match="in the future"):
        new_grading(database, gmap["cloud"], graded_on=TODAY + dt.timedelta(days=1))


def test_regrading_starts_a_new_round_and_keeps_the_history(database, gmap) -> None:
    first = new_grading(database, gmap["office"], graded_on=dt.date(2026, 1, 5))
    with pytest.raises(Conflict, match="re-grading"):
        new_grading(database, gmap["office"])  # the first round is still open
    _advance(database, first, "review", on=dt.date(2026, 1, 6))
    _advance(database, first, "filed", skip_approval=True, **{**FILING, "filing_date": dt.date(2026, 1, 9)})
    second = new_grading(database, gmap["office"], s_object="national", s_degree="general")  # level 3 → 3
    third_try = None
    with pytest.raises(Conflict):
        third_try = new_grading(database, gmap["office"])
    assert third_try is None
    g2 = _show(database, second)
    assert (g2["round"], g2["state"], g2["current"]) == (2, "draft", False)
    assert _show(database, first)["current"] is True  # still the filed level
    _advance(database, second, "review")
    _advance(database, second, "filed", skip_approval=True, **{**FILING, "filing_number": "NEW-2"})
    with database.read_session() as s:
        rounds = service.list_gradings(s, system_id=gmap["office"])
        assert [(r["round"], r["state"], r["current"]) for r in rounds] == [
            (1, "filed", False),
            (2, "filed", True),
        ]
        assert service.list_gradings(s, current_only=True)[0]["id"] == second
        assert s.get(m.System, gmap["office"]).filing_number == "NEW-2"


def test_a_withdrawn_round_makes_way_for_a_new_one(database, gmap) -> None:
    gid = new_grading(database, gmap["office"])
    _advance(database, gid, "withdrawn", note="定级对象边界调整")
    again = new_grading(database, gmap["office"])
    assert _show(database, again)["round"] == 2
    with database.read_session() as s:
        assert [r["state"] for r in service.list_gradings(s, state="withdrawn")] == ["withdrawn"]
        with pytest.raises(Invalid, match="state must be one of"):
            service.list_gradings(s, state="bogus")
        with pytest.raises(NotFound):
            service.list_gradings(s, system_id=999999)


def test_a_draft_can_be_changed_and_is_recomputed_later_rounds_cannot(database, gmap) -> None:
    gid = new_grading(database, gmap["office"], graded_on=dt.date(2026, 12, 1))
    with database.unit_of_work() as s:
        service.update_grading(
            s,
            grading_id=gid,
            changes=GradingUpdate(a_object="national", a_degree="serious", graded_on=dt.date(2026, 12, 2)),
        )
    g = _show(database, gid)
    assert (g["s_level"], g["a_level"], g["level"]) == (3, 4, 4) and "第四级" in g["rationale_zh"]
    assert g["graded_on"] == dt.date(2026, 12, 2) and g["steps"][0]["on"] == "2026-12-02"
    _advance(database, gid, "review")
    with pytest.raises(Conflict, match="only a draft"), database.unit_of_work() as s:
        service.update_grading(s, grading_id=gid, changes=GradingUpdate(notes="x"))


def test_grading_input_is_validated(database, gmap) -> None:
    with pytest.raises(NotFound):
        new_grading(database, 999999)
    with pytest.raises(ValueError, match="extensions must not repeat"):
        GradingIn(
            system_id=1,
            s_object="order",
            s_degree="serious",
            a_object="order",
            a_degree="general",
            extensions=["iot", "iot"],
        )
    with pytest.raises(ValueError):
        GradingIn(system_id=1, s_object="moon", s_degree="serious", a_object="order", a_degree="general")
    with database.read_session() as s:
        assert service.resolve_system(s, "SCADA").id == gmap["scada"]
        assert service.resolve_system(s, "调度系统").id == gmap["scada"]
        assert service.resolve_system(s, str(gmap["scada"])).id == gmap["scada"]
        with pytest.raises(NotFound):
            service.resolve_system(s, "no-such-system")
