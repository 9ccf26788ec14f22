"""``ciimap serve`` as ``make run`` starts it: first start on an empty embedded database, slow workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CONSOLE_SCRIPT = Path(sys.executable).parent / "ciimap"

#: Delays importing the web app in server processes only (the supervisor never imports it), standing in
#: for a busy 2-core machine where a worker's start-up takes longer than uvicorn's 5 s health check.
SLOW_WORKERS = """
import sys, time
from importlib.abc import MetaPathFinder

class _Slow(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "ciimap.app":
            time.sleep(8)
        return None

sys.meta_path.insert(0, _Slow())
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 (loopback)
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer in {seconds} s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def test_first_start_loads_demo_then_serves_with_slow_workers(tmp_path):
    (tmp_path / "hooks").mkdir()
    (tmp_path / "hooks" / "sitecustomize.py").write_text(SLOW_WORKERS)
    env = {
        **os.environ,
        "CIIMAP_DATABASE_URL": f"sqlite:///{tmp_path}/ciimap.db",
        "CIIMAP_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "hooks"), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("CIIMAP_ADMIN_PASSWORD", None)
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(CONSOLE_SCRIPT), "serve", "--demo-if-empty", "--workers", "2", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
    try:
        _wait_for(f"http://127.0.0.1:{port}/login", proc, log, 240)
        text = log.read_text()
        # the demo is loaded (with its progress shown) before any server process starts
        assert text.index("demo loaded") < text.index("Started parent process")
        assert "demo:" in text  # progress lines in a log (no terminal)
        assert "died" not in text, text  # no worker killed by the health check
        assert text.count("Application startup complete") == 2, text
        hint = next(ln for ln in text.splitlines() if ln.startswith("log in as: admin / "))
        password = hint.split(" / ", 1)[1].split()[0]
        cmd = hint.split("change it with '", 1)[1].split("'", 1)[0]
        assert cmd.endswith(" user password admin")
        # the printed command works as printed, from where the server was started
        r = subprocess.run(
            [*cmd.split()[:-3], "user", "password", "admin", "--password", "another-pass-9"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
        assert password != "another-pass-9"
    finally:
        _stop(proc)

    # a later start: no new password, but how to reset it
    log2 = tmp_path / "serve2.log"
    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    with log2.open("wb") as out:
        proc = subprocess.Popen(
            [str(CONSOLE_SCRIPT), "serve", "--demo-if-empty", "--workers", "1", "--port", str(_free_port())],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 120
        while (
            "server process" not in log2.read_text() and time.monotonic() < deadline and proc.poll() is None
        ):
            time.sleep(0.3)
        text = log2.read_text()
        assert "demo loaded" not in text and "log in as" not in text
        assert f"'{CONSOLE_SCRIPT} user password admin' sets a new one" in text, text
    finally:
        _stop(proc)
