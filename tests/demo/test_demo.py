"""The demo operator: determinism, invariants of the generated map, audit, CLI behaviour."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from collections import Counter, defaultdict

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ciimap.core import audit
from ciimap.core.errors import Conflict, Invalid
from ciimap.demo import service
from ciimap.demo.cli import app as demo_app
from ciimap.inventory import models as m

NOW = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
SCALE = 600


def _load(db, seed=7, scale=SCALE, reset=False):
    with db.unit_of_work() as s:
        return service.load(s, scale=scale, seed=seed, reset=reset, now=NOW)


def test_same_seed_same_data_other_seed_other_data(database):
    first = _load(database, seed=7)
    with database.read_session() as s:
        hosts = list(s.scalars(select(m.Asset.hostname).order_by(m.Asset.id).limit(50)))
    again = _load(database, seed=7, reset=True)
    assert again["replaced"]["asset"] == SCALE
    assert again["digests"] == first["digests"]
    assert again["counts"] == first["counts"]
    with database.read_session() as s:
        assert list(s.scalars(select(m.Asset.hostname).order_by(m.Asset.id).limit(50))) == hosts
    other = _load(database, seed=8, reset=True)
    assert other["digests"]["asset"] != first["digests"]["asset"]
    assert other["counts"]["asset"] == SCALE


def test_counts_levels_cii_and_addresses(database):
    result = _load(database)
    counts = result["counts"]
    assert counts["asset"] == SCALE
    assert counts["business_service"] == 20
    assert 55 <= counts["system"] <= 65
    assert counts["vendor"] >= 30 and counts["product"] >= 40
    assert counts["service_endpoint"] > SCALE and counts["software"] > SCALE
    with database.read_session() as s:
        systems = list(s.scalars(select(m.System)))
        assert all(x.mlps_level == max(x.mlps_s_level, x.mlps_a_level) for x in systems)
        assert all(x.mlps_level >= 3 for x in systems if x.is_cii)
        assert sum(x.is_cii for x in systems) >= 10
        assert all(x.filing_number for x in systems if x.mlps_level >= 2)
        zones = {z.id: [ipaddress.ip_network(c) for c in z.cidrs] for z in s.scalars(select(m.NetworkZone))}
        assert {z.kind for z in s.scalars(select(m.NetworkZone))} >= {
            "dmz",
            "office",
            "production",
            "ot",
            "management",
            "internet",
        }
        assert all(
            z.internet_facing for z in s.scalars(select(m.NetworkZone).where(m.NetworkZone.kind == "dmz"))
        )
        for a in s.scalars(select(m.Asset)):
            assert a.primary_ip == a.ips[0]
            assert any(ipaddress.ip_address(a.primary_ip) in n for n in zones[a.zone_id]), a.hostname
        ip_rows = s.scalar(select(func.count()).select_from(m.IpAddress))
        assert ip_rows == sum(len(ips) for ips in s.scalars(select(m.Asset.ips)))
        vendors = list(s.scalars(select(m.Vendor)))
        assert {v.is_domestic for v in vendors} == {True, False}
        assert all(v.is_domestic == (v.country == "CN") for v in vendors)


def test_agent_with_kernel_updates_on_most_windows_hosts(database):
    _load(database)
    with database.read_session() as s:
        agents = list(
            s.scalars(
                select(m.Product).where(
                    m.Product.auto_update.is_(True), m.Product.update_privilege == "kernel"
                )
            )
        )
        assert len(agents) == 1 and agents[0].layer == "security" and agents[0].update_channel
        vendor = s.get(m.Vendor, agents[0].vendor_id)
        assert vendor is not None and not vendor.is_domestic
        windows = set(s.scalars(select(m.Asset.id).where(m.Asset.os_family == "windows")))
        with_agent = set(s.scalars(select(m.Software.asset_id).where(m.Software.product_id == agents[0].id)))
        assert len(windows) > SCALE * 0.3
        assert with_agent <= windows
        assert len(with_agent) / len(windows) > 0.75


def test_vulnerable_versions_for_matching(database):
    _load(database, scale=2000)
    with database.read_session() as s:
        purls = set(s.scalars(select(m.Software.purl).where(m.Software.purl.is_not(None))))
        cpes = set(s.scalars(select(m.Software.cpe).where(m.Software.cpe.is_not(None))))
    assert "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1" in purls
    assert "pkg:pypi/django@2.2.0" in purls and "pkg:pypi/requests@2.19.0" in purls
    assert "pkg:generic/openssl@1.1.1k" in purls
    assert "cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*" in cpes


NODE = {"business_service": m.BusinessService, "system": m.System, "asset": m.Asset}


def test_edges_valid_and_redundancy_groups(database):
    _load(database)
    with database.read_session() as s:
        edges = list(s.scalars(select(m.Edge)))
        ids = {t: set(s.scalars(select(model.id))) for t, model in NODE.items()}
        groups: dict[tuple, set[int]] = defaultdict(set)
        for e in edges:
            assert e.src_id in ids[e.src_type] and e.dst_id in ids[e.dst_type], e
            if e.redundancy_group:
                groups[(e.src_type, e.src_id, e.redundancy_group)].add(e.dst_id)
        assert groups and all(len(v) >= 2 for v in groups.values())
        kinds = {e.kind for e in edges}
        assert {"depends_on", "runs_on", "hosted_by", "replica_of", "uses"} <= kinds
        # the primary/backup control centres are alternatives for the dispatch service
        svc = s.scalar(select(m.BusinessService).where(m.BusinessService.code == "BS01"))
        alt = {e.redundancy_group for e in edges if e.src_type == "business_service" and e.src_id == svc.id}
        assert any(g and "ATS-OCC" in g for g in alt)
        # shared database platform: several systems depend on it
        dbp = s.scalar(select(m.System).where(m.System.code == "DBP-ORA"))
        users = [e for e in edges if e.dst_type == "system" and e.dst_id == dbp.id and e.kind == "depends_on"]
        assert len(users) >= 3
        # each standby replica points at a primary of the same system
        for e in (e for e in edges if e.kind == "replica_of"):
            a, b = s.get(m.Asset, e.src_id), s.get(m.Asset, e.dst_id)
            assert a.system_id == b.system_id is not None
        declared = set(s.scalars(select(m.Asset.declared)))
        assert declared == {True, False}


def test_audit_chain_verifies_and_records_digests(database):
    result = _load(database)
    with database.read_session() as s:
        check = audit.verify(s)
        assert check.ok, check.problems
        rows = list(s.scalars(select(audit.AuditLog).where(audit.AuditLog.action == "demo_load")))
        by_table = {r.entity_type: r.after for r in rows}
    assert set(by_table) == set(result["counts"])
    assert by_table["asset"]["count"] == SCALE
    assert by_table["asset"]["sha256"] == result["digests"]["asset"]


def test_all_or_nothing_on_failure(database, monkeypatch):
    from ciimap.demo.assets import AssetStream

    original = AssetStream.random_asset
    calls = {"n": 0}

    def failing(self):
        calls["n"] += 1
        if calls["n"] == 300:
            raise RuntimeError("disk full")
        original(self)

    monkeypatch.setattr(AssetStream, "random_asset", failing)
    with pytest.raises(RuntimeError):
        service.load_demo(scale=SCALE, seed=1)
    with database.read_session() as s:
        assert service.existing_rows(s) == {}


def test_scale_bounds(database):
    with pytest.raises(Invalid), database.unit_of_work() as s:
        service.load(s, scale=10, seed=1)


def test_cli_json_refuses_twice_then_reset(database):
    runner = CliRunner()
    out = runner.invoke(demo_app, ["--scale", "500", "--seed", "3", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["counts"]["asset"] == 500 and data["seed"] == 3 and len(data["digests"]["asset"]) == 64
    again = runner.invoke(demo_app, ["--scale", "500", "--json"])
    assert isinstance(again.exception, Conflict)
    assert "--reset" in again.exception.message and "asset 500" in again.exception.message
    with database.read_session() as s:
        assert s.scalar(select(func.count()).select_from(m.Asset)) == 500
    reset = runner.invoke(demo_app, ["--scale", "500", "--seed", "3", "--reset", "--json"])
    assert reset.exit_code == 0, reset.output
    replaced = json.loads(reset.stdout)
    assert replaced["replaced"]["asset"] == 500
    human = runner.invoke(demo_app, ["--scale", "500", "--reset"])
    assert human.exit_code == 0 and "loaded" in human.stdout and "asset" in human.stdout


def test_api_filters_and_prefix_search_on_demo(database, client, admin_headers):
    _load(database)
    with database.read_session() as s:
        a = s.scalar(
            select(m.Asset).where(m.Asset.kind == "workstation").order_by(m.Asset.id.desc()).limit(1)
        )
        zone_id, host, ip = a.zone_id, a.hostname, a.primary_ip
        in_zone = s.scalar(select(func.count()).select_from(m.Asset).where(m.Asset.zone_id == zone_id))
    page = client.get(f"/api/assets?zone_id={zone_id}&limit=50", headers=admin_headers).json()
    assert page["total"] == in_zone and all(x["zone_id"] == zone_id for x in page["items"])
    prefix = host.rsplit("-", 1)[0] + "-"
    found = client.get(f"/api/assets?q={prefix}&limit=500", headers=admin_headers).json()
    assert found["items"] and all(x["hostname"].startswith(prefix) for x in found["items"])
    assert host in {x["hostname"] for x in found["items"]}
    net = ip.rsplit(".", 1)[0] + "."
    by_ip = client.get(f"/api/assets?q={net}&limit=500", headers=admin_headers).json()
    assert any(x["primary_ip"] == ip for x in by_ip["items"])
    assert all(any(i.startswith(net) for i in x["ips"]) for x in by_ip["items"])


def test_large_totals_are_exact_and_cached_briefly(database, client, admin_headers, monkeypatch):
    from ciimap.core import listing

    monkeypatch.setattr(listing, "COUNT_CAP", 50)
    monkeypatch.setattr(listing, "COUNT_TTL", 3600.0)  # however slow the machine, the total stays cached
    monkeypatch.setattr(listing, "_count_cache", {})
    _load(database)
    with database.read_session() as s:
        zone_id, n = s.execute(
            select(m.Asset.zone_id, func.count())
            .group_by(m.Asset.zone_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    assert n > 50
    url = f"/api/assets?zone_id={zone_id}&limit=10"
    assert client.get(url, headers=admin_headers).json()["total"] == n
    victim = client.get(url, headers=admin_headers).json()["items"][0]["id"]
    assert client.delete(f"/api/assets/{victim}", headers=admin_headers).status_code == 204
    assert client.get(url, headers=admin_headers).json()["total"] == n  # cached large total
    monkeypatch.setattr(listing, "COUNT_TTL", 0.0)
    assert client.get(url, headers=admin_headers).json()["total"] == n - 1
    other = client.get(url, headers=admin_headers).json()["items"][0]
    small = client.get(f"/api/assets?q={other['hostname']}&limit=10", headers=admin_headers).json()
    assert small["total"] == 1 and small["items"][0]["id"] == other["id"]  # small totals: always exact


@pytest.mark.parametrize(("dense", "cap"), [(5_000, 10_000), (5, 10_000), (5, 3)])
def test_search_pages_match_the_naive_result(database, monkeypatch, dense, cap):
    from ciimap.core import entity, listing
    from ciimap.inventory.service import ASSETS

    monkeypatch.setattr(listing, "DENSE", dense)
    monkeypatch.setattr(listing, "COUNT_CAP", cap)
    monkeypatch.setattr(listing, "_count_cache", {})
    _load(database)
    with database.read_session() as s:
        assets = list(s.scalars(select(m.Asset)))
        addrs = defaultdict(list)
        for ip in s.scalars(select(m.IpAddress)):
            addrs[ip.asset_id].append(ip.address)
        for q in ("hq-", "10.", "l1s01-", "occ-app-"):
            want = sorted(
                a.id
                for a in assets
                if any(
                    (v or "").lower().startswith(q)
                    for v in (a.hostname, a.primary_ip, a.name, a.serial, *addrs[a.id])
                )
            )
            assert want, q
            got, after = [], None
            while True:
                page = entity.list_page(s, ASSETS, q=q, limit=7, after=after)
                got += [x.id for x in page["items"]]
                if page["next_after"] is None:
                    break
                after = page["next_after"]
            assert got == want, q
            assert page["total"] == len(want)
            mid = entity.list_page(s, ASSETS, q=q, limit=5, offset=3)
            assert [x.id for x in mid["items"]] == want[3:8]
        # the same searches within a filter (broad and narrow prefixes, filters of every size)
        zone = Counter(a.zone_id for a in assets).most_common(1)[0][0]
        for filters in ({"zone_id": zone}, {"kind": "server"}, {"kind": "workstation"}):
            for q in ("hq-", "10.", "l1s01-", "dc-"):
                want = sorted(
                    a.id
                    for a in assets
                    if all(getattr(a, k) == v for k, v in filters.items())
                    and any(
                        (v or "").lower().startswith(q)
                        for v in (a.hostname, a.primary_ip, a.name, a.serial, *addrs[a.id])
                    )
                )
                got, after = [], None
                while True:
                    page = entity.list_page(s, ASSETS, filters=filters, q=q, limit=9, after=after)
                    got += [x.id for x in page["items"]]
                    if page["next_after"] is None:
                        break
                    after = page["next_after"]
                assert got == want, (filters, q)
                first = entity.list_page(s, ASSETS, filters=filters, q=q, limit=4, offset=2)
                assert [x.id for x in first["items"]] == want[2:6] and first["total"] == len(want), (
                    filters,
                    q,
                )
