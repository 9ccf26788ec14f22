"""Posture figures on the living demo, each checked against an independent count of the owning tables,
and how they react to the work being done (triage, closed warnings) and to the viewer's organisation."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from ciimap.alerts.models import AlertWarning
from ciimap.cli import app as cli_app
from ciimap.core.db import Database, utcnow
from ciimap.demo import service as demo
from ciimap.graph import build, spof
from ciimap.graph.build import CRIT
from ciimap.inventory import models as m
from ciimap.posture import service
from ciimap.posture.schemas import Posture
from ciimap.vulns import service as vulns
from ciimap.vulns.models import Finding
from conftest import make_user

NOW = utcnow().replace(microsecond=0)


def _load(db: Database) -> None:
    with db.unit_of_work() as s:
        demo.load(
            s, scale=1500, seed=42, now=NOW, alerts=True, history=True, advisories=True, governance=True
        )


def _cards(db: Database, **kw: object) -> dict[str, dict]:
    with db.read_session() as s:
        data = Posture.model_validate(service.posture(s, **kw)).model_dump(mode="json")  # type: ignore[arg-type]
    return {c["key"]: c for c in data["cards"]} | {"_": data}  # type: ignore[operator]


def test_posture_figures_match_the_owning_tables(database: Database) -> None:
    _load(database)
    c = _cards(database)
    assert set(c) >= {"services_at_risk", "kev_cii", "spof", "overdue", "warnings", "incidents", "changes"}
    with database.read_session() as s:
        kev, _n = vulns.list_findings(s, kev=True, limit=10_000)
        cii = set(s.scalars(select(m.System.id).where(m.System.is_cii.is_(True))))
        open_kev_cii = [f for f in kev if f.system_id in cii and f.status in ("new", "confirmed")]
        assert c["kev_cii"]["value"] == len(open_kev_cii) > 0
        assert dict(c["kev_cii"]["parts"])["assets"] == len({f.asset_id for f in open_kev_cii})
        assert dict(c["kev_cii"]["parts"])["kev_all"] == len(kev)
        by_level = dict(
            s.execute(
                select(AlertWarning.level, func.count())
                .where(AlertWarning.state != "closed")
                .group_by(AlertWarning.level)
            ).all()
        )
        assert c["warnings"]["value"] == sum(by_level.values()) > 0
        assert dict(c["warnings"]["parts"])["level_red"] == by_level.get("red", 0) > 0
    # the demo's incident, with its reporting clock
    assert c["incidents"]["value"] == 1 and dict(c["incidents"]["parts"])["grade_III"] == 1
    assert c["incidents"]["next_deadline"] is not None
    # critical services at risk: some need a system/asset with a KEV or P1 finding, all have SPOFs
    risk = c["_"]["services_at_risk"]
    assert c["services_at_risk"]["value"] == len(risk) > 0
    assert any(r["vulnerable"] for r in risk) and c["spof"]["value"] > 0
    assert all(r["criticality"] in ("high", "critical") for r in risk)
    # trends: 31 days, cumulative KEV series ends at today's figure; the change feed covers the month
    assert len(c["kev_cii"]["trend"]) == 31 and c["kev_cii"]["trend"][-1][1] == c["kev_cii"]["value"]
    assert sum(1 for _d, n in c["changes"]["trend"] if n) >= 28
    assert len(c["warnings"]["trend"]) == 31 and sum(n for _d, n in c["warnings"]["trend"]) > 0
    assert c["services_at_risk"]["trend"] is None  # no history to count from: none is invented


def test_posture_follows_the_work_being_done(database: Database) -> None:
    _load(database)
    before = _cards(database)
    with database.unit_of_work() as s:  # every finding triaged as an accepted risk, every warning closed
        s.execute(update(Finding).values(status="risk_accepted"))
        s.execute(update(AlertWarning).values(state="closed"))
    after = _cards(database)
    assert before["kev_cii"]["value"] > 0 and after["kev_cii"]["value"] == 0
    assert after["warnings"]["value"] == 0 and after["warnings"]["tone"] == ""
    assert not any(r["vulnerable"] for r in after["_"]["services_at_risk"])
    assert dict(after["services_at_risk"]["parts"])["vulnerable"] == 0
    # SPOFs are structural: unchanged
    assert after["spof"]["value"] == before["spof"]["value"]


def test_overdue_work_counts_findings_past_due(database: Database) -> None:
    _load(database)
    today = NOW.date()
    with database.unit_of_work() as s:
        ids = list(s.scalars(select(Finding.id).order_by(Finding.id).limit(7)))
        s.execute(update(Finding).where(Finding.id.in_(ids)).values(due_date=today - dt.timedelta(days=3)))
    c = _cards(database)
    assert dict(c["overdue"]["parts"])["findings"] == 7
    assert c["overdue"]["value"] >= 7 and c["overdue"]["tone"] == "bad"
    assert c["overdue"]["trend"][-1][1] == 7 and c["overdue"]["trend"][-5][1] == 0


def test_viewer_bound_to_another_organisation_sees_none_of_its_warnings(database: Database) -> None:
    _load(database)
    with database.unit_of_work() as s:
        other = m.Organization(name="另一运营者")
        s.add(other)
        s.flush()
        oid = other.id
    c = _cards(database, viewer_org=oid)
    assert c["warnings"]["value"] == 0 and c["incidents"]["value"] == 0


def test_api_and_cli_serve_the_same_figures(database: Database, client: Any) -> None:
    _load(database)
    assert client.get("/api/posture").status_code == 401
    headers = make_user(database, "analyst1", "analyst")
    body = client.get("/api/posture", headers=headers).json()
    keys = [c["key"] for c in body["cards"]]
    assert keys == ["services_at_risk", "kev_cii", "spof", "overdue", "warnings", "incidents", "changes"]
    r = CliRunner().invoke(cli_app, ["posture", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert [(c["key"], c["value"]) for c in out["cards"]] == [(c["key"], c["value"]) for c in body["cards"]]
    table = CliRunner().invoke(cli_app, ["posture"])
    assert table.exit_code == 0 and "kev_cii" in table.output and "关键业务" in table.output


def test_services_needing_agrees_with_walking_down_from_each_service(database: Database) -> None:
    """The one reverse walk (ancestors of the risky systems/assets) finds exactly the services whose own
    forward walk (everything they need) reaches one of them."""
    _load(database)
    with database.read_session() as s:
        exp = vulns.exposure(s, today=NOW.date(), since=NOW.date() - dt.timedelta(days=30))
        g = build.build_graph(s)
        got = spof.services_needing(g, {"system": exp["risky_systems"], "asset": exp["risky_assets"]})
        risky = np.zeros(g.n, bool)
        risky[g.indices("system", np.asarray(exp["risky_systems"], np.int64))] = True
        risky[g.indices("asset", np.asarray(exp["risky_assets"], np.int64))] = True
        sl = g.mask("business_service")
        want = []
        for i in range(sl.start, sl.stop):
            if g.crit[i] >= CRIT["high"] and (spof.descendants(g, np.array([i], np.int64)) & risky).any():
                want.append(int(g.dbid[i]))
    assert got == sorted(want) and got
