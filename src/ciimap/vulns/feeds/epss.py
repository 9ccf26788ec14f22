"""FIRST EPSS daily CSV: ``#model_version:...,score_date:...`` then ``cve,epss,percentile``
(the file is complete for its day: an import replaces the previous scores)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ciimap.core.errors import InputFileError
from ciimap.core.safeio import decode_utf8, read_maybe_gzip
from ciimap.vulns.feeds.common import Parsed, parse_date
from ciimap.vulns.feeds.source import FeedSource
from ciimap.vulns.models import EpssScore


def _header(line: str) -> dict[str, str]:
    out = {}
    for part in line.lstrip("#").split(","):
        if ":" in part:
            k, v = part.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def parse(path: Path) -> Parsed:
    """A file without rows, cut short (no final line end, a short last row) or not UTF-8 is refused."""
    raw = read_maybe_gzip(path)
    text = decode_utf8(str(path), raw)
    lines = text.splitlines()
    meta = _header(lines[0]) if lines and lines[0].startswith("#") else {}
    body = lines[1:] if meta else lines
    first = 3 if meta else 2
    reader = csv.DictReader(io.StringIO("\n".join(body)), strict=True)
    try:
        rows = _rows(path, reader, first, parse_date(meta.get("score_date")))
    except csv.Error as e:
        raise InputFileError(
            str(path), f"malformed CSV ({e})", position=f"line {reader.reader.line_num + first - 2}"
        ) from None
    if not rows:
        raise InputFileError(
            str(path), "no EPSS rows after the header: nothing was imported", position=f"line {first}"
        )
    if not text.endswith(("\n", "\r")):
        raise InputFileError(
            str(path), "the file ends without a line end: cut short?", position=f"line {len(lines)}"
        )
    return Parsed(
        rows=rows, snapshot_date=rows[0]["score_date"], notes={"model_version": meta.get("model_version")}
    )


def _rows(path: Path, reader: csv.DictReader[str], first: int, score_date: Any) -> list[dict[str, Any]]:
    if not reader.fieldnames or not {"cve", "epss"} <= set(reader.fieldnames):
        raise InputFileError(
            str(path), "not an EPSS CSV (expected columns cve,epss,percentile)", position=f"line {first - 1}"
        )
    rows = []
    for n, r in enumerate(reader, start=first):
        if None in r.values() or None in r:
            raise InputFileError(
                str(path),
                f"row has not the {len(reader.fieldnames)} columns of the header",
                position=f"line {n}",
            )
        try:
            epss = float(r["epss"])
            pct = float(r["percentile"]) if r.get("percentile") else None
        except (TypeError, ValueError):
            raise InputFileError(
                str(path), f"bad EPSS number {r.get('epss')!r}", position=f"line {n}"
            ) from None
        if not 0.0 <= epss <= 1.0:
            raise InputFileError(str(path), f"EPSS {epss} outside 0..1", position=f"line {n}")
        rows.append(
            {"cve_id": r["cve"].strip().upper(), "epss": epss, "percentile": pct, "score_date": score_date}
        )
    return rows


class Epss(FeedSource):
    kind = "epss"
    label = ("EPSS 利用预测评分", "EPSS scores")
    summary = "FIRST EPSS daily CSV, plain or gzip (replaces the stored scores)"
    sample = "vulns/epss.csv"
    replaces = EpssScore

    def parse(self, path: Path) -> Parsed:
        return parse(path)
