"""The alert table: one row per line read from a sensor's file, accepted or rejected (no line is lost)."""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base

#: How an address or host was tied to the map (see docs/alerts.md): an asset's IP address (history or
#: primary IP), its hostname, a Wazuh agent's name, or only a zone's CIDR (no asset).
MatchedBy = Literal["ip", "hostname", "agent", "cidr"]
MATCHED_BY: tuple[str, ...] = get_args(MatchedBy)
#: Which kind of event a line was: Suricata's event types kept (alert, drop, anomaly), or ``log`` for a
#: syslog/CEF/Wazuh event.
AlertEvent = Literal["alert", "drop", "anomaly", "log"]
ALERT_EVENTS: tuple[str, ...] = get_args(AlertEvent)


class Alert(Base):
    """An alert as the sensor reported it (``raw`` always kept) plus what ciimap made of it: the
    normalised severity, the priority raised by business context and the map it was matched to at
    load time. A line that could not be read is kept with ``reject`` set (and little else)."""

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_time_id", "time", "id"),  # newest-first listing
        Index("ix_alert_dest_asset_id_time", "dest_asset_id", "time"),  # by asset
        Index("ix_alert_src_asset_id_time", "src_asset_id", "time"),
        Index("ix_alert_run_id", "run_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    #: When the sensor saw it (its time zone, or the site's when the line has none); a rejected line
    #: without a readable time gets the run's start.
    time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: The source kind (suricata, wazuh, syslog, cef).
    kind: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(16), default="alert")
    #: The reporting device: Suricata's host/interface, Wazuh's agent name, syslog's HOSTNAME.
    sensor: Mapped[str | None] = mapped_column(String(255))
    rule_id: Mapped[str | None] = mapped_column(String(64))
    rule_name: Mapped[str | None] = mapped_column(String(500))
    raw_severity: Mapped[str | None] = mapped_column(String(32))
    #: The four-level scale (inventory's Criticality): from the source's own scale (alerts/severity.json).
    severity: Mapped[str] = mapped_column(String(16), default="low")
    #: ``severity`` raised by business context (asset criticality, CII, MLPS, internet-facing, open CVE).
    priority: Mapped[str] = mapped_column(String(16), default="low")
    priority_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    src_ip: Mapped[str | None] = mapped_column(String(45))
    src_port: Mapped[int | None] = mapped_column(Integer)
    dest_ip: Mapped[str | None] = mapped_column(String(45))
    dest_port: Mapped[int | None] = mapped_column(Integer)
    proto: Mapped[str | None] = mapped_column(String(16))
    cves: Mapped[list[str]] = mapped_column(JSON, default=list)
    src_asset_id: Mapped[int | None] = mapped_column(Integer)
    dest_asset_id: Mapped[int | None] = mapped_column(Integer)
    src_zone_id: Mapped[int | None] = mapped_column(Integer)
    dest_zone_id: Mapped[int | None] = mapped_column(Integer)
    src_matched_by: Mapped[str | None] = mapped_column(String(16))
    dest_matched_by: Mapped[str | None] = mapped_column(String(16))
    #: RFC 1918/ULA/loopback/link-local, or inside a zone's CIDR: an internal address matching no asset
    #: is an unmanaged-asset candidate.
    src_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    dest_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Systems and business services of the matched assets at load time (a snapshot for display;
    #: filters by system/service are computed on read from the current map).
    system_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    service_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    raw: Mapped[str] = mapped_column(Text)
    #: Why the line could not be read; NULL for an accepted alert.
    reject: Mapped[str | None] = mapped_column(String(300))
    line_no: Mapped[int | None] = mapped_column(Integer)
    #: Active threat-intelligence indicator values the alert names (addresses; for JSON lines also DNS
    #: names, URLs, file hashes): filled as alerts load and by the retro-hunt after an intel import.
    intel_matches: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The import run (``import_run.id``); no foreign key, so the alerts branch of the migrations needs
    #: no other domain's.
    run_id: Mapped[int] = mapped_column(Integer)
