"""masscan output (``-oJ`` JSON, ``-oD`` ndjson, ``-oL`` list, ``-oX`` XML) → HostRecord.

masscan writes one entry per (host, port) as it finds them, so entries are grouped by IP in memory
(a dict of small records — far smaller than the file). JSON is read line by line because masscan's
``-oJ`` is one object per line, with a trailing comma that strict JSON parsers refuse.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ciimap.core.errors import InputFileError
from ciimap.core.safeio import SHAPE_ERRORS, content_guard, decode_utf8, shape_error
from ciimap.ingest.parsers.nmap import NmapXml
from ciimap.ingest.records import HostRecord, PortRecord


def _sniff(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "xml"
    if head.startswith((b"[", b"{")):
        return "json"
    return "list"


def _host(hosts: dict[str, HostRecord], ip: str, lineno: int) -> HostRecord:
    rec = hosts.get(ip)
    if rec is None:
        rec = hosts[ip] = HostRecord(ips=[ip], position=f"line {lineno}")
    return rec


def _json_entry(path: Path, hosts: dict[str, HostRecord], obj: Any, lineno: int) -> None:
    if not isinstance(obj, dict) or "ip" not in obj:
        raise InputFileError(str(path), "not a masscan JSON entry (no 'ip')", position=f"line {lineno}")
    rec = _host(hosts, str(obj["ip"]), lineno)
    for p in obj.get("ports") or []:
        try:
            reason = p.get("reason")
            port = PortRecord(
                protocol=str(p.get("proto", "tcp")),
                port=int(p["port"]),
                state=str(p.get("status", "open")),
                reason=None if reason is None else str(reason),
            )
        except (KeyError, TypeError, ValueError):
            raise InputFileError(
                str(path), "port entry without a valid 'port'", position=f"line {lineno}"
            ) from None
        svc = p.get("service")
        if isinstance(svc, dict):
            port.name = None if svc.get("name") is None else str(svc["name"])
            port.method = "banner"
            if svc.get("banner"):
                port.scripts.append(("banner", str(svc["banner"])))
        _merge_port(rec, port)


def _merge_port(rec: HostRecord, port: PortRecord) -> None:
    for existing in rec.ports:
        if existing.protocol == port.protocol and existing.port == port.port:
            existing.name = existing.name or port.name
            existing.scripts.extend(port.scripts)
            return
    rec.ports.append(port)


def _lines(path: Path) -> Iterator[tuple[int, int, str]]:
    """``(line number, byte offset, text)`` per line; invalid UTF-8 is refused at its file offset."""
    offset = 0
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            yield lineno, offset, decode_utf8(str(path), raw, bom=lineno == 1, base=offset)
            offset += len(raw)


def _parse_json(path: Path, on_bytes: Callable[[int], None] | None) -> dict[str, HostRecord]:
    """masscan ``-oJ`` (``[`` … ``]``, one entry a line) or ``-oD`` (one object a line, no brackets).

    An ``-oJ`` file must end with its ``]``: one cut after some entries is refused (it would import
    those and mark every other host missing). ``-oD`` has no end marker: a line cut short is refused,
    a file cut between lines cannot be told from a complete one.
    """
    hosts: dict[str, HostRecord] = {}
    bracketed = closed = False
    entries, lineno = 0, 0
    for lineno, offset, line in _lines(path):
        s = line.strip().rstrip(",")
        if s in ("", "{finished: 1}"):
            continue
        if closed:
            raise InputFileError(str(path), "content after the closing ']'", position=f"line {lineno}")
        if s == "[" and not bracketed and not entries:
            bracketed = True
            continue
        if s == "]" and bracketed:
            closed = True
            continue
        try:
            obj = json.loads(s)
        except json.JSONDecodeError as e:
            raise InputFileError(
                str(path), f"invalid JSON ({e.msg})", position=f"line {lineno}, column {e.colno}"
            ) from None
        for entry in obj if isinstance(obj, list) else [obj]:
            try:  # a plain try (no per-line cost on multi-million-line scans), not content_guard
                _json_entry(path, hosts, entry, lineno)
            except SHAPE_ERRORS as e:
                raise shape_error(str(path), e, f"line {lineno}") from None
            entries += 1
        if on_bytes and lineno % 5000 == 0:
            on_bytes(offset)
    if bracketed and not closed:
        raise InputFileError(
            str(path),
            "truncated masscan JSON: the closing ']' is missing (the file ends early)",
            position=f"line {lineno}",
        )
    if not bracketed and not entries:
        raise InputFileError(str(path), "no masscan entries in the file")
    return hosts


def _parse_list(path: Path, on_bytes: Callable[[int], None] | None) -> dict[str, HostRecord]:
    """masscan ``-oL``: ``#masscan`` first, ``# end`` last. A file that starts with ``#masscan`` but
    lacks ``# end`` was cut short and is refused; a list without either must hold entries."""
    hosts: dict[str, HostRecord] = {}
    headed = ended = False
    entries, lineno = 0, 0
    for lineno, _offset, line in _lines(path):
        parts = line.split()
        if not parts:
            continue
        if parts[0].startswith("#"):
            headed = headed or (lineno == 1 and parts[0] == "#masscan")
            ended = ended or parts[1:2] == ["end"]
            continue
        if ended:
            raise InputFileError(str(path), "entries after the '# end' line", position=f"line {lineno}")
        if len(parts) < 4 or parts[0] not in ("open", "closed", "banner") or not parts[2].isdigit():
            raise InputFileError(
                str(path),
                "not a masscan list line (expected 'open tcp PORT IP TIME')",
                position=f"line {lineno}",
            )
        status, proto, port, ip = parts[0], parts[1], int(parts[2]), parts[3]
        rec = _host(hosts, ip, lineno)
        entries += 1
        if status == "banner":
            _merge_port(
                rec,
                PortRecord(
                    protocol=proto,
                    port=port,
                    state="open",
                    name=parts[5] if len(parts) > 5 else None,
                    scripts=[("banner", " ".join(parts[6:]))],
                    method="banner",
                ),
            )
        else:
            _merge_port(rec, PortRecord(protocol=proto, port=port, state=status))
    if headed and not ended:
        raise InputFileError(
            str(path),
            "truncated masscan list: the '# end' line is missing (the file ends early)",
            position=f"line {lineno}",
        )
    if not headed and not entries:
        raise InputFileError(str(path), "no masscan entries in the file")
    return hosts


class Masscan:
    def __init__(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> None:
        self.path, self.on_bytes, self.format = path, on_bytes, _sniff(path)
        self.meta: dict[str, Any] = {"scanner": "masscan", "format": self.format}
        self._xml = NmapXml(path, on_bytes) if self.format == "xml" else None

    def __iter__(self) -> Iterator[HostRecord]:
        if self._xml is not None:
            grouped: dict[str, HostRecord] = {}
            for rec in self._xml:  # masscan writes one <host> per open port
                rec.complete()
                rec.fingerprint = None
                ip = rec.ips[0] if rec.ips else rec.macs[0]
                if ip in grouped:
                    for p in rec.ports:
                        _merge_port(grouped[ip], p)
                else:
                    grouped[ip] = rec
            self.meta.update({k: v for k, v in self._xml.meta.items() if k != "targets"})
            yield from grouped.values()
            return
        with content_guard(str(self.path)):
            hosts = (_parse_json if self.format == "json" else _parse_list)(self.path, self.on_bytes)
        self.meta["hosts_in_file"] = len(hosts)
        yield from hosts.values()
