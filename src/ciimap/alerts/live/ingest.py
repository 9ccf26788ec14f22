"""The live load path: messages from the listener, a followed file or the webhook, parsed by the file
import's source (one parser per format: ``AlertSource.parse``) and written by its loader
(``alerts/load.py``: mapping, grouping, suppression, intelligence matching) batch by batch.

A live input is **one import run** (``import_run``, status ``running`` while it lasts, ``succeeded``
once it stops; ``ciimap runs list``) whose batches are each their own transaction, so every batch is
queryable as soon as it commits. Between batches the run keeps the loader's context (its caches and
the group state); suppressions are re-read every batch and the map caches every
:data:`REFRESH` seconds, so a suppression or a map change applies to live alerts within seconds.

Differences from a file import, all documented in docs/alerts-listener.md:

- a message without a time of its own (Cisco ASA without header, rejected messages) gets the time it
  was **received**, not the run's start;
- ``line_no`` is the message's number within the run;
- warnings are evaluated every :data:`WARN_EVERY` seconds over the alerts since the last evaluation,
  in their own transaction, not after every batch;
- the audit trail gets one bulk record per :data:`AUDIT_EVERY` seconds and one when the input stops
  (count and SHA-256 of the raw messages), not one per batch.

A batch that fails to load is retried once; if it fails again every message of it is stored raw as
rejected with the error (no message is lost to a bug in a parser or the mapping); if even that fails
(the database is down), :meth:`LiveRun.write` raises and the caller keeps the batch and retries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.orm import Session

from ciimap import sources
from ciimap.alerts import load as loader
from ciimap.alerts import warnings
from ciimap.alerts.groups import Matcher
from ciimap.alerts.records import AlertRecord
from ciimap.alerts.severity import scales
from ciimap.alerts.sources.base import AlertSource, Parser, rejected
from ciimap.alerts.sources.lines import Line, _decode
from ciimap.core import audit
from ciimap.core.db import get_database, utcnow
from ciimap.core.importer import Run
from ciimap.ingest.models import ImportRun

#: Seconds between reloads of the map caches (assets, zones, systems) of a live run.
REFRESH = 60.0
#: Seconds between evaluations of the warning rules over a live run's new alerts.
WARN_EVERY = 10.0
#: Live evaluations look at most this far back (by the alerts' own times).
WARN_LOOKBACK = dt.timedelta(days=1)
#: Seconds between the audit records of a live run (and one when it stops).
AUDIT_EVERY = 600.0
#: ``line_no`` is an int4 column: a run that reaches this many messages starts numbering again at 1.
MAX_NO = 2**31 - 1


@dataclass(slots=True)
class Incoming:
    """One message as received: its bytes (without the frame), when, and whether it was cut."""

    data: bytes
    received: dt.datetime
    cut: bool = False
    #: The line's number in its file (a followed file); 0: numbered within the run.
    no: int = 0


@dataclass
class Totals:
    messages: int = 0
    events: int = 0
    rejected: int = 0
    skipped: int = 0
    blank: int = 0
    cut: int = 0
    mapped: int = 0
    suppressed: int = 0
    groups_new: int = 0
    batches: int = 0
    failed_batches: int = 0


class LiveRun:
    """One live input of one source kind (``syslog``, ``suricata``, ...) as one import run."""

    def __init__(
        self,
        kind: str,
        *,
        scope: str,
        inputs: Sequence[str],
        options: dict[str, Any] | None = None,
        created_by: str = "system",
    ) -> None:
        self.source = cast(AlertSource, sources.get(kind, family="alerts"))
        self.kind, self.scope, self.inputs = kind, scope[:300], list(inputs)
        self.opts = self.source.options(options or {})
        self.parser = Parser(self.source.clock(self.opts), scales())
        self.created_by = created_by
        self.totals = Totals()
        self.run_id = 0
        self.started_at = utcnow()
        self.ctx: loader.AlertCtx | None = None
        self._refreshed = 0.0
        self._no = 0
        self._digest = hashlib.sha256()
        self._audited = 0
        self._audit_at = time.monotonic()
        self._warn_since: dt.datetime | None = None
        self._warn_lock = threading.Lock()
        self._warn_at = time.monotonic()

    # --- the run -----------------------------------------------------------------------------------

    def open(self) -> int:
        with get_database().unit_of_work() as s:
            files = [
                {"name": name[:300], "path": name[:300], "size": 0, "sha256": ""} for name in self.inputs
            ]
            row = ImportRun(
                kind=self.kind,
                scope=self.scope,
                status="running",
                files=files,
                created_by=self.created_by,
                started_at=self.started_at,
                meta={"live": True, "inputs": self.inputs},
            )
            s.add(row)
            s.flush()
            self.run_id = row.id
            audit.record(
                s, "listen_start", "import_run", row.id, after={"kind": self.kind, "inputs": self.inputs}
            )
        return self.run_id

    def close(self, error: str | None = None) -> None:
        """The input stopped: evaluate warnings once more, audit, mark the run finished."""
        if not self.run_id:
            return
        self.evaluate(force=True)
        with get_database().unit_of_work() as s:
            self._audit(s)
            s.execute(
                update(ImportRun)
                .where(ImportRun.id == self.run_id)
                .values(
                    status="failed" if error else "succeeded",
                    error=error,
                    finished_at=utcnow(),
                    stats=self.stats(),
                )
            )

    def stats(self) -> dict[str, Any]:
        return dataclasses.asdict(self.totals)

    # --- parsing ------------------------------------------------------------------------------------

    def prepare(self, batch: Iterable[Incoming]) -> list[Item]:
        """Number the messages, count blank and cut ones, add them to the run's digest (cheap: done
        where they arrive, in order); parsing is :func:`parse_items`, here or in a helper process."""
        out: list[Item] = []
        t = self.totals
        for m in batch:
            t.messages += 1
            data = m.data.rstrip(b"\r\n")
            if not data.strip():
                t.blank += 1
                continue
            if m.cut:
                t.cut += 1
            self._digest.update(data)
            self._no = self._no + 1 if self._no < MAX_NO else 1
            out.append((m.no if 0 < m.no <= MAX_NO else self._no, data, m.cut, m.received))
        return out

    def parsed(self, records: list[AlertRecord], skipped: int) -> list[AlertRecord]:
        self.totals.skipped += skipped
        return records

    def records(self, batch: Iterable[Incoming]) -> list[AlertRecord]:
        """Each message → a record through the source's own parser (``None``: skipped on purpose)."""
        return self.parsed(*parse_items(self.source, self.parser, self.prepare(batch)))

    # --- writing ------------------------------------------------------------------------------------

    def _context(self, s: Session) -> loader.AlertCtx:
        """The loader's context of the run on this batch's session (rebuilt every :data:`REFRESH`
        seconds and after a failed batch, whose caches may hold the failed transaction's state)."""
        run = Run(s, self.run_id, self.kind, self.scope, self.started_at, False, [])
        now = time.monotonic()
        if self.ctx is None or now - self._refreshed > REFRESH:
            self.ctx = loader.AlertCtx.start(run, self.kind)
            self._refreshed = now
        else:
            self.ctx.run = run
            self.ctx.mapper.session = s
            if self.ctx.groups is not None:
                self.ctx.groups.matcher = Matcher.load(s)  # a new suppression applies within a batch
        return self.ctx

    def write(self, records: list[AlertRecord], extra: Callable[[Session], None] | None = None) -> None:
        """Load one batch in its own transaction (``extra`` runs in it too: a followed file's offset).
        Retried once; then stored raw as rejected; raises only when that fails too."""
        try:
            self._write(records, extra)
        except Exception:
            self.ctx = None  # its caches may hold the failed transaction's state
            try:
                self._write(records, extra)
            except Exception as e:
                self.ctx = None
                self.totals.failed_batches += 1
                why = f"not loaded: {type(e).__name__}: {str(e)[:200]}"
                self._write([_as_rejected(r, why) for r in records], extra)
        self.totals.batches += 1

    def _write(self, records: list[AlertRecord], extra: Callable[[Session], None] | None) -> None:
        with get_database().unit_of_work() as s:
            ctx = self._context(s)
            before = self._counters(ctx)
            loader.load(ctx, records)
            delta = {k: v - before[k] for k, v in self._counters(ctx).items()}
            if extra is not None:
                extra(s)
            s.execute(update(ImportRun).where(ImportRun.id == self.run_id).values(stats=self.stats()))
            if time.monotonic() - self._audit_at > AUDIT_EVERY:
                self._audit(s)
        # committed: only now does the run's state move on
        for k, v in delta.items():
            setattr(self.totals, k, getattr(self.totals, k) + v)
        times = [r.time for r in records if r.time is not None and r.reject is None]
        if times:
            low = min(times)
            with self._warn_lock:
                self._warn_since = low if self._warn_since is None else min(self._warn_since, low)

    @staticmethod
    def _counters(ctx: loader.AlertCtx) -> dict[str, int]:
        c = ctx.counts
        g = ctx.groups.counts if ctx.groups is not None else {}
        return {
            "events": c["events"],
            "rejected": c["rejected"],
            "mapped": c["mapped"],
            "suppressed": g.get("suppressed", 0),
            "groups_new": g.get("groups_new", 0),
        }

    def _audit(self, s: Session) -> None:
        count = self.totals.messages - self._audited
        if count <= 0:
            return
        audit.record_bulk(
            s,
            "import",
            "alert",
            count=count,
            digest=self._digest.hexdigest(),
            detail={"run_id": self.run_id, "kind": self.kind, "inputs": self.inputs, "live": True},
        )
        self._audited = self.totals.messages
        self._audit_at = time.monotonic()

    def evaluate(self, force: bool = False) -> dict[str, int] | None:
        """The warning rules over the alerts loaded since the last evaluation (own transaction), at most
        :data:`WARN_LOOKBACK` back: a sensor whose clock is years behind must not make every evaluation
        scan the whole table (such alerts count in ``ciimap alerts warnings evaluate --since``)."""
        with self._warn_lock:
            if self._warn_since is None or (not force and time.monotonic() - self._warn_at < WARN_EVERY):
                return None
            since, self._warn_since = self._warn_since, None
            self._warn_at = time.monotonic()
        since = max(since, dt.datetime.now(dt.UTC) - WARN_LOOKBACK)
        with get_database().unit_of_work() as s:
            return warnings.evaluate(s, since=since)


#: A message ready to parse: (line number, bytes, cut, received).
Item = tuple[int, bytes, bool, dt.datetime]


def parse_items(source: AlertSource, p: Parser, items: list[Item]) -> tuple[list[AlertRecord], int]:
    """The records of ``items`` by the source's own parser, and how many were skipped on purpose."""
    p.clock = dataclasses.replace(p.clock, reference=dt.datetime.now(dt.UTC))
    before = sum(p.skipped.values())
    out: list[AlertRecord] = []
    for no, data, cut, received in items:
        text, problem = _decode(data)
        rec = source._record(Line(no, text, problem, cut), p)
        if rec is None:
            continue
        if rec.time is None:
            rec.time = received
        out.append(rec)
    return out, sum(p.skipped.values()) - before


#: The parser of a helper process (``ProcessParser``): set by its initializer.
_helper: tuple[AlertSource, Parser] | None = None


def _helper_start(kind: str, options: dict[str, Any]) -> None:
    global _helper
    source = cast(AlertSource, sources.get(kind, family="alerts"))
    _helper = (source, Parser(source.clock(source.options(options)), scales()))


def _helper_parse(items: list[Item]) -> tuple[list[AlertRecord], int]:
    assert _helper is not None, "the helper process was not initialised"
    return parse_items(*_helper, items)


class ProcessParser:
    """Parsing in a helper process (spawned: the caller has threads), so that on two cores parsing one
    batch overlaps with writing the previous one (``bench/alerts_listener.py``: the listener's writer
    thread alone could not keep up with 20,000 messages/s). The records come back pickled."""

    def __init__(self, kind: str, options: dict[str, Any]) -> None:
        self.pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_helper_start,
            initargs=(kind, options),
        )
        self.pool.submit(_helper_parse, []).result()  # started and ready (imports take a while)

    def submit(self, items: list[Item]) -> Future[tuple[list[AlertRecord], int]]:
        return self.pool.submit(_helper_parse, items)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)


def _as_rejected(r: AlertRecord, why: str) -> AlertRecord:
    rec = rejected(Line(r.line_no, r.raw), why)
    rec.time = r.time
    return rec
