"""Incident events reach the notification outbox: routed by grade and system, queued once per key,
delivered to a real HTTP receiver, and every delivery attempt shown on the incident's timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import unquote

from sqlalchemy import func, select

from ciimap.core.db import Database
from ciimap.incidents import clock, grading, jobs, service
from ciimap.incidents.models import NotificationEvent
from ciimap.notify import outbox
from ciimap.notify import service as notify
from ciimap.notify.models import NotifyMessage
from notify.receiver import receiver

T0 = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)
MAJOR = grading.Facts(pi_leaked=10_000_000)  # 重大


def test_opened_incident_is_routed_delivered_and_on_the_timeline(database: Database, world: dict) -> None:
    with receiver(lambda req, n: (200, {"ok": True})) as r:
        with database.unit_of_work() as s:
            notify.add_channel(s, name="soc", kind="webhook", url=f"{r.url}/hook", secret="k")
            notify.add_rule(
                s, name="major", channel="soc", grades=["重大", "特别重大"], system_ids=[world["cii"]]
            )
            notify.add_channel(s, name="office", kind="webhook", url=f"{r.url}/office", secret="k")
            notify.add_rule(s, name="office-only", channel="office", system_ids=[world["office"]])
            major = service.open_incident(s, viewer_org=None, warning_id=world["warning"], facts=MAJOR).id
            minor = service.open_incident(s, viewer_org=None, title="小事", system_ids=[world["cii"]]).id
        with database.read_session() as s:
            msgs = s.execute(select(NotifyMessage.subject, NotifyMessage.idempotency_key)).all()
            # relayed at once, in the same transaction as the change: no event left waiting
            assert s.scalar(select(func.count()).where(NotificationEvent.consumed_at.is_(None))) == 0
        # the rule wants 重大 or worse on the CII system: the incident opens as 一般 and is graded 重大 at
        # once, so the grading event is sent; the 一般 incident and the office channel get nothing
        assert msgs == [(f"incident:{major}", f"incident:{major}:graded:重大")]
        assert outbox.deliver_due()["claimed"] == 1
        [req] = r.requests
        assert (
            req.path == "/hook" and unquote(req.headers["idempotency-key"]) == f"incident:{major}:graded:重大"
        )
        assert req.json()["idempotency_key"] == f"incident:{major}:graded:重大"  # the body: as is
    with database.read_session() as s:
        tl = service.timeline(s, incident_id=major, viewer_org=None)
        sent = [e for e in tl if e["kind"] == "notification"]
        assert len(sent) == 1 and "soc" in sent[0]["text"] and sent[0]["data"]["status"] == "ok"
        assert [e["kind"] for e in tl][0] == "created"  # in time order, the attempt after the creation
        assert not [
            e for e in service.timeline(s, incident_id=minor, viewer_org=None) if e["kind"] == "notification"
        ]


def test_a_sweeps_thousand_events_are_relayed_after_its_commit(database: Database, world: dict) -> None:
    with database.unit_of_work() as s:
        notify.add_channel(s, name="soc", kind="webhook", url="http://127.0.0.1:9/hook", secret="k")
        notify.add_rule(s, name="all", channel="soc")
        ids = [
            service.open_incident(
                s, viewer_org=None, title=f"事件{i}", system_ids=[world["cii"]], facts=MAJOR
            ).id
            for i in range(30)
        ]
    with database.unit_of_work() as s:
        before = s.scalar(select(func.count()).select_from(NotifyMessage))
        out = clock.sweep(s, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))  # every deadline overdue
        assert out["overdue"] >= 30
        # more than emit relays inline: left for the relay after the sweep's commit
        assert s.scalar(select(func.count()).where(NotificationEvent.consumed_at.is_(None))) >= 30
    res = jobs.sweep_now()  # the scheduler's entry point: sweeps (nothing new) and relays what is left
    assert res["relayed"] >= 30
    with database.read_session() as s:
        assert s.scalar(select(func.count()).where(NotificationEvent.consumed_at.is_(None))) == 0
        keys = set(s.scalars(select(NotifyMessage.idempotency_key)))
        assert {f"incident:{i}:first_report:overdue" for i in ids} <= keys
        assert s.scalar(select(func.count()).select_from(NotifyMessage)) - before >= 30
    assert jobs.sweep_now()["relayed"] == 0  # consumed once: a second pass queues nothing


def test_drill_events_are_marked(database: Database, world: dict) -> None:
    with database.unit_of_work() as s:
        notify.add_channel(s, name="soc", kind="webhook", url="http://127.0.0.1:9/hook", secret="k")
        notify.add_rule(s, name="all", channel="soc")
        iid = service.open_incident(
            s, viewer_org=None, title="勒索演练", system_ids=[world["cii"]], drill=True
        ).id
    with database.read_session() as s:
        title: Any = s.scalar(select(NotifyMessage.title).where(NotifyMessage.subject == f"incident:{iid}"))
    assert title.startswith("【演练】")
