"""What delivers in the background: the procrastinate periodic task (PostgreSQL workers) and the
drain that ``ciimap serve`` runs on SQLite."""

from __future__ import annotations

from ciimap.core import queue
from ciimap.notify import jobs, service

from .receiver import receiver


def test_worker_app_has_the_periodic_delivery_task():
    app = queue.make_app("postgresql+psycopg://nobody@127.0.0.1:1/none")  # nothing connects yet
    assert jobs.TASK in app.tasks
    periodic = {p.periodic_id: p.cron for p in app.periodic_registry.periodic_tasks.values()}
    assert periodic["notify-deliver"] == "* * * * *"


def test_drain_delivers_everything_due(database):
    with receiver(lambda req, n: (200, {})) as r:
        with database.unit_of_work() as s:
            service.add_channel(s, name="hook", kind="webhook", url=f"{r.url}/h")
            service.add_rule(s, name="all", channel="hook")
            for i in range(3):
                service.publish(
                    s,
                    kind="warning.raised",
                    subject=f"warning:{i}",
                    attrs={},
                    title="w",
                    idempotency_key=f"w{i}",
                )
        assert jobs.drain() == {"claimed": 3, "sent": 3, "failed": 0}
        assert jobs.drain()["claimed"] == 0
        assert sorted(q.headers["idempotency-key"] for q in r.requests) == ["w0", "w1", "w2"]
