"""Suricata EVE JSON (``eve.json``): one event per line (pretty-printed objects are read too).

Kept: ``event_type`` ``alert`` (signature, severity), ``drop`` (a blocked packet, IPS mode) and
``anomaly`` (a protocol or decoder anomaly). Every other event type (flow, http, dns, tls, fileinfo,
stats, ...) describes traffic rather than an alert: it is skipped and counted per type in the run's
file notes (``skipped``). A line without ``event_type`` or ``timestamp`` is rejected.
"""

from __future__ import annotations

from typing import Any

from ciimap.alerts.models import ALERT_EVENTS
from ciimap.alerts.records import AlertRecord
from ciimap.alerts.sources.base import AlertSource, Parser, rejected
from ciimap.alerts.sources.common import cves_in, json_object, port, text
from ciimap.alerts.sources.lines import Line

#: The event types kept (the alert events but ``log``, which is the other sources').
KEPT = tuple(e for e in ALERT_EVENTS if e != "log")


def _signature_severity(alert: dict[str, Any]) -> Any:
    meta = alert.get("metadata")
    if isinstance(meta, dict):
        found = meta.get("signature_severity")
        if isinstance(found, list) and found:
            return found[0]
    return None


class Suricata(AlertSource):
    kind = "suricata"
    label = ("Suricata 告警（EVE JSON）", "Suricata alerts (EVE JSON)")
    summary = "Suricata eve.json: alert, drop and anomaly events (other event types are counted and skipped)"
    sample = "alerts/suricata-eve.json"
    json_lines = True
    format_name = "Suricata EVE JSON"

    def parse(self, line: Line, p: Parser) -> AlertRecord | None:
        doc, why = json_object(line.text)
        if doc is None:
            return rejected(line, why or "not JSON")
        event = doc.get("event_type")
        if not isinstance(event, str):
            return rejected(line, "no event_type: not an EVE event")
        if event not in KEPT:
            p.skip(event[:32])
            return None
        when = p.clock.iso(str(doc.get("timestamp") or ""))
        if when is None:
            return rejected(line, f"no readable timestamp ({str(doc.get('timestamp'))[:40]})")
        alert = doc.get("alert")
        alert = alert if isinstance(alert, dict) else {}
        anomaly = doc.get("anomaly")
        anomaly = anomaly if isinstance(anomaly, dict) else {}
        sev = alert.get("severity")
        name = text(alert.get("signature")) or text(anomaly.get("event")) or text(anomaly.get("type"))
        return AlertRecord(
            time=when,
            raw=line.text,
            line_no=line.no,
            event=event,
            sensor=text(doc.get("host")) or text(doc.get("in_iface")),
            rule_id=text(alert.get("signature_id")),
            rule_name=name,
            raw_severity=None if sev is None else str(sev)[:32],
            severity=p.scales.suricata(sev, _signature_severity(alert), event),
            src_ip=text(doc.get("src_ip")),
            src_port=port(doc.get("src_port")),
            dest_ip=text(doc.get("dest_ip")),
            dest_port=port(doc.get("dest_port")),
            proto=text(doc.get("proto")),
            cves=cves_in(line.text),
            host=text(doc.get("host")),
        )
