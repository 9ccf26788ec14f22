"""Raw alerts over time: PostgreSQL day partitions (created ahead, rows moved out of the default
partition, dropped by retention), retention in batches on SQLite, the maintenance command — on both
databases."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from ciimap.alerts import partitions, service
from ciimap.alerts.models import Alert, AlertGroup
from ciimap.cli import app as cli_app
from ciimap.core import migrate
from ciimap.core.db import Database
from ciimap.core.errors import Invalid
from ciimap.ingest.service import import_files

T = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def _eve(path: Path, times: list[dt.datetime]) -> Path:
    lines = [
        json.dumps(
            {
                "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.000000+0000"),
                "event_type": "alert",
                "src_ip": "203.0.113.5",
                "dest_ip": "10.20.1.10",
                "alert": {"signature_id": 1001, "signature": "rule", "severity": 2},
            }
        )
        for t in times
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _import(db: Database, path: Path) -> dict[str, Any]:
    with db.unit_of_work() as s:
        return dict(import_files(s, kind="suricata", paths=[path], options={}))


def _count(db: Database, table: str) -> int:
    with db.read_session() as s:
        return int(s.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0)  # noqa: S608


def test_retention_and_day_partitions(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partitions, "BATCH", 2)  # several batches
    old = [T - dt.timedelta(days=10, minutes=m) for m in range(3)]
    recent = [T - dt.timedelta(days=1), T - dt.timedelta(days=1, minutes=-5), T, T + dt.timedelta(minutes=5)]
    _import(database, _eve(tmp_path / "a.json", old + recent))
    with database.read_session() as s:
        assert partitions.partitioned(s) is (not database.is_sqlite)
        kept_ids = sorted(s.scalars(select(Alert.id).where(Alert.time >= T - dt.timedelta(days=2))))
        assert s.scalar(select(func.count()).select_from(AlertGroup)) == 3  # old burst, day before, today

    out = partitions.maintain(database, now=T + dt.timedelta(hours=1), keep=5)

    assert out["deleted"] == 3  # the 3 alerts 10 days old, in batches of 2
    assert out["groups_deleted"] == 1
    with database.read_session() as s:
        assert sorted(s.scalars(select(Alert.id))) == kept_ids  # the rest kept, ids unchanged
        assert [a["id"] for a in service.list_alerts(s)] == sorted(kept_ids, reverse=True)
    if not database.is_sqlite:
        # the days in the default partition (within retention) got their own partitions, rows moved
        assert {"alert_p20260228", "alert_p20260301", "alert_p20260308"} <= set(out["created"])
        assert "alert_p20260219" not in out["created"]  # past retention: deleted, not partitioned
        assert _count(database, "alert_p20260228") == 2
        assert _count(database, "alert_p20260301") == 2
        assert _count(database, "alert_default") == 0
        # a later import lands in its day's partition
        _import(database, _eve(tmp_path / "b.json", [T + dt.timedelta(hours=2)]))
        assert _count(database, "alert_p20260301") == 3
        assert _count(database, "alert_default") == 0
        # the partitions are not a difference between models and migrations
        migrate.check(database.url)
    else:
        assert out["created"] == [] and out["partitioned"] is False

    # ten days later every day is past retention: PostgreSQL drops whole partitions, SQLite deletes
    later = partitions.maintain(database, now=T + dt.timedelta(days=10), keep=5)
    if not database.is_sqlite:
        assert {"alert_p20260228", "alert_p20260301"} <= set(later["dropped"])
        assert later["deleted"] == 0
    else:
        assert later["deleted"] == 4
    assert _count(database, "alert") == 0
    assert _count(database, "alert_group") == 0


def test_retention_zero_keeps_everything_and_bad_setting_is_refused(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import(database, _eve(tmp_path / "a.json", [T - dt.timedelta(days=400), T]))
    monkeypatch.setenv("CIIMAP_ALERT_RETENTION_DAYS", "0")
    result = CliRunner().invoke(cli_app, ["alerts", "maintain", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["retention_days"] == 0 and out["cutoff"] is None and out["deleted"] == 0
    assert _count(database, "alert") == 2
    monkeypatch.setenv("CIIMAP_ALERT_RETENTION_DAYS", "soon")
    bad = CliRunner().invoke(cli_app, ["alerts", "maintain", "--json"])
    assert isinstance(bad.exception, Invalid)  # one line, mapped to an exit code by ciimap.cli.main
    assert "CIIMAP_ALERT_RETENTION_DAYS" in str(bad.exception)
    # the option wins over the setting: 30 days from now deletes both (the newer is from March 2026)
    ok = CliRunner().invoke(cli_app, ["alerts", "maintain", "--retention-days", "30", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["deleted"] + len(json.loads(ok.output)["dropped"]) >= 1
    assert _count(database, "alert") == 0
