"""Live discovery: real nmap against small services on 127.0.0.2-4, through the CLI and the API.

Only 127.0.0.0/8 addresses are ever scanned. On PostgreSQL the job runs in a separate
``ciimap worker`` process (the procrastinate queue), on SQLite in-process.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from ciimap.core import jobs
from ciimap.inventory.models import Asset, ServiceEndpoint

pytestmark = pytest.mark.nmap
ROOT = Path(__file__).resolve().parents[2]
CIIMAP = str(Path(sys.executable).parent / "ciimap")


def _worker_offset() -> int:
    w = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 100 * int(w[2:] or 0) if w.startswith("gw") else 0


class _Banner(socketserver.BaseRequestHandler):
    banner = b""

    def handle(self) -> None:
        self.request.sendall(self.banner)
        self.request.settimeout(2)
        with contextlib.suppress(OSError):
            self.request.recv(256)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _banner_server(addr: str, port: int, banner: bytes) -> socketserver.BaseServer:
    handler = type("H", (_Banner,), {"banner": banner})
    return _Server((addr, port), handler)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a: object) -> None:
        pass


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, int]]:
    """SSH-like banner on 127.0.0.2, HTTP on 127.0.0.3, FTP-like banner on 127.0.0.4 (fixed high ports)."""
    for attempt in range(20):  # fixed layout (ftp and ssh adjacent), moved on if another program holds a port
        base = 47000 + _worker_offset() + attempt * 1000
        ports = {"ssh": base + 22, "http": base + 80, "ftp": base + 21}
        servers: list[socketserver.BaseServer] = []
        try:
            servers.append(
                _banner_server("127.0.0.2", ports["ssh"], b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10\r\n")
            )
            servers.append(http.server.ThreadingHTTPServer(("127.0.0.3", ports["http"]), _Quiet))
            servers.append(_banner_server("127.0.0.4", ports["ftp"], b"220 (vsFTPd 3.0.5)\r\n"))
            break
        except OSError:
            for srv in servers:
                srv.server_close()
    else:
        raise RuntimeError("no free port layout for the test services")
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    yield ports
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.fixture
def env(database, tmp_path, monkeypatch):
    """A scope 127.0.0.0/29, scan files under tmp_path, and on PostgreSQL a real ``ciimap worker``."""
    from ciimap.config import get_settings
    from ciimap.discovery import service

    monkeypatch.setenv("CIIMAP_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    with database.unit_of_work() as s:
        service.create_scope(s, name="lab", cidrs=["127.0.0.0/29"], max_rate=1000, actor="admin")
    worker = None
    if not database.is_sqlite:
        with database.engine.begin() as c:
            c.execute(text("DELETE FROM procrastinate_jobs"))
        wenv = {**os.environ, "CIIMAP_DATABASE_URL": database.url, "CIIMAP_DATA_DIR": str(tmp_path)}
        log = (tmp_path / "worker.log").open("w")  # a file, not an unread pipe that could fill and block it
        worker = subprocess.Popen(
            [CIIMAP, "worker", "--concurrency", "1"],
            env=wenv,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        log.close()
    yield database
    if worker is not None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        from ciimap.core import queue

        queue.close()
    get_settings.cache_clear()


def _open_endpoints(db) -> set[tuple[str, int, str | None]]:
    with db.read_session() as s:
        rows = s.execute(
            select(Asset.primary_ip, ServiceEndpoint.port, ServiceEndpoint.name)
            .join(ServiceEndpoint, ServiceEndpoint.asset_id == Asset.id)
            .where(ServiceEndpoint.state == "open")
        ).all()
    return {(r[0], r[1], r[2]) for r in rows}


def test_discover_through_the_cli(env, services):
    from ciimap.cli import app

    ports = ",".join(str(p) for p in sorted(services.values()))
    r = CliRunner().invoke(
        app,
        [
            "discover",
            "127.0.0.2",
            "127.0.0.3",
            "127.0.0.4",
            "--scope",
            "lab",
            "--ports",
            ports,
            "--rate",
            "500",
            "--json",
            "--timeout",
            "120",
        ],
    )
    assert r.exit_code == 0, (r.output, r.exception)
    job = json.loads(r.output)
    assert (
        job["status"] == "succeeded" and job["kind"] == "discover" and job["progress"] == job["total"] == 100
    )
    res = job["result"]
    assert res["scan_scope"] == "lab" and res["assets_created"] == 3
    assert (
        res["scope"] == "nmap:127.0.0.2 127.0.0.3 127.0.0.4"
    )  # the import run compares scans of these targets
    argv = res["argv"]
    assert argv[argv.index("--max-rate") + 1] == "500"
    assert argv[argv.index("-p") + 1] == f"{services['ftp']}-{services['ssh']},{services['http']}"  # merged
    assert (
        Path(res["xml"]).is_file()
        and Path(res["xml"]).parent == Path(os.environ["CIIMAP_DATA_DIR"]) / "discovery"
    )
    found = _open_endpoints(env)
    assert found == {
        ("127.0.0.2", services["ssh"], "ssh"),
        ("127.0.0.3", services["http"], "http"),
        ("127.0.0.4", services["ftp"], "ftp"),
    }
    with env.read_session() as s:
        ssh = s.scalar(select(ServiceEndpoint).where(ServiceEndpoint.port == services["ssh"]))
        assert ssh.product == "OpenSSH" and ssh.version.startswith("8.9p1")
        assert ssh.method == "probed"  # fingerprinted by -sV, not guessed from the port number
    r = CliRunner().invoke(app, ["discover", "127.0.0.9", "--ports", ports])
    assert r.exit_code != 0 and str(r.exception) == "target '127.0.0.9' is outside any enabled scan scope"
    with env.read_session() as s:
        assert len(jobs.list_jobs(s)) == 1  # the refused request queued nothing


def test_discover_through_the_api_job(env, services, client, analyst_headers, auditor_headers):
    body = {"targets": ["127.0.0.4"], "ports": str(services["ftp"]), "scope": "lab", "rate": 300}
    assert client.post("/api/discover", json=body, headers=auditor_headers).status_code == 403
    r = client.post("/api/discover", json={**body, "targets": ["127.0.0.9"]}, headers=analyst_headers)
    assert r.status_code == 403 and r.json()["error"] == "target '127.0.0.9' is outside scan scope 'lab'"
    r = client.post("/api/discover", json=body, headers=analyst_headers)
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert r.json()["status"] == "queued" and r.json()["params"]["nmap_targets"] == ["127.0.0.4"]
    seen = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        j = client.get(f"/api/jobs/{job_id}", headers=analyst_headers).json()
        seen.add(j["status"])
        if j["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.05)
    assert j["status"] == "succeeded", j["error"]
    assert seen <= {"queued", "running", "succeeded"}
    assert j["result"]["assets_created"] == 1 and j["created_by"] == "analyst" and j["progress"] == 100
    assert _open_endpoints(env) == {("127.0.0.4", services["ftp"], "ftp")}
    # a second scan of the same host updates the map instead of duplicating it
    r = client.post("/api/discover", json=body, headers=analyst_headers)
    j2 = jobs.wait(r.json()["id"], timeout=120)
    assert j2.status == "succeeded" and j2.result["assets_created"] == 0
    with env.read_session() as s:
        assert len(s.scalars(select(Asset)).all()) == 1


def test_disabling_a_scope_stops_queued_jobs(env, services, monkeypatch):
    """The scope is checked again when the job runs: a job queued before the scope was disabled fails."""
    from ciimap.discovery import service

    held: list[int] = []
    monkeypatch.setattr(jobs, "dispatch", held.append)  # keep it queued while we disable the scope
    with env.unit_of_work() as s:
        job = service.request_discovery(s, targets=["127.0.0.2"], ports=str(services["ssh"]), scope="lab")
        job_id = job.id
    with env.unit_of_work() as s:
        service.update_scope(s, "lab", changes={"enabled": False})
    jobs.execute(held[0])
    with env.read_session() as s:
        j = s.get(jobs.Job, job_id)
        assert j.status == "failed" and j.error == "scan scope 'lab' is disabled: target '127.0.0.2' refused"
    assert _open_endpoints(env) == set()
