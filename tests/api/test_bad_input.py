"""Bad input is a 4xx with the one error body, never a 500 — on both databases.

Each case here answered 500 before (OverflowError on SQLite, DataError on PostgreSQL), stored a NUL
on SQLite, or let a bad ``snapshot_date`` through to a job that then stored a traceback.
"""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from ciimap.core import jobs
from ciimap.core.errors import Invalid
from ciimap.core.jobs import Job
from ciimap.inventory.models import Asset, Vendor

HUGE = 99999999999999999999999  # beyond 64 bits: OverflowError on SQLite
BIG = 3_000_000_000  # beyond 32 bits: "integer out of range" on PostgreSQL's INTEGER columns
INT32_MAX = 2**31 - 1  # the largest id PostgreSQL INTEGER columns hold


def _error(r, status: int = 422) -> str:  # noqa: ANN001
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["error"], str) and "\n" not in body["error"]
    return body["error"]


@pytest.mark.parametrize("number", [HUGE, BIG, -HUGE])
def test_out_of_range_integers_in_path_query_and_body_are_422(client, admin_headers, number):
    h = admin_headers
    vendor = client.post("/api/vendors", json={"name": "华为"}, headers=h).json()["id"]
    asset = client.post("/api/assets", json={"name": "db-01"}, headers=h).json()["id"]
    for path in (
        f"/api/assets/{number}",
        f"/api/vulns/findings/{number}",
        f"/api/supply/vendors/{number}/profile",
        f"/api/jobs/{number}",
        f"/api/users/{number}/revoke-tokens",
    ):
        method = client.post if path.endswith("revoke-tokens") else client.get
        assert "less than or equal" in _error(method(path, headers=h)) or "greater than" in _error(
            method(path, headers=h)
        )
    for query in (f"after={number}", f"offset={number}", f"site_id={number}"):
        _error(client.get(f"/api/assets?{query}", headers=h))
    _error(client.get(f"/api/audit?offset={number}", headers=h))
    _error(client.get(f"/api/supply/findings?vendor_id={number}", headers=h))
    bodies = [
        ("/api/endpoints", {"asset_id": asset, "port": number}, "port"),
        ("/api/products", {"name": "欧拉", "vendor_id": number}, "vendor_id"),
        ("/api/supply/plans", {"system_id": number, "current_product_id": 1}, "system_id"),
        (
            "/api/assets/{asset}/link",
            {"key": "ip", "value": "10.0.0.1", "other_asset_id": number},
            "other_asset_id",
        ),
    ]
    for path, body, field in bodies:
        assert _error(client.post(path.format(asset=asset), json=body, headers=h)).startswith(field)
    assert _error(client.patch(f"/api/assets/{asset}", json={"site_id": number}, headers=h)).startswith(
        "site_id"
    )
    _error(client.put(f"/api/supply/vendors/{number}/profile", json={"notes": "n"}, headers=h))
    assert client.get(f"/api/supply/vendors/{vendor}/profile", headers=h).status_code == 404  # no profile yet
    # the largest accepted id is simply not found
    assert client.get(f"/api/assets/{INT32_MAX}", headers=h).status_code == 404


def test_negative_offset_is_422_on_every_paged_route(client, admin_headers):
    for path in (
        "/api/assets",
        "/api/audit",
        "/api/changes",
        "/api/runs",
        "/api/ghosts",
        "/api/unmanaged",
        "/api/vulns/findings",
    ):
        _error(client.get(f"{path}?offset=-1", headers=admin_headers))


NUL = "a\x00b"


def test_nul_in_json_text_is_refused_and_nothing_is_stored(client, admin_headers, database):
    h = admin_headers
    err = _error(client.post("/api/vendors", json={"name": NUL}, headers=h))
    assert err.startswith("name:") and "NUL" in err
    _error(
        client.post("/api/assets", json={"name": "ok", "ips": ["10.0.0.1"], "tags": {"k": NUL}}, headers=h)
    )
    _error(client.post("/api/auth/login", json={"username": NUL, "password": "x"}))
    _error(client.post("/api/users", json={"username": NUL, "password": "correct-horse-1"}, headers=h))
    asset = client.post("/api/assets", json={"name": "ok"}, headers=h).json()["id"]
    _error(client.patch(f"/api/assets/{asset}", json={"hostname": NUL}, headers=h))
    _error(client.post(f"/api/assets/{asset}/link", json={"key": "ip", "value": NUL}, headers=h))
    vendor = client.post("/api/vendors", json={"name": "华为"}, headers=h).json()["id"]
    assert _error(
        client.put(f"/api/supply/vendors/{vendor}/profile", json={"notes": NUL}, headers=h)
    ).startswith("notes")
    with database.read_session() as s:
        assert s.scalars(select(Vendor.name)).all() == ["华为"]
        assert s.scalars(select(Asset.hostname)).all() == [None]


def test_nul_in_query_strings_and_paths_is_refused(client, admin_headers):
    h = admin_headers
    assert "NUL" in _error(client.get("/api/assets?q=a%00b", headers=h))
    _error(client.get("/api/vulns/where?q=%00", headers=h))
    _error(client.get("/api/scan-scopes/a%00b", headers=h))
    _error(client.get("/api/graph/scenarios/x%00", headers=h))
    _error(client.get("/api/graph/impact?fail=vendor:a%00", headers=h))


GEOJSON = (
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "x"},'
    b' "geometry": {"type": "Point", "coordinates": [121.4, 31.2]}}]}'
)


def test_nul_in_web_forms_is_refused(client, admin_headers):
    r = client.post("/login", data={"username": NUL, "password": "x"}, follow_redirects=False)
    assert "NUL" in _error(r)


def test_nul_in_import_options_is_refused(client, admin_headers, database):
    files = {"files": ("scan.xml", b"<nmaprun/>", "application/xml")}
    for options in ('{"scope": "a\\u0000b"}', '{"asset_id": 99999999999999999999999}'):
        err = _error(
            client.post(
                "/api/imports", files=files, data={"kind": "nmap", "options": options}, headers=admin_headers
            )
        )
        assert err.startswith("options:")
    with database.read_session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0


def test_nul_in_form_fields_is_refused(client, admin_headers):
    files = {"file": ("map.geojson", GEOJSON, "application/geo+json")}
    err = _error(client.post("/api/ui/basemap", files=files, data={"approval": NUL}, headers=admin_headers))
    assert err.startswith("approval:") and "NUL" in err
    meta = client.get("/api/ui/sites", headers=admin_headers).json()["basemap"]
    assert meta is None or "\x00" not in (meta["approval"] or "")  # nothing was stored
    ok = client.post("/api/ui/basemap", files=files, data={"approval": "GS(2026)1号"}, headers=admin_headers)
    assert ok.status_code == 200, ok.text


def test_feed_snapshot_date_is_validated_at_upload(client, admin_headers, database):
    files = {"file": ("kev.json", b"{}", "application/json")}
    for bad in ("yesterday", "2026-13-01", "2026-01-01'; --"):
        err = _error(
            client.post(
                "/api/feeds/kev/import", files=files, data={"snapshot_date": bad}, headers=admin_headers
            )
        )
        assert err.startswith("snapshot_date:") and "YYYY-MM-DD" in err
    with database.read_session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0  # nothing was queued


@jobs.job("test.api-bug")
def _bug(session, params, progress):  # noqa: ANN001, ANN202
    raise KeyError("snapshot_date\nsecond line")


@jobs.job("test.api-invalid")
def _invalid(session, params, progress):  # noqa: ANN001, ANN202
    raise Invalid("feed.json:line 3: not a feed\n  details that belong in a log")


def test_a_failed_job_stores_one_line_and_logs_the_traceback(database, caplog):
    with database.unit_of_work() as s:  # queued rows, run here (not by the pool or a worker)
        rows = [
            Job(kind=kind, params={}, status="queued", created_by="tester")
            for kind in ("test.api-bug", "test.api-invalid")
        ]
        s.add_all(rows)
        s.flush()
        bug, bad = (j.id for j in rows)
    with caplog.at_level(logging.ERROR, logger="ciimap.core.jobs"):
        jobs.execute(bug)
        jobs.execute(bad)
    with database.read_session() as s:
        b, i = s.get(Job, bug), s.get(Job, bad)
        assert (b.status, b.error) == ("failed", "KeyError: 'snapshot_date\\nsecond line'")
        assert (i.status, i.error) == ("failed", "feed.json:line 3: not a feed")
        assert "\n" not in (b.message or "") and "Traceback" not in b.error
    assert any(r.exc_info and "test.api-bug" in r.getMessage() for r in caplog.records)


def test_job_errors_are_capped():
    assert jobs.one_line("x" * 5000) == "x" * (jobs.MAX_ERROR - 1) + "…"
    assert jobs.one_line("\n\n  first  \nsecond") == "first"


def test_timestamps_in_answers_carry_utc(client, admin_headers, database):
    h = admin_headers
    asset = client.post("/api/assets", json={"name": "db-01"}, headers=h).json()
    listed = client.get("/api/assets", headers=h).json()["items"][0]
    one = client.get(f"/api/assets/{asset['id']}", headers=h).json()
    job = client.get("/api/audit", headers=h).json()["items"][0]
    for stamp in (
        asset["first_seen"],
        listed["first_seen"],
        listed["last_seen"],
        one["last_seen"],
        job["ts"],
    ):
        parsed = dt.datetime.fromisoformat(stamp)
        assert parsed.utcoffset() == dt.timedelta(0), stamp
    assert listed["first_seen"] == one["first_seen"]  # the fast list path and the model agree


def test_error_bodies_are_one_shape(client, admin_headers):
    h = admin_headers
    json_type = {**h, "Content-Type": "application/json"}
    assert (
        _error(client.post("/api/vendors", content=b"{not json", headers=json_type))
        == "body: not valid JSON (Expecting property name enclosed in double quotes at character 1)"
    )
    assert _error(client.post("/api/vendors", content=b'"\xff\xfe"', headers=json_type), 400)
    assert _error(client.get("/api/no-such-route", headers=h), 404)
    assert _error(client.get("/api/assets/1", headers=h), 404)
    assert _error(client.get("/api/assets"), 401)


def test_supply_export_survives_control_characters(client, admin_headers):
    h = admin_headers
    assert (
        client.post("/api/vendors", json={"name": "ACME\x0b\x01 Ltd", "country": "US"}, headers=h).status_code
        == 201
    )
    r = client.get("/api/supply/export.xlsx", headers=h)
    assert r.status_code == 200
    names = [
        c.value
        for ws in load_workbook(io.BytesIO(r.content)).worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("ACME")
    ]
    assert names and all(n == "ACME\ufffd\ufffd Ltd" for n in names)
