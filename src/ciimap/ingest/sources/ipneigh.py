"""Neighbour tables (ARP for IPv4, NDP for IPv6) read on a Linux gateway or jump host: ``ip -j neigh``
(JSON) or plain ``ip neigh``. A passive source: it finds the hosts of a segment without scanning it,
which is what control networks allow.

A neighbour table only holds what the host talked to recently, so a host absent from the next table
is not missing (no cleanup); entries without a link-layer address (FAILED, INCOMPLETE) say nothing
about a host and are skipped, and counted.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import Field

from ciimap.core.errors import InputFileError
from ciimap.core.importer import Reading
from ciimap.core.safeio import content_guard, decode_utf8
from ciimap.ingest.records import HostRecord
from ciimap.ingest.sources.base import AssetOptions, HostSource

_MAC = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
_NOT_A_HOST = {"00:00:00:00:00:00", "FF:FF:FF:FF:FF:FF"}
#: Plain ``ip neigh``: ``ADDR dev DEV [lladdr MAC] [router] STATE...``
_WORDS = ("dev", "lladdr")


class NeighOptions(AssetOptions):
    observer: str | None = Field(
        None, max_length=200, description="the host the table was read on (kept with each entry)"
    )


def _text_entries(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        entry: dict[str, Any] = {"dst": parts[0], "state": []}
        i = 1
        while i < len(parts):
            word = parts[i]
            if word in _WORDS and i + 1 < len(parts):
                entry[word] = parts[i + 1]
                i += 2
                continue
            if word == "router":
                entry["router"] = True
            elif word.isupper():
                entry["state"].append(word)
            i += 1
        yield n, entry


def _entries(name: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if text.lstrip()[:1] in ("[", "{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputFileError(
                name, f"invalid JSON: {err.msg}", position=f"line {err.lineno}, column {err.colno}"
            ) from err
        if not isinstance(doc, list) or not all(isinstance(x, dict) for x in doc):
            raise InputFileError(name, "not 'ip -j neigh' output (expected a JSON list of objects)")
        for i, entry in enumerate(doc):
            yield f"entry {i + 1}", entry
    else:
        for n, entry in _text_entries(text):
            yield f"line {n}", entry


def _record(name: str, where: str, e: dict[str, Any], observer: str | None) -> HostRecord | None:
    try:
        ip = str(ipaddress.ip_address(str(e.get("dst", ""))))
    except ValueError:
        raise InputFileError(name, f"'{e.get('dst')}' is not an IP address", position=where) from None
    mac = str(e.get("lladdr") or "").upper()
    if not mac or mac in _NOT_A_HOST:
        return None
    if not _MAC.match(mac):
        raise InputFileError(name, f"'{e.get('lladdr')}' is not a MAC address", position=where)
    detail = {"dev": e.get("dev"), "state": e.get("state") or [], "observer": observer}
    if e.get("router"):
        detail["router"] = True
    return HostRecord(ips=[ip], macs=[mac], detail={"neigh": detail}, position=where)


class IpNeigh(HostSource[NeighOptions]):
    kind = "ipneigh"
    label = ("ARP/邻居表（ip neigh）", "ARP / neighbour table (ip neigh)")
    summary = "neighbour table of a Linux gateway: 'ip -j neigh' JSON or plain 'ip neigh' (passive)"
    Options = NeighOptions
    sample = "ingest/ip-neigh.json"
    retires_missing = False

    def read(self, reading: Reading, options: NeighOptions) -> Iterable[HostRecord]:
        name = str(reading.path)
        text = decode_utf8(name, reading.path.read_bytes())
        kept = skipped = 0
        for where, entry in _entries(name, text):
            with content_guard(name, where):
                rec = _record(name, where, entry, options.observer)
            if rec is None:
                skipped += 1
                continue
            kept += 1
            yield rec
        if kept + skipped == 0:
            raise InputFileError(name, "the neighbour table lists no entries: nothing was imported")
        reading.meta.update({"entries": kept, "skipped_without_mac": skipped, "observer": options.observer})
        reading.on_bytes(len(text.encode()))
