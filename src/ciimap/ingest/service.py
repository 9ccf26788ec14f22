"""The one import runner: every source in ``ciimap/sources.py`` runs through :func:`import_files`.

One run per import, all-or-nothing, failed runs recorded separately: read (each file, no database)
→ load (bulk, in the caller's transaction) → cleanup (only after a successful load, only the run's
scope) → finish (re-match, audit, the typed result). The steps are the source's (``core/importer.py``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ciimap import sources
from ciimap.core import audit, bulk, safeio
from ciimap.core.db import get_database, utcnow
from ciimap.core.errors import CiimapError, Invalid
from ciimap.core.importer import AnyImporter, ImportOptions, Reading, Run
from ciimap.core.jobs import Progress
from ciimap.ingest.models import ImportRun
from ciimap.ingest.sources.base import previous_run_exists


def _file_info(importer: AnyImporter, paths: list[Path]) -> list[dict[str, Any]]:
    out = []
    for p in paths:
        safeio.require_input(p, directory=importer.directories, what=f"a {importer.kind} input")
        out.append({"name": p.name, "path": str(p), "size": safeio.size_of(p), "sha256": safeio.sha256_of(p)})
    return out


class _Bytes:
    """Bytes-based progress over several files, throttled (lxml reads in small blocks)."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.base, self._last = progress, total, 0, 0.0

    def file_done(self, size: int) -> None:
        self.base += size
        self(0, force=True)

    def __call__(self, n: int, force: bool = False, message: str = "importing") -> None:
        now = time.monotonic()
        if self.progress is None or (not force and now - self._last < 0.2):
            return
        self._last = now
        self.progress(min(self.base + n, self.total), self.total, message, force=force)


def import_files(
    session: Session,
    *,
    kind: str,
    paths: list[Path],
    progress: Progress | None = None,
    options: ImportOptions | Mapping[str, Any] | None = None,
    scope: str | None = None,
) -> Any:
    """Import files of one kind as one run; on any error nothing is written and the run is recorded
    as failed in its own transaction (the caller's transaction is rolled back). Returns the source's
    typed result (``ImportResult`` for asset sources, ``FeedResult`` for feeds)."""
    importer = sources.get(kind)
    opts = importer.options(options)
    paths = [Path(p) for p in paths]
    if not paths:
        raise Invalid("no files to import")
    files = _file_info(importer, paths)
    scope = (scope or importer.scope(paths, opts))[:300]
    started = utcnow()
    try:
        for p in paths:
            safeio.require_content(p)  # recorded as a failed run, like any refused file
        row = ImportRun(
            kind=kind,
            scope=scope,
            status="running",
            files=files,
            created_by=audit.current_actor().name,
            started_at=started,
        )
        baseline = not previous_run_exists(session, scope)
        session.add(row)
        session.flush()
        run = Run(session, row.id, kind, scope, started, baseline, files)
        with bulk.fewer_gc_passes():
            ctx = importer.open(run, opts)
            bar = _Bytes(progress, sum(f["size"] for f in files))
            importer.load(ctx, _records(importer, ctx, opts, paths, bar, run.meta), opts)
            importer.cleanup(ctx, opts)
            result = importer.finish(ctx, opts)
            row.status, row.finished_at, row.meta = "succeeded", utcnow(), run.meta
            row.stats = importer.stats(ctx)
            session.flush()
            bar.base = bar.total
            bar(0, force=True, message="done")
            return result
    except BaseException as e:
        session.rollback()
        _record_failure(kind, scope, files, e)
        raise


def _records(
    importer: AnyImporter,
    ctx: Any,
    options: ImportOptions,
    paths: list[Path],
    bar: _Bytes,
    meta: dict[str, Any],
) -> Iterator[Any]:
    """The records of every file in turn, read lazily as the loader consumes them."""
    known = importer.known(ctx)
    for p in paths:
        reading = Reading(p, bar, known)
        yield from importer.read(reading, options)
        meta[p.name] = reading.meta
        bar.file_done(safeio.size_of(p))


def _record_failure(kind: str, scope: str, files: list[dict[str, Any]], e: BaseException) -> None:
    msg = e.message if isinstance(e, CiimapError) else f"internal error: {type(e).__name__}: {e}"
    with get_database().unit_of_work() as s:
        s.add(
            ImportRun(
                kind=kind,
                scope=scope,
                status="failed",
                files=files,
                error=msg[:4000],
                created_by=audit.current_actor().name,
                finished_at=utcnow(),
            )
        )
        audit.record(s, "import_failed", "import_run", None, after={"kind": kind, "error": msg[:500]})


def describe_sources(family: str | None = None) -> list[dict[str, Any]]:
    """The registry as data: what the import page, the API, ``ciimap sources`` and the docs list."""
    return [
        {
            "kind": s.kind,
            "family": s.family,
            "label_zh": s.label[0],
            "label_en": s.label[1],
            "summary": s.summary,
            "directories": s.directories,
            "options": s.Options.model_json_schema(),
        }
        for s in sources.SOURCES
        if family is None or s.family == family
    ]


def sources_markdown() -> str:
    """The registry as the Markdown table in docs/importing.md (``ciimap sources --markdown``)."""
    rows = ["| kind | family | 名称 | name | what it reads |", "|---|---|---|---|---|"]
    for src in sources.SOURCES:
        rows.append(f"| `{src.kind}` | {src.family} | {src.label[0]} | {src.label[1]} | {src.summary} |")
    return "\n".join(rows) + "\n"
