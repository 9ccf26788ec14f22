"""Scheduled rescans: due schedules queue discover jobs; time is driven explicitly."""

from __future__ import annotations

import datetime as dt

import pytest

from ciimap.core import jobs
from ciimap.core.errors import Invalid, OutOfScope
from ciimap.discovery import schedules, scheduling, service

T0 = dt.datetime(2026, 11, 21, 5, 0, tzinfo=dt.UTC)


@pytest.fixture
def dispatched(monkeypatch):
    """Record dispatched jobs instead of running nmap: these tests are about when jobs are queued."""
    seen: list[int] = []
    monkeypatch.setattr(jobs, "dispatch", seen.append)
    return seen


@pytest.fixture
def lab(database):
    with database.unit_of_work() as s:
        service.create_scope(s, name="lab", cidrs=["127.0.0.0/29"], max_rate=100)
    return database


def _aware(t):
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def test_interval_schedule_queues_when_due(lab, dispatched):
    with lab.unit_of_work() as s:
        sc = schedules.create_schedule(
            s,
            name="hourly",
            scope="lab",
            targets=["127.0.0.2"],
            ports="22",
            interval_minutes=60,
            now=T0,
            actor="admin",
        )
        assert sc.next_run_at == T0 + dt.timedelta(minutes=60)
    with lab.unit_of_work() as s:
        assert schedules.run_due(s, now=T0 + dt.timedelta(minutes=30)) == []
    with lab.unit_of_work() as s:
        queued = schedules.run_due(s, now=T0 + dt.timedelta(minutes=61))
    assert len(queued) == 1 and dispatched == queued
    with lab.read_session() as s:
        j = s.get(jobs.Job, queued[0])
        assert (j.kind, j.status, j.created_by) == ("discover", "queued", "schedule:hourly")
        assert (
            j.params["targets"] == ["127.0.0.2"] and j.params["scope"] == "lab" and j.params["ports"] == "22"
        )
        sched = schedules.get_schedule(s, "hourly")
        assert _aware(sched.last_run_at) == T0 + dt.timedelta(minutes=61)
        assert _aware(sched.next_run_at) == T0 + dt.timedelta(minutes=121)
        assert sched.last_job_id == queued[0]
    with lab.unit_of_work() as s:  # the same tick again: nothing new
        assert schedules.run_due(s, now=T0 + dt.timedelta(minutes=62)) == []
    with lab.unit_of_work() as s:  # due again, but the previous run is still queued: no pile-up
        assert schedules.run_due(s, now=T0 + dt.timedelta(minutes=125)) == []
        s.get(jobs.Job, queued[0]).status = "succeeded"
    with lab.unit_of_work() as s:
        assert len(schedules.run_due(s, now=T0 + dt.timedelta(minutes=190))) == 1
    assert len(dispatched) == 2


def test_cron_schedule_and_whole_scope(lab, dispatched):
    with lab.unit_of_work() as s:
        sc = schedules.create_schedule(
            s, name="nightly", scope="lab", profile="discovery", cron="0 2 * * *", now=T0
        )
        assert _aware(sc.next_run_at) == dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)
    with lab.unit_of_work() as s:
        queued = schedules.run_due(s, now=dt.datetime(2026, 11, 22, 2, 0, 30, tzinfo=dt.UTC))
        j = s.get(jobs.Job, queued[0])
        assert j.params["targets"] == ["127.0.0.0/29"] and j.params["profile"] == "discovery"
        assert _aware(schedules.get_schedule(s, "nightly").next_run_at) == dt.datetime(
            2026, 11, 23, 2, 0, tzinfo=dt.UTC
        )


def test_disabled_scope_or_schedule_queues_nothing(lab, dispatched):
    with lab.unit_of_work() as s:
        schedules.create_schedule(s, name="a", scope="lab", interval_minutes=10, now=T0)
        schedules.create_schedule(s, name="b", scope="lab", interval_minutes=10, now=T0)
        schedules.set_enabled(s, "b", False)
        service.update_scope(s, "lab", changes={"enabled": False})
    with lab.unit_of_work() as s:
        assert schedules.run_due(s, now=T0 + dt.timedelta(hours=1)) == []
        # the run is skipped, not retried every minute
        assert _aware(schedules.get_schedule(s, "a").next_run_at) == T0 + dt.timedelta(hours=1, minutes=10)
    assert dispatched == []


def test_schedule_validation(lab):
    with lab.unit_of_work() as s:
        with pytest.raises(Invalid, match="exactly one of an interval"):
            schedules.create_schedule(s, name="x", scope="lab", interval_minutes=5, cron="* * * * *")
        with pytest.raises(Invalid, match="cron line 'every day' is not valid"):
            schedules.create_schedule(s, name="x", scope="lab", cron="every day")
        with pytest.raises(OutOfScope, match="target '127.0.0.9' is outside scan scope 'lab'"):
            schedules.create_schedule(s, name="x", scope="lab", targets=["127.0.0.9"], interval_minutes=5)


def test_in_process_clock_runs_the_tick(lab, dispatched):
    """SQLite mode: APScheduler's background job calls the same tick; we fire it instead of waiting."""
    with lab.unit_of_work() as s:
        schedules.create_schedule(
            s, name="soon", scope="lab", interval_minutes=1, targets=["127.0.0.3"], now=T0
        )  # long overdue by the real clock
    sched = scheduling.start_in_process(interval_seconds=3600)
    try:
        job = sched.get_job("ciimap-scan-schedules")
        assert job is not None and job.trigger.interval == dt.timedelta(hours=1)
        job.func()
    finally:
        scheduling.stop_in_process()
    assert len(dispatched) == 1
    with lab.read_session() as s:
        assert s.get(jobs.Job, dispatched[0]).created_by == "schedule:soon"


def test_procrastinate_periodic_task_runs_the_tick(lab, dispatched):
    """PostgreSQL mode: a procrastinate periodic task (every minute) calls the same tick."""
    import ciimap.discovery.jobs  # noqa: F401  (its installer adds the periodic task, as in 'ciimap worker')
    from ciimap.core import queue

    app = queue.make_app("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never opened here
    periodic = [p for p in app.periodic_registry.periodic_tasks.values() if p.task.name == queue.TICK]
    assert len(periodic) == 1 and periodic[0].cron == "* * * * *"
    with lab.unit_of_work() as s:
        schedules.create_schedule(s, name="p", scope="lab", interval_minutes=5, targets=["127.0.0.4"], now=T0)
    periodic[0].task(timestamp=int(T0.timestamp()))
    assert len(dispatched) == 1


def test_schedules_api(client, admin_headers, auditor_headers, dispatched):
    r = client.post(
        "/api/scan-scopes", json={"name": "lab", "cidrs": ["127.0.0.0/29"]}, headers=admin_headers
    )
    assert r.status_code == 201
    body = {"name": "web", "scope": "lab", "targets": ["127.0.0.2"], "interval_minutes": 30}
    assert client.post("/api/scan-schedules", json=body, headers=auditor_headers).status_code == 403
    r = client.post("/api/scan-schedules", json=body, headers=admin_headers)
    assert r.status_code == 201 and r.json()["next_run_at"]
    r = client.post("/api/scan-schedules/web/disable", headers=admin_headers)
    assert r.json()["enabled"] is False
    assert [x["name"] for x in client.get("/api/scan-schedules", headers=auditor_headers).json()] == ["web"]
    assert client.delete("/api/scan-schedules/web", headers=admin_headers).status_code == 204
    assert client.get("/api/scan-schedules", headers=admin_headers).json() == []
    client.post("/api/scan-schedules", json={**body, "name": "again"}, headers=admin_headers)
    assert (
        client.delete("/api/scan-scopes/lab", headers=admin_headers).status_code == 204
    )  # takes its schedules
    assert client.get("/api/scan-schedules", headers=admin_headers).json() == []


def test_scopes_and_schedules_cli(database, dispatched):
    import json

    from typer.testing import CliRunner

    from ciimap.cli import app

    run = CliRunner().invoke
    r = run(
        app,
        [
            "scopes",
            "add",
            "lab",
            "--cidr",
            "127.0.0.0/29",
            "--cidr",
            "127.0.1.1-127.0.1.9",
            "--ports",
            "22,80",
            "--max-rate",
            "50",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["cidrs"] == ["127.0.0.0/29", "127.0.1.1-127.0.1.9"]
    rows = json.loads(run(app, ["scopes", "list", "--json"]).output)
    assert [(x["name"], x["allowed_ports"], x["max_rate"]) for x in rows] == [("lab", "22,80", 50)]
    r = run(
        app,
        ["schedules", "add", "often", "--scope", "lab", "--target", "127.0.0.2", "--every", "1", "--json"],
    )
    assert r.exit_code == 0, r.output
    r = run(
        app,
        [
            "schedules",
            "add",
            "bad",
            "--scope",
            "lab",
            "--target",
            "127.0.0.2",
            "--ports",
            "443",
            "--every",
            "5",
        ],
    )
    assert (
        r.exit_code != 0
        and str(r.exception) == "port 443 is not allowed in scan scope 'lab' (allowed: 22,80)"
    )
    with database.unit_of_work() as s:  # make it due without waiting a minute
        schedules.get_schedule(s, "often").next_run_at = T0
    out = json.loads(run(app, ["schedules", "run-due", "--json"]).output)
    assert len(out["queued"]) == 1 and dispatched == out["queued"]
    rows = json.loads(run(app, ["schedules", "list", "--json"]).output)
    assert rows[0]["name"] == "often" and rows[0]["last_job_id"] == out["queued"][0]
    assert run(app, ["scopes", "disable", "lab"]).exit_code == 0
    r = run(app, ["discover", "127.0.0.2", "--no-wait"])
    assert (
        r.exit_code != 0
        and str(r.exception)
        == "target '127.0.0.2' refused: no enabled scan scope (an admin adds one with 'ciimap scopes add')"
    )
    assert run(app, ["schedules", "remove", "often"]).exit_code == 0
    assert run(app, ["scopes", "remove", "lab"]).exit_code == 0
    assert json.loads(run(app, ["scopes", "list", "--json"]).output) == []
