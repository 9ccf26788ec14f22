"""API (/api/feeds, /api/vulns) and CLI (ciimap feeds / ciimap vulns) end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from ciimap.cli import app as cli_app
from ciimap.core import jobs
from ciimap.core.db import Database
from ciimap.core.errors import InputFileError
from ciimap.vulns import service
from ciimap.vulns.feed_import import import_feed
from ciimap.vulns.models import Finding

from .helpers import DATA, osv_subset, sbom_system

runner = CliRunner()


def _seed(database: Database, tmp_path: Path) -> int:
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp_path, ("jinja2", "pyyaml")), rematch=False)
        system = sbom_system(s)
        service.match(s)
        return system.id


def _run_job(database: Database, job_id: int) -> jobs.Job:
    if not database.is_sqlite:  # PostgreSQL defers to procrastinate workers; run it here instead
        jobs.execute(job_id)
    return jobs.wait(job_id, timeout=60)


def test_api_feed_upload_job_findings_and_triage(
    database: Database,
    client: Any,
    admin_headers: dict[str, str],
    analyst_headers: dict[str, str],
    auditor_headers: dict[str, str],
    tmp_path: Path,
    monkeypatch: Any,
) -> None:
    from ciimap.config import get_settings

    monkeypatch.setattr(get_settings(), "data_dir", tmp_path / "var")
    system_id = _seed(database, tmp_path)
    with (DATA / "cnnvd-raw.xml").open("rb") as f:
        r = client.post(
            "/api/feeds/cnnvd/import",
            files={"file": ("cnnvd.xml", f, "application/xml")},
            headers=analyst_headers,
        )
    assert r.status_code == 202, r.text
    job = _run_job(database, r.json()["id"])
    assert job.status == "succeeded", job.error
    assert job.result["records"] == 2 and job.result["match"]["findings"] == 4
    feeds = client.get("/api/feeds", headers=auditor_headers).json()
    assert [f["kind"] for f in feeds] == ["cnnvd", "osv"] and feeds[1]["warning"]

    page = client.get(
        "/api/vulns/findings", params={"system_id": system_id, "limit": 2}, headers=auditor_headers
    ).json()
    assert page["total"] == 4 and len(page["items"]) == 2
    top = page["items"][0]
    assert top["explanation"] and top["explanation_zh"] and top["evidence"]["feed"] == "osv"
    detail = client.get(f"/api/vulns/findings/{top['id']}", headers=auditor_headers).json()
    assert detail["finding"]["id"] == top["id"] and detail["advisory"]["advisory_id"] == top["advisory_id"]

    jinja = client.get(
        "/api/vulns/findings", params={"advisory": "PYSEC-2019-217"}, headers=auditor_headers
    ).json()
    fid = jinja["items"][0]["id"]
    detail = client.get(f"/api/vulns/findings/{fid}", headers=auditor_headers).json()
    assert [a["advisory_id"] for a in detail["linked"]] == ["CNNVD-201904-331"]
    body = {"state": "not_affected", "justification": "code_not_present"}
    assert (
        client.post(f"/api/vulns/findings/{fid}/triage", json=body, headers=auditor_headers).status_code
        == 403
    )
    r = client.post(f"/api/vulns/findings/{fid}/triage", json=body, headers=analyst_headers)
    assert r.status_code == 200 and r.json()["state"] == "not_affected" and r.json()["actor"] == "analyst"
    bad = client.post(
        f"/api/vulns/findings/{fid}/triage", json={"state": "not_affected"}, headers=analyst_headers
    )
    assert bad.status_code == 422 and "justification" in bad.json()["error"]
    assert (
        client.get("/api/vulns/findings", params={"status": "not_affected"}, headers=auditor_headers).json()[
            "total"
        ]
        == 1
    )

    where = client.get("/api/vulns/where", params={"q": "CVE-2019-10906"}, headers=auditor_headers).json()
    assert [f["id"] for f in where["findings"]] == [fid]
    vex = client.get("/api/vulns/vex", params={"system_id": system_id}, headers=auditor_headers).json()
    assert vex["bomFormat"] == "CycloneDX" and len(vex["vulnerabilities"]) == 4
    assert client.get("/api/vulns/findings/999999", headers=auditor_headers).status_code == 404
    assert client.get("/api/vulns/findings").status_code == 401


def test_api_match_job(
    database: Database, client: Any, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    _seed(database, tmp_path)
    r = client.post("/api/vulns/match", headers=admin_headers)
    assert r.status_code == 202
    job = _run_job(database, r.json()["id"])
    assert job.status == "succeeded" and job.result["findings_unchanged"] == 4


def _ok(args: list[str]) -> str:
    r = runner.invoke(cli_app, args)
    assert r.exit_code == 0, (r.output, r.exception)
    return r.stdout  # warnings go to stderr


def test_cli_flow(database: Database, tmp_path: Path) -> None:
    with database.unit_of_work() as s:
        system_id = sbom_system(s).id
    out = json.loads(
        _ok(["feeds", "import", "osv", str(osv_subset(tmp_path, ("jinja2", "pyyaml"))), "--json"])
    )
    assert out["records"] == 9 and out["match"]["findings"] == 4 and "stale" in out["warning"]
    out = _ok(["feeds", "import", "epss", str(DATA / "epss.csv"), "--snapshot-date", "2099-01-01"])
    assert "epss: 4 records" in out
    feeds = json.loads(_ok(["feeds", "list", "--json"]))
    assert feeds[0]["kind"] == "epss" and feeds[0]["warning"] is None
    page = json.loads(_ok(["vulns", "list", "--json", "--system", str(system_id), "--priority", "P3"]))
    assert page["total"] == 4 and {i["priority"] for i in page["items"]} == {"P3"}
    assert json.loads(_ok(["vulns", "list", "--json", "--priority", "P1"]))["total"] == 0
    assert json.loads(_ok(["vulns", "list", "--json", "--no-kev"]))["total"] == 4  # no KEV feed loaded
    assert json.loads(_ok(["vulns", "list", "--json", "--kev"]))["total"] == 0
    top = page["items"][0]["id"]
    assert "原因" in _ok(["vulns", "show", str(top)])
    where = json.loads(_ok(["vulns", "where", "pyyaml@5.3", "--json"]))
    assert {f["advisory_id"] for f in where["findings"]} == {"PYSEC-2020-96", "PYSEC-2021-142"}
    t = json.loads(
        _ok(["vulns", "triage", str(top), "--state", "risk_accepted", "--expires", "2099-12-31", "--json"])
    )
    assert t["state"] == "risk_accepted" and t["expires"] == "2099-12-31"
    assert json.loads(_ok(["vulns", "match", "--json"]))["findings_unchanged"] == 4
    assert json.loads(_ok(["vulns", "list", "--json", "--status", "risk_accepted"]))["total"] == 1
    out_file = tmp_path / "vex.json"
    _ok(["vulns", "vex", "--system", str(system_id), "-o", str(out_file)])
    assert json.loads(out_file.read_text())["specVersion"] == "1.5"
    with database.read_session() as s:
        assert s.scalars(select(Finding).where(Finding.status == "risk_accepted")).one().id == top


def test_cli_bad_file_is_one_line_error(database: Database, tmp_path: Path) -> None:
    bad = tmp_path / "kev.csv"
    bad.write_text("a,b\n1,2\n")
    r = runner.invoke(cli_app, ["feeds", "import", "kev", str(bad)])
    assert r.exit_code != 0 and isinstance(r.exception, InputFileError)
    assert str(r.exception) == f"{bad}:line 1: not a KEV CSV (no 'cveID' column)"
