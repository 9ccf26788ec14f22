"""The console's queries: keyset pagination of groups and alerts (pages walked by the last row's time
and id give exactly the full listing, ties on time included) and the drill-down from a group to its
alerts — on both databases, through the service, the API and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ciimap.alerts import groups, service
from ciimap.alerts.models import Alert
from ciimap.cli import app as cli_app
from ciimap.core.db import Database
from ciimap.core.errors import Invalid, NotFound

from .test_groups import WEB, WEB2, X, Y, Z, _eve, _import, _more_assets

ROWS = [
    (0, 1001, 3, X, WEB),
    (0, 1001, 3, Y, WEB),  # same time, another attacker: two groups with the same last_seen
    (0, 1001, 3, Z, WEB),
    (10, 1001, 1, X, WEB),
    (20, 1002, 2, X, WEB2),
    (20, 1002, 2, X, "192.0.2.9"),  # unmapped target
    (200, 1001, 3, X, WEB),  # after the window: another group with the same key
    (210, 1001, 3, X, WEB),
]


def _walk(fetch: Any, time_key: str, size: int) -> list[int]:
    out: list[int] = []
    page = fetch(limit=size)
    while page:
        out += [x["id"] for x in page]
        last = page[-1]
        t = last[time_key]  # alerts come as JSON data (ISO text), groups as datetimes
        t = dt.datetime.fromisoformat(t) if isinstance(t, str) else t
        page = fetch(limit=size, before_time=t, before_id=last["id"])
    return out


def test_keyset_pages_equal_the_full_listing(database: Database, tmp_path: Path) -> None:
    _more_assets(database)
    _import(database, _eve(tmp_path / "a.json", ROWS))
    with database.read_session() as s:
        all_groups = [g["id"] for g in groups.list_groups(s, limit=100)]
        assert len(all_groups) == 6
        for size in (1, 2, 4):
            assert _walk(lambda **kw: groups.list_groups(s, **kw), "last_seen", size) == all_groups
        all_alerts = [a["id"] for a in service.list_alerts(s, limit=100)]
        assert len(all_alerts) == len(ROWS)
        for size in (1, 3):
            assert _walk(lambda **kw: service.list_alerts(s, **kw), "time", size) == all_alerts
        # the cursor's time in another zone means the same instant (SQLite stores UTC text)
        first = service.list_alerts(s, limit=1)[0]
        t8 = dt.datetime.fromisoformat(first["time"]).astimezone(dt.timezone(dt.timedelta(hours=8)))
        assert [a["id"] for a in service.list_alerts(s, before_time=t8, before_id=first["id"])] == all_alerts[
            1:
        ]
        # filters and the cursor together
        high = groups.list_groups(s, severity="low", limit=1)
        rest = groups.list_groups(
            s, severity="low", before_time=high[0]["last_seen"], before_id=high[0]["id"]
        )
        assert [g["id"] for g in high + rest] == [g["id"] for g in groups.list_groups(s, severity="low")]
        with pytest.raises(Invalid, match="before_time and before_id"):
            groups.list_groups(s, before_id=3)
        with pytest.raises(Invalid, match="before_time and before_id"):
            service.list_alerts(s, before_time=dt.datetime.now(dt.UTC))


def test_drill_down_from_a_group_to_its_alerts(database: Database, tmp_path: Path) -> None:
    ids = _more_assets(database)
    _import(database, _eve(tmp_path / "a.json", ROWS))
    with database.read_session() as s:
        by_key = {(a.src_ip, a.dest_ip, groups.aware(a.time)): a.id for a in s.scalars(select(Alert))}
        got = groups.list_groups(s, limit=100)
        first = next(
            g
            for g in got
            if (g["target_asset_id"], g["attacker_ip"], g["count"]) == (ids["web"], X, 2)
            and g["first_seen"] == groups.aware(dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC))
        )
        alerts = service.list_alerts(s, group_id=first["id"])
        # the first group of X on web-01 (minutes 0 and 10), not Y's or Z's at minute 0, not the later
        # group with the same key (minutes 200, 210)
        t0 = first["first_seen"]
        assert [a["id"] for a in alerts] == [
            by_key[(X, WEB, t0 + dt.timedelta(minutes=10))],
            by_key[(X, WEB, t0)],
        ]
        assert len(alerts) == first["count"]
        unmapped = next(g for g in got if g["target_ip"] == "192.0.2.9")
        assert [a["dest_ip"] for a in service.list_alerts(s, group_id=unmapped["id"])] == ["192.0.2.9"]
        for g in got:  # every group's drill-down holds exactly its count
            assert len(service.list_alerts(s, group_id=g["id"], limit=1000)) == g["count"]
        with pytest.raises(NotFound):
            service.list_alerts(s, group_id=999_999)


def test_api_and_cli_keyset_and_group(
    client: Any, database: Database, auditor_headers: Any, tmp_path: Path
) -> None:
    _more_assets(database)
    _import(database, _eve(tmp_path / "a.json", ROWS))
    full = client.get("/api/alerts/groups", headers=auditor_headers).json()
    page = client.get("/api/alerts/groups", headers=auditor_headers, params={"limit": 2}).json()
    last = page[-1]
    nxt = client.get(
        "/api/alerts/groups",
        headers=auditor_headers,
        params={"limit": 10, "before_time": last["last_seen"], "before_id": last["id"]},
    ).json()
    assert [g["id"] for g in page + nxt] == [g["id"] for g in full]
    r = client.get("/api/alerts", headers=auditor_headers, params={"group_id": full[0]["id"]})
    assert r.status_code == 200 and len(r.json()) == full[0]["count"]
    assert client.get("/api/alerts", headers=auditor_headers, params={"group_id": 999_999}).status_code == 404
    bad = client.get("/api/alerts/groups", headers=auditor_headers, params={"before_id": 1})
    assert bad.status_code == 422 and "before_time" in bad.text
    assert client.get("/api/alerts", headers=auditor_headers, params={"before_id": "x"}).status_code == 422
    res = CliRunner().invoke(cli_app, ["alerts", "list", "--group", str(full[0]["id"]), "--json"])
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.output)) == full[0]["count"]
    res = CliRunner().invoke(
        cli_app,
        ["alerts", "groups", "--before-time", last["last_seen"], "--before-id", str(last["id"]), "--json"],
    )
    assert res.exit_code == 0, res.output
    assert [g["id"] for g in json.loads(res.output)] == [g["id"] for g in nxt]


def test_system_and_service_filters_page_like_the_full_listing(database: Database, tmp_path: Path) -> None:
    """PostgreSQL answers these per target asset (LATERAL); both databases give the same pages."""
    ids = _more_assets(database)
    _import(database, _eve(tmp_path / "a.json", ROWS))
    with database.read_session() as s:
        everything = groups.list_groups(s, limit=100)
        for kw in (
            {"system_id": ids["system"]},
            {"service_id": ids["service"]},
            {"system_id": ids["system"], "service_id": ids["service"]},
            {"system_id": ids["system"], "severity": "low"},
        ):
            want = [
                g["id"]
                for g in everything
                if g["target_asset_id"] == ids["web"] and g["severity"] == kw.get("severity", g["severity"])
            ]
            assert want and [g["id"] for g in groups.list_groups(s, **kw)] == want
            paged = [
                x["id"] for k in range(len(want)) for x in groups.list_groups(s, **kw, limit=1, offset=k)
            ]
            assert paged == want
            assert _walk(lambda **p: groups.list_groups(s, **kw, **p), "last_seen", 1) == want  # noqa: B023
        assert groups.list_groups(s, system_id=ids["system"], service_id=999_999) == []
