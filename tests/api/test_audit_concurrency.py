"""Several server processes write to one map at once: every change is logged and the hash chain
stays whole (the head row is read under the write lock: SQLite) or locked (PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys

from ciimap.core import audit

WRITER = r"""
import sys
from ciimap.core.audit import Actor, acting_as
from ciimap.core.db import Database
from ciimap.core import entity
from ciimap.inventory.service import VENDORS
from ciimap.auth import service as auth

db = Database(sys.argv[1])
tag = sys.argv[2]
with acting_as(Actor(f"writer-{tag}", via="test")):
    for i in range(int(sys.argv[3])):
        with db.unit_of_work() as s:
            if i % 2:
                entity.create(s, VENDORS, {"name": f"厂商-{tag}-{i}", "country": "CN"})
            else:  # an event recorded before any other write in its transaction
                audit.record(s, "login", "user_account", tag, after={"i": i})
print("ok")
"""


def test_concurrent_processes_keep_the_chain(database):
    url = database.url
    code = "from ciimap.core import audit\nimport ciimap.registry\n" + WRITER
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, url, tag, "60"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b", "c")
    ]
    try:
        outs = [p.communicate(timeout=180) for p in procs]
    finally:
        for p in procs:  # a timeout must not leave writers running into the next test
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [o[0].strip() for o in outs] == ["ok"] * 3, [o[1][-800:] for o in outs]
    with database.read_session() as s:
        result = audit.verify(s)
        assert result.ok, result.problems
        assert result.checked >= 180
