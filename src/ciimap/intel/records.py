"""The typed record every intelligence source's ``read`` yields: one indicator value."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from typing import Any

#: Hash algorithms by hex length (MISP/STIX name them; a value of another length is refused).
HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}


@dataclass(slots=True)
class IntelRecord:
    type: str
    value: str
    source_ref: str
    hash_algo: str | None = None
    producer: str | None = None
    context: str | None = None
    name: str | None = None
    tlp: str | None = None
    confidence: int | None = None
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    labels: list[str] = field(default_factory=list)
    cves: list[str] = field(default_factory=list)
    note: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def normalise(kind: str, value: str, algo: str | None = None) -> tuple[str, str | None]:
    """``(value, note)`` in the form alerts are compared in; raises ``ValueError`` when the value is
    not of its type. An IP network wider than one address is kept with a note (never matched:
    matching is by exact address)."""
    v = value.strip()
    if kind == "ip":
        net = ipaddress.ip_network(v.split("%", 1)[0], strict=False)
        if net.num_addresses == 1:
            return str(net.network_address), None
        return str(net), "an address range: alerts are matched by exact address only"
    if kind == "domain":
        v = v.lower().rstrip(".")
        if not v or " " in v or len(v) > 253:
            raise ValueError(f"not a domain name: {value!r}")
        return v, None
    if kind == "url":
        if "://" not in v:
            raise ValueError(f"not a URL: {value!r}")
        return v, None
    if kind == "hash":
        v = v.lower()
        want = HASH_LENGTHS.get(algo or "")
        if want is None or len(v) != want or any(c not in "0123456789abcdef" for c in v):
            raise ValueError(f"not a {algo} hash: {value!r}")
        return v, None
    return v, None
