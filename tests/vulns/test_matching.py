"""Matching on the real PyPI OSV data and the real python-app SBOM; NVD CPE matching guard rails."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import event, select, update

from ciimap.core.db import Database
from ciimap.inventory.models import Software
from ciimap.vulns import service
from ciimap.vulns.feed_import import import_feed
from ciimap.vulns.models import Finding

from .helpers import DATA, KEV_JSON, OSV, asset, endpoint, osv_subset, sbom_system

#: Hand-verified against the YAML files in ../shared/data/osv-pypi/vulns/<package>/ (ECOSYSTEM ranges).
EXPECTED = {
    "pkg:pypi/jinja2": {"PYSEC-2019-217", "PYSEC-2021-66"},  # 2.10 < 2.10.1, < 2.11.3; not the 2.7/2.8 ones
    "pkg:pypi/pyyaml": {
        "PYSEC-2020-96",
        "PYSEC-2021-142",
    },  # 5.1 ≤ 5.3 < 5.3.1; < 5.4; 5.2b1 fix excludes -176
    "pkg:pypi/requests": {"PYSEC-2018-28", "PYSEC-2023-74"},
    "pkg:pypi/urllib3": {
        "PYSEC-2019-132",
        "PYSEC-2019-133",
        "PYSEC-2020-148",
        "PYSEC-2021-108",
        "PYSEC-2023-192",
        "PYSEC-2023-207",
        "PYSEC-2023-212",
    },
    "pkg:pypi/werkzeug": {
        "PYSEC-2019-140",
        "PYSEC-2022-203",
        "PYSEC-2023-221",
        "PYSEC-2023-57",
        "PYSEC-2023-58",
    },
    "pkg:pypi/flask": {"PYSEC-2018-66", "PYSEC-2019-179", "PYSEC-2023-62"},
}
#: Packages of the SBOM whose pinned version no advisory in the subset covers (all fixed earlier).
CLEAN = ("pkg:pypi/numpy", "pkg:pypi/sqlalchemy")


def _by_package(s) -> dict[str, set[str]]:  # noqa: ANN001
    out: dict[str, set[str]] = defaultdict(set)
    for f in s.scalars(select(Finding).where(Finding.active.is_(True))):
        out[f.package].add(f.advisory_id)
    return out


def test_sbom_matches_hand_verified_advisories(database: Database, tmp_path: Path) -> None:
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp_path), rematch=False)
        sbom_system(s)
        r = service.match(s)
    assert r["components"] == 13
    with database.read_session() as s:
        found = _by_package(s)
        for pkg, ids in EXPECTED.items():
            assert found[pkg] == ids, pkg
        for pkg in CLEAN:
            assert pkg not in found
        f = s.scalars(select(Finding).where(Finding.advisory_id == "PYSEC-2019-217")).one()
        assert f.evidence["range"] == {"type": "ECOSYSTEM", "introduced": "0", "fixed": "2.10.1"}
        assert (f.evidence["feed"], f.evidence["version"], f.version) == ("osv", "2.10", "2.10")
        assert f.evidence["snapshot"] and f.cve_ids == ["CVE-2019-10906"]
        assert f.triage_key.startswith("system:") and f.status == "new" and f.due_date is not None


@pytest.mark.parametrize(
    ("package", "fixed"),
    [
        ("jinja2", "2.11.3"),
        ("pyyaml", "5.4"),
        ("requests", "2.31.0"),
        ("urllib3", "1.26.18"),
        ("werkzeug", "2.3.8"),
        ("flask", "2.2.5"),
    ],
)
def test_fixed_versions_do_not_match(database: Database, tmp_path: Path, package: str, fixed: str) -> None:
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp_path), rematch=False)
        sbom_system(s)
        service.match(s)
        sw = s.scalars(select(Software).where(Software.name == package)).one()
        sw.version, sw.purl = fixed, f"pkg:pypi/{package}@{fixed}"
        s.flush()
        r = service.rematch_for(s, software_ids=[sw.id])
    assert r["findings_closed"] == len(EXPECTED[f"pkg:pypi/{package}"])
    with database.read_session() as s:
        assert f"pkg:pypi/{package}" not in _by_package(s)
        closed = s.scalars(select(Finding).where(Finding.package == f"pkg:pypi/{package}")).all()
        assert closed and all(not f.active and f.status == "fixed" for f in closed)


def test_unsorted_osv_events_and_second_interval(database: Database, tmp_path: Path) -> None:
    """PYSEC-2023-192 lists 2.0.0→2.0.6 before 0→1.26.17; both intervals must apply."""
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp_path, ("urllib3",)), rematch=False)
        a = asset(s, "web01")
        for v in ("2.0.3", "2.0.6", "1.26.16", "1.26.17"):
            s.add(Software(asset_id=a.id, name="urllib3", version=v, purl=f"pkg:pypi/urllib3@{v}"))
        s.flush()
        service.match(s)
        hits = {f.version for f in s.scalars(select(Finding).where(Finding.advisory_id == "PYSEC-2023-192"))}
    assert hits == {"2.0.3", "1.26.16"}


def test_pep503_names_and_pep440_equivalent_versions(database: Database, tmp_path: Path) -> None:
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp_path, ("pyyaml",)), rematch=False)
        a = asset(s, "app01")
        s.add(Software(asset_id=a.id, name="PyYAML", version="5.3.0", purl="pkg:pypi/PyYAML@5.3.0"))
        s.flush()
        service.match(s)
        ids = {f.advisory_id for f in s.scalars(select(Finding))}
    assert ids == {"PYSEC-2020-96", "PYSEC-2021-142"}


def test_kev_and_epss_raise_priority(database: Database, tmp_path: Path) -> None:
    """salt 3000.1 has PYSEC-2020-102 = CVE-2020-11651, which is in the real KEV catalogue."""
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp_path, ("salt",)), rematch=False)
        import_feed(s, kind="kev", path=KEV_JSON, rematch=False)
        import_feed(s, kind="epss", path=DATA / "epss.csv", rematch=False)
        a = asset(s, "saltmaster")
        s.add(Software(asset_id=a.id, name="salt", version="3000.1", purl="pkg:pypi/salt@3000.1"))
        s.flush()
        service.match(s)
        f = s.scalars(select(Finding).where(Finding.advisory_id == "PYSEC-2020-102")).one()
    factors = {x["factor"]: x for x in f.factors}
    assert factors["kev"]["points"] == 20.0 and factors["epss"]["value"] == pytest.approx(0.9748)
    # no CVSS in the PyPI record: 5.0·4 = 20, KEV 20, EPSS 0.9748·15 = 14.62, no map context
    assert (f.score, f.priority) == (54.6, "P2")
    assert f.score == pytest.approx(sum(x["points"] for x in f.factors), abs=0.11)


@pytest.mark.slow
def test_full_pypi_database_and_kev(database: Database) -> None:
    """The whole real OSV PyPI database (2,661 advisories) plus KEV; salt 3000.1 is KEV-listed."""
    with database.unit_of_work() as s:
        r = import_feed(s, kind="osv", path=OSV, rematch=False)
        import_feed(s, kind="kev", path=KEV_JSON, rematch=False)
        system = sbom_system(s)
        s.add(Software(system_id=system.id, name="salt", version="3000.1", purl="pkg:pypi/salt@3000.1"))
        s.flush()
        m = service.match(s)
    assert r["records"] == 2661 and m["components"] == 14
    with database.read_session() as s:
        found = _by_package(s)
        for pkg, ids in EXPECTED.items():
            assert found[pkg] == ids, pkg
        kev = s.scalars(select(Finding).where(Finding.advisory_id == "PYSEC-2020-102")).one()
        assert any(f["factor"] == "kev" for f in kev.factors)
        assert kev.priority in ("P1", "P2")


def _openssh(s, version_cpe: str, *, extra: list[str] | None = None):  # noqa: ANN001, ANN202
    a = asset(s, f"ssh-{version_cpe.rsplit(':', 1)[-1]}", internet=True)
    endpoint(s, a, 22, [version_cpe, *(extra or [])])
    return a


def test_nvd_cpe_ranges_exact_versions_and_wildcard_guard(database: Database) -> None:
    with database.unit_of_work() as s:
        import_feed(s, kind="nvd", path=DATA / "nvd-openssh-redis.json", rematch=False)
        for v in ("9.2p1", "9.3p1", "9.3p2", "9.8"):
            _openssh(s, f"cpe:/a:openbsd:openssh:{v}")
        pg = asset(s, "pg")
        endpoint(s, pg, 5432, ["cpe:/a:postgresql:postgresql", "cpe:/a:openbsd:openssh"])
        r = service.match(s)
        got = defaultdict(set)
        for f in s.scalars(select(Finding)):
            got[f.version].add(f.advisory_id)
    assert got == {
        "9.2p1": {"CVE-2024-6387", "CVE-2023-38408"},
        "9.3p1": {"CVE-2024-6387", "CVE-2023-38408"},  # exact criteria 9.3 update p1
        "9.3p2": {"CVE-2024-6387"},
    }
    assert r["skipped_wildcard"] == 4  # CVE-2007-2768's bare openssh:* never matches a version
    assert r["skipped_unversioned"] == 1  # openssh without a version on the pg host


def test_nvd_and_configuration_needs_platform(database: Database) -> None:
    with database.unit_of_work() as s:
        import_feed(s, kind="nvd", path=DATA / "nvd-openssh-redis.json", rematch=False)
        bare = asset(s, "redis-unknown-os")
        s.add(
            Software(
                asset_id=bare.id,
                name="redis",
                version="7.0.15",
                cpe="cpe:2.3:a:redis:redis:7.0.15:*:*:*:*:*:*:*",
            )
        )
        linux = asset(s, "redis-linux")
        s.add(Software(asset_id=linux.id, name="redis", version="7.0.15", cpe="cpe:/a:redis:redis:7.0.15"))
        s.add(
            Software(
                asset_id=linux.id,
                name="kernel",
                version="-",
                cpe="cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*",
            )
        )
        vendor_alias = asset(
            s, "redislabs"
        )  # nmap says redislabs; NVD says redis: vendors must match exactly
        endpoint(s, vendor_alias, 6379, ["cpe:/a:redislabs:redis:7.0.15"])
        s.flush()
        service.match(s)
        rows = {
            f.asset_id: f for f in s.scalars(select(Finding).where(Finding.advisory_id == "CVE-2024-31449"))
        }
    assert set(rows) == {bare.id, linux.id}
    assert rows[linux.id].confidence == "high" and "platform_not_seen" not in rows[linux.id].evidence
    assert rows[bare.id].confidence == "low"
    assert rows[bare.id].evidence["platform_not_seen"] == ["cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*"]
    assert rows[bare.id].score < rows[linux.id].score


def test_where_by_alias_package_purl_and_cnnvd(database: Database, tmp_path: Path) -> None:
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp_path, ("jinja2",)), rematch=False)
        import_feed(s, kind="cnnvd", path=DATA / "cnnvd-raw.xml", rematch=False)
        sbom_system(s)
        service.match(s)
    with database.read_session() as s:
        by_cve = service.where(s, query="cve-2019-10906")
        assert {a.advisory_id for a in by_cve["advisories"]} == {"PYSEC-2019-217", "CNNVD-201904-331"}
        assert [f.advisory_id for f in by_cve["findings"]] == ["PYSEC-2019-217"]
        by_cnnvd = service.where(s, query="CNNVD-201904-331")
        assert [f.advisory_id for f in by_cnnvd["findings"]] == ["PYSEC-2019-217"]
        pkg = service.where(s, query="Jinja2")
        assert {f.advisory_id for f in pkg["findings"]} == EXPECTED["pkg:pypi/jinja2"]
        assert [c.version for c in pkg["components"]] == ["2.10"]
        assert service.where(s, query="jinja2@2.11.3")["findings"] == []
        assert len(service.where(s, query="pkg:pypi/jinja2@2.10")["findings"]) == 2


def test_match_uses_a_constant_number_of_queries(database: Database, tmp_path: Path) -> None:
    """Batching: 40 or 400 components cost the same number of SQL statements."""
    counts = []
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp_path), rematch=False)
        a = asset(s, "big")
        for n in (40, 400):
            s.execute(update(Finding).values(active=False))
            s.query(Software).delete()
            versions = ["2.10", "2.11.3", "2.8", "2.10.1", "2.7.2"]
            s.add_all(
                Software(
                    asset_id=a.id,
                    name="jinja2",
                    version=versions[i % 5],
                    purl=f"pkg:pypi/jinja2@{versions[i % 5]}",
                )
                for i in range(n)
            )
            s.flush()
            seen: list[str] = []
            conn = s.connection()
            listener = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(conn, "before_cursor_execute", listener)
            service.match(s)
            event.remove(conn, "before_cursor_execute", listener)
            counts.append(len(seen))
    assert counts[0] == counts[1] and counts[1] < 40


def test_business_context_from_the_map(database: Database, tmp_path: Path) -> None:
    """Zone exposure, open ports, MLPS level, CII flag and a critical business service via an edge."""
    from ciimap.core import jobs
    from ciimap.inventory.models import BusinessService, Edge, System

    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp_path, ("jinja2",)), rematch=False)
        system = System(name="dispatch", mlps_level=4, is_cii=True)
        s.add(system)
        s.flush()
        bs = BusinessService(name="电力调度", criticality="critical")
        s.add(bs)
        s.flush()
        s.add(
            Edge(
                src_type="business_service",
                src_id=bs.id,
                kind="depends_on",
                dst_type="system",
                dst_id=system.id,
            )
        )
        a = asset(s, "portal", internet=True, system=system)
        endpoint(s, a, 443, [])
        sw = Software(asset_id=a.id, name="jinja2", version="2.10", purl="pkg:pypi/jinja2@2.10")
        s.add(sw)
        s.flush()
        sw_id, system_id = sw.id, system.id
    result = jobs.run_inline("vulns.match", {"software_ids": [sw_id]})
    assert result["findings"] == 2
    with database.read_session() as s:
        f = s.scalars(select(Finding).where(Finding.advisory_id == "PYSEC-2019-217")).one()
        points = {x["factor"]: x["points"] for x in f.factors}
        assert points == {
            "cvss": 20.0,
            "internet_facing": 10.0,
            "open_port": 2.5,
            "mlps": 8.0,
            "cii": 5.0,
            "business": 10.0,
        }
        assert (f.score, f.priority, f.system_id) == (55.5, "P2", system_id)
        assert f.due_date == (f.first_matched + dt.timedelta(days=30)).date()


def test_a_large_run_refreshes_sqlite_planner_statistics(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a run that wrote many new findings, SQLite has statistics for the findings table (the grouped
    findings pages pick their covering index from them); PostgreSQL keeps its own (autovacuum): no ANALYZE."""
    from sqlalchemy import text

    monkeypatch.setattr(service, "ANALYZE_AFTER", 5)
    seen: list[str] = []
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp_path), rematch=False)
        sbom_system(s)
        conn = s.connection()
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(conn, "before_cursor_execute", listener)
        r = service.match(s)
        event.remove(conn, "before_cursor_execute", listener)
        assert r["findings_new"] >= 5
    sqlite = database.engine.dialect.name == "sqlite"
    assert ("ANALYZE vuln_finding" in seen) is sqlite
    if sqlite:
        with database.read_session() as s:
            stats = s.execute(text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'vuln_finding'")).scalars().all()
        assert "ix_vuln_finding_groups_advisory" in stats
