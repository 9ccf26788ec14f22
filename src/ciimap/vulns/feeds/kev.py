"""CISA Known Exploited Vulnerabilities catalogue, JSON or CSV (the catalogue is complete: an import
replaces the previous one)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ciimap.core.errors import InputFileError
from ciimap.core.safeio import content_guard, decode_utf8
from ciimap.vulns.feeds.common import Parsed, parse_date
from ciimap.vulns.feeds.source import FeedSource
from ciimap.vulns.models import KevEntry


def _row(e: dict[str, Any]) -> dict[str, Any]:
    cwes = e.get("cwes") or []
    if isinstance(cwes, str):
        cwes = [c.strip() for c in cwes.split(",") if c.strip()]
    return {
        "cve_id": str(e["cveID"]).strip().upper(),
        "vendor_project": e.get("vendorProject"),
        "product": e.get("product"),
        "name": e.get("vulnerabilityName"),
        "date_added": parse_date(e.get("dateAdded")),
        "due_date": parse_date(e.get("dueDate")),
        "ransomware": str(e.get("knownRansomwareCampaignUse") or "").strip().lower() == "known",
        "required_action": e.get("requiredAction"),
        "cwes": list(cwes),
    }


def _from_json(path: Path, raw: bytes) -> Parsed:
    try:
        doc = json.loads(decode_utf8(str(path), raw))
    except json.JSONDecodeError as e:
        raise InputFileError(
            str(path), f"invalid JSON: {e.msg}", position=f"line {e.lineno}, column {e.colno}"
        ) from e
    vulns = doc.get("vulnerabilities") if isinstance(doc, dict) else None
    if not isinstance(vulns, list):
        raise InputFileError(str(path), "not a KEV catalogue (no 'vulnerabilities' list)")
    if not vulns:
        raise InputFileError(str(path), "the KEV catalogue lists no vulnerabilities: nothing was imported")
    if isinstance(doc.get("count"), int) and doc["count"] != len(vulns):
        raise InputFileError(
            str(path),
            f"the catalogue says count {doc['count']} but lists {len(vulns)} "
            "vulnerabilities: incomplete file?",
        )
    rows = []
    for i, entry in enumerate(vulns):
        if not isinstance(entry, dict) or not entry.get("cveID"):
            raise InputFileError(str(path), "entry without cveID", position=f"vulnerabilities[{i}]")
        with content_guard(str(path), f"vulnerabilities[{i}]"):
            rows.append(_row(entry))
    snap = parse_date(doc.get("dateReleased")) or max(
        (r["date_added"] for r in rows if r["date_added"]), default=None
    )
    return Parsed(rows=rows, snapshot_date=snap, notes={"catalog_version": doc.get("catalogVersion")})


def _from_csv(path: Path, raw: bytes) -> Parsed:
    text = decode_utf8(str(path), raw)
    reader = csv.DictReader(io.StringIO(text), strict=True)
    try:
        if not reader.fieldnames or "cveID" not in reader.fieldnames:
            raise InputFileError(str(path), "not a KEV CSV (no 'cveID' column)", position="line 1")
        rows = []
        for n, e in enumerate(reader, start=2):
            if None in e.values() or None in e:
                raise InputFileError(
                    str(path),
                    f"row has not the {len(reader.fieldnames)} columns of the header",
                    position=f"line {reader.line_num}",
                )
            if not e.get("cveID"):
                raise InputFileError(str(path), "empty cveID", position=f"line {n}")
            rows.append(_row(e))
    except csv.Error as e:
        raise InputFileError(
            str(path),
            f"malformed CSV ({e}; the file may end early)",
            position=f"line {reader.reader.line_num}",
        ) from None
    if not rows:
        raise InputFileError(
            str(path), "the KEV CSV has a header but no rows: nothing was imported", position="line 2"
        )
    if not text.endswith(("\n", "\r")):
        raise InputFileError(
            str(path), "the file ends without a line end: cut short?", position=f"line {reader.line_num}"
        )
    snap = max((r["date_added"] for r in rows if r["date_added"]), default=None)
    return Parsed(rows=rows, snapshot_date=snap)


def parse(path: Path) -> Parsed:
    raw = path.read_bytes()
    if raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return _from_json(path, raw)
    return _from_csv(path, raw)


class Kev(FeedSource):
    kind = "kev"
    label = ("CISA 已知被利用漏洞 KEV", "CISA KEV catalogue")
    summary = "CISA Known Exploited Vulnerabilities catalogue, JSON or CSV (replaces the stored catalogue)"
    sample = "vulns/kev-sample.json"
    replaces = KevEntry

    def parse(self, path: Path) -> Parsed:
        return parse(path)
