"""REST routes (roles, 4xx, 413) and the CLI (JSON, exit codes) of assessments and rectification
(both databases)."""

from __future__ import annotations

import hashlib
import json

from typer.testing import CliRunner

from ciimap.cli import app as cli_app
from ciimap.compliance.models import Evidence, ItemResult
from ciimap.config import get_settings
from ciimap.core.errors import CiimapError

from .amap import audit_count, build, count

runner = CliRunner()
ITEM = "22239-2019:8.1.4.1.a"


def test_roles_and_the_assessment_workflow_over_http(
    client, database, auditor_headers, analyst_headers
) -> None:
    ids = build(database)
    body = {"system_id": ids["l3"], "include_assets": True}
    assert client.get("/api/compliance/assessments").status_code == 401
    assert client.post("/api/compliance/assessments", json=body).status_code == 401
    assert client.post("/api/compliance/assessments", json=body, headers=auditor_headers).status_code == 403
    created = client.post("/api/compliance/assessments", json=body, headers=analyst_headers)
    assert created.status_code == 201, created.text
    a = created.json()
    aid, obj = a["id"], a["test_objects"][0]["id"]
    assert (a["items"], a["objects"], a["cycle"], a["unset"]) == (211, 2, "2026", 422)
    url = f"/api/compliance/assessments/{aid}"
    put = {"item": ITEM, "object_id": obj, "result": "fail", "method": "test", "assessor": "李四"}
    assert client.put(f"{url}/results", json=put, headers=auditor_headers).status_code == 403
    saved = client.put(f"{url}/results", json=put, headers=analyst_headers)
    assert saved.status_code == 200 and saved.json()["result_zh"] == "不符合"
    rid = saved.json()["id"]
    grid = client.get(f"{url}/items", params={"result": "fail"}, headers=auditor_headers).json()
    assert [(r["id"], r["results"][0]["result"]) for r in grid] == [(ITEM, "fail")]
    bulk = client.post(
        f"{url}/results/bulk", json={"result": "pass", "category": "安全物理环境"}, headers=analyst_headers
    )
    assert bulk.status_code == 200 and bulk.json()["created"] == 22 * 2
    score = client.get(f"{url}/score", headers=auditor_headers).json()
    # 10 control points of 安全物理环境 at 10, 身份鉴别 at 0: 100 × (100 / 11) / 10 = 90.91, no risk yet
    assert (score["score"], score["conclusion"]) == (90.91, "优")
    risk = client.post(
        f"{url}/risks", json={"level": "high", "description": "默认口令"}, headers=analyst_headers
    )
    assert risk.status_code == 201
    rect = client.post(
        "/api/compliance/rectifications",
        json={
            "result_id": rid,
            "owner": "运维部",
            "links": [{"target_type": "asset", "target_id": ids["a1"]}],
        },
        headers=analyst_headers,
    )
    assert rect.status_code == 201, rect.text
    assert (
        client.get("/api/compliance/rectifications", headers=auditor_headers).json()[0]["id"]
        == rect.json()["id"]
    )
    patch = client.patch(
        f"/api/compliance/rectifications/{rect.json()['id']}",
        json={"status": "in_progress"},
        headers=analyst_headers,
    )
    assert patch.status_code == 200 and patch.json()["status"] == "in_progress"
    prog = client.get("/api/compliance/rectifications/progress", headers=auditor_headers).json()
    assert prog[0]["by_status"]["in_progress"] == 1
    closed = client.post(f"{url}/close", json={}, headers=analyst_headers)
    assert closed.status_code == 200 and (closed.json()["conclusion"], closed.json()["high_risks"]) == (
        "差",
        1,
    )
    assert client.put(f"{url}/results", json=put, headers=analyst_headers).status_code == 409
    got = client.get(
        "/api/compliance/conclude",
        params={"score": 80, "high_risks": 0, "medium_risks": 2},
        headers=auditor_headers,
    ).json()
    assert got["conclusion"] == "良"


def test_bad_input_is_a_4xx_and_nothing_is_stored(client, database, analyst_headers) -> None:
    ids = build(database)
    post = lambda url, b: client.post(url, json=b, headers=analyst_headers)  # noqa: E731
    a = post("/api/compliance/assessments", {"system_id": ids["l3"], "include_assets": True}).json()
    url = f"/api/compliance/assessments/{a['id']}"
    obj = a["test_objects"][0]["id"]
    before = (count(database, ItemResult), audit_count(database))
    cases = [
        (
            client.put(
                f"{url}/results",
                json={"item": "22239-2019:9.1.1.1.z", "object_id": obj, "result": "pass"},
                headers=analyst_headers,
            ),
            422,
        ),
        (
            client.put(
                f"{url}/results",
                json={"item": ITEM, "object_id": obj, "result": "ok"},
                headers=analyst_headers,
            ),
            422,
        ),
        (
            client.put(
                f"{url}/results",
                json={"item": ITEM, "object_id": 999999, "result": "pass"},
                headers=analyst_headers,
            ),
            422,
        ),
        (
            client.put(
                f"{url}/results",
                json={
                    "item": ITEM,
                    "object_id": obj,
                    "result": "pass",
                    "links": [{"target_type": "moon", "target_id": 1}],
                },
                headers=analyst_headers,
            ),
            422,
        ),
        (
            client.put(
                f"{url}/results",
                json={
                    "item": ITEM,
                    "object_id": obj,
                    "result": "pass",
                    "links": [{"target_type": "asset", "target_id": 999999}],
                },
                headers=analyst_headers,
            ),
            404,
        ),
        (
            client.put(
                "/api/compliance/assessments/999999/results",
                json={"item": ITEM, "object_id": obj, "result": "pass"},
                headers=analyst_headers,
            ),
            404,
        ),
        (post(f"{url}/results/bulk", {"result": "pass", "items": ["nope"]}), 422),
        (post("/api/compliance/assessments", {"system_id": ids["none"]}), 422),
        (post("/api/compliance/assessments", {"system_id": ids["l3"], "kind": "external"}), 422),
        (post("/api/compliance/assessments", {"system_id": ids["l3"]}), 409),
        (post("/api/compliance/assessments", {"system_id": ids["l3"], "cycle": "2026-H3"}), 422),
        (post(f"{url}/close", {}), 422),
        (post("/api/compliance/rectifications", {"result_id": 1, "risk_id": 1}), 422),
        (
            client.get(
                "/api/compliance/conclude",
                params={"score": 101, "high_risks": 0, "medium_risks": 0},
                headers=analyst_headers,
            ),
            422,
        ),
        (client.get(f"{url}/items", params={"result": "maybe"}, headers=analyst_headers), 422),
    ]
    for resp, status in cases:
        assert resp.status_code == status, resp.text
        assert "\n" not in resp.json()["error"]
    assert (count(database, ItemResult), audit_count(database)) == before


def test_evidence_upload_download_and_413(
    client, database, analyst_headers, auditor_headers, monkeypatch
) -> None:
    ids = build(database)
    a = client.post(
        "/api/compliance/assessments",
        json={"system_id": ids["l3"], "include_assets": True},
        headers=analyst_headers,
    ).json()
    put = {"item": ITEM, "object_id": a["test_objects"][0]["id"], "result": "partial"}
    rid = client.put(
        f"/api/compliance/assessments/{a['id']}/results", json=put, headers=analyst_headers
    ).json()["id"]
    content = b"%PDF-1.4 fake scan report"
    files = {"file": ("扫描报告.pdf", content, "application/pdf")}
    assert (
        client.post(
            f"/api/compliance/results/{rid}/evidence", files=files, headers=auditor_headers
        ).status_code
        == 403
    )
    up = client.post(f"/api/compliance/results/{rid}/evidence", files=files, headers=analyst_headers)
    assert up.status_code == 201, up.text
    ev = up.json()
    assert (ev["filename"], ev["sha256"], ev["size"]) == (
        "扫描报告.pdf",
        hashlib.sha256(content).hexdigest(),
        len(content),
    )
    down = client.get(f"/api/compliance/evidence/{ev['id']}", headers=auditor_headers)
    assert down.status_code == 200 and down.content == content
    assert (
        client.get(f"/api/compliance/results/{rid}", headers=auditor_headers).json()["evidence"][0]["id"]
        == ev["id"]
    )
    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)  # the request cap stays; the file cap is 1 MB
    big = {"file": ("big.bin", b"x" * (1024 * 1024 + 10), "application/octet-stream")}
    refused = client.post(f"/api/compliance/results/{rid}/evidence", files=big, headers=analyst_headers)
    assert refused.status_code == 413 and "larger than 1 MB" in refused.json()["error"]
    assert count(database, Evidence) == 1
    assert client.get("/api/compliance/evidence/999999", headers=auditor_headers).status_code == 404


def _cli(database, *args: str):
    res = runner.invoke(cli_app, ["--database", database.url, *args])
    if isinstance(res.exception, CiimapError):
        return res.exception.exit_code, res.stdout
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.stdout


def test_cli_assess_and_rectify_with_json(database, tmp_path) -> None:
    ids = build(database)
    rc, out = _cli(database, "assess", "new", "SCADA", "--assets", "--json")
    assert rc == 0, out
    a = json.loads(out)
    aid, obj = str(a["id"]), str(a["test_objects"][0]["id"])
    rc, out = _cli(database, "assess", "list", "--json")
    assert rc == 0 and [r["id"] for r in json.loads(out)] == [a["id"]]
    rc, out = _cli(
        database,
        "assess",
        "result",
        aid,
        ITEM,
        "--object",
        obj,
        "--result",
        "fail",
        "--method",
        "test",
        "--link",
        f"finding:{ids['finding']}",
        "--json",
    )
    assert rc == 0, out
    res = json.loads(out)
    assert res["result"] == "fail" and res["links"][0]["target_type"] == "finding"
    rc, out = _cli(
        database, "assess", "bulk", aid, "--result", "pass", "--category", "安全物理环境", "--json"
    )
    assert rc == 0 and json.loads(out)["created"] == 44
    rc, out = _cli(database, "assess", "items", aid, "--result", "fail", "--json")
    assert [r["id"] for r in json.loads(out)] == [ITEM]
    f = tmp_path / "证据.txt"
    f.write_text("截图说明", "utf-8")
    rc, out = _cli(database, "assess", "evidence", str(res["id"]), str(f), "--json")
    assert rc == 0 and json.loads(out)["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
    rc, out = _cli(
        database, "assess", "risk", aid, "--level", "medium", "--description", "日志不足", "--json"
    )
    assert rc == 0 and json.loads(out)["level"] == "medium"
    rc, out = _cli(database, "assess", "score", aid, "--json")
    assert rc == 0 and (json.loads(out)["score"], json.loads(out)["conclusion"]) == (90.91, "良")
    rc, out = _cli(database, "rectify", "new", "--result", str(res["id"]), "--owner", "王五", "--json")
    assert rc == 0, out
    rect = json.loads(out)
    rc, out = _cli(database, "rectify", "update", str(rect["id"]), "--status", "done", "--json")
    assert rc == 0 and json.loads(out)["status"] == "done"
    rc, out = _cli(database, "rectify", "list", "--json")
    assert [r["id"] for r in json.loads(out)] == [rect["id"]]
    rc, out = _cli(database, "rectify", "list", "--progress", "--json")
    assert json.loads(out)[0]["by_status"]["done"] == 1
    rc, out = _cli(database, "assess", "close", aid, "--json")
    assert rc == 0 and json.loads(out)["conclusion"] == "良"
    rc, out = _cli(database, "assess", "show", aid, "--json")
    assert json.loads(out)["state"] == "closed"
    # refused: an item outside the selection (exit 1), a closed assessment (exit 4), a missing one (exit 3)
    assert (
        _cli(database, "assess", "result", aid, "22239-2019:9.9.9.9.z", "--object", obj, "--result", "pass")[
            0
        ]
        == 4
    )
    assert _cli(database, "assess", "show", "999999")[0] == 3
    rc, _ = _cli(database, "assess", "new", "GRID", "--kind", "external")
    assert rc == 1
