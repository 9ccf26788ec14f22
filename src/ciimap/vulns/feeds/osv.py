"""OSV advisories from a directory or a zip of JSON/YAML files (e.g. the PyPI advisory database).

Each ``affected[].ranges[]`` of type ECOSYSTEM or SEMVER becomes one row per interval
(introduced → fixed | last_affected, with the range's ``limit``); ``versions[]`` becomes one EXPLICIT
row. GIT ranges name commits, not releases, so they cannot be matched against installed versions:
they are skipped and counted in the import notes.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from ciimap.core.errors import InputFileError
from ciimap.core.safeio import content_guard, decode_utf8, zip_members
from ciimap.vulns import versions as V
from ciimap.vulns.feeds.common import (
    AdvisoryRec,
    Parsed,
    newest,
    parse_dt,
    severity_from_score,
    worst_severity,
)
from ciimap.vulns.feeds.source import FeedSource

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SUFFIXES = (".json", ".yaml", ".yml")


def _documents(path: Path) -> Iterator[tuple[str, bytes]]:
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.suffix.lower() in SUFFIXES and p.is_file():
                yield str(p), p.read_bytes()
    elif zipfile.is_zipfile(path) or path.suffix.lower() == ".zip":  # a cut zip is no zip: say so
        for name, raw in zip_members(path, SUFFIXES):  # streamed within the unpack limits
            yield f"{path}!{name}", raw
    elif path.suffix.lower() in SUFFIXES:
        yield str(path), path.read_bytes()
    else:
        raise InputFileError(str(path), "not an OSV directory, zip, JSON or YAML file")


def _load(name: str, raw: bytes) -> dict[str, Any]:
    text = decode_utf8(name, raw)
    try:
        if name.lower().endswith(".json"):
            doc = json.loads(text)
        else:
            doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader (C or Python)
    except json.JSONDecodeError as e:
        raise InputFileError(
            name, f"invalid JSON: {e.msg}", position=f"line {e.lineno}, column {e.colno}"
        ) from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        pos = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise InputFileError(name, f"invalid YAML: {getattr(e, 'problem', e)}", position=pos) from e
    if not isinstance(doc, dict) or not doc.get("id"):
        raise InputFileError(name, "not an OSV record (no 'id')")
    return doc


def _cvss(doc: dict[str, Any]) -> tuple[str | None, float | None]:
    """The advisory's CVSS vector and base score: v3.x when given, else v4.0 (the NVD reader's
    order: the risk weights were set on v3 scores), scored with the ``cvss`` library; a malformed
    vector is kept as text."""
    by_version: dict[int, str] = {}
    for sev in doc.get("severity") or []:
        vector = str(sev.get("score") or "")
        if sev.get("type") == "CVSS_V4" and vector.startswith("CVSS:4"):
            by_version.setdefault(4, vector)
        elif sev.get("type") in ("CVSS_V3", "CVSS_V31") and vector.startswith("CVSS:3"):
            by_version.setdefault(3, vector)
    if not by_version:
        return None, None
    version = 3 if 3 in by_version else 4
    vector = by_version[version]
    try:
        from cvss import CVSS3, CVSS4

        return vector, float(CVSS4(vector).base_score if version == 4 else CVSS3(vector).scores()[0])
    except Exception:  # malformed vector: keep it as text, no score
        return vector, None


def _intervals(ptype: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pairs = [
        (k, str(v))
        for e in events
        for k, v in e.items()
        if k in ("introduced", "fixed", "last_affected", "limit")
    ]
    limit = next((v for k, v in pairs if k == "limit"), None)
    out: list[dict[str, Any]] = []
    cur: dict[str, Any] | None = None
    for kind, value in V.sort_events(ptype, [p for p in pairs if p[0] != "limit"]):
        if kind == "introduced":
            if cur is not None:
                out.append(cur)
            cur = {"introduced": value, "fixed": None, "last_affected": None}
        elif cur is not None:
            cur[kind] = value
            out.append(cur)
            cur = None
    if cur is not None:
        out.append(cur)
    return [{**i, "limit": limit} for i in out]


def _affected_rows(doc: dict[str, Any], notes: dict[str, int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for aff in doc.get("affected") or []:
        pkg = aff.get("package") or {}
        eco, name = str(pkg.get("ecosystem") or ""), str(pkg.get("name") or "")
        if not eco or not name:
            continue
        ptype = V.purl_type_for(eco)
        base = {"ecosystem": ptype, "package": V.normalise_name(ptype, name), "osv_ecosystem": eco[:64]}
        for rng in aff.get("ranges") or []:
            rtype = str(rng.get("type") or "").upper()
            if rtype not in ("ECOSYSTEM", "SEMVER"):
                notes["skipped_git_ranges" if rtype == "GIT" else "skipped_other_ranges"] += 1
                continue
            for iv in _intervals(ptype, rng.get("events") or []):
                rows.append({**base, "range_type": rtype, "versions": [], "versions_canonical": [], **iv})
        explicit = [str(v) for v in aff.get("versions") or []]
        if explicit:
            rows.append(
                {
                    **base,
                    "range_type": "EXPLICIT",
                    "introduced": None,
                    "fixed": None,
                    "last_affected": None,
                    "limit": None,
                    "versions": explicit,
                    "versions_canonical": sorted({V.canonical(ptype, v) for v in explicit}),
                }
            )
    return rows


def to_record(doc: dict[str, Any], notes: dict[str, int]) -> AdvisoryRec:
    vector, score = _cvss(doc)
    db_sev = str((doc.get("database_specific") or {}).get("severity") or "").lower() or None
    refs = [str(r.get("url")) for r in doc.get("references") or [] if isinstance(r, dict) and r.get("url")]
    summary = doc.get("summary") or (doc.get("details") or "")[:1000] or None
    return AdvisoryRec(
        advisory_id=str(doc["id"])[:64],
        source="osv",
        aliases=[str(a) for a in doc.get("aliases") or []],
        summary=summary,
        severity=worst_severity([severity_from_score(score), db_sev if db_sev != "moderate" else "medium"]),
        cvss_vector=vector,
        cvss_score=score,
        published=parse_dt(doc.get("published")),
        modified=parse_dt(doc.get("modified")),
        withdrawn=bool(doc.get("withdrawn")),
        references=refs,
        ranges=_affected_rows(doc, notes),
    )


def parse(path: Path) -> Parsed:
    notes = {"files": 0, "skipped_git_ranges": 0, "skipped_other_ranges": 0}
    recs = []
    for name, raw in _documents(path):
        notes["files"] += 1
        with content_guard(name):
            recs.append(to_record(_load(name, raw), notes))
    if not recs:
        raise InputFileError(str(path), "no OSV records found (expected *.json or *.yaml files)")
    return Parsed(advisories=recs, snapshot_date=newest(r.modified for r in recs), notes=notes)


class OSV(FeedSource):
    kind = "osv"
    label = ("OSV 漏洞库", "OSV advisories")
    summary = "OSV advisories: a directory or zip of JSON/YAML records (e.g. the PyPI advisory database)"
    sample = "vulns/osv-jinja2"
    directories = True

    def parse(self, path: Path) -> Parsed:
        return parse(path)
