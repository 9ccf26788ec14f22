"""What-if impact on hand-built maps: fail vs degrade, paths, ranking, selectors, cache."""

from __future__ import annotations

import pytest

from ciimap.core.errors import Invalid, NotFound
from ciimap.graph.build import build_graph
from ciimap.graph.impact import impact, impact_many
from ciimap.graph.schemas import Selector
from ciimap.graph.service import save_scenario
from ciimap.inventory import models as m

from .mapkit import Map, crowdstrike_map


def _status(res) -> dict[str, str]:  # noqa: ANN001
    return {n.name: n.status for n in res.services + res.systems}


def test_vendor_failure_fails_unreplicated_and_degrades_replicated(database):
    with database.unit_of_work() as s:
        crowdstrike_map(s)
    with database.read_session() as s:
        res = impact(s, kind="vendor", ref="CrowdStrike")
    assert _status(res) == {"Payments": "failed", "Web": "failed", "Core": "degraded"}
    pay = res.services[0]
    assert pay.path_text == (
        "business_service:Payments ← system:Web ← asset:web1 ← product:Falcon ← vendor:CrowdStrike"
    )
    assert [p.type for p in pay.path] == ["business_service", "system", "asset", "product", "vendor"]
    core = next(n for n in res.systems if n.name == "Core")
    assert "1 of 2 alternatives" in core.reason and core.is_cii and core.mlps_level == 3
    assert res.counts["failed"]["asset"] == 2 and res.counts["degraded"] == {"system": 1}
    assert {a.name for a in res.assets} == {"db1", "web1"} and res.assets_total == 2
    assert pay.is_cii and pay.mlps_level == 3  # a service inherits CII/MLPS from the systems it needs


def test_ranking_failed_first_then_cii_and_level(database):
    with database.unit_of_work() as s:
        mp = crowdstrike_map(s)
        mp.system("Mail", mlps_level=2, is_cii=False)
        mp.system("Grid", mlps_level=4, is_cii=True)
        mp.asset("mail1", system="Mail", software=["Kylin OS"])
        mp.asset("grid1", system="Grid", software=["Kylin OS"])
    with database.read_session() as s:
        res = impact(s, kind="product", ref="kylin os")  # names are case-insensitive
    assert [n.name for n in res.systems] == ["Grid", "Mail", "HR", "Core"]
    assert [n.status for n in res.systems] == ["failed", "failed", "failed", "degraded"]
    assert [n.name for n in res.services] == ["HRsvc", "Payments"]


def test_both_replicas_down_fails_the_system(database):
    with database.unit_of_work() as s:
        crowdstrike_map(s)
    with database.read_session() as s:
        res = impact_many(s, selectors=[Selector(kind="site", ref="DC1"), Selector(kind="site", ref="DC2")])
    st = _status(res)
    assert st["Core"] == "failed" and st["Payments"] == "failed" and st["HRsvc"] == "failed"
    core = next(n for n in res.systems if n.name == "Core")
    assert "all 2 alternatives" in core.reason


def test_selectors(database):
    with database.unit_of_work() as s:
        mp = crowdstrike_map(s)
    with database.read_session() as s:
        assert _status(impact(s, kind="product-version", ref="Windows Server@2022")) == {
            "Payments": "failed",
            "Web": "failed",
        }
        assert _status(impact(s, kind="product-version", ref="Windows Server@2019")) == {
            "Payments": "degraded",
            "Core": "degraded",
        }
        assert _status(impact(s, kind="channel", ref="falcon-content"))["Web"] == "failed"
        assert _status(impact(s, kind="asset", ref="hr1")) == {"HRsvc": "failed", "HR": "failed"}
        assert _status(impact(s, kind="asset", ref=str(mp.id("db2")))) == {
            "Payments": "degraded",
            "Core": "degraded",
        }
        assert _status(impact(s, kind="site", ref="DC2"))["HR"] == "failed"
        with pytest.raises(NotFound):
            impact(s, kind="vendor", ref="Nobody")
        with pytest.raises(Invalid):
            impact(s, kind="planet", ref="x")
        with pytest.raises(Invalid):
            impact(s, kind="product-version", ref="Windows Server")
        with pytest.raises(NotFound):
            impact(s, kind="channel", ref="nope")


def test_explicit_redundancy_edges_and_cache_refresh(database):
    with database.unit_of_work() as s:
        mp = Map(s)
        mp.vendor("V")
        mp.product("P", "V")
        mp.product("Q", "V")
        mp.system("A")
        mp.system("B")
        mp.service("S", criticality="critical")
        mp.asset("a1", software=["P"])
        mp.asset("b1", software=["Q"])
        mp.need("A", "a1", kind="runs_on")
        mp.need("B", "b1", kind="runs_on")
        mp.need("S", "A", group="active-active")
        mp.need("S", "B", group="active-active")
    with database.read_session() as s:
        g1 = build_graph(s)
        assert build_graph(s) is g1  # unchanged map: cached
        assert _status(impact(s, kind="product", ref="P")) == {"S": "degraded", "A": "failed"}
        assert _status(impact(s, kind="vendor", ref="V"))["S"] == "failed"
    with database.unit_of_work() as s:
        e = s.query(m.Edge).filter_by(src_type="business_service", dst_type="system").first()
        e.redundancy_group = None  # now S needs each of A and B
    with database.read_session() as s:
        g2 = build_graph(s)
        assert g2 is not g1
        assert _status(impact(s, kind="product", ref="P"))["S"] == "failed"
    with database.unit_of_work() as s:  # changes outside the map (a saved scenario) keep the cache
        save_scenario(s, name="p", selectors=[Selector(kind="product", ref="P")])
    with database.read_session() as s:
        assert build_graph(s) is g2


def test_plain_assets_of_a_system_are_each_needed_and_cycles_terminate(database):
    with database.unit_of_work() as s:
        mp = Map(s)
        mp.vendor("V")
        mp.product("P", "V")
        mp.system("X")
        mp.system("Y")
        mp.asset("x1", system="X", software=["P"])
        mp.asset("x2", system="X")
        mp.asset("x3", system="X", lifecycle_status="retired", software=["P"])
        mp.need("X", "Y")
        mp.need("Y", "X")  # a dependency cycle
    with database.read_session() as s:
        res = impact(s, kind="asset", ref="x2")
        assert _status(res) == {"X": "failed", "Y": "failed"}
        assert res.counts["failed"]["asset"] == 1
        with pytest.raises(Invalid):
            impact(s, kind="asset", ref="x3")  # retired assets are not in the graph


def test_wired_system_needs_its_edges_and_other_members_only_degrade_it(database):
    """Like the demo: a system runs_on a redundant pair; its many terminals only degrade it."""
    with database.unit_of_work() as s:
        mp = Map(s)
        mp.vendor("V")
        mp.product("Agent", "V")
        mp.system("AFC", is_cii=True, mlps_level=3)
        mp.asset("app1", system="AFC")
        mp.asset("app2", system="AFC")
        mp.asset("tvm1", system="AFC", software=["Agent"])
        mp.asset("tvm2", system="AFC", software=["Agent"])
        mp.need("AFC", "app1", group="afc-app", kind="runs_on")
        mp.need("AFC", "app2", group="afc-app", kind="runs_on")
    with database.read_session() as s:
        res = impact(s, kind="product", ref="Agent")
        assert _status(res) == {"AFC": "degraded"}
        assert "member asset tvm" in res.systems[0].reason
        assert _status(impact(s, kind="asset", ref="app1")) == {"AFC": "degraded"}
        both = impact_many(
            s, selectors=[Selector(kind="asset", ref="app1"), Selector(kind="asset", ref="app2")]
        )
        assert _status(both) == {"AFC": "failed"}
        assert "(always up)" not in str(res.model_dump())
