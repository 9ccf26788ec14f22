"""FIRST EPSS daily CSV: ``#model_version:...,score_date:...`` then ``cve,epss,percentile``
(the file is complete for its day: an import replaces the previous scores)."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from ciimap.core.errors import InputFileError
from ciimap.vulns.feeds.common import Parsed, parse_date


def _header(line: str) -> dict[str, str]:
    out = {}
    for part in line.lstrip("#").split(","):
        if ":" in part:
            k, v = part.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def parse(path: Path) -> Parsed:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    lines = raw.decode("utf-8-sig").splitlines()
    meta = _header(lines[0]) if lines and lines[0].startswith("#") else {}
    body = lines[1:] if meta else lines
    reader = csv.DictReader(io.StringIO("\n".join(body)))
    if not reader.fieldnames or not {"cve", "epss"} <= set(reader.fieldnames):
        raise InputFileError(str(path), "not an EPSS CSV (expected columns cve,epss,percentile)",
                             position=f"line {2 if meta else 1}")
    score_date = parse_date(meta.get("score_date"))
    rows = []
    for n, r in enumerate(reader, start=3 if meta else 2):
        try:
            epss = float(r["epss"])
            pct = float(r["percentile"]) if r.get("percentile") else None
        except (TypeError, ValueError):
            raise InputFileError(str(path), f"bad EPSS number {r.get('epss')!r}", position=f"line {n}") from None
        if not 0.0 <= epss <= 1.0:
            raise InputFileError(str(path), f"EPSS {epss} outside 0..1", position=f"line {n}")
        rows.append({"cve_id": r["cve"].strip().upper(), "epss": epss, "percentile": pct, "score_date": score_date})
    return Parsed(rows=rows, snapshot_date=score_date, notes={"model_version": meta.get("model_version")})
