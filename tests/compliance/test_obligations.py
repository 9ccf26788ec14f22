"""CII obligations (both databases): states by the day passed in, the boundaries (exactly 30 hours,
exactly 2 people, the last day of the year), what is derived and what is recorded, the rules file."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from ciimap.compliance import obligations as ob
from ciimap.compliance import service
from ciimap.compliance.models import KeyPost, ObligationDone, Training
from ciimap.compliance.schemas import AdvanceIn, DoneIn, KeyPostIn, KeyPostUpdate, TrainingIn
from ciimap.core.db import Database
from ciimap.core.errors import Conflict, InputFileError, Invalid, NotFound
from ciimap.inventory import models as m

from .amap import build, count, new_assessment
from .conftest import TODAY, new_grading

D = dt.date


@pytest.fixture
def omap(database: Database) -> dict[str, int]:
    ids = build(database)
    with database.unit_of_work() as s:
        for key, name in (("wang", "王工"), ("li", "李工"), ("zhao", "赵工"), ("qian", "钱工")):
            c = m.Contact(name=name)
            s.add(c)
            s.flush()
            ids[key] = c.id
    return ids


def _list(db: Database, today: dt.date, **kw: Any) -> list[dict[str, Any]]:
    with db.read_session() as s:
        return ob.obligations(s, today=today, **kw)


def _by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in rows}


def _training(db: Database, contact_id: int, day: dt.date, hours: float) -> None:
    with db.unit_of_work() as s:
        ob.add_training(
            s, data=TrainingIn(contact_id=contact_id, held_on=day, hours=hours, topic="应急演练"), today=day
        )


def test_state_boundaries_of_a_due_date_and_the_year_share() -> None:
    due = D(2026, 12, 31)
    assert ob.state_of(due, due, done=False, window=30) == "due"  # the due day itself is not overdue
    assert ob.state_of(due, D(2027, 1, 1), done=False, window=30) == "overdue"
    assert ob.state_of(due, D(2026, 12, 1), done=False, window=30) == "due"  # exactly 30 days before
    assert ob.state_of(due, D(2026, 11, 30), done=False, window=30) == "upcoming"
    assert ob.state_of(due, D(2027, 5, 1), done=True, window=30) == "done"
    assert ob.year_share(2026, D(2026, 12, 31)) == 1.0
    assert ob.year_share(2026, D(2026, 1, 1)) == pytest.approx(1 / 365)
    assert ob.year_share(2026, D(2025, 12, 31)) == 0.0


def test_the_yearly_cii_test_is_due_by_year_end_and_completed_by_recorded_evidence(database, omap) -> None:
    rows = _list(database, TODAY, kind="cii_test")
    # only the CII system, for each year of the default window (1 January last year – a year from today)
    assert [(r["system"], r["period"], r["state"]) for r in rows] == [
        ("调度系统", "2025", "overdue"),
        ("调度系统", "2026", "due"),
        ("调度系统", "2027", "upcoming"),
    ]
    key = f"cii_test:system:{omap['l3']}:2026"
    assert _by_key(_list(database, D(2026, 12, 31), kind="cii_test"))[key]["state"] == "due"
    assert _by_key(_list(database, D(2027, 1, 1), kind="cii_test"))[key]["state"] == "overdue"
    aid = new_assessment(database, omap["l3"], kind="external", body="某测评中心", started_on=D(2026, 6, 1))
    data = DoneIn(
        system_id=omap["l3"], period="2026", done_on=D(2026, 6, 30), note="报告 R-1", assessment_id=aid
    )
    with database.unit_of_work() as s:
        ob.record_done(s, data=data, today=TODAY)
    done = _by_key(_list(database, D(2027, 1, 1), kind="cii_test"))[key]
    assert (done["state"], done["done_on"], done["note"], done["assessment_id"]) == (
        "done",
        D(2026, 6, 30),
        "报告 R-1",
        aid,
    )
    assert done["done_by"]  # the recording user by default
    # refused: twice, a non-CII system, a future day, another system's assessment; nothing more stored
    bad: list[tuple[dict[str, Any], type[Exception]]] = [
        ({}, Conflict),
        ({"system_id": omap["l4"]}, Invalid),
        ({"period": "2027", "done_on": TODAY + dt.timedelta(days=1)}, Invalid),
        (
            {
                "period": "2025",
                "assessment_id": new_assessment(database, omap["l4"], started_on=D(2026, 1, 5)),
            },
            Invalid,
        ),
        ({"period": "2025", "assessment_id": 999999}, NotFound),
    ]
    for change, exc in bad:
        with pytest.raises(exc), database.unit_of_work() as s:
            ob.record_done(s, data=data.model_copy(update=change), today=TODAY)
    assert count(database, ObligationDone) == 1


def test_the_next_assessment_is_due_when_the_last_cycle_ends(database, omap, setting) -> None:
    first = new_assessment(database, omap["l4"], started_on=D(2026, 1, 5))  # level 4: half-yearly
    second = new_assessment(database, omap["l4"], started_on=D(2026, 8, 1))
    old = new_assessment(database, omap["l3"], started_on=D(2025, 11, 1))  # level 3: yearly
    rows = _by_key(_list(database, TODAY, kind="mlps_assessment"))
    r1, r2, r3 = (rows[f"mlps_assessment:assessment:{i}"] for i in (first, second, old))
    assert (r1["due_on"], r1["state"], r1["done_on"], r1["assessment_id"]) == (
        D(2026, 7, 5),
        "done",
        D(2026, 8, 1),
        second,
    )
    assert (r2["due_on"], r2["state"]) == (D(2027, 2, 1), "upcoming")
    assert (r3["due_on"], r3["state"], r3["days_left"]) == (D(2026, 11, 1), "overdue", -39)
    # the cycle rule is the assessments' setting: level 3 every 6 months moves the next one
    setting("ASSESSMENT_CYCLES", "3:6,4:6")
    later = new_assessment(database, omap["l3"], started_on=D(2026, 12, 1))
    rows = _by_key(_list(database, TODAY, kind="mlps_assessment"))
    assert rows[f"mlps_assessment:assessment:{later}"]["due_on"] == D(2027, 6, 1)
    assert rows[f"mlps_assessment:assessment:{old}"]["state"] == "done"


def test_filing_deadlines_are_the_grading_service_deadlines(database, omap) -> None:
    gid = new_grading(database, omap["l3"], graded_on=D(2026, 12, 1))
    expected = service.filing_due(D(2026, 12, 1), 3, service.due_rule())
    rows = _by_key(_list(database, TODAY, kind="filing"))
    row = rows[f"filing:grading:{gid}"]
    assert (row["due_on"], row["state"]) == (expected, "due") and expected == D(2026, 12, 15)
    assert (
        _by_key(_list(database, D(2026, 12, 16), kind="filing"))[f"filing:grading:{gid}"]["state"]
        == "overdue"
    )
    filed = [r for r in rows.values() if r["system_id"] == omap["cloudy"]]
    assert [(r["state"], r["done_by"], r["note"]) for r in filed] == [("done", "公安局", "F-1")]
    with database.unit_of_work() as s:
        service.advance(s, grading_id=gid, data=AdvanceIn(to="withdrawn", on=TODAY))
    assert f"filing:grading:{gid}" not in _by_key(_list(database, TODAY, kind="filing"))


def test_a_key_post_needs_a_responsible_person_and_two_sharing_the_duty(database, omap, setting) -> None:
    with database.unit_of_work() as s:
        pid = ob.create_post(
            s, data=KeyPostIn(name="网络安全管理员", responsible_id=omap["contact"], members=[omap["wang"]])
        ).id
    with database.read_session() as s:
        post = ob.describe_post(s, post_id=pid)
    assert (post["sharing"], len(post["violations"])) == (1, 1) and "1 < 2" in post["violations"][0]
    key = f"key_post:post:{pid}"
    assert _by_key(_list(database, TODAY, kind="key_post"))[key]["state"] == "overdue"
    with database.unit_of_work() as s:
        ob.add_member(s, post_id=pid, contact_id=omap["li"])  # exactly 2: staffed
    assert _by_key(_list(database, TODAY, kind="key_post"))[key]["state"] == "done"
    with database.read_session() as s:
        assert ob.describe_post(s, post_id=pid)["violations"] == []
    # the responsible person is not one of those sharing the duty; duplicates and unknown people are refused
    for contact, exc in ((omap["contact"], Invalid), (omap["li"], Conflict), (999999, NotFound)):
        with pytest.raises(exc), database.unit_of_work() as s:
            ob.add_member(s, post_id=pid, contact_id=contact)
    with pytest.raises(Invalid), database.unit_of_work() as s:
        ob.update_post(s, post_id=pid, changes=KeyPostUpdate(responsible_id=omap["wang"]))
    with database.unit_of_work() as s:
        ob.update_post(s, post_id=pid, changes=KeyPostUpdate(responsible_id=None))
    with database.read_session() as s:
        assert [v.split(" (")[0] for v in ob.describe_post(s, post_id=pid)["violations"]] == [
            "no named responsible person"
        ]
    with database.unit_of_work() as s:
        ob.update_post(s, post_id=pid, changes=KeyPostUpdate(responsible_id=omap["contact"]))
        ob.remove_member(s, post_id=pid, contact_id=omap["wang"])
    assert _by_key(_list(database, TODAY, kind="key_post"))[key]["state"] == "overdue"
    with pytest.raises(Conflict), database.unit_of_work() as s:
        ob.create_post(s, data=KeyPostIn(name="网络安全管理员"))
    assert count(database, KeyPost) == 1


def test_training_hours_per_person_and_calendar_year(database, omap) -> None:
    with database.unit_of_work() as s:
        ob.create_post(
            s,
            data=KeyPostIn(
                name="安全管理员", responsible_id=omap["wang"], members=[omap["li"], omap["zhao"]]
            ),
        )
    w, li, zh = omap["wang"], omap["li"], omap["zhao"]
    _training(database, w, D(2026, 3, 1), 20)
    _training(database, w, D(2026, 11, 1), 9.5)
    _training(database, li, D(2026, 3, 31), 10)
    _training(database, zh, D(2025, 12, 31), 40)  # last year: does not count for 2026
    _training(database, omap["qian"], D(2026, 1, 5), 50)  # not on a key post: no obligation
    year_end = D(2026, 12, 31)

    def rows(today: dt.date) -> dict[str, dict[str, Any]]:
        return _by_key(_list(database, today, kind="training"))

    r = rows(year_end)
    assert {k.split(":")[2] for k in r} == {str(w), str(li), str(zh)}
    wang = r[f"training:contact:{w}:2026"]
    assert (wang["hours"], wang["state"], wang["expected"], wang["on_track"]) == (29.5, "due", 30.0, False)
    assert (
        r[f"training:contact:{zh}:2025"]["state"] == "done" and r[f"training:contact:{zh}:2026"]["hours"] == 0
    )
    _training(database, w, year_end, 0.5)  # exactly 30 hours, on the last day
    wang = rows(year_end)[f"training:contact:{w}:2026"]
    assert (wang["hours"], wang["state"], wang["done_on"]) == (30.0, "done", year_end)
    assert rows(D(2027, 1, 1))[f"training:contact:{w}:2026"]["state"] == "done"
    # 李工: 10 hours by 31 March is on track on 10 April (share 100/365 of 30 = 8.22), not in December
    early = rows(D(2026, 4, 10))[f"training:contact:{li}:2026"]
    assert (early["state"], early["expected"], early["on_track"]) == ("upcoming", 8.22, True)
    assert rows(TODAY)[f"training:contact:{li}:2026"]["on_track"] is False
    assert rows(D(2027, 1, 1))[f"training:contact:{li}:2026"]["state"] == "overdue"
    # refused: an unknown person, a future session
    with pytest.raises(NotFound), database.unit_of_work() as s:
        ob.add_training(s, data=TrainingIn(contact_id=999999, held_on=TODAY, hours=1, topic="x"), today=TODAY)
    with pytest.raises(Invalid), database.unit_of_work() as s:
        ob.add_training(
            s, data=TrainingIn(contact_id=w, held_on=D(2027, 1, 1), hours=1, topic="x"), today=TODAY
        )
    assert count(database, Training) == 6
    with database.read_session() as s:
        assert [t["hours"] for t in ob.list_training(s, contact_id=w, year=2026)] == [0.5, 9.5, 20]


def test_the_calendar_is_every_dated_obligation_in_the_range_sorted(database, omap) -> None:
    new_grading(database, omap["l3"], graded_on=D(2026, 12, 1))
    new_assessment(database, omap["l3"], started_on=D(2025, 11, 1))
    with database.unit_of_work() as s:
        ob.create_post(s, data=KeyPostIn(name="安全管理员", responsible_id=omap["wang"]))
    with database.read_session() as s:
        cal = ob.calendar(s, today=TODAY, start=D(2026, 11, 1), end=D(2026, 12, 31))
        assert [(r["due_on"], r["kind"], r["state"]) for r in cal] == [
            (D(2026, 11, 1), "mlps_assessment", "overdue"),
            (D(2026, 12, 15), "filing", "due"),
            (D(2026, 12, 24), "filing", "done"),  # the filed grading of 云平台 (graded TODAY)
            (D(2026, 12, 31), "cii_test", "due"),
            (D(2026, 12, 31), "training", "due"),
        ]
        # key posts have no date: listed, never on the calendar
        assert [r["kind"] for r in ob.obligations(s, today=TODAY, state="overdue")][-1] == "key_post"
        for start, end in ((D(2026, 12, 31), D(2026, 1, 1)), (D(2000, 1, 1), D(2026, 1, 1))):
            with pytest.raises(Invalid):
                ob.calendar(s, today=TODAY, start=start, end=end)
        with pytest.raises(Invalid):
            ob.obligations(s, today=TODAY, state="late")


def test_the_rules_are_a_replaceable_file_and_a_bad_one_is_one_error(
    database, omap, setting, tmp_path
) -> None:
    rules = json.loads(ob.BUILTIN_RULES.read_text(encoding="utf-8"))
    rules["key_post"]["min_sharing"] = 3
    rules["training"]["min_hours"] = 20
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules), encoding="utf-8")
    setting("COMPLIANCE_OBLIGATION_RULES", str(path))
    with database.unit_of_work() as s:
        ob.create_post(
            s,
            data=KeyPostIn(
                name="安全管理员", responsible_id=omap["wang"], members=[omap["li"], omap["zhao"]]
            ),
        )
    _training(database, omap["li"], D(2026, 5, 1), 20)
    rows = _by_key(_list(database, TODAY))
    post = next(r for r in rows.values() if r["kind"] == "key_post")
    assert (post["state"], post["required"]) == ("overdue", 3.0)
    assert rows[f"training:contact:{omap['li']}:2026"]["state"] == "done"
    path.write_text('{"id": "x",\n "version": 1,}', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"rules\.json: .*line 2 column"):
        ob.load_rules()
    del rules["training"]
    path.write_text(json.dumps(rules), encoding="utf-8")
    with pytest.raises(InputFileError, match="training"):
        ob.load_rules()
