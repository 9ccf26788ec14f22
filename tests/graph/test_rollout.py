"""Ring plans (property checks) and recorded rollouts (gates halt, soak blocks, all audited)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import select

from ciimap.core.audit import AuditLog
from ciimap.core.errors import Conflict, Invalid
from ciimap.graph import progress
from ciimap.graph.build import build_graph
from ciimap.graph.propagate import propagate
from ciimap.graph.rollout import propose

from .mapkit import Map


def fleet(s) -> Map:  # noqa: ANN001
    mp = Map(s)
    mp.vendor("CrowdStrike")
    mp.product("Falcon", "CrowdStrike", auto_update=True, update_privilege="kernel", update_channel="content")
    for site in ("DC1", "DC2", "Station"):
        mp.site(site)
    mp.zone("lab-zone", kind="test")
    mp.zone("office", kind="office")
    mp.system("SCADA", is_cii=True, mlps_level=4, criticality="critical")
    mp.system("Pair", criticality="medium")
    mp.system("Billing", criticality="high")
    sites, oses, hws = ("DC1", "DC2", "Station"), ("10", "11", "2019"), ("Dell", "Lenovo")
    for k in range(36):
        mp.asset(
            f"ws{k}",
            site=sites[k % 3],
            zone="office",
            os_name="Windows",
            os_version=oses[k % 3 - (k // 9) % 2],
            manufacturer=hws[k % 2],
            criticality="low" if k % 4 else "medium",
            software=["Falcon"],
        )
    mp.asset("lab1", zone="lab-zone", software=["Falcon"])
    mp.asset("lab2", zone="office", tags=["lab", "x"], software=["Falcon"])
    for name in ("p1", "p2"):
        mp.asset(
            name,
            system="Pair",
            site="DC1",
            os_name="Windows",
            os_version="2019",
            criticality="low",
            software=["Falcon"],
        )
        mp.need("Pair", name, group="pair", kind="runs_on")
    for name in ("sc1", "sc2"):
        mp.asset(name, system="SCADA", site="DC2", criticality="high", software=["Falcon"])
        mp.need("SCADA", name, group="scada-ha", kind="runs_on")
    mp.asset("bill1", system="Billing", criticality="high", software=["Falcon"])
    mp.asset("other", software=[])  # does not run the product
    return mp


def test_ring_properties(database):
    with database.unit_of_work() as s:
        mp = fleet(s)
    with database.read_session() as s:
        g = build_graph(s)
        p = propose(s, product="Falcon")
    names = [r.name for r in p.rings]
    assert names[:5] == ["lab", "canary", "early", "broad", "critical"] and names[5:] == ["critical-2"]
    members = [a for r in p.rings for a in r.members]
    assert sorted(members) == sorted(set(members)) and len(members) == p.targets == 43
    ring_of = {a: r.name for r in p.rings for a in r.members}
    assert ring_of[mp.id("lab1")] == ring_of[mp.id("lab2")] == "lab"
    assert {ring_of[mp.id("sc1")], ring_of[mp.id("sc2")]} == {
        "critical",
        "critical-2",
    }  # CII last, HA pair split
    assert ring_of[mp.id("p1")] != ring_of[mp.id("p2")]
    assert ring_of[mp.id("bill1")] == "broad"  # high criticality: never canary/early
    sizes = np.diff(g.group_ptr)
    for r in p.rings:  # no ring, failing on its own, takes down every alternative of a group
        if not r.members:
            continue
        prop = propagate(g, g.indices("asset", np.array(r.members)))
        down = np.add.reduceat(prop.failed[g.members].astype(int), g.group_ptr[:-1])
        assert not np.any((sizes > 1) & (down == sizes)), r.name
    crit = {a.id: a.criticality for a in mp.obj.values() if hasattr(a, "hostname")}
    early = [a for r in p.rings if r.name in ("canary", "early") for a in r.members]
    assert early and all(crit[a] in ("low", "medium") for a in early)
    canary = p.rings[1]
    assert len(canary.members) == 1
    early_ring = p.rings[2]
    assert len(early_ring.members) == 5
    d = early_ring.rationale["distinct"]  # 5 hosts cover every site, >= 2 hardware models and OS versions
    assert d["site"] == 3 and d["hardware"] >= 2 and d["os"] >= 3
    with database.read_session() as s:
        assert propose(s, channel="content").targets == 43
        with pytest.raises(Invalid):
            propose(s, product="Falcon", channel="content")


def test_rollout_halts_on_a_failed_gate_and_is_audited(database):
    with database.unit_of_work() as s:
        fleet(s)
        plan = progress.create_plan(s, product="Falcon", version="7.11")
        pid = plan.id
    with database.unit_of_work() as s:
        progress.start(s, plan_id=pid)
        progress.report_health(s, plan_id=pid, metrics={"crash_rate": 0.0, "failed_health_checks": 0.0})
        with pytest.raises(Conflict, match="soaking"):
            progress.advance(s, plan_id=pid)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)
        progress.advance(s, plan_id=pid, now=later)  # lab -> canary
        with pytest.raises(Conflict, match="no health report"):
            progress.advance(s, plan_id=pid, now=later + dt.timedelta(days=2))
        with pytest.raises(Invalid):
            progress.report_health(s, plan_id=pid, metrics={"crashes": 1})
        plan = progress.report_health(s, plan_id=pid, metrics={"crash_rate": 0.05})
        assert (
            plan.status == "halted" and "canary: crash_rate = 0.05 exceeds gate 0.001" in plan.halted_reason
        )
    with database.unit_of_work() as s:
        with pytest.raises(Conflict):
            progress.advance(s, plan_id=pid, force=True)
        st = progress.status(s, plan_id=pid)
        assert [r["status"] for r in st["rings"][:3]] == ["passed", "failed", "pending"]
        assert [e["kind"] for e in st["events"]] == ["plan", "start", "health", "advance", "health", "halt"]
        assert sum(r["asset_count"] for r in st["rings"]) == 43
        audited = set(s.scalars(select(AuditLog.entity_type)))
        assert {
            "graph_rollout_plan",
            "graph_rollout_ring",
            "graph_rollout_event",
            "graph_rollout_member",
        } <= audited


def test_rollout_completes_with_force_and_manual_halt(database):
    with database.unit_of_work() as s:
        fleet(s)
        pid = progress.create_plan(s, product="Falcon").id
        progress.start(s, plan_id=pid)
        for _ in range(6):
            progress.advance(s, plan_id=pid, force=True)
        assert progress.get_plan(s, pid).status == "completed"
        with pytest.raises(Conflict):
            progress.halt(s, plan_id=pid, reason="too late")
        other = progress.create_plan(s, channel="content").id
        assert progress.halt(s, plan_id=other, reason="vendor recalled the update").status == "halted"


def test_diverse_pick_prefers_unseen_values():
    from ciimap.graph.rollout import Target, diverse_pick

    same = [Target(k, k, ("os:A", "site:1", "hw:X", "zone:1"), 0, False, False) for k in range(50)]
    varied = [
        Target(100 + k, 100 + k, (f"os:{k}", f"site:{k % 4}", f"hw:{k % 3}", "zone:1"), 1, False, False)
        for k in range(6)
    ]
    risky = [Target(200, 200, ("os:Z", "site:9", "hw:Q", "zone:9"), 2, False, False)]
    picked = diverse_pick(same + varied + risky, 6)
    oses = {t.features[0] for t in picked}
    assert len(picked) == 6 and len(oses) == 6  # a plain first-n pick would give one OS
    assert sum(1 for t in picked if t.features[0] == "os:A") == 1
    assert diverse_pick(same, 0) == [] and len(diverse_pick(same, 80)) == 50
