"""The typed record every alert source's ``read`` yields (one per line of the file, accepted or not)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(slots=True)
class AlertRecord:
    """One line of a sensor's file. ``reject`` set: the line could not be read (kept raw, counted).

    ``host`` is the host the event happened on when the line names no destination address (a Wazuh
    agent, a syslog HOSTNAME); the loader maps it by name (``host_by`` says how: agent or hostname).
    """

    time: dt.datetime | None
    raw: str
    line_no: int
    event: str = "alert"
    sensor: str | None = None
    rule_id: str | None = None
    rule_name: str | None = None
    raw_severity: str | None = None
    severity: str = "low"
    src_ip: str | None = None
    src_port: int | None = None
    dest_ip: str | None = None
    dest_port: int | None = None
    proto: str | None = None
    cves: list[str] = field(default_factory=list)
    host: str | None = None
    host_by: str = "hostname"
    reject: str | None = None
