"""Import orchestration: one run per import, all-or-nothing, failed runs recorded separately.

``import_files`` is the one entry point (CLI, API job, discovery scans): get (parsers) → transform
(records) → load (hostload/swload) → changes (missing assets) → audit.
"""

from __future__ import annotations

import hashlib
import html
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ciimap.core import audit, bulk, safeio
from ciimap.core.db import get_database, utcnow
from ciimap.core.errors import CiimapError, InputFileError, Invalid, NotFound
from ciimap.core.jobs import Progress
from ciimap.ingest import changes, hostload, parallel, swload
from ciimap.ingest.context import RunCtx
from ciimap.ingest.correlate import DEFAULT_KEYS, Decisions, check_keys, resolve
from ciimap.ingest.models import ChangeEvent, ImportRun, ScopeState
from ciimap.ingest.parsers import masscan, nmap, osquery, register, sbom
from ciimap.ingest.records import HostRecord
from ciimap.ingest.register_refs import resolve_refs
from ciimap.inventory.models import Asset, System

KINDS = ("nmap", "masscan", "register", "sbom", "osquery")
_ARGS = re.compile(rb'<nmaprun\b[^>]*?\bargs="([^"]*)"')


def default_scope(kind: str, paths: list[Path], options: dict[str, Any]) -> str:
    """Runs over the same scope are compared; nmap's scope is its target list (not the file name)."""
    if kind == "nmap":
        targets: list[str] = []
        for p in paths:
            with p.open("rb") as fh:
                m = _ARGS.search(fh.read(1 << 16))
            if m:
                targets.extend(nmap.targets_from_args(html.unescape(m.group(1).decode(errors="replace"))))
        return "nmap:" + (" ".join(sorted(dict.fromkeys(targets))) or "unknown")
    if kind == "sbom":
        return (
            f"sbom:asset:{options['asset_id']}"
            if options.get("asset_id")
            else f"sbom:system:{options.get('system_id')}"
        )
    if kind == "osquery" and options.get("asset_id"):
        return f"osquery:asset:{options['asset_id']}"
    return kind


def _file_info(paths: list[Path]) -> list[dict[str, Any]]:
    out = []
    for p in paths:
        if not p.is_file():
            raise InputFileError(str(p), "file not found")
        h = hashlib.sha256()
        with p.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        out.append({"name": p.name, "path": str(p), "size": p.stat().st_size, "sha256": h.hexdigest()})
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
    options: dict[str, Any] | None = None,
    scope: str | None = None,
) -> dict[str, Any]:
    """Import files of one kind as one run; on any error nothing is written and the run is recorded
    as failed in its own transaction (the caller's transaction is rolled back)."""
    options = dict(options or {})
    if kind not in KINDS:
        raise Invalid(f"unknown import kind '{kind}' (kinds: {', '.join(KINDS)})")
    paths = [Path(p) for p in paths]
    if not paths:
        raise Invalid("no files to import")
    files = _file_info(paths)
    scope = scope or default_scope(kind, paths, options)
    run = ImportRun(
        kind=kind,
        scope=scope[:300],
        status="running",
        files=files,
        created_by=audit.current_actor().name,
        started_at=utcnow(),
    )
    try:
        for p in paths:
            safeio.require_content(p)  # recorded as a failed run, like any refused file
        session.add(run)
        session.flush()
        with bulk.fewer_gc_passes():
            return _run(session, run, kind, paths, files, progress, options)
    except BaseException as e:
        session.rollback()
        _record_failure(kind, scope, files, e)
        raise


def _record_failure(kind: str, scope: str, files: list[dict[str, Any]], e: BaseException) -> None:
    msg = e.message if isinstance(e, CiimapError) else f"internal error: {type(e).__name__}: {e}"
    with get_database().unit_of_work() as s:
        s.add(
            ImportRun(
                kind=kind,
                scope=scope[:300],
                status="failed",
                files=files,
                error=msg[:4000],
                created_by=audit.current_actor().name,
                finished_at=utcnow(),
            )
        )
        audit.record(s, "import_failed", "import_run", None, after={"kind": kind, "error": msg[:500]})


def _run(
    session: Session,
    run: ImportRun,
    kind: str,
    paths: list[Path],
    files: list[dict[str, Any]],
    progress: Progress | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    default = (*DEFAULT_KEYS, "hostname", "name") if kind in ("register", "osquery") else DEFAULT_KEYS
    baseline = not session.scalar(
        select(exists().where(ImportRun.scope == run.scope, ImportRun.status == "succeeded"))
    )
    ctx = RunCtx(
        session=session,
        run_id=run.id,
        source=kind,
        scope=run.scope,
        now=run.started_at,
        baseline=baseline,
        order=check_keys(options.get("identity_keys") or default),
        decisions=Decisions.load(session),
        options=options,
        track_scope=kind != "register",
    )
    bar = _Bytes(progress, sum(f["size"] for f in files))
    meta: dict[str, Any] = {}
    if kind in ("nmap", "masscan", "register"):
        hostload.load(ctx, _host_records(session, kind, paths, options, bar, meta, run.scope))
        if kind in ("nmap", "masscan"):
            changes.mark_missing(ctx)
    elif kind == "sbom":
        _import_sbom(ctx, paths, options, bar, meta)
    else:
        _import_osquery(ctx, paths, options, bar, meta)
    ctx.flush_events()
    meta["vulns"] = _rematch(session, run.id, kind, options)
    run.status, run.finished_at, run.meta = "succeeded", utcnow(), meta
    run.stats = {**dict(ctx.stats), "baseline": baseline}
    digest = hashlib.sha256("".join(f["sha256"] for f in files).encode()).hexdigest()
    audit.record_bulk(
        session,
        "import",
        "asset",
        count=ctx.stats["assets_created"] + ctx.stats["assets_updated"] + ctx.stats["software_added"],
        digest=digest,
        detail={"run_id": run.id, "kind": kind, "scope": run.scope, "files": [f["name"] for f in files]},
    )
    session.flush()
    bar.base = bar.total
    bar(0, force=True, message="done")
    return {
        "run_id": run.id,
        "kind": kind,
        "scope": run.scope,
        "baseline": baseline,
        "assets_created": ctx.stats["assets_created"],
        "assets_updated": ctx.stats["assets_updated"],
        "assets_unchanged": ctx.stats["assets_unchanged"],
        "missing": ctx.stats["missing"],
        "changes": ctx.stats["changes"],
        "stats": dict(ctx.stats),
        "meta": meta,
    }


def _rematch(session: Session, run_id: int, kind: str, options: dict[str, Any]) -> dict[str, Any] | None:
    """Re-match vulnerabilities for what this run touched (issue 5: after every software change)."""
    from ciimap.vulns import service as vulns

    if kind == "sbom" or (kind == "osquery" and options.get("asset_id")):
        asset = [int(options["asset_id"])] if options.get("asset_id") else None
        system = [int(options["system_id"])] if options.get("system_id") else None
        result = vulns.rematch_after_import(session, asset_ids=asset, system_ids=system)
    elif kind == "osquery":
        result = vulns.rematch_after_import(session, everything=True)
    else:  # scans and registers: assets new to the scope, or with new/changed endpoints
        changed = select(ChangeEvent.asset_id).where(
            ChangeEvent.run_id == run_id, ChangeEvent.asset_id.is_not(None)
        )
        new = select(ScopeState.asset_id).where(ScopeState.first_run_id == run_id)
        touched_ids: set[int] = set()
        for (a,) in session.execute(changed.union(new)):
            # change events are filtered non-NULL above and ScopeState.asset_id is NOT NULL
            assert a is not None
            touched_ids.add(a)
        touched = sorted(touched_ids)
        result = vulns.rematch_after_import(session, asset_ids=touched)
    return None if result is None else {k: v for k, v in result.items() if isinstance(v, int | float | str)}


def _known_digests(session: Session, scope: str) -> frozenset[str]:
    """Digests of the scope's assets seen last run: hosts with these are probably unchanged."""
    return frozenset(
        session.scalars(
            select(ScopeState.digest).where(ScopeState.scope == scope, ScopeState.missing.is_(False))
        )
    )


def _host_records(
    session: Session,
    kind: str,
    paths: list[Path],
    options: dict[str, Any],
    bar: _Bytes,
    meta: dict[str, Any],
    scope: str,
) -> Iterator[HostRecord]:
    for p in paths:
        parser: Any
        if kind == "nmap" and parallel.worth_it(p):
            parser = parallel.ParallelNmapXml(p, bar, known=_known_digests(session, scope))
        elif kind == "nmap":
            parser = nmap.NmapXml(p, bar)
        elif kind == "masscan":
            parser = masscan.Masscan(p, bar)
        else:
            parser = register.Register(p, mapping=options.get("mapping"), encoding=options.get("encoding"))
            yield from resolve_refs(session, parser)
            meta[p.name] = parser.meta
            bar.file_done(p.stat().st_size)
            continue
        yield from parser
        meta[p.name] = parser.meta
        bar.file_done(p.stat().st_size)


def _target(session: Session, options: dict[str, Any], what: str) -> tuple[int | None, int | None]:
    asset_id, system_id = options.get("asset_id"), options.get("system_id")
    if asset_id is not None and session.get(Asset, int(asset_id)) is None:
        raise NotFound(f"asset {asset_id} does not exist")
    if system_id is not None and session.get(System, int(system_id)) is None:
        raise NotFound(f"system {system_id} does not exist")
    if what == "sbom" and (asset_id is None) == (system_id is None):
        raise Invalid("an SBOM must be attached to exactly one asset (--asset ID) or system (--system ID)")
    return (
        int(asset_id) if asset_id is not None else None,
        int(system_id) if system_id is not None else None,
    )


def _import_sbom(
    ctx: RunCtx, paths: list[Path], options: dict[str, Any], bar: _Bytes, meta: dict[str, Any]
) -> None:
    asset_id, system_id = _target(ctx.session, options, "sbom")
    for p in paths:
        sw = sbom.parse(p)
        swload.load(ctx, sw, asset_id=asset_id, system_id=system_id)
        meta[p.name] = {**sw.meta, "components": len(sw.components), "dependencies": len(sw.depends)}
        bar.file_done(p.stat().st_size)


def _import_osquery(
    ctx: RunCtx, paths: list[Path], options: dict[str, Any], bar: _Bytes, meta: dict[str, Any]
) -> None:
    asset_id, _ = _target(ctx.session, options, "osquery")
    for p in paths:
        sets = osquery.parse(p)
        for sw in sets:
            host = sw.host
            target = asset_id
            if target is None:
                if host is None or not (host.hostnames or host.serial):
                    raise InputFileError(
                        str(p), "osquery results carry no hostname or hardware serial; pass --asset ID"
                    )
                hostload.load(ctx, [host])
                target = resolve(ctx.session, [host], ctx.order, ctx.decisions)[0].asset_id
            swload.load(
                ctx,
                sw,
                asset_id=target,
                tables=[t for t in sw.meta.get("tables", []) if t not in ("os_version", "system_info")],
            )
        meta[p.name] = {
            "hosts": len(sets),
            "tables": sorted({t for s in sets for t in s.meta.get("tables", [])}),
        }
        bar.file_done(p.stat().st_size)
