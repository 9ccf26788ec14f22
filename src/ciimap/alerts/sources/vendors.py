"""Addresses, ports, rule and level out of the message text of the common firewall formats
(hand-written: each vendor's shape is a regular expression or a key=value table here).

- Cisco ASA/FTD ``%ASA-4-106023: Deny tcp src outside:203.0.113.5/51234 dst inside:10.1.1.10/22``
  (``iface:addr/port`` pairs, first the source; ``Built outbound`` names the responder first);
- FortiGate ``date=… time=… devname=… logid=… level=… srcip=… srcport=… dstip=… dstport=… proto=6``;
- Palo Alto CSV ``1,receive time,serial,TRAFFIC|THREAT,…`` (PAN-OS field positions, read with ``csv``);
- Huawei USG ``%%01SECLOG/6/SESSION_TEARDOWN(l):IPVer=4,Protocol=tcp,SourceIP=…,DestinationIP=…``
  and ``source-ip=…, destination-ip=…``;
- Junos ``RT_FLOW_SESSION_DENY: session denied 10.0.0.1/51234->192.168.1.1/22 …`` and its structured
  form ``source-address="…" destination-address="…"``;
- iptables/netfilter ``SRC=… DST=… PROTO=TCP SPT=… DPT=…``;
- sshd and similar ``… from 203.0.113.5 port 51234``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

from ciimap.alerts.sources.common import port

_IP = r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})"
_ASA = re.compile(r"%(?:ASA|FTD|PIX|FWSM)-(?:[\w-]+-)?(\d)-(\d{6})")
_ASA_PAIR = re.compile(rf"(?<![(\w])(?:[\w.-]+:)?({_IP})/(\d{{1,5}})")
_HUAWEI = re.compile(r"%%(?:\d\d)?([A-Z0-9_]+)/(\d)/([A-Z0-9_]+)(?:\([a-z]\))?")
_JUNOS_ARROW = re.compile(rf"({_IP})/(\d{{1,5}})->({_IP})/(\d{{1,5}})")
_JUNOS_TAG = re.compile(r"\b(RT_[A-Z_]+|[A-Z]{2,}_[A-Z_]{3,})\b")
_FROM_PORT = re.compile(rf"\bfrom ({_IP})(?: port (\d{{1,5}}))?")
_PROTO = re.compile(r"\b(tcp|udp|icmp|icmp6|sctp|gre|esp)\b", re.IGNORECASE)
_KV = re.compile(r'([A-Za-z][\w.-]{0,40})=("(?:[^"\\]|\\.)*"|[^\s,;]*)')
_IANA = {"1": "icmp", "6": "tcp", "17": "udp", "47": "gre", "50": "esp", "58": "icmp6", "132": "sctp"}
_PA_TYPES = {
    "TRAFFIC",
    "THREAT",
    "SYSTEM",
    "CONFIG",
    "HIP-MATCH",
    "CORRELATION",
    "USERID",
    "DECRYPTION",
    "URL",
}

#: key=value names (lower case, '-' and '_' dropped) that carry the five-tuple, per vendor.
KEYS = {
    "src_ip": ("srcip", "sourceip", "src", "sip", "srcaddr", "sourceaddress", "srcipaddr"),
    "dest_ip": (
        "dstip",
        "destinationip",
        "dst",
        "dip",
        "dstaddr",
        "destinationaddress",
        "destip",
        "dstipaddr",
    ),
    "src_port": ("srcport", "sourceport", "spt", "sport"),
    "dest_port": ("dstport", "destinationport", "dpt", "dport", "destport"),
    "proto": ("proto", "protocol", "protocolid"),
}
_KEY_OF = {k: field for field, keys in KEYS.items() for k in keys}


@dataclass(slots=True)
class Fields:
    vendor: str = "syslog"
    src_ip: str | None = None
    src_port: int | None = None
    dest_ip: str | None = None
    dest_port: int | None = None
    proto: str | None = None
    rule_id: str | None = None
    rule_name: str | None = None
    #: The vendor's own level: a syslog severity number (ASA, Huawei) or a word (FortiGate, Palo Alto).
    level: str | None = None
    sensor: str | None = None
    #: FortiGate date/time, Palo Alto receive time, as written (the source turns them into a time).
    when: str | None = None


def key_values(text: str) -> dict[str, str]:
    return {
        k: (v[1:-1] if v.startswith('"') and v.endswith('"') and len(v) > 1 else v)
        for k, v in _KV.findall(text)
    }


def _proto(v: str | None) -> str | None:
    if not v:
        return None
    return _IANA.get(v, v.lower())[:16]


def five_tuple(f: Fields, kv: dict[str, str]) -> None:
    """Fill the five-tuple from key=value pairs under any of the vendors' names."""
    for key, value in kv.items():
        field = _KEY_OF.get(key.lower().replace("-", "").replace("_", ""))
        if field is None or not value or getattr(f, field) is not None:
            continue
        if field in ("src_port", "dest_port"):
            setattr(f, field, port(value))
        elif field == "proto":
            f.proto = _proto(value)
        else:
            setattr(f, field, value)


def _asa(msg: str, m: re.Match[str]) -> Fields:
    f = Fields(vendor="cisco-asa", level=m.group(1), rule_id=f"ASA-{m.group(2)}")
    f.rule_name = msg[m.end() :].lstrip(": ").strip()[:500] or None
    pairs = [(a, b) for a, b in _ASA_PAIR.findall(msg[m.end() :]) if "." in a or a.count(":") >= 2]
    if "Built outbound" in msg and len(pairs) >= 2:
        pairs = [pairs[1], pairs[0], *pairs[2:]]
    if pairs:
        f.src_ip, f.src_port = pairs[0][0], port(pairs[0][1])
    if len(pairs) > 1:
        f.dest_ip, f.dest_port = pairs[1][0], port(pairs[1][1])
    if f.src_ip is None:
        fm = _FROM_PORT.search(msg)
        if fm:
            f.src_ip = fm.group(1)
    p = _PROTO.search(msg[m.end() :])
    f.proto = p.group(1).lower() if p else None
    return f


def _fortigate(kv: dict[str, str]) -> Fields:
    f = Fields(vendor="fortigate", sensor=kv.get("devname"), level=kv.get("crlevel") or kv.get("level"))
    f.rule_id = kv.get("logid")
    f.rule_name = kv.get("attack") or kv.get("msg") or kv.get("subtype")
    if kv.get("date") and kv.get("time"):
        f.when = f"{kv['date']} {kv['time']}"
    five_tuple(f, kv)
    return f


def _palo_alto(msg: str) -> Fields | None:
    if msg.count(",") < 30:
        return None
    try:
        row = next(csv.reader([msg]))
    except (csv.Error, StopIteration):
        return None
    if len(row) < 31 or row[3] not in _PA_TYPES:
        return None
    f = Fields(vendor="paloalto", sensor=row[2] or None, when=row[1] or None)
    f.src_ip, f.dest_ip = row[7] or None, row[8] or None
    f.src_port, f.dest_port = port(row[24]), port(row[25])
    f.proto = _proto(row[29])
    if row[3] == "THREAT" and len(row) > 34:
        f.rule_id, f.rule_name, f.level = row[32] or None, row[32] or None, row[34] or None
    else:
        f.rule_id, f.rule_name = row[11] or row[3], f"{row[3]} {row[4]} {row[30]}".strip()
    return f


def _huawei(msg: str, m: re.Match[str]) -> Fields:
    f = Fields(vendor="huawei", level=m.group(2), rule_id=f"{m.group(1)}/{m.group(3)}")
    rest = msg[m.end() :].lstrip(":")
    f.rule_name = rest.strip()[:500] or m.group(3)
    five_tuple(f, key_values(rest))
    return f


def _junos(msg: str, tag: str | None) -> Fields:
    f = Fields(vendor="junos", rule_id=tag)
    a = _JUNOS_ARROW.search(msg)
    if a:
        f.src_ip, f.src_port, f.dest_ip, f.dest_port = (
            a.group(1),
            port(a.group(2)),
            a.group(3),
            port(a.group(4)),
        )
    else:
        five_tuple(f, key_values(msg))
    f.rule_name = msg.strip()[:500]
    if f.proto is None:
        p = re.search(r"\s(\d{1,3})\(\d+\)\s", msg)  # "6(0)": protocol number and ICMP type
        f.proto = _proto(p.group(1)) if p else None
    return f


def extract(msg: str, app: str | None) -> Fields | None:
    """The vendor shape of a syslog message and what it says, or ``None`` for a plain message."""
    m = _ASA.search(msg, 0, 200)
    if m:
        return _asa(msg, m)
    m = _HUAWEI.search(msg, 0, 200)
    if m:
        return _huawei(msg, m)
    if "devname=" in msg or "logid=" in msg:
        return _fortigate(key_values(msg))
    pa = _palo_alto(msg)
    if pa is not None:
        return pa
    tag = _JUNOS_TAG.search(msg, 0, 120)
    if (app or "").startswith("RT_") or (tag and tag.group(1).startswith("RT_")):
        return _junos(msg, tag.group(1) if tag else app)
    if " SRC=" in msg and " DST=" in msg:
        f = Fields(vendor="iptables")
        five_tuple(f, key_values(msg))
        f.rule_name = msg.split("IN=", 1)[0].strip()[:500] or "netfilter"
        return f
    fm = _FROM_PORT.search(msg)
    if fm:
        return Fields(src_ip=fm.group(1), src_port=port(fm.group(2)))
    return None
