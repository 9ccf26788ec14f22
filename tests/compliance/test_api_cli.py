"""REST routes (roles, 4xx) and the CLI (JSON output, exit codes) of grading (both databases)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ciimap.cli import app as cli_app
from ciimap.core.errors import CiimapError
from ciimap.inventory import models as m

from .conftest import TODAY

runner = CliRunner()
BODY = {"s_object": "order", "s_degree": "serious", "a_object": "order", "a_degree": "general"}
FILING = {
    "filing_number": "11010099001-00001",
    "filing_date": TODAY.isoformat(),
    "police_unit": "北京市公安局",
}


def test_reading_needs_a_login_and_writing_needs_write(
    client, gmap, auditor_headers, analyst_headers
) -> None:
    body = {"system_id": gmap["office"], **BODY}
    assert client.get("/api/compliance/gradings").status_code == 401
    assert client.get("/api/compliance/grading/matrix").status_code == 401
    assert client.post("/api/compliance/gradings", json=body).status_code == 401
    assert client.post("/api/compliance/gradings", json=body, headers=auditor_headers).status_code == 403
    created = client.post("/api/compliance/gradings", json=body, headers=analyst_headers)
    assert created.status_code == 201, created.text
    gid = created.json()["id"]
    assert created.json()["level"] == 3 and created.json()["steps"][0]["by"] == "analyst"
    assert client.get(f"/api/compliance/gradings/{gid}", headers=auditor_headers).json()["id"] == gid
    advance = f"/api/compliance/gradings/{gid}/advance"
    assert client.post(advance, json={"to": "review"}, headers=auditor_headers).status_code == 403
    assert (
        client.patch(
            f"/api/compliance/gradings/{gid}", json={"notes": "x"}, headers=auditor_headers
        ).status_code
        == 403
    )
    r = client.post(advance, json={"to": "review"}, headers=analyst_headers)
    assert r.status_code == 200 and r.json()["state"] == "review"
    r = client.post(advance, json={"to": "filed", "skip_approval": True, **FILING}, headers=analyst_headers)
    assert r.status_code == 200 and r.json()["current"] is True
    system = client.get(f"/api/systems/{gmap['office']}", headers=auditor_headers).json()
    assert (system["mlps_level"], system["filing_number"]) == (3, FILING["filing_number"])
    listed = client.get("/api/compliance/gradings", params={"current": True}, headers=auditor_headers).json()
    assert [g["id"] for g in listed] == [gid]


def test_bad_input_is_a_4xx_with_one_line(client, gmap, analyst_headers) -> None:
    post = lambda url, body: client.post(url, json=body, headers=analyst_headers)  # noqa: E731
    cases = [
        (post("/api/compliance/gradings", {"system_id": gmap["office"], **BODY, "s_object": "moon"}), 422),
        (post("/api/compliance/gradings", {"system_id": gmap["office"], **BODY, "s_degree": 3}), 422),
        (
            post(
                "/api/compliance/gradings",
                {"system_id": gmap["office"], **BODY, "extensions": ["iot", "iot"]},
            ),
            422,
        ),
        (post("/api/compliance/gradings", {"system_id": gmap["office"], **BODY, "object_type": "x"}), 422),
        (post("/api/compliance/gradings", {"system_id": 2**40, **BODY}), 422),
        (post("/api/compliance/gradings", {"system_id": 999999, **BODY}), 404),
        (
            post(
                "/api/compliance/gradings", {"system_id": gmap["office"], **BODY, "graded_on": "2999-01-01"}
            ),
            422,
        ),
        (post("/api/compliance/gradings", {"system_id": gmap["office"], **BODY, "bogus": 1}), 422),
        (post("/api/compliance/gradings/999999/advance", {"to": "review"}), 404),
    ]
    for resp, status in cases:
        assert resp.status_code == status, resp.text
        assert "\n" not in resp.json()["error"]
    gid = post("/api/compliance/gradings", {"system_id": gmap["office"], **BODY}).json()["id"]
    url = f"/api/compliance/gradings/{gid}/advance"
    assert (
        post("/api/compliance/gradings", {"system_id": gmap["office"], **BODY}).status_code == 409
    )  # open round
    assert post(url, {"to": "filed", **FILING}).status_code == 409  # draft cannot be filed
    assert post(url, {"to": "approved"}).status_code == 409
    assert post(url, {"to": "bogus"}).status_code == 422
    assert post(url, {"to": "review", "filing_number": "x"}).status_code == 422
    assert post(url, {"to": "review", "on": "yesterday"}).status_code == 422
    assert post(url, {"to": "review"}).status_code == 200
    missing = post(url, {"to": "filed", "skip_approval": True, "filing_number": "x"})
    assert missing.status_code == 422 and "filing_date" in missing.json()["error"]
    assert (
        client.patch(
            f"/api/compliance/gradings/{gid}", json={"notes": "x"}, headers=analyst_headers
        ).status_code
        == 409
    )
    get = lambda url, **p: client.get(url, params=p, headers=analyst_headers)  # noqa: E731
    assert get("/api/compliance/gradings", state="bogus").status_code == 422
    assert get("/api/compliance/gradings", system_id=999999).status_code == 404
    assert get("/api/compliance/gradings/999999").status_code == 404
    assert get("/api/compliance/gradings/due", within=-1).status_code == 422
    assert (
        get(
            "/api/compliance/grade", s_object="rights", s_degree="bad", a_object="rights", a_degree="general"
        ).status_code
        == 422
    )


def test_grade_matrix_and_due_routes(client, gmap, auditor_headers, analyst_headers) -> None:
    r = client.get(
        "/api/compliance/grade",
        params={
            "s_object": "rights",
            "s_degree": "especially_serious",
            "a_object": "rights",
            "a_degree": "serious",
        },
        headers=auditor_headers,
    ).json()
    assert (r["s_level"], r["a_level"], r["level"]) == (2, 2, 2)
    matrix = client.get("/api/compliance/grading/matrix", headers=auditor_headers).json()
    assert matrix["levels"]["rights"]["especially_serious"] == 2 and matrix["source"] == "built-in"
    body = {
        "system_id": gmap["scada"],
        **BODY,
        "a_object": "rights",
        "s_degree": "general",
        "graded_on": "2026-11-02",
    }
    gid = client.post("/api/compliance/gradings", json=body, headers=analyst_headers).json()["id"]
    due = client.get("/api/compliance/gradings/due", headers=auditor_headers).json()
    assert [(d["id"], d["due_status"]) for d in due] == [(gid, "overdue")]
    assert [w["code"] for w in due[0]["warnings"]] == ["cii_below_level_3"]
    changed = client.patch(
        f"/api/compliance/gradings/{gid}", json={"s_degree": "serious"}, headers=analyst_headers
    ).json()
    assert changed["level"] == 3 and changed["warnings"] == []


def _cli(*args: str):
    return runner.invoke(cli_app, list(args))


def _code(*args: str) -> int:
    """The exit code ``ciimap`` gives (``ciimap.cli.main`` maps a domain error to its ``exit_code``)."""
    r = _cli(*args)
    return r.exception.exit_code if isinstance(r.exception, CiimapError) else r.exit_code


def test_cli_json_commands(database, gmap) -> None:
    r = _cli(
        "grading",
        "new",
        "OA",
        "--s-object",
        "order",
        "--s-degree",
        "serious",
        "--a-object",
        "order",
        "--a-degree",
        "general",
        "--extension",
        "cloud",
        "--graded-on",
        "2026-12-04",
        "--json",
    )
    assert r.exit_code == 0, r.output
    g = json.loads(r.output)
    assert (g["level"], g["system"], g["extensions"], g["filing_due"]) == (
        3,
        "办公系统",
        ["cloud"],
        "2026-12-18",
    )
    gid = str(g["id"])
    assert (
        json.loads(_cli("grading", "advance", gid, "--to", "review", "--note", "同意", "--json").output)[
            "state"
        ]
        == "review"
    )
    r = _cli("grading", "advance", gid, "--to", "approved", "--authority", "国家能源局", "--json")
    assert json.loads(r.output)["authority"] == "国家能源局"
    r = _cli(
        "grading",
        "advance",
        gid,
        "--to",
        "filed",
        "--filing-number",
        "NO-1",
        "--filing-date",
        TODAY.isoformat(),
        "--police-unit",
        "公安局",
        "--json",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["state"] == "filed"
    listed = json.loads(_cli("grading", "list", "--json").output)
    assert [(x["id"], x["state"], x["current"]) for x in listed] == [(int(gid), "filed", True)]
    assert json.loads(_cli("grading", "list", "--system", "OA", "--state", "draft", "--json").output) == []
    shown = json.loads(_cli("grading", "show", gid, "--json").output)
    assert [st["state"] for st in shown["steps"]] == ["draft", "review", "approved", "filed"]
    assert shown["steps"][1]["by"].startswith("cli:")
    with database.read_session() as s:
        assert s.get(m.System, gmap["office"]).mlps_level == 3
    _cli(
        "grading",
        "new",
        "调度系统",
        "--s-object",
        "order",
        "--s-degree",
        "general",
        "--a-object",
        "rights",
        "--a-degree",
        "general",
        "--graded-on",
        "2026-11-02",
    )
    due = json.loads(_cli("grading", "due", "--json").output)
    assert [(d["system"], d["due_status"], [w["code"] for w in d["warnings"]]) for d in due] == [
        ("调度系统", "overdue", ["cii_below_level_3"])
    ]
    r = _cli(
        "compliance",
        "grade",
        "--s-object",
        "rights",
        "--s-degree",
        "especially_serious",
        "--a-object",
        "order",
        "--a-degree",
        "general",
        "--json",
    )
    assert {k: json.loads(r.output)[k] for k in ("s_level", "a_level", "level")} == {
        "s_level": 2,
        "a_level": 2,
        "level": 2,
    }
    assert (
        json.loads(_cli("grading", "matrix", "--json").output)["levels"]["national"]["especially_serious"]
        == 5
    )
    for args in (("grading", "list"), ("grading", "due"), ("grading", "show", gid), ("grading", "matrix")):
        assert _cli(*args).exit_code == 0


def test_cli_exit_codes(database, gmap) -> None:
    judged = ["--s-object", "order", "--s-degree", "serious", "--a-object", "order", "--a-degree", "general"]
    usage = [
        ["grading", "new", "OA", *judged[:3], "moon", *judged[4:]],
        ["grading", "new", "OA", *judged, "--extension", "blockchain"],
        ["grading", "new", "OA", *judged, "--graded-on", "03/12/2026"],
        ["grading", "advance", "1", "--to", "bogus"],
        ["grading", "advance", "0", "--to", "review"],
        ["grading", "list", "--state", "bogus"],
        ["grading", "due", "--within", "-1"],
        ["compliance", "grade", *judged[:2], "--s-degree", "huge", *judged[4:]],
    ]
    for argv in usage:
        assert _code(*argv) == 2, argv
    assert _code("grading", "new", "no-such-system", *judged) == 3
    assert _code("grading", "show", "999999") == 3
    r = _cli("grading", "new", "OA", *judged, "--json")
    gid = str(json.loads(r.output)["id"])
    assert _code("grading", "new", "OA", *judged) == 4  # an open round: conflict
    assert _code("grading", "advance", gid, "--to", "filed", "--skip-approval") == 1  # no filing facts
    assert _code("grading", "advance", gid, "--to", "approved") == 4  # review first
    assert _code("grading", "advance", gid, "--to", "review", "--on", "2999-01-01") == 1
    with database.read_session() as s:
        assert s.get(m.System, gmap["office"]).mlps_level is None
