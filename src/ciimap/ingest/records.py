"""Typed records the parsers yield (the "transform" output); loaders never see raw file formats."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class PortRecord:
    protocol: str
    port: int
    state: str
    reason: str | None = None
    name: str | None = None
    product: str | None = None
    version: str | None = None
    extrainfo: str | None = None
    tunnel: str | None = None
    method: str | None = None  # probed = fingerprinted; table = guessed from the port number
    conf: int | None = None
    cpes: list[str] = field(default_factory=list)
    scripts: list[tuple[str, str]] = field(default_factory=list)
    address: str | None = None


@dataclass(slots=True)
class HostRecord:
    """One asset as a source saw it: a scanned host, a register row, an osquery host."""

    ips: list[str] = field(default_factory=list)
    macs: list[str] = field(default_factory=list)
    mac_vendor: str | None = None
    hostnames: list[str] = field(default_factory=list)
    serial: str | None = None
    cloud_id: str | None = None
    name: str | None = None
    ports: list[PortRecord] = field(default_factory=list)
    os_name: str | None = None
    os_family: str | None = None
    os_version: str | None = None
    os_accuracy: int | None = None
    #: Declared attributes (registers): kind, owner, system, site, zone, criticality, manufacturer...
    declared: dict[str, Any] = field(default_factory=dict)
    #: Scanner detail kept verbatim (OS matches, scripts, status reason, times).
    detail: dict[str, Any] = field(default_factory=dict)
    #: Where in the file the record came from (row 17, host 5) for error messages.
    position: str | None = None
    #: Set by parsers that fingerprint the raw input (cheaper than :meth:`digest`).
    fingerprint: str | None = None
    #: Deferred second parsing pass; the loader calls :meth:`complete` only for new/changed hosts.
    pending: Callable[[HostRecord], None] | None = None

    def complete(self) -> HostRecord:
        if self.pending is not None:
            fn, self.pending = self.pending, None
            fn(self)
        return self

    def digest(self) -> str:
        """Fingerprint of the observed facts: equal digests mean nothing to update."""
        if self.fingerprint is not None:
            return self.fingerprint
        ports = sorted(
            f"{p.address}|{p.protocol}|{p.port}|{p.state}|{p.name}|{p.product}|{p.version}|{p.extrainfo}|"
            f"{p.tunnel}|{p.method}|{p.conf}|{' '.join(p.cpes)}|{repr(p.scripts) if p.scripts else ''}"
            for p in self.ports
        )
        head = (
            ",".join(self.ips),
            ",".join(self.macs),
            self.mac_vendor,
            ",".join(self.hostnames),
            self.serial,
            self.cloud_id,
            self.name,
            self.os_name,
            self.os_family,
            self.os_version,
            repr(sorted(self.declared.items())) if self.declared else "",
            repr(self.detail.get("host_scripts", "")),
        )
        facts = "\x1f".join(map(str, head)) + "\x1e" + "\x1e".join(ports)
        return hashlib.sha1(facts.encode(), usedforsecurity=False).hexdigest()


def complete_all(recs: Iterable[HostRecord]) -> None:
    """Run the deferred second pass of several records in file order (a completer that has to read
    the file again then moves forward only)."""
    todo = [r for r in recs if r.pending is not None]
    todo.sort(key=lambda r: getattr(r.pending, "order", 0))
    for r in todo:
        r.complete()


@dataclass(slots=True)
class SoftwareRecord:
    name: str
    version: str | None = None
    kind: str = "library"
    purl: str | None = None
    cpe: str | None = None
    supplier: str | None = None
    licenses: list[str] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    bom_ref: str | None = None
    parent_ref: str | None = None  # nested component: part of this bom-ref

    def __post_init__(self) -> None:
        """JSON sources may put a number or a list where text belongs: numbers become text, anything
        else is refused here (ValueError: the parser's content guard names the file), not by the database."""
        for name in ("name", "version", "purl", "cpe", "supplier", "bom_ref", "parent_ref"):
            value = getattr(self, name)
            if value is None or isinstance(value, str):
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                setattr(self, name, str(value))
            else:
                raise ValueError(f"component {name} is a {type(value).__name__}, not text")


@dataclass(slots=True)
class SoftwareSet:
    """An SBOM or an osquery software inventory: components plus dependency edges (by bom-ref)."""

    components: list[SoftwareRecord] = field(default_factory=list)
    depends: list[tuple[str, str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    host: HostRecord | None = None
