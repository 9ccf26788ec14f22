"""Asset registers (台账) in CSV or XLSX, Chinese or English headers, UTF-8 or GBK."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from ciimap.core.importer import Reading
from ciimap.ingest.context import RunCtx
from ciimap.ingest.correlate import DEFAULT_KEYS
from ciimap.ingest.parsers import register
from ciimap.ingest.records import HostRecord
from ciimap.ingest.register_refs import resolve_refs
from ciimap.ingest.sources.base import AssetOptions, HostSource


class RegisterOptions(AssetOptions):
    mapping: dict[str, str] = Field(
        default_factory=dict, description="column → field, for headers the built-in names do not cover"
    )
    encoding: str | None = Field(None, max_length=40, description="default: UTF-8, else GBK/GB18030")


class Register(HostSource[RegisterOptions]):
    kind = "register"
    label = ("资产台账（CSV/XLSX）", "Asset register (CSV/XLSX)")
    summary = "asset register (台账) as CSV or XLSX: Chinese or English headers, UTF-8 or GBK"
    Options = RegisterOptions
    sample = "ingest/register-gbk.csv"
    identity_keys = (*DEFAULT_KEYS, "hostname", "name")
    declares = True
    retires_missing = False

    def read(self, reading: Reading, options: RegisterOptions) -> Iterable[HostRecord]:
        parser = register.Register(reading.path, mapping=options.mapping, encoding=options.encoding)
        yield from parser
        reading.meta.update(parser.meta)
        reading.on_bytes(reading.path.stat().st_size)

    def load(self, ctx: RunCtx, records: Iterable[HostRecord], options: RegisterOptions) -> None:
        """Owner, system, site and zone are named in the rows: resolve them to map objects first."""
        super().load(ctx, resolve_refs(ctx.session, records), options)
