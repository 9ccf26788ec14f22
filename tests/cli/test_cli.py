"""The CLI: users, CRUD with --json, and one-line errors (never a traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from ciimap.cli import app

runner = CliRunner()


def _ok(args: list[str]) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return r.output


def test_user_create_and_token(database):
    out = _ok(["user", "create", "ops", "--role", "admin", "--password", "a-long-password"])
    assert "created user ops (admin)" in out
    token = _ok(["user", "token", "ops"]).strip()
    assert token.startswith("cii_")
    users = json.loads(_ok(["user", "list", "--json"]))
    assert [u["username"] for u in users] == ["ops"] and "password_hash" not in users[0]


def test_crud_with_json_listing(database):
    _ok(["zones", "create", "--set", "name=工控网", "--set", "kind=ot", "--set", 'cidrs=["10.8.0.0/16"]'])
    zone = json.loads(_ok(["zones", "list", "--json"]))["items"][0]
    assert zone["cidrs"] == ["10.8.0.0/16"]
    _ok(
        [
            "assets",
            "create",
            "--data",
            json.dumps({"name": "plc-1", "kind": "ot_device", "zone_id": zone["id"], "ips": ["10.8.1.1"]}),
        ]
    )
    page = json.loads(_ok(["assets", "list", "--json", "--filter", f"zone_id={zone['id']}", "-q", "10.8."]))
    assert page["total"] == 1 and page["items"][0]["kind"] == "ot_device"
    aid = page["items"][0]["id"]
    updated = json.loads(_ok(["assets", "update", str(aid), "--set", "criticality=critical"]))
    assert updated["criticality"] == "critical"
    assert "资产" in _ok(["assets", "list"])  # rich table with the Chinese label


def test_bad_input_is_one_line_and_nonzero(database):
    r = runner.invoke(app, ["assets", "create", "--set", "name=x", "--set", 'ips=["999.1.1.1"]'])
    assert r.exit_code != 0
    r = runner.invoke(app, ["assets", "get", "424242"])
    assert r.exit_code != 0


def test_real_process_errors_have_no_traceback(database, tmp_path):
    env = {**os.environ, "CIIMAP_DATABASE_URL": database.url}
    cmds = [
        ["assets", "get", "424242"],
        ["assets", "create", "--set", "name=x", "--set", 'ips=["999.1.1.1"]'],
        ["assets", "list", "--filter", "colour=red"],
        ["assets", "create", "--data", "{not json"],
        ["user", "create", "x", "--password", "short"],
    ]
    for args in cmds:
        p = subprocess.run(
            [sys.executable, "-m", "ciimap", *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert p.returncode != 0, args
        assert "Traceback" not in p.stderr + p.stdout, p.stderr
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), p.stderr
