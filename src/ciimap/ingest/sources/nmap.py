"""nmap XML (``-oX``): hosts, addresses, ports, services, OS guesses and script output."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import select

from ciimap.core.importer import Reading
from ciimap.ingest import parallel
from ciimap.ingest.context import RunCtx
from ciimap.ingest.models import ScopeState
from ciimap.ingest.parsers import nmap
from ciimap.ingest.records import HostRecord
from ciimap.ingest.sources.base import AssetOptions, HostSource

_ARGS = re.compile(rb'<nmaprun\b[^>]*?\bargs="([^"]*)"')


class Nmap(HostSource[AssetOptions]):
    kind = "nmap"
    label = ("Nmap XML 扫描结果", "Nmap XML scan")
    summary = "nmap XML output (-oX): hosts, ports, services, OS; large files parsed in a helper process"
    Options = AssetOptions
    sample = "ingest/nmap-loopback.xml"

    def scope(self, paths: Sequence[Path], options: AssetOptions) -> str:
        """A scan's scope is its target list (from the ``args`` nmap recorded), not the file name."""
        targets: list[str] = []
        for p in paths:
            with p.open("rb") as fh:
                m = _ARGS.search(fh.read(1 << 16))
            if m:
                targets.extend(nmap.targets_from_args(html.unescape(m.group(1).decode(errors="replace"))))
        return "nmap:" + (" ".join(sorted(dict.fromkeys(targets))) or "unknown")

    def known(self, ctx: RunCtx) -> frozenset[str]:
        """Digests of the scope's hosts seen last run: hosts with these are probably unchanged."""
        return frozenset(
            ctx.session.scalars(
                select(ScopeState.digest).where(ScopeState.scope == ctx.scope, ScopeState.missing.is_(False))
            )
        )

    def read(self, reading: Reading, options: AssetOptions) -> Iterable[HostRecord]:
        parser: nmap.NmapXml | parallel.ParallelNmapXml
        if parallel.worth_it(reading.path):
            parser = parallel.ParallelNmapXml(reading.path, reading.on_bytes, known=reading.known)
        else:
            parser = nmap.NmapXml(reading.path, reading.on_bytes)
        yield from parser
        reading.meta.update(parser.meta)
