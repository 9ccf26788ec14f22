"""Following a growing file (Suricata ``eve.json``, Wazuh ``alerts.json``): ``ciimap alerts follow``.

The file is read from where the last follow of the same path stopped (``alert_follow``: the file's
``device:inode``, byte offset and line count), and that position is written **in the same transaction
as the alerts read up to it**: a restart resumes exactly there, without duplicates or loss. Only whole
lines are read; a line still being written (no LF yet) waits for its end.

Rotation:

- **rename** (logrotate's default, Suricata's ``rotate-interval``): the path gets a new inode. The old
  file is read to its end (a last line without LF counts) before the new one is started at 0. If the
  rotation happened while ciimap was not following, a file beside it (``eve.json.1``, ``eve.json-2026...``;
  not compressed ones) with the remembered inode is read to its end first;
- **truncation** (``copytruncate``): the same inode got shorter than the offset; reading starts again
  at 0 (lines written between the last read and the truncation are gone with it — inherent in
  copytruncate, which is why ``rename`` is the better rotation for followed files).

Lines are cut at the file import's limit (``MAX_LINE``); JSON objects must be one per line (the
format Suricata and Wazuh write; a pretty-printed file is for ``ciimap alerts import``).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.alerts.live.ingest import Incoming, LiveRun
from ciimap.alerts.live.models import AlertFollow
from ciimap.alerts.sources.lines import MAX_LINE
from ciimap.core.db import get_database, utcnow
from ciimap.core.errors import InputFileError

#: Kinds a file can be followed as (JSON-lines sensors' files).
FOLLOW_KINDS = ("suricata", "wazuh")
#: Lines per batch at most; a batch is also written when the file has no more whole lines.
BATCH = 5000


def identity(st: os.stat_result) -> str:
    return f"{st.st_dev}:{st.st_ino}"


@dataclass
class Position:
    identity: str
    offset: int
    lines: int


class Follower:
    """One followed file. :meth:`poll` reads what is new (call it in a loop or once)."""

    def __init__(self, path: Path, live: LiveRun, *, from_end: bool = False) -> None:
        self.path = path.absolute()
        self.live = live
        self.from_end = from_end
        self.handle: BinaryIO | None = None
        self.pos: Position | None = None
        #: Skipping the rest of a line longer than ``MAX_LINE`` (up to its LF).
        self.skipping = False

    # --- position ------------------------------------------------------------------------------------

    def _stored(self) -> Position | None:
        with get_database().read_session() as s:
            row = s.scalar(select(AlertFollow).where(AlertFollow.path == str(self.path)))
            return None if row is None else Position(row.identity, row.offset, row.lines)

    def _save(self, s: Session, pos: Position) -> None:
        row = s.scalar(select(AlertFollow).where(AlertFollow.path == str(self.path)))
        if row is None:
            row = AlertFollow(path=str(self.path), kind=self.live.kind, identity="", offset=0, lines=0)
            s.add(row)
        row.kind, row.identity, row.offset, row.lines = self.live.kind, pos.identity, pos.offset, pos.lines
        row.run_id, row.updated_at = self.live.run_id, utcnow()
        s.flush()

    def start(self) -> None:
        """Open the file where the last follow stopped (or a rotated file it had not finished)."""
        try:
            st = self.path.stat()
        except OSError as e:
            raise InputFileError(str(self.path), f"cannot follow: {e.strerror}") from None
        if not self.path.is_file():
            raise InputFileError(str(self.path), "cannot follow: not a regular file")
        stored = self._stored()
        if stored is not None and stored.identity != identity(st):
            old = self._rotated(stored.identity)
            if old is not None:  # rotated while not followed: finish the old file first
                self._open(old, stored)
                return
            stored = None
        if stored is not None and st.st_size < stored.offset:
            stored = None  # truncated
        if stored is None:
            start = st.st_size if self.from_end else 0
            stored = Position(identity(st), start, 0)
        self._open(self.path, stored)

    def _rotated(self, ident: str) -> Path | None:
        try:
            siblings = [p for p in self.path.parent.iterdir() if p.name.startswith(self.path.name)]
        except OSError:
            return None
        for p in sorted(siblings):
            if p == self.path or p.suffix in (".gz", ".bz2", ".xz", ".zst"):
                continue
            try:
                if identity(p.stat()) == ident:
                    return p
            except OSError:
                continue
        return None

    def _open(self, path: Path, pos: Position) -> None:
        if self.handle is not None:
            self.handle.close()
        self.handle = path.open("rb")
        self.handle.seek(pos.offset)
        self.pos = pos
        self.skipping = False

    # --- reading -------------------------------------------------------------------------------------

    def _lines(self, final: bool) -> list[Incoming]:
        """Whole lines from the current offset (``final``: the file is done, a last line without LF
        counts too), at most :data:`BATCH`."""
        assert self.handle is not None and self.pos is not None
        f, pos = self.handle, self.pos
        out: list[Incoming] = []
        now = dt.datetime.now(dt.UTC)
        f.seek(pos.offset)
        while len(out) < BATCH:
            data = f.readline(MAX_LINE + 1)
            if not data:
                break
            if self.skipping:  # the tail of an over-long line
                pos.offset += len(data)
                self.skipping = not data.endswith(b"\n")
                continue
            if data.endswith(b"\n"):
                pos.offset += len(data)
                pos.lines += 1
                out.append(Incoming(data, now, no=pos.lines))
            elif len(data) > MAX_LINE:
                pos.offset += len(data)
                pos.lines += 1
                out.append(Incoming(data[:MAX_LINE], now, cut=True, no=pos.lines))
                self.skipping = True
            elif final:
                pos.offset += len(data)
                pos.lines += 1
                out.append(Incoming(data, now, no=pos.lines))
            else:
                break  # a line still being written
        return out

    def poll(self) -> int:
        """Read and load what is new (switching files on rotation); the number of lines read."""
        if self.handle is None:
            self.start()
        total = 0
        rotated = self._moved_on()
        while True:
            lines = self._lines(final=rotated is not None)
            if lines:
                self._write(lines)
                total += len(lines)
                if len(lines) >= BATCH:
                    continue
            if rotated is None:
                rotated = self._moved_on()  # read to the end just now: was the file rotated?
                if rotated is None:
                    return total
                continue
            self._open(self.path, Position(rotated, 0, 0))  # the old file is done: the new one from 0
            rotated = self._moved_on()

    def _moved_on(self) -> str | None:
        """The path's new identity when the file being read is no longer the one at the path (or the
        one at the path was truncated: then the offset goes back to 0 and ``None`` is returned)."""
        assert self.pos is not None
        try:
            st = self.path.stat()
        except OSError:
            return None  # between rename and re-creation: keep reading the old file
        if identity(st) != self.pos.identity:
            if self.handle is not None and self.handle.tell() < os.fstat(self.handle.fileno()).st_size:
                return None  # the old file still has unread bytes: read them first
            return identity(st)
        if st.st_size < self.pos.offset:
            self.pos.offset, self.pos.lines, self.skipping = 0, 0, False
        return None

    def _write(self, lines: list[Incoming]) -> None:
        assert self.pos is not None
        pos = Position(self.pos.identity, self.pos.offset, self.pos.lines)
        self.live.write(self.live.records(lines), extra=lambda s: self._save(s, pos))

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def follow(
    path: Path,
    kind: str,
    *,
    stop: threading.Event,
    interval: float = 0.5,
    once: bool = False,
    from_end: bool = False,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Follow ``path`` until ``stop`` is set (``once``: read what is there and return)."""
    if kind not in FOLLOW_KINDS:
        raise InputFileError(str(path), f"cannot follow as '{kind}': one of {', '.join(FOLLOW_KINDS)}")
    live = LiveRun(kind, scope=f"follow:{path.absolute()}", inputs=[str(path.absolute())], options=options)
    follower = Follower(path, live, from_end=from_end)
    follower.start()
    live.open()
    error = None
    try:
        while True:
            follower.poll()
            live.evaluate()
            if once or stop.wait(interval):
                break
    except BaseException as e:
        error = f"{type(e).__name__}: {e}"[:4000]
        raise
    finally:
        follower.close()
        live.close(error)
    return {"run_id": live.run_id, "path": str(follower.path), **live.stats()}
