"""Evidence from the map (issue 12 item 4), both databases: each rule on a small hand-built map with a
system where it fails, one where it passes (and a partial or empty one where the rule has those), the
records behind each proposal, the items it speaks to, the cache and its invalidation, the API (roles,
4xx) and the CLI."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ciimap.cli import app as cli_app
from ciimap.compliance import evidence
from ciimap.compliance import evidence_rules as rules
from ciimap.core.db import Database
from ciimap.core.errors import InputFileError
from ciimap.ingest.models import ScopeState
from ciimap.inventory import models as m
from ciimap.supply.models import VendorProfile
from ciimap.vulns.models import Advisory, Finding
from ciimap.web.i18n import Translator

from .conftest import TODAY

runner = CliRunner()
#: Records hold reason codes: the tests read them rendered through the English catalog.
EN = Translator("en")
_targets = itertools.count(1)


@pytest.fixture(autouse=True)
def _evidence_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evidence, "_today", lambda: TODAY)
    evidence.clear_cache()


def _add(s: Any, obj: Any) -> Any:
    s.add(obj)
    s.flush()
    return obj


def _seen(s: Any, *assets: Any) -> None:
    for a in assets:
        _add(
            s, ScopeState(scope="scan:10.0.0.0/24", asset_id=a.id, digest="d", first_run_id=1, last_run_id=1)
        )


def _finding(s: Any, adv: Any, asset: Any, prio: str, due: dt.date, status: str = "new") -> Any:
    return _add(
        s,
        Finding(
            target_type="software",
            target_id=next(_targets),
            asset_id=asset.id,
            system_id=asset.system_id,
            advisory_pk=adv.id,
            advisory_id=adv.advisory_id,
            package=f"pkg:generic/x{asset.id}{prio}{status}",
            match_kind="purl",
            priority=prio,
            due_date=due,
            status=status,
            triage_key=f"k{asset.id}{prio}{status}",
        ),
    )


def _endpoint(
    s: Any, asset: Any, port: int, name: str, state: str = "open", tunnel: str | None = None
) -> Any:
    return _add(
        s,
        m.ServiceEndpoint(
            asset_id=asset.id,
            address=asset.primary_ip,
            port=port,
            protocol="tcp",
            state=state,
            name=name,
            tunnel=tunnel,
        ),
    )


def build(db: Database) -> dict[str, int]:
    """BAD (CII, level 3) fails every rule, GOOD (CII, level 3) passes every rule, MID (level 2) is partial
    where a rule has a partial case, EMPTY (ungraded, nothing) gives no evidence."""
    ids: dict[str, int] = {}
    day = dt.timedelta(days=1)
    with db.unit_of_work() as s:
        net = _add(s, m.NetworkZone(name="DMZ", kind="dmz", internet_facing=True))
        lan = _add(s, m.NetworkZone(name="生产网", kind="production"))
        bad = _add(s, m.System(name="BAD", mlps_level=3, mlps_s_level=3, mlps_a_level=3, is_cii=True))
        good = _add(s, m.System(name="GOOD", mlps_level=3, mlps_s_level=3, mlps_a_level=3, is_cii=True))
        mid = _add(s, m.System(name="MID", mlps_level=2, mlps_s_level=2, mlps_a_level=2))
        empty = _add(s, m.System(name="EMPTY"))
        # BAD: a1 declared and seen, in the DMZ; a2 seen but not declared; a3 missing
        a1 = _add(
            s,
            m.Asset(
                name="bad-web",
                kind="server",
                system_id=bad.id,
                zone_id=net.id,
                declared=True,
                primary_ip="203.0.113.5",
            ),
        )
        a2 = _add(
            s, m.Asset(name="bad-pc", kind="workstation", system_id=bad.id, zone_id=lan.id, declared=False)
        )
        a3 = _add(
            s,
            m.Asset(
                name="bad-sw",
                kind="network_device",
                system_id=bad.id,
                declared=True,
                lifecycle_status="missing",
            ),
        )
        # GOOD: two declared, seen servers, one in the DMZ
        g1 = _add(
            s,
            m.Asset(
                name="good-1",
                kind="server",
                system_id=good.id,
                zone_id=net.id,
                declared=True,
                primary_ip="203.0.113.9",
            ),
        )
        g2 = _add(s, m.Asset(name="good-2", kind="server", system_id=good.id, zone_id=lan.id, declared=True))
        # MID: three declared servers, one never observed
        m1 = _add(s, m.Asset(name="mid-1", kind="server", system_id=mid.id, zone_id=lan.id, declared=True))
        m2 = _add(s, m.Asset(name="mid-2", kind="server", system_id=mid.id, zone_id=lan.id, declared=True))
        m3 = _add(s, m.Asset(name="mid-3", kind="server", system_id=mid.id, zone_id=lan.id, declared=True))
        _seen(s, a1, a2, a3, g1, g2, m1, m2)
        # a retired asset is never evidence
        _add(
            s,
            m.Asset(
                name="old",
                kind="server",
                system_id=good.id,
                zone_id=net.id,
                declared=False,
                lifecycle_status="retired",
            ),
        )
        # vulnerabilities
        adv = _add(s, Advisory(advisory_id="CVE-2026-0001", source="nvd"))
        f_bad = _finding(s, adv, a1, "P1", TODAY - day)
        _finding(s, adv, a1, "P2", TODAY + day)  # not yet due
        _finding(s, adv, a2, "P1", TODAY - 10 * day, status="fixed")  # closed
        _finding(s, adv, g1, "P2", TODAY + day)
        _finding(s, adv, g2, "P3", TODAY - day)  # P3: not looked at
        f_mid = _finding(s, adv, m1, "P2", TODAY - day)
        # endpoints
        e_rdp = _endpoint(s, a1, 3389, "ms-wbt-server")
        e_tel = _endpoint(s, a1, 23, "telnet")
        _endpoint(s, g1, 443, "http", tunnel="ssl")
        _endpoint(s, g1, 3389, "ms-wbt-server", state="closed")
        _endpoint(s, g2, 22, "ssh")  # a management port, but not in an internet-facing zone
        e_http = _endpoint(s, m1, 8080, "http")
        # redundancy: BAD runs on a1 alone; GOOD on g1 or g2
        _add(s, m.Edge(src_type="system", src_id=bad.id, kind="runs_on", dst_type="asset", dst_id=a1.id))
        for g in (g1, g2):
            _add(
                s,
                m.Edge(
                    src_type="system",
                    src_id=good.id,
                    kind="runs_on",
                    dst_type="asset",
                    dst_id=g.id,
                    redundancy_group="集群",
                ),
            )
        # products and suppliers
        foreign = _add(s, m.Vendor(name="Acme Corp", country="US", is_domestic=False))
        dom = _add(s, m.Vendor(name="国产厂商", country="CN", is_domestic=True))
        unreg = _add(s, m.Vendor(name="未登记厂商", country="CN", is_domestic=True))
        _add(
            s,
            VendorProfile(
                vendor_id=dom.id, remote_access="on_demand", nda_signed=True, security_review="passed"
            ),
        )
        upd = _add(
            s,
            m.Product(
                vendor_id=foreign.id,
                name="Acme Updater",
                layer="os",
                auto_update=True,
                update_privilege="kernel",
            ),
        )
        tq = _add(s, m.Product(vendor_id=dom.id, name="天擎终端安全管理系统", layer="security"))
        db_ = _add(s, m.Product(vendor_id=unreg.id, name="某数据库", layer="database"))
        _add(s, m.Software(asset_id=a1.id, name="nginx"))
        _add(s, m.Software(asset_id=a1.id, name="acme-updater", product_id=upd.id))
        _add(s, m.Software(asset_id=g1.id, name="火绒安全软件"))
        _add(s, m.Software(asset_id=g2.id, name="agent", product_id=tq.id))  # matched through its product
        _add(s, m.Software(asset_id=m1.id, name="360安全卫士"))
        _add(s, m.Software(asset_id=m2.id, name="dm8", product_id=db_.id))
        ids.update(
            bad=bad.id, good=good.id, mid=mid.id, empty=empty.id, a1=a1.id, a2=a2.id, a3=a3.id, g1=g1.id,
            g2=g2.id, m1=m1.id, m2=m2.id, m3=m3.id, net=net.id, f_bad=f_bad.id, f_mid=f_mid.id, e_rdp=e_rdp.id,
            e_tel=e_tel.id, e_http=e_http.id, foreign=foreign.id, unreg=unreg.id, upd=upd.id,
        )  # fmt: skip
    return ids


@pytest.fixture
def emap(database: Database) -> dict[str, int]:
    return build(database)


def _get(db: Database, system_id: int, **kw: Any) -> dict[str, Any]:
    with db.read_session() as s:
        return evidence.for_system(s, system_id=system_id, **kw)


def _rule(data: dict[str, Any], code: str) -> dict[str, Any] | None:
    return next((p for p in data["proposals"] if p["rule"] == code), None)


def _recs(p: dict[str, Any], type_: str) -> dict[Any, str]:
    return {r["id"]: EN(f"cmp.why.{r['reason']}", **r["params"]) for r in p["records"] if r["type"] == type_}


def _results(db: Database, ids: dict[str, int], code: str) -> dict[str, str | None]:
    out = {}
    for name in ("bad", "good", "mid", "empty"):
        p = _rule(_get(db, ids[name]), code)
        out[name] = p["result"] if p else None
    return out


def test_asset_register_against_scan_coverage(database, emap) -> None:
    assert _results(database, emap, "asset_register") == {
        "bad": "fail",  # 2 of 3 assets unmanaged or missing (>= 10 %)
        "good": "pass",
        "mid": "partial",  # one declared server never observed
        "empty": "no_evidence",
    }
    bad = _rule(_get(database, emap["bad"]), "asset_register")
    assert _recs(bad, "asset") == {emap["a2"]: "unmanaged", emap["a3"]: "missing"}
    assert bad["counts"] == {"assets": 3, "observed": 3, "unmanaged": 1, "missing": 1, "never_observed": 0}
    assert [i["id"] for i in bad["items"]] == ["22239-2019:8.1.10.2.a", "39204-2022:6.2.a"]
    mid = _rule(_get(database, emap["mid"]), "asset_register")
    assert _recs(mid, "asset") == {emap["m3"]: "never_observed"}
    # level 2: the item's level-2 id; not CII: no GB/T 39204 item
    assert [(i["id"], i["key"]) for i in mid["items"]] == [("22239-2019:7.1.10.2.a", "22239-2019:8.1.10.2.a")]
    assert "未登记1台" in bad["explanation_zh"] and "1 unmanaged" in bad["explanation_en"]


def test_overdue_p1_p2_findings(database, emap) -> None:
    assert _results(database, emap, "overdue_vulns") == {
        "bad": "fail",  # an open P1 past its due date
        "good": "pass",  # a P2 not yet due, an overdue P3 (not looked at)
        "mid": "partial",  # an overdue P2
        "empty": "no_evidence",
    }
    bad = _rule(_get(database, emap["bad"]), "overdue_vulns")
    assert list(_recs(bad, "finding")) == [
        emap["f_bad"]
    ]  # the fixed P1 and the P2 not yet due are not listed
    assert bad["records"][0]["label"] == "CVE-2026-0001 @ bad-web" and bad["counts"]["P1"] == 1
    mid = _rule(_get(database, emap["mid"]), "overdue_vulns")
    assert list(_recs(mid, "finding")) == [emap["f_mid"]]
    assert {i["key"] for i in bad["items"]} == {
        "22239-2019:8.1.10.5.a",
        "22239-2019:8.1.4.4.e",
        "39204-2022:7.5.b",
    }


def test_overdue_needs_a_feed(database) -> None:
    with database.unit_of_work() as s:
        sys_ = _add(s, m.System(name="S", mlps_level=3))
        _add(s, m.Asset(name="x", system_id=sys_.id))
    assert _rule(_get(database, sys_.id), "overdue_vulns")["result"] == "no_evidence"


def test_management_ports_in_internet_facing_zones(database, emap) -> None:
    assert _results(database, emap, "management_ports") == {
        "bad": "fail",
        "good": "pass",  # 3389 closed in the DMZ, 22 open only inside
        "mid": "pass",
        "empty": "no_evidence",
    }
    bad = _rule(_get(database, emap["bad"]), "management_ports")
    assert set(_recs(bad, "endpoint")) == {emap["e_rdp"], emap["e_tel"]}
    assert _recs(bad, "zone") == {emap["net"]: "internet-facing zone"}
    labels = {r["label"] for r in bad["records"] if r["type"] == "endpoint"}
    assert labels == {"203.0.113.5:3389/tcp ms-wbt-server", "203.0.113.5:23/tcp telnet"}
    assert "22239-2019:8.1.3.1.a" in {i["id"] for i in bad["items"]}


def test_cleartext_services(database, emap) -> None:
    assert _results(database, emap, "cleartext") == {
        "bad": "fail",  # telnet
        "good": "pass",  # HTTP over TLS on 443 and ssh only
        "mid": "partial",  # plain HTTP on 8080: a login form cannot be seen from a scan
        "empty": "no_evidence",
    }
    bad = _rule(_get(database, emap["bad"]), "cleartext")
    assert _recs(bad, "endpoint") == {emap["e_tel"]: "clear-text login service"}
    mid = _rule(_get(database, emap["mid"]), "cleartext")
    assert _recs(mid, "endpoint") == {emap["e_http"]: "plain HTTP (may carry a login)"}
    assert [i["id"] for i in bad["items"]] == ["22239-2019:8.1.4.1.c"]


def test_redundancy_of_cii_systems(database, emap) -> None:
    assert _results(database, emap, "redundancy") == {
        "bad": "fail",  # runs on one asset
        "good": "pass",  # two assets in one redundancy group
        "mid": None,  # not CII: no proposal
        "empty": None,
    }
    bad = _rule(_get(database, emap["bad"]), "redundancy")
    spof = [r for r in bad["records"] if r["type"] == "asset"]
    assert [(r["id"], r["label"], EN(f"cmp.why.{r['reason']}", **r["params"])) for r in spof] == [
        (emap["a1"], "bad-web", "single point of failure")
    ]
    assert [(n["type"], n["id"]) for n in spof[0]["path"]] == [("system", emap["bad"]), ("asset", emap["a1"])]
    good = _rule(_get(database, emap["good"]), "redundancy")
    assert _recs(good, "redundancy_group") == {"集群": "redundancy group of the system's needs"}
    assert {i["id"] for i in good["items"]} == {"22239-2019:8.1.4.9.c", "39204-2022:7.4.b"}


def test_endpoint_protection_coverage(database, emap) -> None:
    assert _results(database, emap, "endpoint_protection") == {
        "bad": "fail",  # the server runs nginx only; the workstation has no software inventory
        "good": "pass",  # 火绒 by name, 天擎 through the product
        "mid": "partial",  # 360 on one of three
        "empty": "no_evidence",
    }
    bad = _rule(_get(database, emap["bad"]), "endpoint_protection")
    assert _recs(bad, "asset") == {
        emap["a1"]: "no endpoint-protection software",
        emap["a2"]: "no software inventory",
    }
    mid = _rule(_get(database, emap["mid"]), "endpoint_protection")
    assert mid["counts"] == {"assets": 3, "covered": 1, "no_inventory": 1, "without_agent": 1}
    # level 2: the level-2 item (a different requirement text than level 3's)
    assert [i["id"] for i in mid["items"]] == ["22239-2019:7.1.4.5.a"]


def test_supply_chain_register(database, emap) -> None:
    assert _results(database, emap, "supply_chain") == {
        "bad": "fail",  # a foreign vendor pushes kernel updates to a CII system
        "good": "pass",  # one vendor, registered, review passed, NDA signed
        "mid": "partial",  # a vendor without a profile
        "empty": "no_evidence",
    }
    bad = _rule(_get(database, emap["bad"]), "supply_chain")
    assert _recs(bad, "product") == {
        emap["upd"]: "foreign vendor pushes kernel-level updates to a CII system"
    }
    assert _recs(bad, "supplier") == {emap["foreign"]: "not in the supplier register (no vendor profile)"}
    mid = _rule(_get(database, emap["mid"]), "supply_chain")
    assert _recs(mid, "supplier") == {emap["unreg"]: "not in the supplier register (no vendor profile)"}


def test_ungraded_system_gets_results_without_items(database, emap) -> None:
    data = _get(database, emap["empty"])
    assert data["graded"] is False and all(p["items"] == [] for p in data["proposals"])
    assert data["counts"] == {
        "pass": 0,
        "partial": 0,
        "fail": 0,
        "no_evidence": 7,
    }  # the cryptography rule too: no crypto inventory


def test_proposals_are_cached_and_recomputed_when_the_map_changes(database, emap, monkeypatch) -> None:
    calls = []
    real = evidence.compute
    monkeypatch.setattr(evidence, "compute", lambda s: calls.append(1) or real(s))
    first = _get(database, emap["bad"])
    assert _get(database, emap["bad"]) == first and len(calls) == 1  # unchanged map: no recomputation
    with database.unit_of_work() as s:  # an audited change: the unmanaged asset is declared
        s.get(m.Asset, emap["a2"]).declared = True
    after = _get(database, emap["bad"])
    assert len(calls) == 2 and after["version"] != first["version"]
    assert _recs(_rule(after, "asset_register"), "asset") == {emap["a3"]: "missing"}
    with database.unit_of_work() as s:  # a finding written without an audit record (a re-match)
        adv = s.query(Advisory).one()
        _finding(s, adv, s.get(m.Asset, emap["g1"]), "P1", TODAY - dt.timedelta(days=3))
    assert _rule(_get(database, emap["good"]), "overdue_vulns")["result"] == "fail" and len(calls) == 3
    # a day later the P2 of GOOD... and BAD's P2 fall due: the day is part of the version
    monkeypatch.setattr(evidence, "_today", lambda: TODAY + dt.timedelta(days=2))
    assert _rule(_get(database, emap["bad"]), "overdue_vulns")["counts"]["P2"] == 1 and len(calls) == 4
    _get(database, emap["bad"], fresh=True)
    assert len(calls) == 5


def test_summary_lists_every_system(database, emap) -> None:
    with database.read_session() as s:
        data = evidence.summary(s)
    rows = {r["system"]["name"]: r for r in data["systems"]}
    assert set(rows) == {"BAD", "GOOD", "MID", "EMPTY"}
    assert rows["BAD"]["results"]["redundancy"] == "fail" and "redundancy" not in rows["MID"]["results"]
    # every map rule passes; the cryptography rule has no crypto inventory to go on (test_evidence_crypto.py)
    assert rows["GOOD"]["counts"] == {"pass": 7, "partial": 0, "fail": 0, "no_evidence": 1}
    assert rows["GOOD"]["results"]["cryptography"] == "no_evidence"


def test_rules_file_in_the_data_dir_replaces_the_builtin(database, emap, setting, tmp_path: Path) -> None:
    setting("DATA_DIR", str(tmp_path))
    lines = rules.BUILTIN.read_text(encoding="utf-8").splitlines(keepends=True)
    text = "".join(x for x in lines if "{port: 3389" not in x and "{port: 23," not in x)
    (tmp_path / "evidence-rules.yaml").write_text(text, encoding="utf-8")
    data = _get(database, emap["bad"])
    assert data["rules_source"] == str(tmp_path / "evidence-rules.yaml")
    assert _rule(data, "management_ports")["result"] == "pass"  # 3389 and 23 are no longer on the list


def test_bad_rules_file_is_one_line_naming_file_and_place(setting, tmp_path: Path) -> None:
    setting("DATA_DIR", str(tmp_path))
    own = tmp_path / "evidence-rules.yaml"
    own.write_text(
        rules.BUILTIN.read_text(encoding="utf-8").replace("8.1.4.1.c", "8.1.4.1.z"), encoding="utf-8"
    )
    with pytest.raises(InputFileError) as e:
        rules.load_settings()
    assert (
        str(own) in str(e.value) and "rules.cleartext.items.0" in str(e.value) and "8.1.4.1.z" in str(e.value)
    )
    own.write_text("format: ciimap-evidence-rules/1\nversion: 1\nrules: {}\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="asset_register"):
        rules.load_settings()


def _rows(db: Database) -> dict[str, int]:
    from sqlalchemy import inspect, text

    with db.engine.connect() as c:
        return {
            t: int(c.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one())
            for t in inspect(c).get_table_names()
        }


def test_api_roles_and_errors(database, client, emap, auditor_headers, analyst_headers) -> None:
    url = f"/api/compliance/systems/{emap['bad']}/evidence"
    before = _rows(database)
    assert client.get(url).status_code == 401
    assert client.get("/api/compliance/evidence").status_code == 401
    r = client.get(url, headers=auditor_headers)
    assert r.status_code == 200, r.text
    assert {p["rule"]: p["result"] for p in r.json()["proposals"]}["cleartext"] == "fail"
    assert client.get(url, headers=analyst_headers, params={"fresh": True}).json()["system"]["name"] == "BAD"
    assert client.get("/api/compliance/systems/999999/evidence", headers=auditor_headers).status_code == 404
    assert client.get("/api/compliance/systems/abc/evidence", headers=auditor_headers).status_code == 422
    assert (
        client.get("/api/compliance/systems/99999999999/evidence", headers=auditor_headers).status_code == 422
    )
    rows = client.get("/api/compliance/evidence", headers=auditor_headers).json()["systems"]
    assert [r["system"]["name"] for r in rows] == ["BAD", "EMPTY", "GOOD", "MID"]
    after = _rows(database)
    # proposals are never stored; the crypto inventory the cryptography rule reads is the crypto domain's
    # derived cache of the imported scans, built on first use by any reader (crypto/rebuild.py)
    derived = {"crypto_item", "crypto_flag", "crypto_state"}
    assert {t: n for t, n in after.items() if n != before[t] and t not in derived} == {}


def test_cli_system_and_all(database, emap) -> None:
    r = runner.invoke(cli_app, ["compliance", "evidence", "BAD", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["system"]["id"] == emap["bad"] and _rule(data, "supply_chain")["result"] == "fail"
    r = runner.invoke(cli_app, ["compliance", "evidence", "--all", "--json"])
    assert r.exit_code == 0, r.output
    assert {
        row["system"]["name"]: row["results"]["cleartext"] for row in json.loads(r.output)["systems"]
    } == {
        "BAD": "fail",
        "GOOD": "pass",
        "MID": "partial",
        "EMPTY": "no_evidence",
    }
    r = runner.invoke(cli_app, ["compliance", "evidence", str(emap["mid"])])
    assert (
        r.exit_code == 0
        and "[部分符合 partial]" in r.output
        and "mid-3 (已登记但从未被扫描或代理观测到 / never_observed)" in r.output
    )
    assert runner.invoke(cli_app, ["compliance", "evidence"]).exit_code == 2  # neither a system nor --all
    assert runner.invoke(cli_app, ["compliance", "evidence", "BAD", "--all"]).exit_code == 2


def test_reasons_are_message_keys_rendered_in_both_languages(database, emap, client, auditor_headers) -> None:
    """Records hold a reason code and its parameters, no language; the API renders them through the web
    catalogs (``why`` English, ``why_zh`` Chinese) and the Chinese page shows the Chinese text."""
    data = _get(database, emap["bad"])
    recs = [r for p in data["proposals"] for r in p["records"]]
    assert recs and all("why" not in r and r["reason"] in rules.REASONS for r in recs)
    body = client.get(f"/api/compliance/systems/{emap['bad']}/evidence", headers=auditor_headers).json()
    cleartext = next(p for p in body["proposals"] if p["rule"] == "cleartext")
    tel = next(r for r in cleartext["records"] if r["id"] == emap["e_tel"])
    assert (tel["reason"], tel["params"], tel["why"], tel["why_zh"]) == (
        "cleartext_login",
        {},
        "clear-text login service",
        "明文登录服务",
    )
    ports = next(p for p in body["proposals"] if p["rule"] == "management_ports")
    rdp = next(r for r in ports["records"] if r["id"] == emap["e_rdp"])
    assert rdp["reason"] == "management_port" and rdp["params"] == {"port": 3389, "zone": "DMZ"}
    assert (
        rdp["why_zh"] == "互联网区域“DMZ”开放端口3389"
        and rdp["why"] == "port 3389 open in internet-facing zone DMZ"
    )
    result = runner.invoke(cli_app, ["compliance", "evidence", str(emap["bad"])])
    assert result.exit_code == 0 and "明文登录服务 / clear-text login service" in result.output
