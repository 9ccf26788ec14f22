"""Shared helpers for the bad-input corpus (issue 10): table snapshots, bombs, the CLI in a real process.

Imported as ``from badinput import ...`` (``tests/`` is on ``sys.path``, as for ``conftest``).
"""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text

from ciimap.core.db import Database

BOMB_BYTES = 1 << 30  # each bomb expands to 1 GiB of zeros from about 1 MB on disk
_MB = b"\0" * (1 << 20)


def table_rows(db: Database) -> dict[str, list[str]]:
    """Every row of every table (also the job queue and alembic's), as sorted reprs: a refused import
    must leave this identical. Compare two with :func:`table_changes`."""
    out: dict[str, list[str]] = {}
    with db.engine.connect() as c:
        for name in sorted(inspect(db.engine).get_table_names()):
            out[name] = sorted(repr(tuple(r)) for r in c.execute(text(f'SELECT * FROM "{name}"')))
    return out


def table_changes(
    before: dict[str, list[str]], after: dict[str, list[str]]
) -> dict[str, dict[str, list[str]]]:
    """``{table: {"removed": [...], "added": [...]}}`` for each table whose rows differ."""
    out = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, []), after.get(name, [])
        if old != new:
            out[name] = {"removed": sorted(set(old) - set(new)), "added": sorted(set(new) - set(old))}
    return out


#: Where a refused import leaves its trace: the failed run's record (and the audit chain's head moves
#: on); every other table stays identical.
BOOKKEEPING = {"import_run", "audit_log", "audit_head"}


def only_failure_recorded(before: dict[str, list[str]], after: dict[str, list[str]], case: str) -> None:
    """Every table identical but for one failed run's record: rows added to import_run and audit_log."""
    changes = table_changes(before, after)
    assert set(changes) <= BOOKKEEPING, (case, {t: c for t, c in changes.items() if t not in BOOKKEEPING})
    assert not any(c["removed"] for t, c in changes.items() if t != "audit_head"), (case, changes)
    added = changes.get("import_run", {}).get("added", [])
    assert len(added) == 1 and "'failed'" in added[0], (case, added)


def _deflate_repeated(head: bytes, fill: bytes, size: int, tail: bytes) -> tuple[bytes, int]:
    """Raw deflate data of ``head + fill * size + tail`` and its CRC-32, built in a second or two: a
    block compressed after a full flush refers to nothing before it, so it can be repeated."""
    block = fill * (16 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    body = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.compress(tail) + c.flush()
    crc = zlib.crc32(head)
    for _ in range(size // len(block)):
        crc = zlib.crc32(block, crc)
    return start + body * (size // len(block)) + end, zlib.crc32(tail, crc)


def zip_bomb(
    path: Path,
    member: str,
    *,
    head: bytes = b"",
    fill: bytes = b"\0",
    tail: bytes = b"",
    extra: dict[str, bytes] | None = None,
    size: int = BOMB_BYTES,
) -> Path:
    """A zip (written by hand, no zip64 needed below 4 GiB) whose ``member`` expands to
    ``head + fill * size + tail``; ``extra`` members are stored as they are."""
    members = [(name, data, zlib.crc32(data), len(data), 0) for name, data in (extra or {}).items()]
    data, crc = _deflate_repeated(head, fill, size, tail)
    members.append((member, data, crc, len(head) + size + len(tail), 8))
    local, central = bytearray(), bytearray()
    for name, payload, crc32, raw_size, method in members:
        fn = name.encode()
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc32,
                len(payload),
                raw_size,
                len(fn),
                0,
                0,
                0,
                0,
                0,
                len(local),
            )
            + fn
        )
        local += (
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc32, len(payload), raw_size, len(fn), 0
            )
            + fn
            + payload
        )
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + eocd))
    return path


def gzip_bomb(path: Path, head: bytes = b"", size: int = BOMB_BYTES) -> Path:
    """A ``.gz`` expanding to ``head`` then ``size`` zeros: one 64 MiB gzip member repeated (valid gzip)."""
    block = gzip.compress(_MB * 64, compresslevel=9)
    with path.open("wb") as out:
        out.write(gzip.compress(head))
        for _ in range(size >> 26):
            out.write(block)
    return path


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str
    peak_mb: float | None  # the child's own peak resident memory (VmHWM), when measured


#: ``python -m ciimap`` that also writes its peak RSS at exit. VmHWM belongs to the process's own
#: address space; ``wait4``/``getrusage`` maxrss would also count the forking pytest process.
_MEASURED = (
    "import atexit, os, runpy, sys\n"
    "def hwm():\n"
    "    with open('/proc/self/status') as f, open(os.environ['CIIMAP_TEST_HWM'], 'w') as out:\n"
    "        out.write(next(ln.split()[1] for ln in f if ln.startswith('VmHWM:')))\n"
    "atexit.register(hwm)\n"
    "sys.argv = ['ciimap', *sys.argv[1:]]\n"
    "runpy.run_module('ciimap', run_name='__main__', alter_sys=True)\n"
)


def run_cli(db: Database, *args: str, cwd: Path, measure: bool = False) -> CliRun:
    """``python -m ciimap ARGS`` in a real process on ``db`` (its peak memory with ``measure``)."""
    hwm = cwd / "cli.hwm"
    env = {**os.environ, "CIIMAP_DATABASE_URL": db.url, "COLUMNS": "400", "CIIMAP_TEST_HWM": str(hwm)}
    cmd = [sys.executable, "-c", _MEASURED, *args] if measure else [sys.executable, "-m", "ciimap", *args]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    peak = int(hwm.read_text()) / 1024 if measure else None
    return CliRun(p.returncode, p.stdout, p.stderr, peak)


def assert_one_line_refusal(r: CliRun, path: Path) -> str:
    """Exit 1, one line on stderr naming the file, no traceback: returns that line."""
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.code == 1, (r.code, r.stderr[-2000:])
    assert "Traceback" not in r.stderr + r.stdout, r.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("error: ") and path.name in lines[0], r.stderr
    return lines[0]
