"""Upload hygiene (core/uploads.py, used by /api/imports, /api/feeds/{kind}/import and the imports page):
a size limit answered with 413 and no folder left behind, byte-safe (Chinese) file names, and each upload
folder removed when its job ends — successful, failed, never queued or rolled back."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.datastructures import UploadFile

from ciimap.config import get_settings
from ciimap.core import jobs, uploads
from ciimap.core.db import Database
from conftest import DATA, SHARED, make_user

NMAP = SHARED / "nmap" / "loopback-sV-O.xml"
LONG_NAME = "关键信息基础设施资产扫描结果" * 14 + ".xml"  # 589 bytes of UTF-8: over any file system's 255


def folders(data_dir: Path) -> list[Path]:
    root = data_dir / "uploads"
    return sorted(root.iterdir()) if root.exists() else []


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    return tmp_path


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> list[int]:
    """Capture dispatched job ids; the test runs them with the real ``jobs.execute`` (the job wrapper)."""
    ids: list[int] = []
    monkeypatch.setattr(jobs, "dispatch", ids.append)
    return ids


@pytest.fixture
def small_client(database: Database, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A server with CIIMAP_MAX_UPLOAD_MB=1 (the body limit is fixed when the app is built)."""
    from fastapi.testclient import TestClient

    from ciimap.app import create_app

    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
    with TestClient(create_app()) as c:
        yield c


def _post_import(
    client: Any, headers: dict[str, str], name: str, content: bytes, url: str = "/api/imports"
) -> Any:
    return client.post(
        url, headers=headers, data={"kind": "nmap"}, files=[("files", (name, content, "text/xml"))]
    )


# --- names -------------------------------------------------------------------------------------


def test_safe_name_cuts_utf8_bytes_at_a_character_and_keeps_the_extension():
    name = uploads.safe_name(LONG_NAME)
    assert len(name.encode()) <= uploads.NAME_BYTES and name.endswith(".xml")
    assert name.startswith("关键信息基础设施") and set(name[:-4]) <= set(LONG_NAME)  # whole characters only
    odd = uploads.safe_name("a" + "中" * 100 + ".tar.gz")  # 1 + 300 bytes: the cut falls inside a character
    assert odd.endswith(".gz") and len(odd.encode()) <= uploads.NAME_BYTES and "\ufffd" not in odd
    assert uploads.safe_name("x." + "y" * 400).encode().__len__() <= uploads.NAME_BYTES  # no sane extension
    assert uploads.safe_name("../../etc/passwd") == "passwd"
    assert uploads.safe_name("C:\\扫描\\a b;c.xml") == "a_b_c.xml"
    assert uploads.safe_name("...", "upload-1") == "upload-1"
    assert uploads.safe_name("资产清单.xlsx") == "资产清单.xlsx"


def test_long_chinese_file_name_imports_and_the_folder_goes_with_the_job(
    client, admin_headers, queued, data_dir
):
    r = _post_import(client, admin_headers, LONG_NAME, NMAP.read_bytes())
    assert r.status_code == 202, r.text  # was 500 (ENAMETOOLONG), leaving an empty folder behind
    stored = r.json()["files"][0]
    assert (
        stored.endswith(".xml")
        and stored.startswith("关键信息")
        and len(stored.encode()) <= uploads.NAME_BYTES
    )
    [folder] = folders(data_dir)
    assert [p.name for p in folder.iterdir()] == [stored]
    jobs.execute(queued[-1])
    job = client.get(f"/api/jobs/{r.json()['job_id']}", headers=admin_headers).json()
    assert job["status"] == "succeeded" and job["result"]["assets_created"] == 5
    assert folders(data_dir) == []  # removed when the job ended


def test_failed_jobs_remove_their_folders_too(client, admin_headers, queued, data_dir):
    r = _post_import(client, admin_headers, "bad.xml", NMAP.read_bytes()[:3000])
    jobs.execute(queued[-1])
    job = client.get(f"/api/jobs/{r.json()['job_id']}", headers=admin_headers).json()
    assert job["status"] == "failed" and "bad.xml:line " in job["error"]
    r = client.post(
        "/api/feeds/kev/import", headers=admin_headers, files={"file": ("kev.json", b"{not json", "x")}
    )
    assert r.status_code == 202
    jobs.execute(queued[-1])
    assert client.get(f"/api/jobs/{r.json()['id']}", headers=admin_headers).json()["status"] == "failed"
    with (DATA / "vulns" / "cnnvd-raw.xml").open("rb") as f:
        r = client.post(
            "/api/feeds/cnnvd/import", headers=admin_headers, files={"file": ("cnnvd.xml", f, "x")}
        )
    jobs.execute(queued[-1])
    assert client.get(f"/api/jobs/{r.json()['id']}", headers=admin_headers).json()["status"] == "succeeded"
    assert folders(data_dir) == []


def test_folder_removed_when_the_job_cannot_be_queued(client, admin_headers, data_dir, monkeypatch):
    def broken(job_id: int) -> None:
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(jobs, "dispatch", broken)
    r = _post_import(client, admin_headers, "scan.xml", NMAP.read_bytes())
    assert r.status_code == 202
    job = client.get(f"/api/jobs/{r.json()['job_id']}", headers=admin_headers).json()
    assert job["status"] == "failed" and "could not queue the job: queue unreachable" in job["error"]
    assert folders(data_dir) == []


def test_folder_removed_when_the_transaction_rolls_back(database, data_dir, monkeypatch):
    monkeypatch.setattr(jobs, "dispatch", lambda job_id: pytest.fail("a rolled-back job must not start"))
    up = uploads.store([UploadFile(io.BytesIO(b"<nmaprun/>"), filename="a.xml", size=10)])
    assert up.paths[0].read_bytes() == b"<nmaprun/>"
    with pytest.raises(RuntimeError), database.unit_of_work() as s:
        jobs.submit(s, "import", {"kind": "nmap", "paths": [str(up.paths[0])]}, upload_dir=up.folder)
        raise RuntimeError("the request failed after queueing")
    assert folders(data_dir) == []
    up = uploads.store([UploadFile(io.BytesIO(b"x"), filename="a.xml", size=1)])
    with pytest.raises(Exception, match="no job kind"), database.unit_of_work() as s:
        jobs.submit(s, "no-such-kind", {}, upload_dir=up.folder)
    assert folders(data_dir) == []


def test_upload_folder_never_leaves_data_dir(data_dir, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-keep"
    outside.mkdir()
    uploads.discard(outside)  # a forged job parameter cannot delete anything else
    uploads.discard(data_dir / "uploads" / ".." / "..")
    assert outside.is_dir() and data_dir.is_dir()


# --- size limit --------------------------------------------------------------------------------


def _one_line_413(r: Any) -> str:
    assert r.status_code == 413, r.text
    assert r.headers["x-content-type-options"] == "nosniff"  # security headers on the early 413 too
    msg = r.json()["error"]
    assert "\n" not in msg and "larger than 1 MB" in msg and "CIIMAP_MAX_UPLOAD_MB" in msg
    return str(msg)


def test_upload_over_the_limit_is_413_and_leaves_no_folder(database, small_client, data_dir):
    headers = make_user(database, "admin", "admin")
    just_over = b"<" + b"x" * (1024 * 1024 + 64 * 1024)  # within the body's form overhead: the copy stops it
    assert _one_line_413(_post_import(small_client, headers, "big.xml", just_over)).startswith("big.xml: ")
    assert folders(data_dir) == []
    far_over = b"x" * (3 * 1024 * 1024)  # refused from Content-Length before the body is read
    _one_line_413(_post_import(small_client, headers, "huge.xml", far_over))

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted while it streams in
        yield b'--b\r\nContent-Disposition: form-data; name="kind"\r\n\r\nnmap\r\n'
        yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="s.xml"\r\n\r\n'
        for _ in range(3):
            yield b"x" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    r = small_client.post(
        "/api/imports",
        headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
        content=chunked(),
    )
    _one_line_413(r)
    with (data_dir / "feed.json").open("wb") as f:
        f.write(just_over)
    with (data_dir / "feed.json").open("rb") as f:
        r = small_client.post("/api/feeds/kev/import", headers=headers, files={"file": ("kev.json", f, "x")})
    _one_line_413(r)
    assert folders(data_dir) == []
    ok = _post_import(small_client, headers, "scan.xml", NMAP.read_bytes())  # under the limit: accepted
    assert ok.status_code == 202, ok.text


def test_imports_page_upload_over_the_limit(database, small_client, data_dir):
    from ciimap.auth import service
    from ciimap.auth.deps import CSRF_HEADER, SESSION_COOKIE

    with database.unit_of_work() as s:
        secret, csrf = service.create_session(
            s, service.create_user(s, username="web", password="password-9", role="admin"), hours=1
        )
    small_client.cookies.set(SESSION_COOKIE, secret)
    r = small_client.post(
        "/imports",
        headers={CSRF_HEADER: csrf},
        data={"kind": "nmap"},
        files=[("files", ("big.xml", b"x" * (1024 * 1024 + 10), "text/xml"))],
    )
    _one_line_413(r)
    assert folders(data_dir) == []
    r = small_client.post(
        "/imports",
        headers={CSRF_HEADER: csrf},
        data={"kind": "bogus"},
        files=[("files", ("s.xml", b"<a/>", "text/xml"))],
    )
    assert r.status_code == 422 and folders(data_dir) == []  # refused kind: the saved folder is removed again
