"""Software bills of materials: CycloneDX 1.2–1.6 (JSON, XML) and SPDX 2.x JSON."""

from __future__ import annotations

from collections.abc import Iterable

from ciimap.core.importer import Reading
from ciimap.ingest import swload
from ciimap.ingest.context import RunCtx
from ciimap.ingest.parsers import sbom
from ciimap.ingest.records import SoftwareSet
from ciimap.ingest.sources.base import SoftwareSource, TargetOptions, check_target


class Sbom(SoftwareSource[TargetOptions]):
    kind = "sbom"
    label = ("SBOM（CycloneDX/SPDX）", "SBOM (CycloneDX/SPDX)")
    summary = "SBOM: CycloneDX 1.2–1.6 JSON/XML or SPDX 2.x JSON, attached to one asset or system"
    Options = TargetOptions
    target_required = True
    sample = "ingest/app.spdx.json"

    def read(self, reading: Reading, options: TargetOptions) -> Iterable[SoftwareSet]:
        sw = sbom.parse(reading.path)
        reading.meta.update({**sw.meta, "components": len(sw.components), "dependencies": len(sw.depends)})
        reading.on_bytes(reading.path.stat().st_size)
        yield sw

    def load(self, ctx: RunCtx, records: Iterable[SoftwareSet], options: TargetOptions) -> None:
        asset_id, system_id = check_target(ctx.session, options, required=self.target_required)
        for sw in records:
            swload.load(ctx, sw, asset_id=asset_id, system_id=system_id)
