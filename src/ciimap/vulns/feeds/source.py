"""What every vulnerability feed shares as an importer (family ``feeds``): one file or directory per
run, a ``FeedImport`` record (source, snapshot date, checksum), the bulk writers, the shrink guard,
the stale warning and the re-match. A feed module subclasses :class:`FeedSource` and writes
:meth:`FeedSource.parse`."""

from __future__ import annotations

import datetime as dt
import time
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypedDict

from pydantic import Field

from ciimap.core import audit, safeio
from ciimap.core.audit import current_actor
from ciimap.core.errors import Invalid
from ciimap.core.importer import Importer, ImportOptions, Reading, Run
from ciimap.vulns import service
from ciimap.vulns.feeds.common import Parsed, store_advisories
from ciimap.vulns.models import FeedImport


class FeedOptions(ImportOptions):
    snapshot_date: dt.date | None = Field(None, description="the feed's date, when the file does not say")
    rematch: bool = Field(True, description="re-match every component after the import")
    allow_shrink: bool = Field(
        False, description="accept a KEV/EPSS snapshot much smaller than the stored catalogue"
    )


class FeedResult(TypedDict, total=False):
    """What ``ciimap feeds import --json`` prints (keys scripts rely on)."""

    feed_import_id: int
    kind: str
    source: str
    snapshot_date: str
    checksum: str
    records: int
    import_seconds: float
    notes: dict[str, Any]
    #: KEV/EPSS: catalogue entries; advisory feeds: advisories, new, updated, aliases, ranges, cpe_matches.
    entries: int
    advisories: int
    new: int
    updated: int
    aliases: int
    ranges: int
    cpe_matches: int
    warning: str
    match: dict[str, Any]


@dataclass
class FeedCtx:
    run: Run
    started: float
    feed: FeedImport | None = None
    parsed: Parsed | None = None
    counts: dict[str, Any] | None = None


class FeedSource(Importer[FeedOptions, Parsed, FeedCtx, FeedResult]):
    family = "feeds"
    Options = FeedOptions
    #: KEV and EPSS files are complete catalogues: an import replaces the stored table (``model``).
    replaces: ClassVar[Any] = None

    @abstractmethod
    def parse(self, path: Path) -> Parsed:
        """Parse the feed file (or directory) into advisories or catalogue rows."""

    def scope(self, paths: Sequence[Path], options: FeedOptions) -> str:
        return f"feed:{self.kind}"

    def read(self, reading: Reading, options: FeedOptions) -> Iterable[Parsed]:
        with safeio.content_guard(str(reading.path)):
            parsed = self.parse(reading.path)
        reading.meta.update(parsed.notes)
        yield parsed

    def open(self, run: Run, options: FeedOptions) -> FeedCtx:
        if len(run.files) != 1:
            raise Invalid(f"a {self.kind} feed import takes one file or directory, not {len(run.files)}")
        return FeedCtx(run=run, started=time.perf_counter())

    def load(self, ctx: FeedCtx, records: Iterable[Parsed], options: FeedOptions) -> None:
        session, info = ctx.run.session, ctx.run.files[0]
        for parsed in records:
            fi = FeedImport(
                kind=self.kind,
                source=info["path"][:500],
                snapshot_date=options.snapshot_date or parsed.snapshot_date or dt.date.today(),
                checksum=info["sha256"],
                imported_by=current_actor().name,
                notes=parsed.notes,
            )
            session.add(fi)
            session.flush()
            if self.replaces is not None:
                if not options.allow_shrink:
                    service.check_shrink(session, self.replaces, self.kind, Path(info["path"]), parsed.rows)
                count = service.replace_table(session, self.replaces, parsed.rows, fi.id)
                counts: dict[str, Any] = {"entries": count}
            else:
                counts = store_advisories(session, parsed.advisories, fi.id)
                count = counts["advisories"]
            fi.record_count, fi.seconds = count, round(time.perf_counter() - ctx.started, 3)
            ctx.feed, ctx.parsed, ctx.counts = fi, parsed, counts

    def stats(self, ctx: FeedCtx) -> dict[str, Any]:
        return {"records": ctx.feed.record_count if ctx.feed else 0, **(ctx.counts or {})}

    def finish(self, ctx: FeedCtx, options: FeedOptions) -> FeedResult:
        fi, parsed = ctx.feed, ctx.parsed
        assert fi is not None and parsed is not None  # load ran: the runner calls finish after it
        snap = fi.snapshot_date
        audit.record_bulk(
            ctx.run.session,
            "import",
            f"vuln_feed:{self.kind}",
            count=fi.record_count,
            digest=fi.checksum,
            detail={"feed_import_id": fi.id, "source": fi.source, "snapshot_date": snap.isoformat()},
        )
        result: FeedResult = {
            "feed_import_id": fi.id,
            "kind": self.kind,
            "source": fi.source,
            "snapshot_date": snap.isoformat(),
            "checksum": fi.checksum,
            "records": fi.record_count,
            "import_seconds": fi.seconds,
            "notes": parsed.notes,
            **ctx.counts,  # type: ignore[typeddict-item]
        }
        warning = service.stale_warning(self.kind, snap)
        if warning:
            result["warning"] = warning
        if options.rematch:
            result["match"] = service.match(ctx.run.session)
        return result
