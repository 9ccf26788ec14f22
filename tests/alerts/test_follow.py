"""Following a growing eve.json on both databases: only whole lines, the offset stored with the alerts
(restart without duplicates or loss), rotation by rename (while following and while stopped) and by
truncation."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from ciimap.alerts.live.follow import Follower, follow
from ciimap.alerts.live.ingest import LiveRun
from ciimap.alerts.live.models import AlertFollow
from ciimap.alerts.models import Alert
from ciimap.core.db import Database
from ciimap.core.errors import InputFileError
from ciimap.ingest.models import ImportRun

T = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def eve(n: int, event: str = "alert") -> str:
    t = (T + dt.timedelta(seconds=n)).isoformat()
    doc = {
        "timestamp": t,
        "event_type": event,
        "src_ip": "203.0.113.5",
        "dest_ip": "10.20.1.10",
        "src_port": n,
    }
    if event == "alert":
        doc["alert"] = {"signature_id": 2100498, "signature": "GPL ATTACK_RESPONSE", "severity": 2}
    return json.dumps(doc) + "\n"


def append(path: Path, text: str) -> None:
    with path.open("a") as f:
        f.write(text)


def ports(db: Database) -> list[int]:
    with db.read_session() as s:
        return sorted(p for p in s.scalars(select(Alert.src_port)) if p is not None)


def once(path: Path) -> dict:
    return follow(path, "suricata", stop=threading.Event(), once=True)


def test_whole_lines_only_and_a_restart_resumes_without_duplicates_or_loss(database, tmp_path):
    f = tmp_path / "eve.json"
    f.write_text(eve(1) + eve(2, "flow") + eve(3))
    first = once(f)
    assert (first["events"], first["skipped"]) == (2, 1)
    assert ports(database) == [1, 3]
    append(f, eve(4) + eve(5)[:40])  # the last line is still being written
    assert once(f)["events"] == 1
    assert ports(database) == [1, 3, 4]
    append(f, eve(5)[40:] + eve(6))  # finished; a restart reads it once
    assert once(f)["events"] == 2
    assert ports(database) == [1, 3, 4, 5, 6]
    assert once(f)["events"] == 0  # nothing new: nothing again
    with database.read_session() as s:
        pos = s.scalar(select(AlertFollow))
        assert pos is not None and pos.offset == f.stat().st_size and pos.lines == 6
        runs = list(s.scalars(select(ImportRun).where(ImportRun.kind == "suricata")))
        assert len(runs) == 4 and {r.status for r in runs} == {"succeeded"}
        lines = sorted(s.scalars(select(Alert.line_no)))
    assert lines == [1, 3, 4, 5, 6]  # the line numbers of the file


def test_rotation_by_rename_while_following(database, tmp_path):
    f = tmp_path / "eve.json"
    f.write_text(eve(1))
    live = LiveRun("suricata", scope="t", inputs=[str(f)])
    live.open()
    fol = Follower(f, live)
    assert fol.poll() == 1
    append(f, eve(2))
    f.rename(tmp_path / "eve.json.1")
    append(tmp_path / "eve.json.1", eve(3)[:30])  # written by the sensor before it reopened; no LF
    f.write_text(eve(10) + eve(11))
    assert fol.poll() == 4
    assert ports(database) == [1, 2, 10, 11]
    with database.read_session() as s:
        rejected = list(s.scalars(select(Alert.reject).where(Alert.reject.is_not(None))))
    assert len(rejected) == 1  # the cut last line of the old file is kept (rejected: no longer JSON)
    append(f, eve(12))
    assert fol.poll() == 1
    assert ports(database)[-3:] == [10, 11, 12]
    fol.close()
    live.close()


def test_rotation_while_stopped_finishes_the_old_file_first(database, tmp_path):
    f = tmp_path / "eve.json"
    f.write_text(eve(1))
    once(f)
    append(f, eve(2))
    os.rename(f, tmp_path / "eve.json.1")
    (tmp_path / "eve.json.2.gz").write_bytes(b"\x1f\x8b not read")
    f.write_text(eve(20))
    assert once(f)["events"] == 2
    assert ports(database) == [1, 2, 20]
    assert once(f)["events"] == 0


def test_truncation_starts_again_at_zero(database, tmp_path):
    f = tmp_path / "eve.json"
    f.write_text(eve(1) + eve(2) + eve(3))
    once(f)
    f.write_text(eve(30))  # copytruncate: same inode, shorter
    assert once(f)["events"] == 1
    assert ports(database) == [1, 2, 3, 30]


def test_a_missing_file_or_an_unfollowable_kind_is_one_clear_error(database, tmp_path):
    with pytest.raises(InputFileError, match="cannot follow"):
        once(tmp_path / "nope.json")
    (tmp_path / "x.log").write_text("x\n")
    with pytest.raises(InputFileError, match="cannot follow as 'syslog'"):
        follow(tmp_path / "x.log", "syslog", stop=threading.Event(), once=True)
