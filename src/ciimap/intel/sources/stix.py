"""STIX 2.1 bundles (``stix2``): indicators whose patterns compare an address, domain, URL or file hash
with ``=`` become one indicator per value (the pattern is parsed with ``stix2-patterns``, never by
regular expression); any other pattern (``MATCHES``, observation ``AND``/``FOLLOWEDBY``, qualifiers,
other object types, non-STIX pattern languages) is kept as one ``other`` indicator with a note.
TLP comes from the object's marking references (the four TLP 1.0 definitions stix2 ships and any
marking definition of the bundle that names a TLP level); the producer from ``created_by_ref``; CVE
ids from the bundle's vulnerability objects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import stix2
from stix2.exceptions import STIXError
from stix2patterns.exceptions import ParseException
from stix2patterns.v21.pattern import Pattern

from ciimap.core.errors import InputFileError
from ciimap.intel.models import TLP_LEVELS
from ciimap.intel.records import IntelRecord, normalise
from ciimap.intel.sources.base import IntelSource

#: (object type, property path) → (indicator type, hash algorithm).
PATHS: dict[tuple[str, tuple[str, ...]], tuple[str, str | None]] = {
    ("ipv4-addr", ("value",)): ("ip", None),
    ("ipv6-addr", ("value",)): ("ip", None),
    ("domain-name", ("value",)): ("domain", None),
    ("url", ("value",)): ("url", None),
    ("file", ("hashes", "MD5")): ("hash", "md5"),
    ("file", ("hashes", "SHA-1")): ("hash", "sha1"),
    ("file", ("hashes", "SHA-256")): ("hash", "sha256"),
    ("file", ("hashes", "SHA-512")): ("hash", "sha512"),
}
_TLP = {
    stix2.TLP_WHITE.id: "clear",
    stix2.TLP_GREEN.id: "green",
    stix2.TLP_AMBER.id: "amber",
    stix2.TLP_RED.id: "red",
}


def _tlp_of_definition(obj: dict[str, Any]) -> str | None:
    """A bundle's own marking definition: TLP 1.0 (``definition_type: tlp``) or a TLP 2.0 name."""
    if obj.get("definition_type") == "tlp":
        level = str((obj.get("definition") or {}).get("tlp", "")).lower()
    else:
        level = str(obj.get("name", "")).lower().removeprefix("tlp:")
        if not str(obj.get("name", "")).upper().startswith("TLP:"):
            return None
    level = {"white": "clear"}.get(level, level)
    return level if level in TLP_LEVELS else None


def _cves(obj: dict[str, Any]) -> set[str]:
    out = set()
    name = str(obj.get("name", "")).upper()
    if name.startswith("CVE-"):
        out.add(name)
    for ref in obj.get("external_references") or []:
        if str(ref.get("source_name", "")).lower() == "cve" and ref.get("external_id"):
            out.add(str(ref["external_id"]).upper())
    return out


def _time(v: Any) -> dt.datetime | None:
    return v if isinstance(v, dt.datetime) else None


def values(pattern: str) -> tuple[list[tuple[str, str, str | None]], str | None]:
    """The ``(type, value, hash algorithm)`` triples of a simple pattern, or ``([], why)`` when the
    pattern is not a plain OR of ``=`` comparisons on supported properties."""
    try:
        data = Pattern(pattern).inspect()
    except ParseException as e:
        return [], f"pattern not parsed: {str(e)[:200]}"
    if data.observation_ops - {"OR"} or data.qualifiers:
        ops = sorted(data.observation_ops | {q.split()[0] for q in data.qualifiers})
        return [], f"complex pattern ({', '.join(ops)}): kept, not matched"
    out = []
    for obj_type, comparisons in data.comparisons.items():
        for path, op, literal in comparisons:
            key = (obj_type, tuple(str(p) for p in path))
            if op != "=" or key not in PATHS or not isinstance(literal, str) or not literal.startswith("'"):
                return [], f"complex pattern ({obj_type}:{'.'.join(map(str, path))} {op}): kept, not matched"
            kind, algo = PATHS[key]
            out.append((kind, literal[1:-1].replace("\\'", "'").replace("\\\\", "\\"), algo))
    return out, None


class Stix(IntelSource):
    kind = "stix"
    label = ("STIX 2.1 情报", "STIX 2.1 bundle")
    summary = "STIX 2.1 bundle (JSON): indicators with address, domain, URL and file-hash patterns"
    sample = "intel/stix-c2-with-coa.json"
    format_name = "a STIX 2.1 bundle"

    def parse(self, path: Path, doc: Any, meta: dict[str, Any]) -> Iterator[IntelRecord]:
        name = str(path)
        if not isinstance(doc, dict) or doc.get("type") != "bundle":
            raise InputFileError(name, "not a STIX 2.1 bundle: the top-level object's type is not 'bundle'")
        try:
            bundle = stix2.parse(doc, allow_custom=True, version="2.1")
        except STIXError as e:
            raise InputFileError(name, f"not a valid STIX 2.1 bundle: {str(e)[:300]}") from None
        raws = {o.get("id"): o for o in doc.get("objects") or [] if isinstance(o, dict)}
        objects = list(getattr(bundle, "objects", None) or [])
        tlp = dict(_TLP)
        producers: dict[str, str] = {}
        cves: set[str] = set()
        for o in raws.values():
            if o.get("type") == "marking-definition" and (level := _tlp_of_definition(o)):
                tlp[o["id"]] = level
            elif o.get("type") == "identity" and o.get("name"):
                producers[o["id"]] = str(o["name"])[:255]
            elif o.get("type") == "vulnerability":
                cves |= _cves(o)
        meta["cves"] = sorted(cves)
        skipped = 0
        for obj in objects:
            if obj.get("type") != "indicator":
                continue
            if obj.get("revoked"):
                skipped += 1
                continue
            raw = raws.get(obj.id, {})
            levels = [tlp[m] for m in obj.get("object_marking_refs") or [] if m in tlp]
            common: dict[str, Any] = {
                "source_ref": obj.id,
                "producer": producers.get(obj.get("created_by_ref") or ""),
                "context": doc.get("id"),
                "name": str(obj.name)[:500] if obj.get("name") else None,
                "tlp": max(levels, key=_rank) if levels else None,
                "confidence": obj.get("confidence"),
                "valid_from": _time(obj.get("valid_from")),
                "valid_until": _time(obj.get("valid_until")),
                "labels": [*obj.get("indicator_types", []), *obj.get("labels", [])],
                "cves": sorted(cves),
                "raw": raw,
            }
            if obj.get("pattern_type") != "stix":
                yield IntelRecord(
                    type="other",
                    value=str(obj.pattern)[:1000],
                    note=f"{obj.pattern_type} pattern: kept, not matched",
                    **common,
                )
                continue
            found, why = values(obj.pattern)
            if why is not None:
                yield IntelRecord(type="other", value=str(obj.pattern)[:1000], note=why, **common)
                continue
            for kind, value, algo in found:
                try:
                    v, note = normalise(kind, value, algo)
                except ValueError as e:
                    raise InputFileError(name, f"indicator {obj.id}: {e}") from None
                yield IntelRecord(type=kind, value=v[:1000], hash_algo=algo, note=note, **common)
        meta["skipped"] = skipped


def _rank(level: str) -> int:
    """The strictest TLP wins when an object carries several."""
    return TLP_LEVELS.index(level) if level in TLP_LEVELS else -1
