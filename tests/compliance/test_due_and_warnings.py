"""Filing deadlines (calendar vs working days, configurable) and the guidance warnings (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest

from ciimap.compliance import service
from ciimap.compliance.schemas import AdvanceIn
from ciimap.core.errors import Invalid
from ciimap.inventory import models as m

from .conftest import TODAY, new_grading

FRIDAY, SATURDAY = dt.date(2026, 12, 4), dt.date(2026, 12, 5)


@pytest.mark.parametrize(
    ("rule", "graded_on", "expected"),
    [
        ("10_working_days", FRIDAY, dt.date(2026, 12, 18)),  # two working weeks
        ("10_working_days", SATURDAY, dt.date(2026, 12, 18)),  # the Monday after is day 1
        ("10_working_days", dt.date(2026, 12, 28), dt.date(2027, 1, 11)),  # over the new year, weekends only
        ("1_working_days", FRIDAY, dt.date(2026, 12, 7)),
        ("30_calendar_days", FRIDAY, dt.date(2027, 1, 3)),
        ("30_calendar_days", SATURDAY, dt.date(2027, 1, 4)),
    ],
)
def test_filing_due_counts_calendar_or_working_days(rule, graded_on, expected) -> None:
    assert service.filing_due(graded_on, 3, service.due_rule(rule)) == expected


def test_level_1_is_not_filed_so_has_no_deadline() -> None:
    assert service.filing_due(FRIDAY, 1, service.due_rule("30_calendar_days")) is None


@pytest.mark.parametrize(
    "bad", ["10", "ten_working_days", "0_calendar_days", "10_business_days", "-3_calendar_days"]
)
def test_a_bad_rule_is_refused(bad) -> None:
    with pytest.raises(Invalid, match="CIIMAP_GRADING_FILING_DUE"):
        service.due_rule(bad)


def test_the_setting_chooses_the_rule_and_each_grading_keeps_its_own(database, gmap, setting) -> None:
    working = new_grading(database, gmap["office"], graded_on=FRIDAY)  # default: 10 working days
    setting("GRADING_FILING_DUE", "30_calendar_days")
    calendar = new_grading(database, gmap["cloud"], graded_on=FRIDAY)
    with database.read_session() as s:
        w, c = service.describe(s, grading_id=working), service.describe(s, grading_id=calendar)
    assert (w["due_rule"], w["filing_due"]) == ("10_working_days", dt.date(2026, 12, 18))
    assert (c["due_rule"], c["filing_due"]) == ("30_calendar_days", dt.date(2027, 1, 3))
    setting("GRADING_FILING_DUE", "soon")
    with pytest.raises(Invalid, match="CIIMAP_GRADING_FILING_DUE"):
        new_grading(database, gmap["scada"])


def test_due_lists_overdue_and_upcoming_open_filings_soonest_first(database, gmap) -> None:
    overdue = new_grading(database, gmap["office"], graded_on=dt.date(2026, 11, 2))  # due 2026-11-16
    soon = new_grading(database, gmap["cloud"], graded_on=dt.date(2026, 12, 9))  # due 2026-12-23
    later = new_grading(
        database, gmap["alone"], s_object="rights", s_degree="general", a_object="rights", a_degree="serious"
    )  # level 2, graded today: due 2026-12-24
    filed = new_grading(database, gmap["scada"], graded_on=dt.date(2026, 11, 2))
    with database.unit_of_work() as s:
        service.advance(s, grading_id=filed, data=AdvanceIn(to="review"))
        service.advance(
            s,
            grading_id=filed,
            data=AdvanceIn(
                to="filed", skip_approval=True, filing_number="F-1", filing_date=TODAY, police_unit="公安"
            ),
        )
    with database.read_session() as s:
        rows = service.due(s)
        assert [(r["id"], r["due_status"], r["days_left"]) for r in rows] == [
            (overdue, "overdue", -24),
            (soon, "upcoming", 13),
            (later, "upcoming", 14),
        ]
        # 独立系统 is outside a 13-day window; overdue ones are always listed
        assert [r["id"] for r in service.due(s, within_days=13)] == [overdue, soon]
        assert [r["id"] for r in service.due(s, within_days=0)] == [overdue]
        assert len(service.due(s, within_days=14)) == 3
        assert service.describe(s, grading_id=filed)["due_status"] is None  # filed: nothing due
        with pytest.raises(Invalid, match="within"):
            service.due(s, within_days=-1)


def test_level_1_gradings_never_appear_as_due(database, gmap) -> None:
    gid = new_grading(
        database,
        gmap["office"],
        s_object="rights",
        s_degree="general",
        a_object="rights",
        a_degree="general",
        graded_on=dt.date(2026, 1, 1),
    )
    with database.read_session() as s:
        assert service.describe(s, grading_id=gid)["filing_due"] is None
        assert service.due(s, within_days=3650) == []


def _codes(database, gid):
    with database.read_session() as s:
        return [(w["code"], w["system"], w["level"]) for w in service.describe(s, grading_id=gid)["warnings"]]


def test_a_cii_system_below_level_3_is_warned_not_blocked(database, gmap) -> None:
    low = new_grading(
        database, gmap["scada"], s_object="order", s_degree="general", a_object="rights", a_degree="serious"
    )
    assert ("cii_below_level_3", None, 2) in _codes(database, low)
    with database.read_session() as s:
        w = service.describe(s, grading_id=low)["warnings"][0]
        assert "第三级" in w["zh"] and "level 3" in w["en"]
    ok = new_grading(
        database, gmap["office"], s_object="rights", s_degree="general", a_object="rights", a_degree="general"
    )
    assert _codes(database, ok) == []  # not CII: level 1 is fine


def test_a_platform_graded_lower_than_what_it_carries_is_warned_on_both_sides(database, gmap) -> None:
    platform = new_grading(
        database, gmap["cloud"], s_object="order", s_degree="general", a_object="order", a_degree="general"
    )  # 2
    hosted = new_grading(database, gmap["office"])  # 3, hosted_by 云平台 directly
    on_asset = new_grading(
        database,
        gmap["scada"],
        s_object="order",
        s_degree="especially_serious",
        a_object="rights",
        a_degree="general",
    )  # 4, runs on 云平台's vm
    alone = new_grading(
        database,
        gmap["alone"],
        s_object="national",
        s_degree="especially_serious",
        a_object="rights",
        a_degree="general",
    )  # 5
    assert ("platform_below_system", "云平台", 2) in _codes(database, hosted)
    assert ("platform_below_system", "云平台", 2) in _codes(database, on_asset)
    assert sorted(_codes(database, platform)) == [
        ("carries_higher_system", "办公系统", 3),
        ("carries_higher_system", "调度系统", 4),
    ]
    assert _codes(database, alone) == []  # its own asset and a "uses" edge carry nothing
    with database.read_session() as s:  # the listing shows the same warnings
        listed = {r["id"]: [w["code"] for w in r["warnings"]] for r in service.list_gradings(s)}
    assert listed[hosted] == ["platform_below_system"] and len(listed[platform]) == 2


def test_platform_rule_uses_the_recorded_level_when_there_is_no_grading(database, gmap) -> None:
    with database.unit_of_work() as s:
        s.get(m.System, gmap["cloud"]).mlps_level = 4
    hosted = new_grading(database, gmap["office"])  # 3 on a level-4 platform: fine
    assert _codes(database, hosted) == []
    with database.unit_of_work() as s:
        s.get(m.System, gmap["cloud"]).mlps_level = 2
    assert _codes(database, hosted) == [("platform_below_system", "云平台", 2)]


def test_a_withdrawn_platform_round_does_not_count(database, gmap) -> None:
    with database.unit_of_work() as s:
        s.get(m.System, gmap["cloud"]).mlps_level = 3
    platform = new_grading(
        database, gmap["cloud"], s_object="rights", s_degree="general", a_object="rights", a_degree="general"
    )
    hosted = new_grading(database, gmap["office"])
    assert ("platform_below_system", "云平台", 1) in _codes(database, hosted)
    with database.unit_of_work() as s:
        service.advance(s, grading_id=platform, data=AdvanceIn(to="withdrawn"))
    assert _codes(database, hosted) == []  # back to the recorded level 3
    assert _codes(database, platform) == []  # a withdrawn round warns about nothing
