"""``kill -9`` of the delivering process with 100 notifications queued, then a restart: all 100 are
delivered, none is lost, and every repeat carries the same idempotency key (at-least-once)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from sqlalchemy import func, select

from ciimap.notify import service
from ciimap.notify.models import NotifyMessage

from .receiver import receiver

N = 100
HOLD_AFTER = 30


def _deliverer(database, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CIIMAP_DATABASE_URL": database.url, "CIIMAP_NOTIFY_LEASE_SECONDS": "2"}
    return subprocess.Popen(
        [sys.executable, "-m", "ciimap", "notify", "deliver", "--interval", "0.2", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait(cond, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_kill_9_then_restart_delivers_all_exactly_keyed(database):
    release = threading.Event()

    def reply(req, n):
        if n > HOLD_AFTER:  # later requests hang until the deliverer is dead: sent but never acknowledged
            release.wait(60)
        return 200, {"ok": True}

    with receiver(reply) as r:
        with database.unit_of_work() as s:
            service.add_channel(s, name="hook", kind="webhook", url=f"{r.url}/hook", secret="k")
            service.add_rule(s, name="all", channel="hook")
            for i in range(N):
                service.publish(
                    s,
                    kind="incident.opened",
                    subject=f"incident:{i}",
                    attrs={"grade": "较大"},
                    title=f"t{i}",
                    idempotency_key=f"incident:{i}:opened",
                )
        first = _deliverer(database)
        try:
            _wait(lambda: r.count() > HOLD_AFTER)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        release.set()
        assert first.returncode == -signal.SIGKILL
        at_kill = r.count()
        assert at_kill < N  # killed with work left
        second = _deliverer(database, "--until-empty")
        try:
            out, err = second.communicate(timeout=180)
        finally:
            if second.poll() is None:
                second.kill()
        assert second.returncode == 0, err.decode()
        requests = list(r.requests)
    keys = [q.headers["idempotency-key"] for q in requests]
    assert set(keys) == {f"incident:{i}:opened" for i in range(N)}  # none lost
    assert len(keys) > len(set(keys))  # the unacknowledged ones were sent again ...
    for q in requests:  # ... each repeat with its own message's key, in header and body
        body = q.json()
        assert body["idempotency_key"] == q.headers["idempotency-key"] == f"{body['subject']}:opened"
    with database.read_session() as s:
        statuses = dict(
            s.execute(select(NotifyMessage.status, func.count()).group_by(NotifyMessage.status)).all()
        )
    assert statuses == {"sent": N}
