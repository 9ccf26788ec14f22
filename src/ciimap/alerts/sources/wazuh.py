"""Wazuh ``alerts.json``: one alert per line (``rule{id, level, description}``, ``agent``, ``data``).

The attacked host is the agent: ``agent.ip`` when the agent has one (the manager, agent ``000``, has
none), else the agent's name is matched to an asset's hostname (``matched_by = "agent"``). Addresses
come from ``data.srcip``/``data.dstip`` (and their ports); levels 0–15 map through ``severity.json``.
"""

from __future__ import annotations

from ciimap.alerts.records import AlertRecord
from ciimap.alerts.sources.base import AlertSource, Parser, rejected
from ciimap.alerts.sources.common import cves_in, json_object, port, text
from ciimap.alerts.sources.lines import Line


class Wazuh(AlertSource):
    kind = "wazuh"
    label = ("Wazuh 告警（alerts.json）", "Wazuh alerts (alerts.json)")
    summary = "Wazuh manager alerts.json: rule id, level 0-15 and description per agent"
    sample = "alerts/wazuh-alerts.json"
    json_lines = True
    format_name = "Wazuh alerts.json"

    def parse(self, line: Line, p: Parser) -> AlertRecord | None:
        doc, why = json_object(line.text)
        if doc is None:
            return rejected(line, why or "not JSON")
        rule = doc.get("rule")
        if not isinstance(rule, dict):
            return rejected(line, "no rule object: not a Wazuh alert")
        when = p.clock.iso(str(doc.get("timestamp") or ""))
        if when is None:
            return rejected(line, f"no readable timestamp ({str(doc.get('timestamp'))[:40]})")
        try:
            level = int(rule.get("level"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return rejected(line, f"rule.level is not a number ({str(rule.get('level'))[:20]})")
        agent = doc.get("agent") if isinstance(doc.get("agent"), dict) else {}
        data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
        assert isinstance(agent, dict) and isinstance(data, dict)
        return AlertRecord(
            time=when,
            raw=line.text,
            line_no=line.no,
            event="log",
            sensor=text(agent.get("name")),
            rule_id=text(rule.get("id")),
            rule_name=text(rule.get("description")),
            raw_severity=str(level),
            severity=p.scales.ranges("wazuh", level),
            src_ip=text(data.get("srcip")),
            src_port=port(data.get("srcport")),
            dest_ip=text(data.get("dstip")) or text(agent.get("ip")),
            dest_port=port(data.get("dstport")),
            proto=text(data.get("protocol")),
            cves=cves_in(line.text),
            host=text(agent.get("name")),
            host_by="agent",
        )
