"""What every asset source shares: the run context, the loaders, the cleanup and the result.

:class:`HostSource` is for sources that describe hosts (scans, registers): ``read`` yields
:class:`HostRecord` s, the loader correlates them with the map. :class:`SoftwareSource` is for
sources that describe what is installed (SBOMs, agents): ``read`` yields :class:`SoftwareSet` s.
A new asset source subclasses one of them and writes ``read`` (and ``scope`` when its runs over the
same targets should be compared).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Generic, TypedDict, TypeVar

from pydantic import Field, field_validator
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ciimap.core import audit
from ciimap.core.errors import Invalid, NotFound
from ciimap.core.importer import Importer, ImportOptions, Run
from ciimap.ingest import changes, hostload
from ciimap.ingest.context import RunCtx
from ciimap.ingest.correlate import DEFAULT_KEYS, KNOWN_KEYS, Decisions, check_keys
from ciimap.ingest.models import ChangeEvent, ImportRun, ScopeState
from ciimap.ingest.records import HostRecord, SoftwareSet
from ciimap.inventory.models import Asset, System
from ciimap.vulns import service as vulns


class AssetOptions(ImportOptions):
    identity_keys: list[str] | None = Field(
        None, description=f"identity keys, strongest first (known: {', '.join(KNOWN_KEYS)})"
    )

    @field_validator("identity_keys")
    @classmethod
    def _keys(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else list(check_keys(v))


class TargetOptions(AssetOptions):
    """Sources whose records belong to one given asset or system (SBOMs, an agent's results)."""

    asset_id: int | None = Field(None, ge=1, le=2**31 - 1)
    system_id: int | None = Field(None, ge=1, le=2**31 - 1)


class ImportResult(TypedDict):
    """What ``ciimap import --json`` prints and the import job returns (keys scripts rely on)."""

    run_id: int
    kind: str
    scope: str
    baseline: bool
    assets_created: int
    assets_updated: int
    assets_unchanged: int
    missing: int
    changes: int
    stats: dict[str, int]
    meta: dict[str, Any]


AO = TypeVar("AO", bound=AssetOptions)
TO = TypeVar("TO", bound=TargetOptions)
Rec = TypeVar("Rec")


def previous_run_exists(session: Session, scope: str) -> bool:
    return bool(
        session.scalar(select(exists().where(ImportRun.scope == scope, ImportRun.status == "succeeded")))
    )


class AssetSource(Importer[AO, Rec, RunCtx, ImportResult], Generic[AO, Rec]):
    """``open``, ``finish`` and the audit record shared by host and software sources."""

    family = "assets"
    #: Identity keys when the options name none (registers and agents also match by name).
    identity_keys: ClassVar[tuple[str, ...]] = DEFAULT_KEYS
    #: Rows are declared (a register), not observed: declared attributes win, nothing goes missing.
    declares: ClassVar[bool] = False

    def open(self, run: Run, options: AO) -> RunCtx:
        return RunCtx(
            session=run.session,
            run_id=run.run_id,
            source=self.kind,
            scope=run.scope,
            now=run.started_at,
            baseline=run.baseline,
            order=tuple(options.identity_keys or self.identity_keys),
            decisions=Decisions.load(run.session),
            track_scope=not self.declares,
            declares=self.declares,
            files=run.files,
            meta=run.meta,
        )

    def rematch(self, ctx: RunCtx, options: AO) -> dict[str, Any] | None:
        """Re-match vulnerabilities for what this run touched: assets new to the scope, or with new or
        changed endpoints (software sources re-match their target)."""
        changed = select(ChangeEvent.asset_id).where(
            ChangeEvent.run_id == ctx.run_id, ChangeEvent.asset_id.is_not(None)
        )
        new = select(ScopeState.asset_id).where(ScopeState.first_run_id == ctx.run_id)
        touched = sorted({a for (a,) in ctx.session.execute(changed.union(new)) if a is not None})
        return vulns.rematch_after_import(ctx.session, asset_ids=touched)

    def stats(self, ctx: RunCtx) -> dict[str, Any]:
        return {**dict(ctx.stats), "baseline": ctx.baseline}

    def finish(self, ctx: RunCtx, options: AO) -> ImportResult:
        ctx.flush_events()
        result = self.rematch(ctx, options)
        ctx.meta["vulns"] = (
            None if result is None else {k: v for k, v in result.items() if isinstance(v, int | float | str)}
        )
        digest = hashlib.sha256("".join(f["sha256"] for f in ctx.files).encode()).hexdigest()
        st = ctx.stats
        audit.record_bulk(
            ctx.session,
            "import",
            "asset",
            count=st["assets_created"] + st["assets_updated"] + st["software_added"],
            digest=digest,
            detail={
                "run_id": ctx.run_id,
                "kind": self.kind,
                "scope": ctx.scope,
                "files": [f["name"] for f in ctx.files],
            },
        )
        return {
            "run_id": ctx.run_id,
            "kind": self.kind,
            "scope": ctx.scope,
            "baseline": ctx.baseline,
            "assets_created": st["assets_created"],
            "assets_updated": st["assets_updated"],
            "assets_unchanged": st["assets_unchanged"],
            "missing": st["missing"],
            "changes": st["changes"],
            "stats": dict(st),
            "meta": ctx.meta,
        }


class HostSource(AssetSource[AO, HostRecord]):
    """Scans and registers: hosts correlated with the map; a scan's cleanup marks the hosts of its
    scope it no longer sees as missing (never deleted)."""

    #: A scan reports everything in its scope, so hosts it no longer sees are missing.
    retires_missing: ClassVar[bool] = True

    def load(self, ctx: RunCtx, records: Iterable[HostRecord], options: AO) -> None:
        hostload.load(ctx, records)

    def cleanup(self, ctx: RunCtx, options: AO) -> None:
        if self.retires_missing:
            changes.mark_missing(ctx)


def check_target(
    session: Session, options: TargetOptions, *, required: bool
) -> tuple[int | None, int | None]:
    """The asset or system the records belong to: it must exist; ``required``: exactly one of them."""
    asset_id, system_id = options.asset_id, options.system_id
    if asset_id is not None and session.get(Asset, asset_id) is None:
        raise NotFound(f"asset {asset_id} does not exist")
    if system_id is not None and session.get(System, system_id) is None:
        raise NotFound(f"system {system_id} does not exist")
    if required and (asset_id is None) == (system_id is None):
        raise Invalid("an SBOM must be attached to exactly one asset (--asset ID) or system (--system ID)")
    return asset_id, system_id


class SoftwareSource(AssetSource[TO, SoftwareSet]):
    """SBOMs and agents: what is installed on an asset or in a system."""

    #: The records need a target (exactly one asset or system): the import page asks for it.
    target_required: ClassVar[bool] = False

    def scope(self, paths: Sequence[Path], options: TO) -> str:
        if options.asset_id is not None:
            return f"{self.kind}:asset:{options.asset_id}"
        if options.system_id is not None:
            return f"{self.kind}:system:{options.system_id}"
        return self.kind

    def rematch(self, ctx: RunCtx, options: TO) -> dict[str, Any] | None:
        if options.asset_id is None and options.system_id is None:
            return vulns.rematch_after_import(ctx.session, everything=True)
        return vulns.rematch_after_import(
            ctx.session,
            asset_ids=None if options.asset_id is None else [options.asset_id],
            system_ids=None if options.system_id is None else [options.system_id],
        )
