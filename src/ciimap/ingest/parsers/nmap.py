"""nmap ``-oX`` (and masscan ``-oX``, which uses the same schema) → HostRecord, streaming.

Memory stays flat on multi-GB files: each ``<host>`` is converted then freed with its siblings.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from ciimap.core.errors import InputFileError
from ciimap.core.safeio import SHAPE_ERRORS, content_guard, shape_error
from ciimap.core.xmlsafe import check_prolog, detach, iterparse, read_head
from ciimap.ingest.records import HostRecord, PortRecord

#: nmap options that take a separate value (so the value is not mistaken for a target).
_VALUE_OPTS = {
    "-p",
    "-oX",
    "-oN",
    "-oG",
    "-oA",
    "-oS",
    "-oM",
    "-iL",
    "-iR",
    "-e",
    "-S",
    "-D",
    "-g",
    "-b",
    "-PS",
    "-PA",
    "--top-ports",
    "--exclude",
    "--excludefile",
    "--exclude-ports",
    "--script",
    "--script-args",
    "--script-args-file",
    "--min-rate",
    "--max-rate",
    "--max-retries",
    "--host-timeout",
    "--scan-delay",
    "--max-scan-delay",
    "--min-hostgroup",
    "--max-hostgroup",
    "--min-parallelism",
    "--max-parallelism",
    "--source-port",
    "--data-length",
    "--ttl",
    "--spoof-mac",
    "--dns-servers",
    "--version-intensity",
    "--stylesheet",
    "--datadir",
    "--servicedb",
    "--versiondb",
    "--proxies",
    "--port-ratio",
    "--mtu",
    "--min-rtt-timeout",
    "--max-rtt-timeout",
    "--initial-rtt-timeout",
    "--resume",
    "--data",
    "--data-string",
}


def targets_from_args(args: str | None) -> list[str]:
    """The target specification of an nmap command line (the run scope when none is given)."""
    if not args:
        return []
    try:
        tokens = shlex.split(args)
    except ValueError:
        tokens = args.split()
    out, skip = [], False
    for tok in tokens[1:]:
        if skip:
            skip = False
            continue
        if tok.startswith("-"):
            skip = tok in _VALUE_OPTS
            continue
        out.append(tok)
    return out


#: Port scripts whose raw output is kept in ``scan_detail.data["port_scripts"]`` (the crypto inventory
#: reads them: ``docs/crypto.md``); ``ssl-cert`` also keeps the certificate's PEM when nmap wrote it.
KEPT_PORT_SCRIPTS = frozenset({"ssl-cert", "ssl-enum-ciphers", "ssh2-enum-algos", "sslv2", "ssh-hostkey"})


def _kept_script(p: Any, c: Any) -> list[Any]:
    """``[protocol, port, script id, output, pem or None]`` of one kept port script."""
    pem = next((e.text for e in c.iter("elem") if e.get("key") == "pem"), None)
    return [p.get("protocol", "tcp"), int(p.get("portid", "0")), c.get("id"), c.get("output", ""), pem]


def _ports(ports_el: Any) -> tuple[list[PortRecord], dict[str, Any], list[list[Any]]]:
    out: list[PortRecord] = []
    extra: dict[str, Any] = {}
    kept: list[list[Any]] = []
    for p in ports_el:
        if p.tag == "extraports":
            extra[p.get("state", "?")] = int(p.get("count", "0"))
            continue
        if p.tag != "port":
            continue
        rec = PortRecord(protocol=p.get("protocol", "tcp"), port=int(p.get("portid", "0")), state="unknown")
        for c in p:
            tag = c.tag
            if tag == "state":
                rec.state, rec.reason = c.get("state", "unknown"), c.get("reason")
            elif tag == "service":
                a = c.attrib
                rec.name, rec.product, rec.version = a.get("name"), a.get("product"), a.get("version")
                rec.extrainfo, rec.tunnel, rec.method = a.get("extrainfo"), a.get("tunnel"), a.get("method")
                conf = a.get("conf")
                rec.conf = int(conf) if conf else None
                rec.cpes = [e.text for e in c if e.tag == "cpe" and e.text]
            elif tag == "script":
                rec.scripts.append((c.get("id", ""), c.get("output", "")))
                if c.get("id") in KEPT_PORT_SCRIPTS:
                    kept.append(_kept_script(p, c))
        out.append(rec)
    return out, extra, kept


def _os(os_el: Any) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    matches = []
    for m in os_el:
        if m.tag != "osmatch":
            continue
        classes = [
            {
                "vendor": c.get("vendor"),
                "osfamily": c.get("osfamily"),
                "osgen": c.get("osgen"),
                "type": c.get("type"),
                "accuracy": int(c.get("accuracy", "0")),
                "cpes": [e.text for e in c if e.tag == "cpe"],
            }
            for c in m
            if c.tag == "osclass"
        ]
        matches.append({"name": m.get("name"), "accuracy": int(m.get("accuracy", "0")), "classes": classes})
    return matches, (matches[0] if matches else None)


# Per-scan noise left out of the fingerprint. lxml writes one space before each attribute, so two
# patterns with a literal prefix do (4x faster than one alternation after \s; same result).
_REASON_TTL = re.compile(rb' reason_ttl="[^"]*"')
_SERVICEFP = re.compile(rb' servicefp="[^"]*"')


def _without_volatile(blob: bytes) -> bytes:
    blob = _REASON_TTL.sub(b"", blob)
    return _SERVICEFP.sub(b"", blob) if b" servicefp=" in blob else blob


def host_keys(h: Any, index: int, path: str = "nmap XML") -> HostRecord | None:
    """Cheap first pass over one ``<host>``: identity facts plus a fingerprint of the observed facts.

    The full conversion (:func:`complete`) runs only for hosts that are new or changed, which is what
    makes an unchanged re-import cheap. Hosts that are not up are skipped (they were not seen).
    """
    rec = HostRecord(position=f"host {index}")
    blobs: list[bytes] = []
    for c in h:
        tag = c.tag
        if tag == "status":
            if c.get("state") != "up":
                return None
        elif tag == "address":
            kind, addr = c.get("addrtype"), c.get("addr")
            if kind == "mac":
                rec.macs.append(addr.upper())
                rec.mac_vendor = c.get("vendor")
            elif addr:
                rec.ips.append(addr)
        elif tag == "hostnames":
            rec.hostnames = [n.get("name").lower() for n in c if n.tag == "hostname" and n.get("name")]
        elif tag in ("ports", "hostscript"):
            blobs.append(etree.tostring(c))
        elif tag == "os":
            best = c.find("osmatch")
            blobs.append((best.get("name") or "").encode() if best is not None else b"")
    if not (rec.ips or rec.macs):
        return None
    facts = "|".join((*rec.ips, *rec.macs, rec.mac_vendor or "", *rec.hostnames)).encode()
    rec.fingerprint = hashlib.sha1(
        facts + _without_volatile(b"".join(blobs)), usedforsecurity=False
    ).hexdigest()
    rec.pending = _Pending(h, index, path)
    return rec


class _Pending:
    """The deferred second pass over one ``<host>`` (holds the element until then)."""

    __slots__ = ("host", "order", "path")

    def __init__(self, host: Any, order: int, path: str) -> None:
        self.host, self.order, self.path = host, order, path

    def __call__(self, rec: HostRecord) -> None:
        _completed(rec, self.host, self.path)


def pending_index(rec: HostRecord) -> int | None:
    """The ordinal of a record's ``<host>`` in its file while its second pass has not run."""
    return rec.pending.order if isinstance(rec.pending, _Pending) else None


class HostRereader:
    """Finds the N-th ``<host>`` of a file again, to complete a record whose element is gone.

    Forward-only (asked in increasing order, see ``records.complete_all``, it reads the file at
    most once); asked for an earlier host it starts over.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._hosts: Iterator[Any] | None = None
        self._index = 0
        self._last: Any = None

    def element(self, index: int) -> Any:
        if self._hosts is None or index < self._index:
            self._hosts, self._index = iter(iterparse(self.path, ("host",))), 0
        while self._index < index:
            elem = next(self._hosts, None)
            if elem is None:
                raise InputFileError(
                    str(self.path), f"host {index} is no longer in the file (changed during the import?)"
                )
            self._index += 1
            detach(elem)
            self._last = elem
        return self._last

    def pending(self, index: int) -> Callable[[HostRecord], None]:
        return _Reread(self, index)


class _Reread:
    __slots__ = ("reader", "order")

    def __init__(self, reader: HostRereader, order: int) -> None:
        self.reader, self.order = reader, order

    def __call__(self, rec: HostRecord) -> None:
        _completed(rec, self.reader.element(self.order), str(self.reader.path))


def _completed(rec: HostRecord, h: Any, path: str) -> None:
    """:func:`_complete`, where a value that is not a number where nmap writes one refuses the file,
    naming the host."""
    try:
        _complete(rec, h)
    except SHAPE_ERRORS as e:
        raise shape_error(path, e, rec.position) from None


def _complete(rec: HostRecord, h: Any) -> None:
    """Second pass: ports, services, OS matches, scripts and times."""
    for c in h:
        tag = c.tag
        if tag == "status":
            rec.detail["status_reason"] = c.get("reason")
        elif tag == "ports":
            rec.ports, extra, kept = _ports(c)
            if extra:
                rec.detail["extraports"] = extra
            if kept:
                rec.detail["port_scripts"] = kept
        elif tag == "os":
            matches, best = _os(c)
            if matches:
                rec.detail["os_matches"] = matches
            if best:
                rec.os_name, rec.os_accuracy = best["name"], best["accuracy"]
                cls = best["classes"][0] if best["classes"] else {}
                rec.os_family, rec.os_version = cls.get("osfamily"), cls.get("osgen")
        elif tag == "hostscript":
            rec.detail["host_scripts"] = [[s.get("id"), s.get("output")] for s in c if s.tag == "script"]
        elif tag == "uptime":
            rec.detail["uptime_seconds"] = int(c.get("seconds", "0"))
    for k in ("starttime", "endtime"):
        if h.get(k):
            rec.detail[k] = int(h.get(k))


def host_record(h: Any, index: int) -> HostRecord | None:
    """Convert one ``<host>`` element completely."""
    rec = host_keys(h, index)
    if rec is not None:
        rec.complete()
    return rec


class NmapXml:
    """Iterate hosts of an nmap/masscan XML file; ``meta`` holds scan arguments and times."""

    def __init__(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> None:
        self.path, self.on_bytes = path, on_bytes
        self.meta: dict[str, Any] = {}
        root = check_prolog(path, read_head(path))
        if root != "nmaprun":
            raise InputFileError(
                str(path),
                f"not an nmap XML file (root element is <{root}>, expected <nmaprun>)",
                position="line 1",
            )

    def __iter__(self) -> Iterator[HostRecord]:
        index = 0
        for elem in iterparse(self.path, ("host", "scaninfo", "finished"), self.on_bytes):
            tag = elem.tag
            if tag == "host":
                index += 1
                if index == 1:
                    with content_guard(str(self.path)):
                        self._root_meta(elem.getparent())
                rec = host_keys(elem, index, str(self.path))
                detach(elem)  # kept alive by rec.pending until the loader completes or drops it
                if rec is not None:
                    yield rec
            elif tag == "scaninfo":
                self.meta.setdefault("scaninfo", []).append(dict(elem.attrib))
                with content_guard(str(self.path)):
                    self._root_meta(elem.getparent())
            else:
                with content_guard(str(self.path), f"line {elem.sourceline}"):
                    self.meta["finished"] = int(elem.get("time", "0")) or None
                self.meta["summary"] = elem.get("summary")
        if "finished" not in self.meta:
            # nmap and masscan write <runstats><finished/> last: without it the scan did not end, and
            # the hosts it lacks must not be marked missing (a complete scan with no host up is fine).
            raise InputFileError(
                str(self.path),
                "incomplete scan: no <runstats><finished> element "
                "(the scan was interrupted or the file cut short)",
            )
        self.meta["hosts_in_file"] = index

    def _root_meta(self, root: Any) -> None:
        if root is None or "args" in self.meta:
            return
        a = root.attrib
        self.meta.update(
            {
                "scanner": a.get("scanner"),
                "args": a.get("args"),
                "version": a.get("version"),
                "start": int(a["start"]) if a.get("start") else None,
            }
        )
        self.meta["targets"] = targets_from_args(a.get("args"))
