"""API upload → import job → runs/changes; why, link/unlink honoured by later imports; CLI commands."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from ciimap.core import jobs
from ciimap.ingest.models import LinkDecision
from ciimap.inventory.models import Asset

from .conftest import NMAP1, NMAP2


def _upload(client, headers, path: Path, kind: str = "nmap", **form: str):
    with path.open("rb") as fh:
        return client.post(
            "/api/imports",
            headers=headers,
            data={"kind": kind, **form},
            files=[("files", (path.name, fh, "application/xml"))],
        )


def test_upload_queues_import_job_and_lists_changes(
    client, admin_headers, auditor_headers, queued, tmp_path
) -> None:
    r = _upload(client, admin_headers, NMAP1)
    assert r.status_code == 202, r.text
    jobs.execute(queued[-1])
    r = _upload(client, admin_headers, NMAP2)
    job_id = r.json()["job_id"]
    jobs.execute(queued[-1])
    job = client.get(f"/api/jobs/{job_id}", headers=admin_headers).json()
    assert job["status"] == "succeeded" and job["result"]["changes"] == 2 and job["progress"] == job["total"]
    assert (tmp_path / "uploads").is_dir()
    runs = client.get("/api/runs", headers=auditor_headers).json()
    assert [x["status"] for x in runs] == ["succeeded", "succeeded"]
    page = client.get("/api/changes", headers=auditor_headers, params={"run_id": runs[0]["id"]}).json()
    assert page["total"] == 2 and {e["kind"] for e in page["items"]} == {"port_opened", "port_closed"}
    page = client.get(
        "/api/changes", headers=auditor_headers, params={"kind": "port_opened", "limit": 1}
    ).json()
    assert page["total"] == 1 and page["items"][0]["subject"] == "127.0.0.6 tcp/8443"
    assert _upload(client, auditor_headers, NMAP1).status_code == 403
    assert client.get("/api/unmanaged", headers=auditor_headers).json()[0]["primary_ip"] == "127.0.0.2"
    assert client.get("/api/ghosts", headers=auditor_headers).json() == []


def test_failed_upload_job_reports_file_and_position(client, admin_headers, queued, tmp_path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(NMAP1.read_bytes()[:3000])
    job_id = _upload(client, admin_headers, bad).json()["job_id"]
    jobs.execute(queued[-1])
    job = client.get(f"/api/jobs/{job_id}", headers=admin_headers).json()
    assert job["status"] == "failed" and "bad.xml:line " in job["error"]
    runs = client.get("/api/runs", headers=admin_headers).json()
    assert runs[0]["status"] == "failed" and "truncated" in runs[0]["error"]
    r = client.post(
        "/api/imports",
        headers=admin_headers,
        data={"kind": "bogus"},
        files=[("files", ("x.xml", b"<a/>", "text/xml"))],
    )
    assert r.status_code == 422 and "unknown import kind" in r.json()["error"]


def test_link_and_unlink_survive_reimport(database, client, admin_headers, run_import, tmp_path) -> None:
    reg = tmp_path / "reg.csv"
    reg.write_text("资产名称,IP地址\n网站服务器,10.20.0.1\n", encoding="utf-8")
    run_import("nmap", NMAP1)
    run_import("register", reg)
    with database.read_session() as s:
        web = s.scalar(select(Asset.id).where(Asset.primary_ip == "127.0.0.2"))
        dup = s.scalar(select(Asset.id).where(Asset.name == "网站服务器"))
    r = client.post(f"/api/assets/{web}/link", headers=admin_headers, json={"other_asset_id": dup})
    assert r.status_code == 200 and "ip=10.20.0.1" in r.json()["linked"]
    again = run_import("register", reg)
    assert again["assets_created"] == 0
    with database.read_session() as s:
        assert s.get(Asset, dup) is None
        assert s.get(Asset, web).declared is True and "10.20.0.1" in s.get(Asset, web).ips
    why = client.get(f"/api/assets/{web}/why", headers=admin_headers).json()
    assert any("manual link" in line for line in why["explanation"])
    r = client.post(
        f"/api/assets/{web}/unlink", headers=admin_headers, json={"key": "ip", "value": "127.0.0.2"}
    )
    assert r.status_code == 200, r.text
    run_import("nmap", NMAP1)
    with database.read_session() as s:
        split = s.scalar(select(Asset.id).where(Asset.primary_ip == "127.0.0.2"))
        assert split is not None and split != web
        assert (
            s.scalar(
                select(LinkDecision.action).where(LinkDecision.key == "ip", LinkDecision.value == "127.0.0.2")
            )
            == "unlink"
        )


def test_cli_import_changes_runs_why(database, tmp_path) -> None:
    from typer.testing import CliRunner

    from ciimap.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["import", "nmap", str(NMAP1), "--json"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["import", "nmap", str(NMAP2), "--json"])
    assert json.loads(out.stdout)["changes"] == 2
    out = runner.invoke(app, ["changes", "--json"])
    assert {e["kind"] for e in json.loads(out.stdout)["items"]} == {"port_opened", "port_closed"}
    runs = json.loads(runner.invoke(app, ["runs", "list", "--json"]).stdout)
    assert len(runs) == 2
    aid = json.loads(out.stdout)["items"][0]["asset_id"]
    why = json.loads(runner.invoke(app, ["assets", "why", str(aid), "--json"]).stdout)
    assert why["identities"][0]["key"] == "ip"
    assert len(json.loads(runner.invoke(app, ["unmanaged", "--json"]).stdout)) == 5
    assert json.loads(runner.invoke(app, ["ghosts", "--json"]).stdout) == []
    csv = tmp_path / "other.csv"
    csv.write_text("设备编号,管理地址\nX-1,10.1.1.1\n", encoding="gbk")
    out = runner.invoke(
        app,
        [
            "import",
            "register",
            str(csv),
            "--map",
            "设备编号=name",
            "--map",
            "管理地址=ip",
            "--encoding",
            "gbk",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["assets_created"] == 1
