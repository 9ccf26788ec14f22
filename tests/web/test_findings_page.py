"""The findings page on both databases: real OSV advisories matched against a small map, risk order,
filters (severity, status, KEV, asset, system, site), paging, triage with CSRF, both languages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ciimap.core.audit import AuditLog
from ciimap.core.db import Database
from ciimap.inventory.models import Site, Software, System
from ciimap.vulns import service
from ciimap.vulns.feed_import import import_feed
from ciimap.vulns.models import Advisory, AdvisoryAlias, EpssScore, Finding, KevEntry
from ciimap.web import views_findings
from conftest import make_user
from vulns.helpers import asset, osv_subset
from web.test_pages import login

KEV_ADVISORY = "PYSEC-2019-217"


@pytest.fixture
def vulnmap(database: Database, tmp_path: Path) -> dict[str, Any]:
    """Two assets of one system (jinja2 2.10 on web01, PyYAML 5.3 on db01), findings matched, one
    advisory's CVE in KEV with an EPSS score."""
    for name in ("admin", "analyst", "auditor"):
        make_user(database, name, name)
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp_path, ("jinja2", "pyyaml")), rematch=False)
        site = Site(name="北京数据中心")
        s.add(site)
        s.flush()
        system = System(name="支付系统", mlps_level=3)
        s.add(system)
        s.flush()
        web, db = asset(s, "web01", internet=True, system=system), asset(s, "db01", system=system)
        web.site_id = site.id
        s.add(Software(asset_id=web.id, name="jinja2", version="2.10", purl="pkg:pypi/jinja2@2.10"))
        s.add(Software(asset_id=db.id, name="PyYAML", version="5.3", purl="pkg:pypi/pyyaml@5.3"))
        s.flush()
        cve = s.scalars(
            select(AdvisoryAlias.alias)
            .join(Finding, Finding.advisory_pk == AdvisoryAlias.advisory_pk)
            .where(Finding.advisory_id == KEV_ADVISORY, AdvisoryAlias.alias.like("CVE-%"))
        ).first()
        if cve is None:  # before the first match: take the CVE from the OSV record's aliases
            adv = s.scalars(select(Advisory).where(Advisory.advisory_id == KEV_ADVISORY)).one()
            cve = next(a for a in adv.aliases if a.startswith("CVE-"))
        s.add(KevEntry(cve_id=cve, vendor_project="Pallets", product="Jinja2"))
        s.add(EpssScore(cve_id=cve, epss=0.4321))
        s.flush()
        # severities: an NVD record for the KEV CVE (critical, linked by the CVE) and one OSV record's own
        nvd = Advisory(advisory_id=cve, source="nvd", severity="critical", cvss_score=9.8, aliases=[])
        s.add(nvd)
        s.flush()
        s.add(AdvisoryAlias(alias=cve, advisory_pk=nvd.id))
        service.match(s)
        medium = s.scalars(select(Finding).where(Finding.asset_id == db.id).order_by(Finding.id)).first()
        s.get(Advisory, medium.advisory_pk).severity = "medium"
        ids = {
            "web": web.id,
            "db": db.id,
            "system": system.id,
            "site": site.id,
            "cve": cve,
            "medium": medium.id,
        }
    with database.read_session() as s:
        ids["order"] = [
            f.id
            for f in s.scalars(
                select(Finding).where(Finding.active.is_(True)).order_by(Finding.score.desc(), Finding.id)
            )
        ]
        ids["jinja"] = [f.id for f in s.scalars(select(Finding).where(Finding.asset_id == web.id))]
    assert len(ids["order"]) >= 4 and len(ids["jinja"]) >= 2
    return ids


def _rows(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-finding="(\d+)"', html)]


def test_findings_page_lists_by_risk_in_both_languages(client, vulnmap):
    assert (
        client.get("/findings", follow_redirects=False)
        .headers["location"]
        .startswith("/login?next=/findings")
    )
    csrf = login(client, "auditor")
    home = client.get("/").text
    assert 'href="/findings"' in home and "漏洞发现" in home
    page = client.get("/findings")
    assert page.status_code == 200 and "漏洞编号" in page.text and "按风险" in page.text
    assert _rows(page.text) == vulnmap["order"]  # the API's risk order
    api = client.get("/api/vulns/findings").json()
    assert [f["id"] for f in api["items"]] == vulnmap["order"]
    html = page.text
    assert f'href="/entities/assets/{vulnmap["web"]}"' in html and "web01" in html and "支付系统" in html
    assert "pkg:pypi/jinja2" in html and "2.10" in html and KEV_ADVISORY in html and vulnmap["cve"] in html
    assert (
        "0.432" in html
        and html.count("data-kev") == 1
        and "待处置" in html
        and "超危" in html
        and "9.8" in html
    )
    assert "/findings/" not in html  # auditors get no status forms
    assert f"/findings?site_id={vulnmap['site']}" in client.get("/sitemap").text
    assert f"/findings?asset_id={vulnmap['web']}" in client.get(f"/entities/assets/{vulnmap['web']}").text
    client.patch("/api/ui/locale", json={"locale": "en"}, headers={"X-CSRF-Token": csrf})
    en = client.get("/findings").text
    assert '<html lang="en">' in en and "Ordered by risk" in en and "CVE / advisory" in en and "new" in en
    assert _rows(en) == vulnmap["order"]


def test_findings_filters_narrow_the_rows(client, vulnmap):
    login(client, "admin")
    every = set(vulnmap["order"])
    kev = _rows(client.get("/findings", params={"kev": "yes"}).text)
    assert len(kev) == 1 and kev[0] in vulnmap["jinja"]
    assert set(_rows(client.get("/findings", params={"kev": "no"}).text)) == every - set(kev)
    web = _rows(client.get("/findings", params={"asset_id": vulnmap["web"]}).text)
    assert set(web) == set(vulnmap["jinja"]) and set(web) < every
    assert set(_rows(client.get("/findings", params={"system_id": vulnmap["system"]}).text)) == every
    assert set(_rows(client.get("/findings", params={"site_id": vulnmap["site"]}).text)) == set(
        vulnmap["jinja"]
    )
    kev_row = kev[0]
    assert _rows(client.get("/findings", params={"severity": "critical"}).text) == [kev_row]
    assert _rows(client.get("/findings", params={"severity": "medium"}).text) == [vulnmap["medium"]]
    assert _rows(client.get("/findings", params={"severity": "high"}).text) == []
    assert client.get("/api/vulns/findings", params={"severity": "critical"}).json()["total"] == 1
    assert _rows(client.get("/findings", params={"status": "fixed"}).text) == []
    combo = _rows(client.get("/findings", params={"kev": "yes", "asset_id": vulnmap["db"]}).text)
    assert combo == []
    bad = client.get("/findings", params={"asset_id": "abc"})
    assert bad.status_code == 200 and "asset_id: expected a whole number" in bad.text
    assert set(_rows(bad.text)) == every  # unfiltered list under the message


def test_findings_paging_keeps_filters(client, vulnmap, monkeypatch):
    monkeypatch.setattr(views_findings, "PAGE_SIZE", 2)
    login(client, "admin")
    first = client.get("/findings", params={"system_id": vulnmap["system"]}).text
    assert _rows(first) == vulnmap["order"][:2]
    nxt = re.search(r'rel="next" href="\?([^"]+)"', first).group(1).replace("&amp;", "&")
    assert f"system_id={vulnmap['system']}" in nxt and "page=2" in nxt
    assert _rows(client.get("/findings?" + nxt).text) == vulnmap["order"][2:4]


def test_status_change_from_the_page(client, vulnmap, database):
    fid = vulnmap["order"][0]
    csrf = login(client, "auditor")
    assert (
        client.post(
            f"/findings/{fid}/triage", data={"state": "confirmed"}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 403
    )
    client.cookies.clear()
    csrf = login(client, "analyst")
    h = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    assert f'hx-post="/findings/{fid}/triage"' in client.get("/findings").text
    assert client.post(f"/findings/{fid}/triage", data={"state": "confirmed"}).status_code == 403  # no CSRF
    bad = client.post(f"/findings/{fid}/triage", data={"state": "risk_accepted"}, headers=h)
    assert bad.status_code == 422 and "expiry date" in bad.text and "<html" not in bad.text
    ok = client.post(
        f"/findings/{fid}/triage",
        data={"state": "risk_accepted", "expires": "2099-12-31", "detail": "补偿措施已部署"},
        headers=h,
    )
    assert ok.status_code == 204 and ok.headers["HX-Refresh"] == "true"
    accepted = _rows(client.get("/findings", params={"status": "risk_accepted"}).text)
    assert fid in accepted and "接受风险" in client.get("/findings").text
    with database.read_session() as s:
        rows = list(
            s.scalars(select(AuditLog).where(AuditLog.entity_type == "vuln_triage").order_by(AuditLog.id))
        )
        assert rows and rows[-1].actor == "analyst" and rows[-1].via == "web"
    assert client.post("/findings/999999/triage", data={"state": "confirmed"}, headers=h).status_code == 404
