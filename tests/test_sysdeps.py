"""scripts/sysdeps.sh: what `make run` installs on a fresh machine (apt and dpkg replaced by stubs)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_make_run_installs_the_cjk_fonts_the_pdf_reports_embed_only_when_missing(tmp_path) -> None:
    bin_dir, log = tmp_path / "bin", tmp_path / "apt.log"
    bin_dir.mkdir()
    _stub(bin_dir, "apt-get", f'echo "$@" >> {log}')
    _stub(bin_dir, "sudo", '"$@"')
    for tool in ("nmap", "node", "npm"):  # present: only the fonts are in question here
        _stub(bin_dir, tool, "exit 0")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}

    _stub(bin_dir, "dpkg-query", "exit 1")  # fonts-noto-cjk not installed
    res = subprocess.run(
        ["bash", str(ROOT / "scripts/sysdeps.sh"), "run"], env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    installs = [line for line in log.read_text(encoding="utf-8").splitlines() if " install " in f" {line} "]
    assert installs and "fonts-noto-cjk" in installs[-1]
    assert "postgresql" not in log.read_text(encoding="utf-8")  # the test-only tools stay test-only

    log.unlink()
    _stub(bin_dir, "dpkg-query", "printf 'install ok installed'")  # already there: apt is not called
    res = subprocess.run(
        ["bash", str(ROOT / "scripts/sysdeps.sh"), "run"], env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    assert not log.exists()
