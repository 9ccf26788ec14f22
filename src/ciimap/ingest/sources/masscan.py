"""masscan output (JSON, XML or list): addresses and open ports."""

from __future__ import annotations

from collections.abc import Iterable

from ciimap.core.importer import Reading
from ciimap.ingest.parsers import masscan
from ciimap.ingest.records import HostRecord
from ciimap.ingest.sources.base import AssetOptions, HostSource


class Masscan(HostSource[AssetOptions]):
    kind = "masscan"
    label = ("Masscan 结果", "Masscan output")
    summary = "masscan output (-oJ JSON, -oX XML or -oL list): addresses and open ports"
    Options = AssetOptions
    sample = "ingest/masscan.json"

    def read(self, reading: Reading, options: AssetOptions) -> Iterable[HostRecord]:
        parser = masscan.Masscan(reading.path, reading.on_bytes)
        yield from parser
        reading.meta.update(parser.meta)
