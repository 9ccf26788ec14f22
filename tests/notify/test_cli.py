"""The exact commands: ``ciimap notify channel add NAME --kind K --url U [--secret S]`` and ``ciimap notify
test NAME`` (exit 0 only when the receiver accepted the message), with ``--json`` listings.

Real processes, so SQLite only (each costs seconds); the same services run on PostgreSQL in
test_outbox.py and the refused-input case of tests/cli/test_exit_codes.py runs on both."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .receiver import receiver


def _ciimap(database, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CIIMAP_DATABASE_URL": database.url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "ciimap", *args], env=env, capture_output=True, text=True, timeout=180
    )


def test_channel_add_and_test_exit_codes(sqlite_database):
    database = sqlite_database
    answers = {
        "/good": {"errcode": 0, "errmsg": "ok"},
        "/bad": {"errcode": 310000, "errmsg": "sign not match"},
    }
    with receiver(lambda req, n: (200, answers[req.path])) as r:
        for name in ("good", "bad"):
            res = _ciimap(
                database,
                "notify",
                "channel",
                "add",
                name,
                "--kind",
                "dingtalk",
                "--url",
                f"{r.url}/{name}?access_token=TOKEN9",
                "--secret",
                "SECRET9",
            )
            assert res.returncode == 0, res.stderr
        ok = _ciimap(database, "notify", "test", "good")
        bad = _ciimap(database, "notify", "test", "bad")
        listed = _ciimap(database, "notify", "channel", "list", "--json")
        assert r.count() == 2
    assert ok.returncode == 0, ok.stderr
    assert bad.returncode == 1 and "310000" in bad.stderr and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    channels = json.loads(listed.stdout)
    assert [c["name"] for c in channels] == ["bad", "good"] and all(c["has_secret"] for c in channels)
    assert "SECRET9" not in listed.stdout and "TOKEN9" not in listed.stdout
    attempts = json.loads(
        _ciimap(database, "notify", "attempts", "--subject", "channel:bad", "--json").stdout
    )
    assert [(a["status"], a["response_code"]) for a in attempts] == [("error", 200)]
    _ciimap(
        database, "notify", "channel", "add", "gone", "--kind", "webhook", "--url", "http://127.0.0.1:9/x"
    )
    gone = _ciimap(database, "notify", "test", "gone")  # nothing listens: refused connection
    assert gone.returncode == 1 and "not accepted" in gone.stderr
