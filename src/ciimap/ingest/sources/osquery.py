"""osquery results (a query pack's JSON, or osqueryd's results log): host identity and software."""

from __future__ import annotations

from collections.abc import Iterable

from ciimap.core.errors import InputFileError
from ciimap.core.importer import Reading
from ciimap.ingest import hostload, swload
from ciimap.ingest.context import RunCtx
from ciimap.ingest.correlate import DEFAULT_KEYS, resolve
from ciimap.ingest.parsers import osquery
from ciimap.ingest.records import SoftwareSet
from ciimap.ingest.sources.base import SoftwareSource, TargetOptions, check_target

#: Tables that describe the host itself, not installed software.
HOST_TABLES = ("os_version", "system_info")


class Osquery(SoftwareSource[TargetOptions]):
    kind = "osquery"
    label = ("osquery 结果", "osquery results")
    summary = "osquery results (JSON of a query pack, or osqueryd's results log): host and software"
    Options = TargetOptions
    sample = "ingest/osquery-bundle.json"
    identity_keys = (*DEFAULT_KEYS, "hostname", "name")

    def read(self, reading: Reading, options: TargetOptions) -> Iterable[SoftwareSet]:
        sets = osquery.parse(reading.path)
        for sw in sets:
            if options.asset_id is None and (sw.host is None or not (sw.host.hostnames or sw.host.serial)):
                raise InputFileError(
                    str(reading.path), "osquery results carry no hostname or hardware serial; pass --asset ID"
                )
        reading.meta.update(
            {"hosts": len(sets), "tables": sorted({t for s in sets for t in s.meta.get("tables", [])})}
        )
        reading.on_bytes(reading.path.stat().st_size)
        yield from sets

    def load(self, ctx: RunCtx, records: Iterable[SoftwareSet], options: TargetOptions) -> None:
        asset_id, _ = check_target(ctx.session, options, required=False)
        for sw in records:
            target = asset_id
            if target is None:
                assert sw.host is not None  # read refuses results without a host identity
                hostload.load(ctx, [sw.host])
                target = resolve(ctx.session, [sw.host], ctx.order, ctx.decisions)[0].asset_id
            tables = [t for t in sw.meta.get("tables", []) if t not in HOST_TABLES]
            swload.load(ctx, sw, asset_id=target, tables=tables)
