"""What every alert source shares (family ``alerts``): lenient line reading, the run context, the
set-based mapping and bulk load, the audit record and the result. A source module subclasses
:class:`AlertSource` and writes :meth:`AlertSource.parse` (one line → one record, or ``None`` for a
line it skips on purpose, such as a Suricata ``flow`` event).

No line is lost: a line a source cannot read is yielded with ``reject`` set and stored raw. A file
none of whose lines is of the named format is refused as a whole (one error naming the file and the
first line), since it is almost certainly the wrong file or the wrong kind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from ciimap.alerts import load as loader
from ciimap.alerts import warnings
from ciimap.alerts.records import AlertRecord
from ciimap.alerts.severity import Scales, scales
from ciimap.alerts.sources.lines import MAX_LINE, Line, LineStats, json_objects, read_lines
from ciimap.alerts.sources.times import Clock
from ciimap.config import get_settings
from ciimap.core import audit
from ciimap.core.errors import InputFileError
from ciimap.core.importer import Importer, ImportOptions, Reading, Run


class AlertOptions(ImportOptions):
    timezone: str | None = Field(
        None,
        max_length=64,
        description="zone of times written without one (default: the site's, Asia/Shanghai)",
    )
    year: int | None = Field(
        None, ge=1990, le=2100, description="year of RFC 3164 dates (default: inferred from the import time)"
    )
    first_line: int = Field(
        1, ge=1, le=2**31 - 1, description="number of the file's first line (a part of a split file)"
    )
    part_of: int | None = Field(
        None,
        ge=1,
        le=2**31 - 1,
        description="the split import (job id) this file is a part of: grouping and warnings wait for its last part",
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{v}' (an IANA name such as Asia/Shanghai)") from None
        return v


class AlertResult(TypedDict):
    """What ``ciimap alerts import --json`` prints (keys scripts rely on: ``events``, ``rejected``)."""

    run_id: int
    kind: str
    events: int
    rejected: int
    skipped: int
    mapped: int
    candidates: int
    stats: dict[str, int]
    meta: dict[str, Any]


class Parser:
    """Per-file parsing state a source's ``parse`` receives: the clock and the severity scales."""

    def __init__(self, clock: Clock, scales: Scales) -> None:
        self.clock, self.scales = clock, scales
        self.skipped: dict[str, int] = {}

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


#: A file whose first this many lines are all rejected is refused as a whole (not this format).
HOLD = 1000


def _shifted(lines: Iterable[Line], by: int) -> Iterator[Line]:
    for line in lines:
        line.no += by
        yield line


def rejected(line: Line, reason: str) -> AlertRecord:
    return AlertRecord(time=None, raw=line.text, line_no=line.no, reject=reason[:300])


class AlertSource(Importer[AlertOptions, AlertRecord, loader.AlertCtx, AlertResult]):
    family = "alerts"
    Options = AlertOptions
    #: JSON sources: pretty-printed objects spanning lines are read as one (see ``lines.json_objects``).
    json_lines: ClassVar[bool] = False
    #: Named in the refusal of a file none of whose lines is of this format.
    format_name: ClassVar[str]

    @abstractmethod
    def parse(self, line: Line, p: Parser) -> AlertRecord | None:
        """One line → a record (``reject`` set when it cannot be read), or ``None`` to skip it."""

    def clock(self, options: AlertOptions) -> Clock:
        zone = ZoneInfo(options.timezone or get_settings().site_timezone)
        return Clock(zone=zone, reference=dt.datetime.now(dt.UTC), year=options.year)

    def _record(self, line: Line, p: Parser) -> AlertRecord | None:
        rec = rejected(line, line.problem) if line.problem else self.parse(line, p)
        if rec is not None and rec.reject is not None and line.cut:
            rec.reject = f"line cut at {MAX_LINE} bytes; {rec.reject}"[:300]
        return rec

    def read(self, reading: Reading, options: AlertOptions) -> Iterator[AlertRecord]:
        """Every line as a record; rejected lines before the first line of this format are held back
        (at most :data:`HOLD`), so a file of another format is refused before anything is loaded."""
        name = str(reading.path)
        p = Parser(self.clock(options), scales())
        stats = LineStats()
        lines: Iterable[Line] = read_lines(reading.path, stats, reading.on_bytes)
        if options.first_line > 1:  # a part of a split file: line numbers stay the whole file's
            lines = _shifted(lines, options.first_line - 1)
        if self.json_lines:
            lines = json_objects(iter(lines))
        counts = {"events": 0, "rejected": 0}
        held: list[AlertRecord] = []
        proven = False
        for line in lines:
            rec = self._record(line, p)
            if rec is not None:
                counts["rejected" if rec.reject else "events"] += 1
            if not proven and (rec is None or rec.reject is None):
                proven = True
                yield from held
                held.clear()
            if rec is None:
                continue
            if proven:
                yield rec
                continue
            held.append(rec)
            if len(held) >= HOLD:
                raise self._refusal(name, held[0], f"the first {HOLD} lines")
        if not proven:
            if not held:
                raise InputFileError(
                    name, f"no {self.format_name} lines (only blank lines): nothing was imported"
                )
            raise self._refusal(name, held[0], "no line")
        reading.meta.update(
            {
                "lines": stats.lines,
                **counts,
                "blank": stats.blank,
                "cut": stats.cut,
                "skipped": dict(sorted(p.skipped.items())),
            }
        )

    def _refusal(self, name: str, first: AlertRecord, which: str) -> InputFileError:
        return InputFileError(
            name,
            f"not {self.format_name}: {which} could be read as one ({first.reject})",
            position=f"line {first.line_no}",
        )

    def scope(self, paths: Sequence[Path], options: AlertOptions) -> str:
        """The parts of a split import share a scope: the last one to finish finds its siblings' runs."""
        return f"{self.kind}:part-of:{options.part_of}" if options.part_of else self.kind

    def open(self, run: Run, options: AlertOptions) -> loader.AlertCtx:
        ctx = loader.AlertCtx.start(run, self.kind)
        if options.part_of:  # grouped and evaluated once, after the last part (alerts/parallel.py)
            ctx.groups = None
        return ctx

    def load(self, ctx: loader.AlertCtx, records: Iterable[AlertRecord], options: AlertOptions) -> None:
        loader.load(ctx, records)

    def stats(self, ctx: loader.AlertCtx) -> dict[str, Any]:
        return dict(ctx.counts)

    def finish(self, ctx: loader.AlertCtx, options: AlertOptions) -> AlertResult:
        run = ctx.run
        skipped = sum(sum(m.get("skipped", {}).values()) for m in run.meta.values() if isinstance(m, dict))
        ctx.counts["skipped"] = skipped
        if ctx.groups is not None:
            ctx.counts.update(ctx.groups.counts)
        if not options.part_of:
            found = warnings.evaluate(run.session, run_id=run.run_id)
            ctx.counts["warnings_opened"] = found["opened"]
            ctx.counts["warnings_updated"] = found["updated"]
        digest = hashlib.sha256("".join(f["sha256"] for f in run.files).encode()).hexdigest()
        audit.record_bulk(
            run.session,
            "import",
            "alert",
            count=ctx.counts["events"] + ctx.counts["rejected"],
            digest=digest,
            detail={"run_id": run.run_id, "kind": self.kind, "files": [f["name"] for f in run.files]},
        )
        c = ctx.counts
        return {
            "run_id": run.run_id,
            "kind": self.kind,
            "events": c["events"],
            "rejected": c["rejected"],
            "skipped": skipped,
            "mapped": c["mapped"],
            "candidates": c["candidates"],
            "stats": dict(c),
            "meta": run.meta,
        }
