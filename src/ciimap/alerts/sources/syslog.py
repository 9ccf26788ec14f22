"""Syslog files: RFC 5424, RFC 3164 and the vendor shapes found in the wild (see ``header.py`` for the
headers and ``vendors.py`` for the firewall messages whose addresses are extracted). A line carrying
CEF is read as CEF. Lenient: a line is rejected only when it has no syslog header, no timestamp and
no known device shape (e.g. a JSON document or plain prose).

Severity: the vendor's own level when the message has one (ASA and Huawei levels are syslog
severities; FortiGate and Palo Alto write words), else the PRI's severity, else ``default``.
"""

from __future__ import annotations

from ciimap.alerts.records import AlertRecord
from ciimap.alerts.sources import header as syslog_header
from ciimap.alerts.sources.base import AlertSource, Parser, rejected
from ciimap.alerts.sources.cef import cef_record, parse_cef
from ciimap.alerts.sources.common import cves_in
from ciimap.alerts.sources.lines import Line
from ciimap.alerts.sources.times import NUMERIC
from ciimap.alerts.sources.vendors import Fields, extract


def _severity(p: Parser, f: Fields | None, pri: int | None) -> tuple[str, str | None]:
    if f is not None and f.level:
        if f.level.isdigit():
            return p.scales.syslog(int(f.level) & 7), f"{f.vendor}:{f.level}"
        word = p.scales.word("vendor_words", f.level)
        if word is not None:
            return word, f"{f.vendor}:{f.level}"
    if pri is not None:
        return p.scales.syslog(pri & 7), f"pri:{pri}"
    return str(p.scales.data["default"]), None


class Syslog(AlertSource):
    kind = "syslog"
    label = ("Syslog 日志（含防火墙）", "Syslog (incl. firewalls)")
    summary = "syslog files: RFC 5424/3164, Cisco ASA, FortiGate, Palo Alto, Huawei USG, Junos, iptables (addresses extracted)"
    sample = "alerts/syslog.log"
    format_name = "syslog"

    def parse(self, line: Line, p: Parser) -> AlertRecord | None:
        h = syslog_header.parse(line.text, p.clock)
        at = h.msg.find("CEF:")
        if at >= 0:
            cef, _why = parse_cef(h.msg[at:])
            if cef is not None:
                return cef_record(line, p, cef, h)
        f = extract(f"{h.msg} {h.sd}" if h.sd else h.msg, h.app)  # Junos writes its fields as SD
        when = h.time
        if when is None and f is not None and f.when:
            m = NUMERIC.match(f.when)
            when = p.clock.numeric(m) if m else None
        if h.shape == "none" and h.pri is None and (f is None or f.vendor == "syslog"):
            return rejected(line, "no syslog header, timestamp or known device format")
        severity, raw_severity = _severity(p, f, h.pri)
        f = f or Fields()
        return AlertRecord(
            time=when,
            raw=line.text,
            line_no=line.no,
            event="log",
            sensor=f.sensor or h.host,
            rule_id=f.rule_id or h.app,
            rule_name=f.rule_name or h.msg.strip()[:500] or None,
            raw_severity=raw_severity,
            severity=severity,
            src_ip=f.src_ip,
            src_port=f.src_port,
            dest_ip=f.dest_ip,
            dest_port=f.dest_port,
            proto=f.proto,
            cves=cves_in(line.text),
            host=h.host,
        )
