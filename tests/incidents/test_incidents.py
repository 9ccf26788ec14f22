"""Incidents on both databases: opening from a warning or group, states, the stored clock, the sweep and
its notification events, drills, reports and submissions, evidence custody."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from sqlalchemy import func, select

from ciimap.core.db import Database
from ciimap.core.errors import Conflict, Invalid
from ciimap.incidents import clock, evidence, grading, overview, reports, service
from ciimap.incidents.models import Deadline, NotificationEvent, TimelineEntry

T0 = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)  # as in conftest.py (the warning's first alert)
MAJOR = grading.Facts(pi_leaked=10_000_000)  # 重大


def _open(s: Any, **kw: Any) -> Any:
    return service.open_incident(s, viewer_org=None, **kw)


def test_open_from_warning_keeps_link_and_cii_system_sets_the_one_hour_clock(
    database: Database, world: dict
) -> None:
    with database.unit_of_work() as s:
        inc = _open(s, warning_id=world["warning"], facts=MAJOR)
        iid = inc.id
    with database.read_session() as s:  # a new session: what is stored, not what is in memory
        d = service.detail(s, incident_id=iid, viewer_org=None)
        assert (d["origin"], d["warning_id"], d["title"]) == (
            "warning",
            world["warning"],
            "调度系统遭受暴力破解",
        )
        assert d["asset_ids"] == [world["asset"]] and d["system_ids"] == [world["cii"]]
        assert d["organization_id"] == world["org_a"] and d["reporter"] == "cii"
        due = {x["kind"]: clock.aware(x["due_at"]) for x in d["deadlines"]}
        assert due == {
            "first_report": T0 + dt.timedelta(minutes=60),
            "escalation": T0 + dt.timedelta(minutes=90),
        }
        kinds = [t["kind"] for t in service.timeline(s, incident_id=iid, viewer_org=None)]
        assert kinds[:2] == ["created", "grade"] and kinds.count("deadline") == 2
        grade_text = next(
            t["text"] for t in service.timeline(s, incident_id=iid, viewer_org=None) if t["kind"] == "grade"
        )
        assert "个人信息泄露" in grade_text and "重大" in grade_text


def test_open_from_alert_group_and_by_hand(database: Database, world: dict) -> None:
    with database.unit_of_work() as s:
        g = _open(s, alert_group_id=world["group"])
        assert (g.origin, g.alert_group_id, g.title, g.asset_ids) == (
            "alert_group",
            world["group"],
            "ET SCAN SSH",
            [world["asset"]],
        )
        hand = _open(
            s, title="机房断电", organization_id=world["org_b"], category="facility", subcategory="supporting"
        )
        assert (hand.origin, hand.grade, hand.reporter) == ("manual", "一般", "other")
        with pytest.raises(Invalid, match="unknown subcategory"):
            _open(s, title="x", category="malware", subcategory="supporting")


def test_states_follow_the_allowed_transitions(database: Database, world: dict) -> None:
    with database.unit_of_work() as s:
        inc = _open(s, title="t", organization_id=world["org_a"])
        with pytest.raises(Conflict, match="发现 → 处置 is not allowed"):
            service.transition(s, incident_id=inc.id, viewer_org=None, to="处置")
        for to in ("研判", "处置", "恢复", "总结", "关闭"):
            service.transition(s, incident_id=inc.id, viewer_org=None, to=to)
        assert inc.state == "关闭" and inc.closed_at is not None
        with pytest.raises(Conflict):
            service.transition(s, incident_id=inc.id, viewer_org=None, to="总结")


def test_deadlines_are_stored_not_recomputed(database: Database, world: dict) -> None:
    """Changing the organisation's operator type later does not move a deadline already set."""
    with database.unit_of_work() as s:
        service.set_operator_type(s, organization_id=world["org_b"], operator_type="other")
        inc = _open(s, title="泄露", organization_id=world["org_b"], discovered_at=T0, facts=MAJOR)
        iid = inc.id
    with database.unit_of_work() as s:
        service.set_operator_type(s, organization_id=world["org_b"], operator_type="cii")
        service.regrade(s, incident_id=iid, viewer_org=None, facts=grading.Facts(pi_leaked=100_000_000))
    with database.read_session() as s:
        due = {
            d.kind: clock.aware(d.due_at)
            for d in s.scalars(select(Deadline).where(Deadline.incident_id == iid))
        }
        assert due["first_report"] == T0 + dt.timedelta(minutes=240)


def test_summary_deadline_when_handling_ends(database: Database, world: dict) -> None:
    with database.unit_of_work() as s:
        inc = _open(s, title="t", organization_id=world["org_a"], facts=MAJOR)
        for to in ("研判", "处置", "恢复", "总结"):
            service.transition(s, incident_id=inc.id, viewer_org=None, to=to)
        closed = inc.handling_closed_at
        d = clock.deadlines_of(s, inc.id)["summary_report"]
        assert clock.aware(d.due_at).astimezone(clock.CST).date() == closed + dt.timedelta(days=30)


def test_sweep_reminds_then_escalates_once_and_emits_events(database: Database, world: dict) -> None:
    with database.unit_of_work() as s:
        inc = _open(s, warning_id=world["warning"], facts=MAJOR)  # first report due T0+60, escalation T0+90
        iid = inc.id
    for minutes in (
        25,
        31,
        52,
        55,
        61,
        61,
    ):  # 25: nothing yet; 31: 30-min; 52: 10-min; 61 twice: overdue once
        with database.unit_of_work() as s:
            clock.sweep(s, now=T0 + dt.timedelta(minutes=minutes))
    with database.read_session() as s:
        entries = s.execute(
            select(TimelineEntry.kind, TimelineEntry.data)
            .where(TimelineEntry.incident_id == iid, TimelineEntry.kind.in_(["reminder", "overdue"]))
            .order_by(TimelineEntry.id)
        ).all()
        got = [(k, d["deadline"]) for k, d in entries]
        assert got[:2] == [("reminder", "first_report"), ("reminder", "first_report")]  # at 31 and 52 min
        assert sorted(got[2:]) == [("overdue", "first_report"), ("reminder", "escalation")]  # both at 61 min
        keys = set(
            s.scalars(select(NotificationEvent.idempotency_key).where(NotificationEvent.incident_id == iid))
        )
        assert {f"incident:{iid}:first_report:reminder:30", f"incident:{iid}:first_report:reminder:10",
                f"incident:{iid}:first_report:overdue", f"incident:{iid}:opened"} <= keys  # fmt: skip
        ev = s.scalar(
            select(NotificationEvent).where(
                NotificationEvent.idempotency_key == f"incident:{iid}:first_report:overdue"
            )
        )
        assert (ev.kind, ev.grade, ev.system_ids, ev.link) == (
            "overdue",
            "重大",
            [world["cii"]],
            f"/incidents/{iid}",
        )
        d = s.scalar(select(Deadline).where(Deadline.incident_id == iid, Deadline.kind == "first_report"))
        assert d.done and d.overdue_at is not None


def test_report_sent_in_time_meets_the_deadline_and_is_recorded(database: Database, world: dict) -> None:
    with database.unit_of_work() as s:
        inc = _open(s, warning_id=world["warning"], facts=MAJOR)
        with pytest.raises(Invalid, match="items 1 and 2"):
            reports.create(s, incident_id=inc.id, viewer_org=None, kind="initial", items={"1": "单位"})
        draft = reports.draft(s, incident_id=inc.id, viewer_org=None, kind="initial")
        r = reports.create(s, incident_id=inc.id, viewer_org=None, kind="initial", items=draft)
        assert r["missing"] == ["3", "4", "5", "6", "7", "8"]  # items 1–2 first, supplement later
        sub = reports.send(s, report_id=r["id"], viewer_org=None, authority="保护工作部门", channel="12387",
                           sent_at=T0 + dt.timedelta(minutes=45))  # fmt: skip
        assert sub["on_time"] is True and sub["sent_by"]
        with pytest.raises(Conflict, match="supplement"):
            reports.edit(s, report_id=r["id"], viewer_org=None, items={"3": "趋势"})
        d = clock.deadlines_of(s, inc.id)["first_report"]
        assert d.done and d.met_at is not None
        assert clock.sweep(s, now=T0 + dt.timedelta(minutes=70))["overdue"] == 0  # met: never overdue
        data, name, media = reports.export(s, report_id=r["id"], viewer_org=None, fmt="docx")
        assert name.endswith(".docx") and data[:2] == b"PK"
        text = "\n".join(
            c.text for t in Document(io.BytesIO(data)).tables for row in t.rows for c in row.cells
        )
        assert "事发单位名称" in text and "调度系统遭受暴力破解" in text
        pdf, _, _ = reports.export(s, report_id=r["id"], viewer_org=None, fmt="pdf")
        assert pdf[:5] == b"%PDF-"


def test_drill_is_never_sent_nor_counted(database: Database, world: dict) -> None:
    with database.unit_of_work() as s:
        real = _open(s, title="真事件", organization_id=world["org_a"], facts=MAJOR)
        drill = _open(s, title="演练", organization_id=world["org_a"], facts=MAJOR, drill=True)
        r = reports.create(
            s, incident_id=drill.id, viewer_org=None, kind="initial", items={"1": "a", "2": "b"}
        )
        with pytest.raises(Conflict, match="drill"):
            reports.send(s, report_id=r["id"], viewer_org=None, authority="保护工作部门", channel="platform")
        roll = overview.rollup(s, viewer_org=None)
        assert roll["by_grade"]["重大"] == 1
        assert service.open_counts(s, viewer_org=None)["by_grade"]["重大"] == 1
        assert real.id != drill.id


def test_evidence_sha256_and_custody(database: Database, world: dict, tmp_path: Path) -> None:
    f = tmp_path / "pcap.bin"
    f.write_bytes(b"\x00\x01evidence")
    with database.unit_of_work() as s:
        inc = _open(s, title="t", organization_id=world["org_a"])
        ev = evidence.attach(s, incident_id=inc.id, viewer_org=None, source=f)
        assert ev.sha256 == hashlib.sha256(b"\x00\x01evidence").hexdigest()
        out = evidence.hand_over(
            s, evidence_id=ev.id, viewer_org=None, action="transferred", note="交公安机关"
        )
        assert [c["action"] for c in out["custody"]] == ["collected", "transferred"]
        path, name = evidence.file(s, evidence_id=ev.id, viewer_org=None)
        assert path.read_bytes() == b"\x00\x01evidence" and name == "pcap.bin"


def test_timeline_counts_every_change(database: Database, world: dict) -> None:
    with database.unit_of_work() as s:
        inc = _open(s, title="t", organization_id=world["org_a"])
        service.comment(s, incident_id=inc.id, viewer_org=None, text="初步研判为误报")
        service.assign_role(s, incident_id=inc.id, viewer_org=None, role="指挥", person="张三")
        t = service.add_task(s, incident_id=inc.id, viewer_org=None, title="隔离主机", owner="李四",
                             due_at=T0 + dt.timedelta(hours=2))  # fmt: skip
        service.complete_task(s, task_id=t.id, viewer_org=None)
        service.update(s, incident_id=inc.id, viewer_org=None, title="t2")
        kinds = [x["kind"] for x in service.timeline(s, incident_id=inc.id, viewer_org=None)]
        assert kinds == ["created", "grade", "comment", "role", "task", "task", "change"]
        n = s.scalar(
            select(func.count()).select_from(TimelineEntry).where(TimelineEntry.incident_id == inc.id)
        )
        assert n == 7


def test_reporter_type_follows_the_organisation_until_the_clock_starts(
    database: Database, world: dict
) -> None:
    with database.unit_of_work() as s:
        inc = _open(s, title="先一般后重大", organization_id=world["org_b"], discovered_at=T0)
        assert inc.reporter == "other" and clock.deadlines_of(s, inc.id) == {}
        service.set_operator_type(s, organization_id=world["org_b"], operator_type="central_state_organ")
        service.regrade(s, incident_id=inc.id, viewer_org=None, facts=MAJOR)
        assert inc.reporter == "central_state_organ"
        due = clock.aware(clock.deadlines_of(s, inc.id)["first_report"].due_at)
        assert due == T0 + dt.timedelta(minutes=120)
