"""osquery results → one SoftwareSet per host (host facts + installed software).

Accepted shapes (see docs/asset-mapping.md):
1. ``osqueryi --json "select * from deb_packages"``: a JSON array of rows; the table is recognised by
   its columns (os_version, programs, deb_packages, rpm_packages, system_info). Give ``--asset`` or
   include ``hostname``/``hardware_serial`` columns.
2. A bundle object: ``{"host": {"hostname": ..., "hardware_serial": ...}, "os_version": [...],
   "deb_packages": [...], ...}``.
3. The daemon's results log (one JSON object per line with ``name``, ``hostIdentifier`` and
   ``columns`` or ``snapshot``), grouped by ``hostIdentifier``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ciimap.core.errors import InputFileError
from ciimap.core.safeio import content_guard, decode_utf8
from ciimap.ingest.records import HostRecord, SoftwareRecord, SoftwareSet

TABLES = ("os_version", "programs", "deb_packages", "rpm_packages", "system_info")


def table_of(row: dict[str, Any]) -> str | None:
    if "hardware_serial" in row or "cpu_brand" in row:
        return "system_info"
    if "release" in row and "arch" in row:
        return "rpm_packages"
    if "arch" in row and ("revision" in row or "source" in row or "maintainer" in row):
        return "deb_packages"
    if "publisher" in row or "install_location" in row or "identifying_number" in row:
        return "programs"
    if "platform" in row or ("major" in row and "minor" in row):
        return "os_version"
    return None


class _Host:
    def __init__(self) -> None:
        self.set = SoftwareSet(host=HostRecord(), meta={"format": "osquery", "tables": []})

    def add(self, path: Path, table: str | None, row: dict[str, Any], where: str) -> None:
        if not isinstance(row, dict):
            raise InputFileError(str(path), "osquery row is not an object", position=where)
        table = table or table_of(row)
        if table is None:
            raise InputFileError(
                str(path),
                "unrecognised osquery row (expected os_version, programs, deb_packages, "
                "rpm_packages or system_info columns)",
                position=where,
            )
        if table not in self.set.meta["tables"]:
            self.set.meta["tables"].append(table)
        h = self.set.host
        assert h is not None
        for col in ("hostname", "computer_name", "host_identifier"):
            if row.get(col) and not h.hostnames:
                h.hostnames = [str(row[col]).lower()]
        if row.get("hardware_serial") and str(row["hardware_serial"]).strip() not in ("", "0", "None"):
            h.serial = str(row["hardware_serial"]).strip()
        if table == "os_version":
            h.os_name = " ".join(x for x in (row.get("name"), row.get("version")) if x) or None
            h.os_family, h.os_version = row.get("platform"), row.get("version")
            self.set.meta["platform"] = row.get("platform")
        elif table == "system_info":
            h.name = h.name or row.get("computer_name")
        else:
            self.set.components.append(_software(table, row, self.set.meta.get("platform")))


def _software(table: str, row: dict[str, Any], platform: str | None) -> SoftwareRecord:
    name, version = str(row.get("name") or "?"), row.get("version") or None
    purl = None
    if table == "deb_packages":
        purl = f"pkg:deb/{platform or 'debian'}/{name}@{version}" + (
            f"?arch={row['arch']}" if row.get("arch") else ""
        )
    elif table == "rpm_packages":
        full = f"{version}-{row['release']}" if row.get("release") else version
        purl = f"pkg:rpm/{platform or 'rhel'}/{name}@{full}" + (
            f"?arch={row['arch']}" if row.get("arch") else ""
        )
    return SoftwareRecord(
        name=name,
        version=version,
        kind="installed",
        purl=purl,
        supplier=row.get("publisher") or row.get("vendor") or row.get("maintainer"),
        bom_ref=f"{table}:{name}:{row.get('arch') or ''}",
    )


def parse(path: Path) -> list[SoftwareSet]:
    """Results holding no row are refused: importing them would remove the asset's inventory."""
    with content_guard(str(path)):
        sets = _parse(path, decode_utf8(str(path), path.read_bytes()))
    if not any(s.meta["tables"] for s in sets):
        raise InputFileError(str(path), "no osquery rows in the file: nothing was imported")
    return sets


def _parse(path: Path, text: str) -> list[SoftwareSet]:
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as e:
        if "\n" in text.strip() and text.lstrip().startswith("{"):
            return _results_log(path, text)
        raise InputFileError(
            str(path), f"malformed JSON ({e.msg})", position=f"line {e.lineno}, column {e.colno}"
        ) from None
    host = _Host()
    if isinstance(doc, list):
        # os_version first so package purls get the right distribution namespace
        order = sorted(
            range(len(doc)), key=lambda i: table_of(doc[i]) != "os_version" if isinstance(doc[i], dict) else 1
        )
        for i in order:
            host.add(path, None, doc[i], f"[{i}]")
    elif isinstance(doc, dict) and ("name" in doc and "hostIdentifier" in doc):
        return _results_log(path, text)
    elif isinstance(doc, dict):
        hinfo = doc.get("host") or {}
        if not isinstance(hinfo, dict):
            raise InputFileError(str(path), "'host' is not an object", position="host")
        if hinfo:
            host.add(path, "system_info", {**hinfo, "cpu_brand": hinfo.get("cpu_brand", "")}, "host")
        for table in sorted((t for t in TABLES if t in doc), key=lambda t: t != "os_version"):
            for i, row in enumerate(doc[table] or []):
                host.add(path, table, row, f"{table}[{i}]")
    else:
        raise InputFileError(str(path), "not osquery JSON (expected an array of rows or an object)")
    return [host.set]


def _results_log(path: Path, text: str) -> list[SoftwareSet]:
    hosts: dict[str, _Host] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputFileError(
                str(path), f"malformed JSON ({e.msg})", position=f"line {lineno}, column {e.colno}"
            ) from None
        if not isinstance(ev, dict):
            raise InputFileError(str(path), "result log line is not a JSON object", position=f"line {lineno}")
        ident = str(ev.get("hostIdentifier") or "")
        if not ident:
            raise InputFileError(
                str(path), "result log line without hostIdentifier", position=f"line {lineno}"
            )
        h = hosts.setdefault(ident, _Host())
        h.set.host.hostnames = h.set.host.hostnames or [ident.lower()]  # type: ignore[union-attr]
        rows = ev.get("snapshot") or (
            [ev["columns"]] if ev.get("action", "added") != "removed" and ev.get("columns") else []
        )
        table = next((t for t in TABLES if str(ev.get("name", "")).endswith(t)), None)
        for row in rows:
            h.add(path, table, row, f"line {lineno}")
    return [h.set for h in hosts.values()]
