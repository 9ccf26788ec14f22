"""ArcSight CEF, alone or after a syslog header (hand-written: see ``header.py``).

``CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension``:
header fields may hold ``\\|`` and ``\\\\``; the extension is ``key=value`` pairs whose values run to
the next key and may hold ``\\=``. Severity is 0–10 or a word (Low, Medium, High, Very-High). The time
is the extension's ``rt`` (epoch milliseconds or ``MMM dd yyyy HH:mm:ss``), else the syslog header's,
else the import's.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ciimap.alerts.records import AlertRecord
from ciimap.alerts.sources import header as syslog_header
from ciimap.alerts.sources.base import AlertSource, Parser, rejected
from ciimap.alerts.sources.common import cves_in, port
from ciimap.alerts.sources.lines import Line
from ciimap.alerts.sources.times import BSD, Clock, sane
from ciimap.alerts.sources.vendors import Fields, five_tuple

_PIPE = re.compile(r"(?<!\\)\|")
_EXT_KEY = re.compile(r"(?:^|(?<=\s))([A-Za-z0-9_.\[\]-]{1,63})=")


@dataclass(slots=True)
class Cef:
    vendor: str
    product: str
    signature: str
    name: str
    severity: str
    ext: dict[str, str]


def _unescape(v: str) -> str:
    return v.replace("\\|", "|").replace("\\=", "=").replace("\\n", "\n").replace("\\\\", "\\")


def extension(text: str) -> dict[str, str]:
    marks = [m for m in _EXT_KEY.finditer(text) if text[m.end() - 2 : m.end() - 1] != "\\"]
    out: dict[str, str] = {}
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        out[m.group(1)] = _unescape(text[m.end() : end].strip())
    return out


def parse_cef(payload: str) -> tuple[Cef | None, str | None]:
    """``payload`` starts with ``CEF:``; the record or why it is not one."""
    parts = _PIPE.split(payload, 7)
    if len(parts) < 8:
        return None, f"CEF header has {len(parts) - 1} of its 7 '|' separators"
    version = parts[0][4:].strip()
    if not version.isdigit():
        return None, f"CEF version '{version[:10]}' is not a number"
    head = [_unescape(x) for x in parts[1:7]]
    return Cef(head[0], head[1], head[3], head[4], head[5].strip(), extension(parts[7])), None


def cef_time(ext: dict[str, str], clock: Clock) -> dt.datetime | None:
    for key in ("rt", "end", "start"):
        v = ext.get(key)
        if not v:
            continue
        if v.isdigit():
            try:
                t = sane(dt.datetime.fromtimestamp(int(v) / 1000, dt.UTC))
                if t is not None:
                    return t
                continue
            except (OverflowError, ValueError, OSError):
                continue
        m = BSD.match(v)
        if m:
            return clock.bsd(m)
        t = clock.iso(v)
        if t:
            return t
    return None


def cef_record(line: Line, p: Parser, cef: Cef, head: syslog_header.Header | None) -> AlertRecord:
    f = Fields(vendor="cef")
    five_tuple(f, cef.ext)
    return AlertRecord(
        time=cef_time(cef.ext, p.clock) or (head.time if head else None),
        raw=line.text,
        line_no=line.no,
        event="log",
        sensor=cef.ext.get("dvchost")
        or (head.host if head else None)
        or f"{cef.vendor} {cef.product}".strip(),
        rule_id=cef.signature or None,
        rule_name=cef.name or None,
        raw_severity=cef.severity[:32] or None,
        severity=p.scales.number_or_word("cef", "cef_words", cef.severity),
        src_ip=f.src_ip,
        src_port=f.src_port if f.src_port is not None else port(cef.ext.get("spt")),
        dest_ip=f.dest_ip,
        dest_port=f.dest_port,
        proto=f.proto,
        cves=cves_in(line.text),
        host=cef.ext.get("dhost") or (head.host if head else None),
    )


class CefSource(AlertSource):
    kind = "cef"
    label = ("CEF 事件", "CEF events")
    summary = (
        "ArcSight CEF lines, alone or inside syslog (IDS/OT monitors, SIEM exports); severity 0-10 or words"
    )
    sample = "alerts/cef.log"
    format_name = "CEF"

    def parse(self, line: Line, p: Parser) -> AlertRecord | None:
        at = line.text.find("CEF:")
        if at < 0:
            return rejected(line, "no 'CEF:' in the line")
        head = syslog_header.parse(line.text[:at].rstrip(), p.clock) if at else None
        cef, why = parse_cef(line.text[at:])
        if cef is None:
            return rejected(line, why or "not CEF")
        return cef_record(line, p, cef, head)
