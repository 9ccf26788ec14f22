"""The alert table: one row per line read from a sensor's file, accepted or rejected (no line is lost)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, TimestampMixin

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
    #: The suppression (``alert_suppression.id``) that matched the alert at load time: the alert is kept
    #: and counted, but left out of groups' open counts and of warnings. NULL: not suppressed.
    suppression_id: Mapped[int | None] = mapped_column(Integer)


#: Warning levels (预警级别), most severe first: 红 red, 橙 orange, 黄 yellow, 蓝 blue (docs/alerts.md).
WarningLevel = Literal["red", "orange", "yellow", "blue"]
WARNING_LEVELS: tuple[str, ...] = get_args(WarningLevel)
WARNING_LEVEL_ZH = {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"}
#: A warning is open until someone acknowledges it (still deduplicated) or closes it (a new one opens).
WarningState = Literal["open", "acknowledged", "closed"]
WARNING_STATES: tuple[str, ...] = get_args(WarningState)
#: The kinds of early-warning rule (alerts/warning_rules.yaml).
WarningRuleKind = Literal["threshold", "spread", "open_p1", "indicator", "kev"]
WARNING_RULE_KINDS: tuple[str, ...] = get_args(WarningRuleKind)


class AlertGroup(Base):
    """Alerts of one (source kind, rule) on one target (asset, else address) from one attacker address,
    within a rolling window of the group's last_seen (alerts/groups.py)."""

    __tablename__ = "alert_group"
    __table_args__ = (
        Index("ix_alert_group_key", "kind", "rule_id", "target_asset_id", "target_ip", "attacker_ip"),
        Index("ix_alert_group_last_seen_id", "last_seen", "id"),
        # the console's filters, newest first (alerts/groups.py list_groups)
        Index("ix_alert_group_target_last_seen", "target_asset_id", "last_seen", "id"),
        Index("ix_alert_group_zone_last_seen", "zone_id", "last_seen", "id"),
        Index("ix_alert_group_severity_last_seen", "severity", "last_seen", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: The rule id ('' when the source gave none).
    rule_id: Mapped[str] = mapped_column(String(64))
    rule_name: Mapped[str | None] = mapped_column(String(500))
    target_asset_id: Mapped[int | None] = mapped_column(Integer)
    #: The target address when no asset matched ('' when an asset matched or the alert named none).
    target_ip: Mapped[str] = mapped_column(String(45))
    attacker_ip: Mapped[str] = mapped_column(String(45))
    zone_id: Mapped[int | None] = mapped_column(Integer)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    count: Mapped[int] = mapped_column(Integer, default=0)
    #: Alerts not suppressed (the console's count).
    open_count: Mapped[int] = mapped_column(Integer, default=0)
    severity: Mapped[str] = mapped_column(String(16), default="low")
    priority: Mapped[str] = mapped_column(String(16), default="low")
    sample_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    system_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    service_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class AlertSuppression(TimestampMixin, Base):
    """A scoped suppression: one rule on one target (asset or address), optionally from one attacker.
    Never global: suppressing a rule on one host never hides it on another."""

    __tablename__ = "alert_suppression"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    #: Only alerts of this source kind; NULL: any kind.
    kind: Mapped[str | None] = mapped_column(String(16))
    asset_id: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(45))
    attacker_ip: Mapped[str | None] = mapped_column(String(45))
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AlertWarning(TimestampMixin, Base):
    """An early warning (预警) raised by a rule: what incidents are opened from (issue 15)."""

    __tablename__ = "alert_warning"
    __audited__ = True
    __table_args__ = (
        Index("ix_alert_warning_rule_scope", "rule", "scope"),
        Index("ix_alert_warning_last_alert_at_id", "last_alert_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    rule_kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(500))
    #: What the warning is deduplicated on while not closed (e.g. ``asset:7``, ``attacker:1.2.3.4``).
    scope: Mapped[str] = mapped_column(String(200))
    asset_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    system_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    service_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    first_alert_id: Mapped[int] = mapped_column(Integer)
    last_alert_id: Mapped[int] = mapped_column(Integer)
    first_alert_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_alert_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    count: Mapped[int] = mapped_column(Integer, default=0)
    #: Rule-specific facts (CVEs, indicator values, attacker address).
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="open")
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: The operator the warning concerns: the organisation of its first system, else of its first asset
    #: (set when it opens). Users bound to an organisation see only its warnings (issue 15 item 6).
    organization_id: Mapped[int | None] = mapped_column(Integer, index=True)
