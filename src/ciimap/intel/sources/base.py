"""What every threat-intelligence source shares (family ``intel``): one JSON document per file read
whole (bundles and events are small next to alert files), the bulk load that replaces re-imported
objects, the retro-hunt over stored alerts, the audit record and the result. A source module
subclasses :class:`IntelSource` and writes :meth:`IntelSource.parse`.

A file that is not of the named format is refused with one error naming the file; a valid file that
holds no indicator imports nothing and says so in ``warnings`` (a bundle of vulnerabilities or
reports alone is still a valid bundle).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from abc import abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import orjson
from pydantic import Field

from ciimap.core import audit, safeio
from ciimap.core.errors import InputFileError
from ciimap.core.importer import Importer, ImportOptions, Reading, Run
from ciimap.intel import service
from ciimap.intel.records import IntelRecord


class IntelOptions(ImportOptions):
    valid_days: int | None = Field(
        None, ge=1, le=36500, description="expiry (days after valid_from) for indicators the file gives none"
    )
    retro_hunt: bool = Field(True, description="match the new indicators against stored alerts")


class IntelResult(TypedDict):
    """What ``ciimap intel import --json`` prints (keys scripts rely on: ``indicators``, ``retro_hunt``)."""

    run_id: int
    kind: str
    indicators: int
    complex: int
    skipped: int
    cves: list[str]
    retro_hunt: dict[str, int]
    warnings: list[str]
    stats: dict[str, int]
    meta: dict[str, Any]


@dataclass
class IntelCtx:
    run: Run
    counts: dict[str, int] = field(default_factory=lambda: {"indicators": 0, "complex": 0, "replaced": 0})
    cves: set[str] = field(default_factory=set)
    retro: dict[str, int] = field(default_factory=lambda: {"alerts": 0})


class IntelSource(Importer[IntelOptions, IntelRecord, IntelCtx, IntelResult]):
    family = "intel"
    Options = IntelOptions
    #: Named in the refusal of a file of another format.
    format_name: str

    @abstractmethod
    def parse(self, path: Path, doc: Any, meta: dict[str, Any]) -> Iterator[IntelRecord]:
        """The indicators of one parsed JSON document; raises ``InputFileError`` when it is not of
        this format. Notes (counts of skipped objects) go into ``meta``."""

    def read(self, reading: Reading, options: IntelOptions) -> Iterator[IntelRecord]:
        name = str(reading.path)
        data = reading.path.read_bytes()
        reading.on_bytes(len(data))
        text = safeio.decode_utf8(name, data)
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            raise InputFileError(name, f"not {self.format_name}: not JSON ({e})") from None
        counts = {"indicators": 0, "complex": 0}
        warnings: list[str] = []
        reading.meta["warnings"] = warnings
        with safeio.content_guard(name):
            records = list(self.parse(reading.path, doc, reading.meta))
        for rec in records:
            if options.valid_days and rec.valid_until is None:
                start = rec.valid_from or dt.datetime.now(dt.UTC)
                rec.valid_until = start + dt.timedelta(days=options.valid_days)
            counts["complex" if rec.type == "other" else "indicators"] += 1
            yield rec
        reading.meta.update(counts)
        if not counts["indicators"] and not counts["complex"]:
            warnings.append(
                f"{reading.path.name}: no indicators in this {self.format_name}: nothing to match"
            )

    def open(self, run: Run, options: IntelOptions) -> IntelCtx:
        return IntelCtx(run=run)

    def load(self, ctx: IntelCtx, records: Iterable[IntelRecord], options: IntelOptions) -> None:
        service.store(
            ctx.run.session, records, kind=self.kind, run_id=ctx.run.run_id, counts=ctx.counts, cves=ctx.cves
        )

    def stats(self, ctx: IntelCtx) -> dict[str, Any]:
        return {**ctx.counts, "retro_hunt_alerts": ctx.retro["alerts"]}

    def finish(self, ctx: IntelCtx, options: IntelOptions) -> IntelResult:
        run = ctx.run
        if options.retro_hunt:
            ctx.retro = service.retro_hunt(run.session, run_id=run.run_id)
        digest = hashlib.sha256("".join(f["sha256"] for f in run.files).encode()).hexdigest()
        audit.record_bulk(
            run.session,
            "import",
            "intel_indicator",
            count=ctx.counts["indicators"] + ctx.counts["complex"],
            digest=digest,
            detail={"run_id": run.run_id, "kind": self.kind, "files": [f["name"] for f in run.files]},
        )
        warnings = [w for m in run.meta.values() if isinstance(m, dict) for w in m.get("warnings", [])]
        skipped = sum(m.get("skipped", 0) for m in run.meta.values() if isinstance(m, dict))
        return {
            "run_id": run.run_id,
            "kind": self.kind,
            "indicators": ctx.counts["indicators"],
            "complex": ctx.counts["complex"],
            "skipped": skipped,
            "cves": sorted(ctx.cves),
            "retro_hunt": ctx.retro,
            "warnings": warnings,
            "stats": self.stats(ctx),
            "meta": run.meta,
        }
