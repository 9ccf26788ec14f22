"""MISP events (JSON as MISP exports them, read offline with ``pymisp``'s ``MISPEvent``): address,
domain, URL and hash attributes, in the event and in its objects, become indicators; composite types
(``domain|ip``, ``ip-dst|port``, ``filename|sha256``...) give their matchable parts. Vulnerability
attributes name CVE ids. TLP comes from ``tlp:`` tags (the attribute's, else the event's); MISP gives
no expiry (``--option valid_days=N`` sets one) and no confidence. A file may hold one event
(``{"Event": {...}}`` or the bare event) or a list of them (``{"response": [...]}``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pymisp import MISPAttribute, MISPEvent
from pymisp.exceptions import PyMISPError

from ciimap.core.errors import InputFileError
from ciimap.intel.models import TLP_LEVELS
from ciimap.intel.records import IntelRecord, normalise
from ciimap.intel.sources.base import IntelSource

#: MISP attribute type → the indicator type of each ``|``-separated part (None: part not matched).
TYPES: dict[str, tuple[tuple[str, str | None] | None, ...]] = {
    "ip-src": (("ip", None),),
    "ip-dst": (("ip", None),),
    "ip-src|port": (("ip", None), None),
    "ip-dst|port": (("ip", None), None),
    "domain": (("domain", None),),
    "hostname": (("domain", None),),
    "domain|ip": (("domain", None), ("ip", None)),
    "hostname|port": (("domain", None), None),
    "url": (("url", None),),
    "md5": (("hash", "md5"),),
    "sha1": (("hash", "sha1"),),
    "sha256": (("hash", "sha256"),),
    "sha512": (("hash", "sha512"),),
    "filename|md5": (None, ("hash", "md5")),
    "filename|sha1": (None, ("hash", "sha1")),
    "filename|sha256": (None, ("hash", "sha256")),
    "filename|sha512": (None, ("hash", "sha512")),
}


def _tlp(tags: list[Any]) -> str | None:
    for t in tags:
        name = str(getattr(t, "name", "")).strip().lower()
        if name.startswith("tlp:"):
            level = {"white": "clear"}.get(name[4:], name[4:])
            if level in TLP_LEVELS:  # not e.g. MISP's tlp:ex:chr (kept among the labels)
                return level
    return None


def _events(doc: Any) -> list[Any]:
    if isinstance(doc, dict) and isinstance(doc.get("response"), list):
        return list(doc["response"])
    return [doc]


class Misp(IntelSource):
    kind = "misp"
    label = ("MISP 情报事件", "MISP event")
    summary = "MISP event JSON (export or feed file): address, domain, URL and hash attributes"
    sample = "intel/misp-xorist.json"
    format_name = "a MISP event"

    def parse(self, path: Path, doc: Any, meta: dict[str, Any]) -> Iterator[IntelRecord]:
        name = str(path)
        skipped: dict[str, int] = {}
        cves: set[str] = set()
        out: list[IntelRecord] = []
        for n, raw_event in enumerate(_events(doc)):
            where = f"event {n + 1}"
            body = raw_event.get("Event", raw_event) if isinstance(raw_event, dict) else None
            if not isinstance(body, dict) or "Attribute" not in body and "Object" not in body:
                raise InputFileError(name, "not a MISP event: no Event with attributes", position=where)
            event = MISPEvent()
            try:
                event.load(raw_event)
            except (PyMISPError, TypeError, ValueError, KeyError) as e:
                raise InputFileError(name, f"not a MISP event: {str(e)[:300]}", position=where) from None
            attributes: list[MISPAttribute] = list(event.attributes)
            for obj in event.objects:
                attributes.extend(obj.attributes)
            event_tlp = _tlp(event.tags)
            producer = str(event.Orgc.name)[:255] if getattr(event, "Orgc", None) is not None else None
            labels_event = [t.name for t in event.tags if _tlp([t]) is None]
            for a in attributes:
                if a.type == "vulnerability" and str(a.value).upper().startswith("CVE-"):
                    cves.add(str(a.value).strip().upper())
            for a in attributes:
                parts = TYPES.get(a.type)
                if parts is None:
                    skipped[a.type] = skipped.get(a.type, 0) + 1
                    continue
                values = str(a.value).split("|") if len(parts) > 1 else [str(a.value)]
                if len(values) != len(parts):
                    raise InputFileError(
                        name, f"attribute {a.uuid}: {a.type} value {str(a.value)[:80]!r}", position=where
                    )
                first = getattr(a, "first_seen", None) or getattr(a, "timestamp", None)
                for part, value in zip(parts, values, strict=True):
                    if part is None:
                        continue
                    kind, algo = part
                    try:
                        v, note = normalise(kind, value, algo)
                    except ValueError as e:
                        raise InputFileError(name, f"attribute {a.uuid}: {e}", position=where) from None
                    out.append(
                        IntelRecord(
                            type=kind,
                            value=v[:1000],
                            hash_algo=algo,
                            source_ref=str(a.uuid),
                            producer=producer,
                            context=str(event.uuid) if getattr(event, "uuid", None) else None,
                            name=str(event.info)[:500] if getattr(event, "info", None) else None,
                            tlp=_tlp(a.tags) or event_tlp,
                            valid_from=first if isinstance(first, dt.datetime) else None,
                            labels=[a.category, *labels_event, *(t.name for t in a.tags)]
                            if a.category
                            else labels_event,
                            note=note if a.to_ids else (note or "to_ids is false in MISP"),
                            raw=a.to_dict(),
                        )
                    )
        for rec in out:
            rec.cves = sorted(cves)
        meta["cves"] = sorted(cves)
        meta["skipped_types"] = dict(sorted(skipped.items()))
        meta["skipped"] = sum(skipped.values())
        yield from out
