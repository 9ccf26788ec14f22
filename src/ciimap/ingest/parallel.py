"""Parse a large nmap XML in a helper process while this process correlates and writes.

An nmap import is about one third XML parsing and record building and two thirds correlation and
database writes (65k hosts: ~12 s of lxml, ~24 s of writes on SQLite). Both are CPU work that
cannot share one interpreter (GIL), so files above :data:`MIN_BYTES` are parsed by a child process
(``python -m ciimap.ingest.parallel``: a clean interpreter, safe from threads, and unlike
multiprocessing it never re-runs the caller's main module) that streams finished records back
over a pipe in batches; the import transaction, correlation and writes stay here, so an import is
still all-or-nothing. A reader thread here buffers up to :data:`QUEUED_BATCHES` batches, so both
sides keep working while the other is busy, and memory stays bounded whatever the file size.

Hosts whose fingerprint is among the scope's known digests (unchanged since the last run, most of
a re-import) travel as identity facts only; the few the loader still needs in full (a host listed
twice, an asset unlinked since) are read again from the file here, in file order
(``nmap.HostRereader``, at most one extra pass). Every other host arrives fully converted.

Records travel as tuples of plain values through :mod:`marshal` (5x cheaper than pickling the
dataclasses); errors in the child come back as the same one-line :class:`InputFileError`.
Written by hand: no library pipelines an lxml iterparse into another process; measured in
``bench/nmap_import.py``.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import queue
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

from ciimap.core.errors import CiimapError, InputFileError
from ciimap.ingest.parsers import nmap
from ciimap.ingest.records import HostRecord, PortRecord

#: Files at least this large are parsed in a helper process (smaller ones: starting it costs more).
MIN_BYTES = 16 << 20
BATCH = 256
#: Batches buffered on this side (~1.5 MB each at 256 hosts x 10 ports): memory stays bounded.
QUEUED_BATCHES = 24
_HOST = [f.name for f in fields(HostRecord) if f.name not in ("ports", "pending")]
_PORT = [f.name for f in fields(PortRecord)]


def worth_it(path: Path) -> bool:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores > 1 and path.stat().st_size >= MIN_BYTES


def _encode(rec: HostRecord, known: frozenset[str]) -> tuple[Any, ...]:
    deferred = None
    if rec.fingerprint is not None and rec.fingerprint in known:
        deferred = nmap.pending_index(rec)  # probably unchanged: the other side re-reads it if needed
    else:
        rec.complete()
    ports = [tuple(getattr(p, f) for f in _PORT) for p in rec.ports]
    return (*(getattr(rec, f) for f in _HOST), ports, deferred)


def _decode(item: tuple[Any, ...], reread: Callable[[], nmap.HostRereader]) -> HostRecord:
    *values, ports, deferred = item
    rec = HostRecord(**dict(zip(_HOST, values, strict=True)))
    rec.ports = [PortRecord(*p) for p in ports]
    if deferred is not None:
        rec.pending = reread().pending(deferred)
    return rec


def _send(out: Any, msg: tuple[Any, ...]) -> None:
    data = marshal.dumps(msg)
    out.write(struct.pack("<I", len(data)))
    out.write(data)


def _receive(inp: Any) -> tuple[Any, ...] | None:
    head = inp.read(4)
    if len(head) < 4:
        return None
    (n,) = struct.unpack("<I", head)
    data = inp.read(n)
    if len(data) < n:
        return None
    return marshal.loads(data)  # type: ignore[no-any-return]  # noqa: S302 — written by our own child process


def _child(path: str, known: frozenset[str], out: Any) -> None:
    """Runs in the helper process: parse, send batches, then the scan metadata."""
    read = [0]

    def on_bytes(n: int) -> None:
        read[0] = n

    try:
        parser = nmap.NmapXml(Path(path), on_bytes)
        batch: list[tuple[Any, ...]] = []
        for rec in parser:
            batch.append(_encode(rec, known))
            if len(batch) == BATCH:
                _send(out, ("batch", read[0], batch))
                batch = []
        _send(out, ("batch", read[0], batch))
        _send(out, ("meta", parser.meta))
    except InputFileError as e:
        _send(out, ("error", e.path, e.reason, e.position))
    except BrokenPipeError:  # the importing side gave up (an error there): nothing to report
        return
    except BaseException:  # a bug: report it rather than die silently
        _send(out, ("crash", traceback.format_exc()[-2000:]))
    out.flush()


def main() -> None:
    """``python -m ciimap.ingest.parallel FILE FD``: known digests on stdin, frames on pipe FD.

    A pipe of its own, not stdout: whatever else might print (a library, a debugger, a profiler's
    banner) cannot end up inside a frame."""
    known = _receive(sys.stdin.buffer)
    with os.fdopen(int(sys.argv[2]), "wb") as out:
        _child(sys.argv[1], frozenset(known or ()), out)


class ParallelNmapXml:
    """Iterate the hosts of an nmap XML parsed by a helper process; ``meta`` as :class:`NmapXml`."""

    def __init__(
        self, path: Path, on_bytes: Callable[[int], None] | None = None, known: frozenset[str] = frozenset()
    ) -> None:
        nmap.NmapXml(path)  # prolog checks (DTD, entities, root element) here, before starting anything
        self.path, self.on_bytes, self.known = path, on_bytes, known
        self.meta: dict[str, Any] = {}
        self._reread: nmap.HostRereader | None = None

    def _rereader(self) -> nmap.HostRereader:
        if self._reread is None:
            self._reread = nmap.HostRereader(self.path)
        return self._reread

    def __iter__(self) -> Iterator[HostRecord]:
        # a plain child interpreter (not multiprocessing: it would re-run the caller's main module)
        r, w = os.pipe()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ciimap.ingest.parallel", str(self.path), str(w)],
                stdin=subprocess.PIPE,
                pass_fds=(w,),
            )
        except BaseException:
            os.close(r)
            raise
        finally:
            os.close(w)  # the child holds the write end now: EOF here when it exits
        incoming = os.fdopen(r, "rb")
        assert proc.stdin is not None
        # A reader thread drains the pipe into a bounded queue: the loader takes records in chunks
        # and then writes for a while; without this buffer the child would stall on a full pipe
        # (64 KB) for all that time and the two processes would take turns instead of overlapping.
        frames: queue.Queue[tuple[Any, ...] | None] = queue.Queue(maxsize=QUEUED_BATCHES)
        stop = threading.Event()

        def drain() -> None:
            while not stop.is_set():
                try:
                    msg = _receive(incoming)
                except Exception as e:  # a damaged frame: the loader must hear of it, not wait forever
                    msg = ("crash", f"unreadable data from the parser process ({e})")
                frames.put(msg)
                if msg is None or msg[0] != "batch":
                    return

        reader = threading.Thread(target=drain, name="ciimap-nmap-reader", daemon=True)
        finished = False
        try:
            _send(proc.stdin, tuple(self.known))
            proc.stdin.close()
            reader.start()
            while True:
                msg = frames.get()
                if msg is None:
                    proc.wait(timeout=10)
                    raise CiimapError(
                        f"{self.path}: the parser process ended unexpectedly (exit code {proc.returncode})"
                    )
                if msg[0] == "batch":
                    if self.on_bytes is not None:
                        self.on_bytes(msg[1])
                    for item in msg[2]:
                        yield _decode(item, self._rereader)
                elif msg[0] == "meta":
                    self.meta = msg[1]
                    finished = True
                    return
                elif msg[0] == "error":
                    raise InputFileError(msg[1], msg[2], position=msg[3])
                else:
                    raise CiimapError(f"{self.path}: the parser process failed: {msg[1]}")
        finally:
            stop.set()
            if not finished and proc.poll() is None:
                proc.kill()  # given up early (an error while loading): the rest is not needed
            while reader.is_alive():  # unblock the reader if it waits on a full queue
                with contextlib.suppress(queue.Empty):
                    frames.get_nowait()
                reader.join(timeout=0.05)
            incoming.close()
            proc.wait()


if __name__ == "__main__":
    main()
