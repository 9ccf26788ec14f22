"""Exit codes at the process boundary, for every command group: what a shell script or cron job sees.

0 success; 1 refused input, a failed check, a tampered audit trail; 2 usage errors (click's usage
message); 3 not found. Errors are one line, never a traceback. Commands run in real child processes
(``forkserver.py`` forks one per command after importing the CLI once), plus a few through the
installed ``ciimap`` console script itself.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import text

from ciimap.cli import app as cli_app
from ciimap.core.db import Database
from conftest import SHARED

HERE = Path(__file__).resolve().parent
CONSOLE_SCRIPT = Path(sys.executable).parent / "ciimap"

Run = Callable[..., dict[str, Any]]


def _groups() -> dict[str, list[str]]:
    """Every top-level command or group of the real app → its subcommand names (empty for a command)."""
    root = typer.main.get_command(cli_app)
    return {name: sorted(getattr(cmd, "commands", {})) for name, cmd in root.commands.items()}  # type: ignore[attr-defined]


@pytest.fixture
def run_cli(tmp_path: Path) -> Iterator[Callable[[str | None], Run]]:
    procs: list[subprocess.Popen[str]] = []

    def start(db_url: str | None) -> Run:
        env = {**os.environ, "COLUMNS": "200"}
        if db_url:
            env["CIIMAP_DATABASE_URL"] = db_url
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "forkserver.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        procs.append(proc)

        def run(*argv: str) -> dict[str, Any]:
            assert proc.stdin and proc.stdout
            proc.stdin.write(json.dumps(list(argv)) + "\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], 180)
            assert ready, f"ciimap {' '.join(argv)} did not finish in 180 s"
            return json.loads(proc.stdout.readline())

        return run

    yield start
    for p in procs:
        if p.stdin:
            p.stdin.close()
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()


def _one_line_error(res: dict[str, Any]) -> str:
    assert "Traceback" not in res["err"] + res["out"], res["err"]
    lines = [ln for ln in res["err"].splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res["err"]
    return lines[0]


def test_usage_errors_exit_2_in_every_group(run_cli):
    run = run_cli(None)  # usage errors never reach a database
    groups = _groups()
    assert len(groups) > 30  # the real app, not an empty stand-in
    cases = [
        ["--bogus"],
        ["no-such-command"],
        ["assets", "get"],
        ["assets", "get", "notanumber"],
        ["import"],
        ["serve", "--port", "0"],
        ["serve", "--workers", "-1"],
        ["user", "no-such-subcommand"],
        ["incidents", "plans", "list", "--bogus"],
        ["incidents", "drills", "scenarios", "--bogus"],
        ["assets", "--bogus"],
        [
            "data",
            "grade",
            "--impact",
            "moon:serious",
            "--json",
        ],  # an unknown impact object, as compliance grade
    ]
    for name, subs in groups.items():
        cases.append([name, subs[0], "--bogus"] if subs else [name, "--bogus"])
    for argv in cases:
        res = run(*argv)
        assert res["rc"] == 2, (argv, res)
        assert "Traceback" not in res["err"] + res["out"], (argv, res["err"])
        assert "Usage:" in res["err"] and "--help" in res["err"], (argv, res["err"])


def _refused(sqlite: bool, files: Path) -> dict[str, list[str] | None]:
    """group → a command that the group must refuse (exit 1); None: the group takes no input to refuse."""
    not_nmap = files / "scan.xml"
    not_nmap.write_text("this is not an nmap report\n", encoding="utf-8")
    not_kev = files / "kev.csv"
    not_kev.write_text("a,b\n1,2\n", encoding="utf-8")
    not_stix = files / "bundle.json"
    not_stix.write_text('{"Event": {"info": "a MISP event, not a bundle"}}', encoding="utf-8")
    not_catalogue = files / "catalogue.csv"
    not_catalogue.write_text("描述,负责人\n说明,张三\n", encoding="utf-8")
    crud = [
        "organizations",
        "contacts",
        "sites",
        "zones",
        "business-services",
        "systems",
        "vendors",
        "products",
        "assets",
        "endpoints",
        "software",
        "edges",
    ]
    cases: dict[str, list[str] | None] = {g: [g, "create", "--data", "{not json"] for g in crud}
    cases.update(
        {
            "serve": None,  # its options are bounded: bad values are usage errors (above)
            "worker": ["worker"]
            if sqlite
            else None,  # SQLite has no queue worker; on PostgreSQL it would run
            "demo": ["demo", "--scale", "0"],
            "import": ["import", "nmap", str(not_nmap)],
            "changes": ["changes", "--limit", "0"],
            "unmanaged": None,
            "ghosts": None,
            "sources": ["sources", "--family", "bogus"],
            "discover": ["discover", "not-a-target"],
            "impact": ["impact", "bogus", "x"],
            "spof": ["spof", "--min-criticality", "bogus"],
            "concentration": ["concentration", "--threshold", "5"],
            "topology": None,  # its options are bounded (usage errors, exit 2: tests/graph/test_topology_data.py)
            "overview": None,  # takes no input
            "posture": None,  # takes no input
            "sitemap": None,  # takes no input
            "db": None,  # test_db_check_and_schema below
            "user": ["user", "create", "x", "--password", "short"],
            "audit": None,  # test_tampered_audit_trail_exits_1 below
            "jobs": ["jobs", "list", "--status", "bogus"],
            "runs": ["runs", "list", "--limit", "0"],
            "scopes": ["scopes", "add", "x", "--cidr", "notacidr"],
            "schedules": ["schedules", "add", "x", "--scope", "nope", "--target", "10.0.0.1"],
            "scenarios": ["scenarios", "save", "x", "--fail", "bogus:1"],
            "rollout": ["rollout", "plan", "x", "--channel", "y"],
            "supply": ["supply", "export", str(files / "out.txt")],
            "feeds": ["feeds", "import", "kev", str(not_kev)],
            "vulns": ["vulns", "list", "--priority", "bogus"],
            "grading": ["grading", "advance", "1", "--to", "review", "--filing-number", "x"],
            "compliance": [
                "compliance",
                "conclude",
                "--score",
                "100.5",
                "--high-risks",
                "0",
                "--medium-risks",
                "0",
            ],
            "assess": [
                "assess",
                "result",
                "1",
                "22239-2019:8.1.4.1.a",
                "--object",
                "1",
                "--result",
                "pass",
                "--link",
                "moon:1",
            ],
            "rectify": ["rectify", "new", "--result", "1", "--risk", "1"],
            "alerts": ["alerts", "list", "--severity", "bogus"],
            "obligations": ["obligations", "calendar", "--from", "2026-12-31", "--to", "2026-01-01"],
            "keyposts": ["keyposts", "add", "x" * 201],
            "training": ["training", "add", "1", "--on", "2026-01-05", "--hours", "0", "--topic", "演练"],
            # the grading report has no XLSX form: refused before anything is read or written
            "report": ["report", "grading", "1", "--format", "xlsx", "-o", str(files / "report.xlsx")],
            "crypto": ["crypto", "add-product", "--name", "x", "--certificate-no", "1", "--layer", "moon"],
            "intel": ["intel", "import", "stix", str(not_stix)],
            "data": ["data", "import", "datacat", str(not_catalogue)],
            "notify": ["notify", "channel", "add", "x", "--kind", "sms", "--url", "http://127.0.0.1:9/"],
            "incidents": ["incidents", "assess", "--reporter", "nobody", "--json"],
            "listen": ["listen", "--tcp", "127.0.0.1:99999"],
            "webhooks": ["webhooks", "create", "x", "--source", "moon"],
        }
    )
    return cases


def _audit_count(db: Database) -> int:
    with db.engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM audit_log")).scalar_one())


def test_refused_input_exits_1_in_every_group(database, run_cli, tmp_path):
    cases = _refused(database.is_sqlite, tmp_path)
    assert set(cases) == set(_groups()), "every command group needs a refused-input case (or None and why)"
    run = run_cli(database.url)
    run("zones", "create", "--set", "name=办公网")  # something stored, so "nothing changed" means something
    for group, argv in cases.items():
        if argv is None:
            continue
        before = _audit_count(database)
        res = run(*argv)
        assert res["rc"] == 1, (group, argv, res)
        _one_line_error(res)
        if group not in (
            "import",
            "feeds",
            "intel",
            "data",
        ):  # a refused import records its failed run (tests/*/test_*bad_input)
            assert _audit_count(database) == before, (group, argv)  # refused input changed nothing


def test_incident_plans_and_drills_refuse_bad_input_exit_1(database, run_cli, tmp_path):
    """The sub-groups ``incidents plans`` and ``incidents drills``: refused input is exit 1, one line,
    nothing stored."""
    run = run_cli(database.url)
    run("systems", "create", "--set", "name=调度系统")
    for argv in (
        ["incidents", "plans", "add", "预案"],  # covers neither a service nor a system
        ["incidents", "plans", "add", "预案", "--system", "1", "--step", "没有角色"],
        ["incidents", "plans", "add", "预案", "--system", "1", "--fallback", "moon:1"],
        ["incidents", "plans", "add", "预案", "--system", "1", "--last-reviewed", "yesterday"],
        ["incidents", "drills", "start"],
        ["incidents", "drills", "scenarios", "--vendor", "x", "--system", "y"],
        ["incidents", "drills", "report", "1", "--format", "xlsx", "-o", str(tmp_path / "r.xlsx")],
    ):
        before = _audit_count(database)
        res = run(*argv)
        assert res["rc"] == 1, (argv, res)
        _one_line_error(res)
        assert _audit_count(database) == before, argv
    res = run("incidents", "plans", "add", "预案", "--system", "1", "--step", "处置=切换", "--json")
    assert res["rc"] == 0, res
    assert json.loads(res["out"])["steps"] == [{"text": "切换", "owner_role": "处置"}]


def test_not_found_exits_3(database, run_cli):
    run = run_cli(database.url)
    for argv in (
        ["assets", "get", "424242"],
        ["jobs", "wait", "999"],
        ["vulns", "show", "999"],
        ["impact", "vendor", "no-such-vendor"],
        ["rollout", "start", "999"],
        ["compliance", "evidence", "424242"],
        ["keyposts", "member-add", "424242", "1"],
        ["training", "list", "--contact", "424242"],
        ["crypto", "assess", "show", "424242"],
        ["incidents", "show", "424242"],
        ["incidents", "plans", "show", "424242"],
        ["incidents", "plans", "check", "424242"],
        ["incidents", "plans", "add", "预案", "--system", "424242"],
        ["incidents", "drills", "score", "424242"],
        ["incidents", "drills", "start", "--system", "no-such-system"],
    ):
        res = run(*argv)
        assert res["rc"] == 3, (argv, res)
        _one_line_error(res)


def test_tampered_audit_trail_exits_1(database, tmp_path):
    """Through the installed console script, as cron would run it."""
    env = {**os.environ, "CIIMAP_DATABASE_URL": database.url, "COLUMNS": "200"}

    def ciimap(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CONSOLE_SCRIPT), *args], env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path
        )

    from ciimap.core.audit import Actor, acting_as
    from ciimap.inventory.models import NetworkZone

    with acting_as(Actor("cli:test", via="cli")), database.unit_of_work() as s:
        s.add_all([NetworkZone(name="生产网"), NetworkZone(name="办公网")])
    ok = ciimap("audit", "verify")
    assert ok.returncode == 0, ok.stderr
    with database.engine.begin() as c:
        c.execute(
            text("UPDATE audit_log SET actor = 'someone-else' WHERE id = (SELECT min(id) FROM audit_log)")
        )
    bad = ciimap("audit", "verify")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "TAMPERED" in bad.stdout + bad.stderr and "Traceback" not in bad.stderr
    bad_json = ciimap("audit", "verify", "--json")
    assert bad_json.returncode == 1 and json.loads(bad_json.stdout)["ok"] is False


def test_db_check_and_schema_on_first_use(run_cli, tmp_path):
    """A new embedded database migrates itself on the first command; ``db check`` on a database that is
    behind fails with one line and exit 1."""
    fresh = f"sqlite:///{tmp_path}/fresh.db"
    run = run_cli(fresh)
    res = run("assets", "list", "--json")
    assert res["rc"] == 0, res
    assert json.loads(res["out"])["items"] == []
    assert run("db", "check")["rc"] == 0
    empty = f"sqlite:///{tmp_path}/empty.db"
    Database(empty).engine.connect().close()  # an empty database file: no schema
    res = run_cli(empty)("db", "check")
    assert res["rc"] == 1, res
    assert "ciimap db upgrade" in _one_line_error(res)


def test_first_import_on_a_new_database(run_cli, tmp_path):
    scan = SHARED / "nmap" / "loopback-sV-O.xml"
    run = run_cli(f"sqlite:///{tmp_path}/new.db")
    res = run("import", "nmap", str(scan), "--json")
    assert res["rc"] == 0, res
    assert "no such table" not in res["err"]
    assert json.loads(run("assets", "list", "--json")["out"])["total"] > 0


def test_postgresql_behind_is_one_line(pg_server, run_cli):
    name = f"ciimap_behind_{os.getpid()}"
    admin = Database(pg_server)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = pg_server.rsplit("/", 1)[0] + "/" + name
        run = run_cli(url)
        res = run("assets", "list", "--json")
        assert res["rc"] == 1, res
        assert "ciimap db upgrade" in _one_line_error(res)
        res = run("import", "nmap", "/nonexistent.xml")
        assert res["rc"] == 1
        # the database was not migrated behind the user's back
        with Database(url).engine.connect() as c:
            assert c.execute(text("SELECT to_regclass('asset')")).scalar() is None
    finally:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.engine.dispose()
