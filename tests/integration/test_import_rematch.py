"""Imports re-match vulnerabilities in the same transaction (issue 5: after every software change)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from ciimap.ingest import service as ingest
from ciimap.inventory.models import System
from ciimap.vulns.feed_import import import_feed
from ciimap.vulns.models import Finding

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DATA = Path(__file__).resolve().parents[1] / "data" / "vulns"


def _findings(db) -> int:
    with db.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(Finding).where(Finding.active.is_(True))) or 0)


def test_nmap_import_matches_service_cpes(database):
    with database.unit_of_work() as s:
        import_feed(s, kind="nvd", path=DATA / "nvd-openssh-redis.json")
    assert _findings(database) == 0
    with database.unit_of_work() as s:
        out = ingest.import_files(s, kind="nmap", paths=[SHARED / "nmap" / "loopback-sV-O.xml"])
    assert out["meta"]["vulns"] is not None
    with database.read_session() as s:
        pkgs = {p for (p,) in s.execute(select(Finding.package).where(Finding.active.is_(True)))}
    assert any("openssh" in p for p in pkgs), pkgs
    # the same scan again changes nothing, so nothing is re-matched and findings stay
    before = _findings(database)
    with database.unit_of_work() as s:
        again = ingest.import_files(s, kind="nmap", paths=[SHARED / "nmap" / "loopback-sV-O.xml"])
    assert again["changes"] == 0 and again["meta"]["vulns"] is None and _findings(database) == before


def test_sbom_import_matches_osv(database, tmp_path):
    import shutil

    osv = tmp_path / "osv"
    for pkg in ("jinja2", "requests", "urllib3"):
        shutil.copytree(SHARED / "osv-pypi" / "vulns" / pkg, osv / pkg)
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv)
        system = System(name="支付系统", mlps_level=3, is_cii=True)
        s.add(system)
        s.flush()
        sid = system.id
    with database.unit_of_work() as s:
        ingest.import_files(
            s, kind="sbom", paths=[SHARED / "sbom" / "python-app-sbom.cdx.json"], options={"system_id": sid}
        )
    with database.read_session() as s:
        pkgs = {
            p.split("@")[0].lower()
            for (p,) in s.execute(select(Finding.package).where(Finding.system_id == sid))
        }
    assert {"jinja2", "requests", "urllib3"} <= {p.rsplit("/", 1)[-1] for p in pkgs}, pkgs
