"""Large alert imports split for several workers (PostgreSQL) and in-process (SQLite): the split keeps
every byte and line number, and the parts' runs, folded by the last one, give the same alerts, groups
and warnings as one import — on both databases, through the real job functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from ciimap.alerts import groups, parallel
from ciimap.alerts.models import Alert, AlertGroup, AlertWarning
from ciimap.config import get_settings
from ciimap.core import jobs, uploads
from ciimap.core.db import Database
from ciimap.ingest.models import ImportRun

from .test_groups import WEB, WEB2, WEB3, X, Y, Z, _eve, _import, _more_assets

ROWS = [
    *[(m // 2, 2001, 1, X, WEB) for m in range(24)],  # 24 high on web-01 in 12 min: a burst warning
    *[(30 + m, 2002, 3, Y, dst) for m, dst in enumerate([WEB, WEB2, WEB3, "192.0.2.9"] * 3)],
    (200, 2001, 2, Z, WEB),
    (205, 2001, 2, Z, WEB),
]


def _state(db: Database) -> dict[str, Any]:
    with db.read_session() as s:
        alerts = sorted(
            (a.line_no, a.src_ip, a.dest_ip, a.dest_asset_id or 0, a.severity, a.priority)
            for a in s.scalars(select(Alert))
        )
        grps = sorted(
            (
                (
                    g["rule_id"],
                    g["target_asset_id"] or 0,
                    g["target_ip"] or "",
                    g["attacker_ip"],
                    g["first_seen"],
                )
                + (g["last_seen"], g["count"], g["open_count"], g["severity"], len(g["sample_ids"]))
                for g in groups.list_groups(s, limit=1000)
            ),
        )
        warns = sorted((w.rule, w.scope, w.count, w.level) for w in s.scalars(select(AlertWarning)))
    return {"alerts": alerts, "groups": grps, "warnings": warns}


def _wipe(db: Database) -> None:
    with db.unit_of_work() as s:
        for model in (Alert, AlertGroup, AlertWarning, ImportRun):
            s.execute(delete(model))


def test_split_keeps_every_byte_and_line_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    lines = [json.dumps({"n": i, "pad": "x" * 50}) for i in range(40)]
    lines[10:10] = ["{", '  "event_type": "alert",', '  "n": "pretty"', "}"]  # a pretty-printed object
    src = tmp_path / "eve.json"
    src.write_text("\n".join(lines) + "\n")
    parts = parallel.split(src, 5)
    assert len(parts) >= 3
    assert b"".join(p.read_bytes() for p, _n in parts) == src.read_bytes()
    first = 1
    for part, n in parts:
        assert n == first  # the number of the part's first line in the whole file
        assert part.parent.parent == uploads.root()  # its own upload folder (owned by its job)
        assert part.read_bytes()[:1] not in (b" ", b"}")  # never inside the pretty-printed object
        first += part.read_bytes().count(b"\n")


def test_parts_folded_by_the_last_give_the_same_alerts_groups_and_warnings(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _more_assets(database)
    eve = _eve(tmp_path / "eve.json", ROWS)
    _import(database, eve)
    expected = _state(database)
    assert expected["warnings"] and len(expected["groups"]) >= 6
    _wipe(database)

    # the upload's job, queued and run as the API does (dispatch captured, run with jobs.execute)
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    monkeypatch.setenv("CIIMAP_ALERT_SPLIT_MB", str(eve.stat().st_size / 3.5 / 1024 / 1024))
    dispatched: list[int] = []
    monkeypatch.setattr(jobs, "dispatch", dispatched.append)
    folder = uploads.root() / "upload-1"
    folder.mkdir(parents=True)
    path = folder / "eve.json"
    path.write_bytes(eve.read_bytes())
    with database.unit_of_work() as s:
        parent = jobs.submit(
            s, "alerts-import", {"kind": "suricata", "paths": [str(path)], "options": {}}, upload_dir=folder
        ).id
    jobs.execute(dispatched.pop(0))
    with database.read_session() as s:
        job = jobs.get(s, parent)
        assert job.status == "succeeded", job.error
        result = dict(job.result or {})
    if database.is_sqlite:  # one writer: one run, in-process
        assert result["events"] == len(ROWS) and dispatched == []
    else:  # PostgreSQL: one job per part, for any worker; the last part folds
        assert result["parts"] == len(dispatched) == 4
        folds = []
        for job_id in dispatched:
            jobs.execute(job_id)
            with database.read_session() as s:
                part = jobs.get(s, job_id)
                assert part.status == "succeeded", part.error
                folds.append((part.result or {})["fold"])
        assert folds[:-1] == [None] * 3 and len(folds[-1]["runs"]) == 4
        assert folds[-1]["warnings_opened"] == len(expected["warnings"])
    assert _state(database) == expected
