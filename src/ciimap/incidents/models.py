"""Tables of the incidents domain (事件处置 + 信息通报): incidents, their stored deadlines, append-only
timeline, roles, tasks, evidence with custody, report forms and every report sent, the operator type of
each organisation, and the outgoing notification events the ``notify`` domain consumes."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, TimestampMixin, utcnow

#: Incident grades (2025 annex; GB/T 20986-2023 I–IV), highest first.
Grade = Literal["特别重大", "重大", "较大", "一般"]
GRADES: tuple[str, ...] = get_args(Grade)
#: Reporter (operator) types of the reporting clock.
Reporter = Literal["cii", "central_state_organ", "other"]
REPORTERS: tuple[str, ...] = get_args(Reporter)
#: Administrative level of a portal or region in the grading criteria.
Level = Literal["provincial", "city"]
LEVELS: tuple[str, ...] = get_args(Level)
#: Qualitative data-threat degrees of the grading criteria.
DataThreat = Literal["particularly_serious", "serious"]
DATA_THREATS: tuple[str, ...] = get_args(DataThreat)
#: Incident states in order (发现 → 研判 → 处置 → 恢复 → 总结 → 关闭).
State = Literal["发现", "研判", "处置", "恢复", "总结", "关闭"]
STATES: tuple[str, ...] = get_args(State)
#: Allowed transitions: forward one step, back one step while handling (new facts), 关闭 from 总结 only.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "发现": ("研判",),
    "研判": ("处置", "发现"),
    "处置": ("恢复", "研判"),
    "恢复": ("总结", "处置"),
    "总结": ("关闭", "恢复"),
    "关闭": (),
}
#: Where an incident came from.
Origin = Literal["manual", "warning", "alert_group"]
ORIGINS: tuple[str, ...] = get_args(Origin)
#: Incident roles.
IncidentRole = Literal["指挥", "处置", "联络", "记录"]
INCIDENT_ROLES: tuple[str, ...] = get_args(IncidentRole)
#: Stored deadlines.
DeadlineKind = Literal["first_report", "escalation", "summary_report"]
DEADLINE_KINDS: tuple[str, ...] = get_args(DeadlineKind)
#: Report forms.
ReportKind = Literal["initial", "supplement", "summary"]
REPORT_KINDS: tuple[str, ...] = get_args(ReportKind)
#: Channels a report was sent through.
Channel = Literal["12387", "platform", "email", "fax", "phone", "in_person", "other"]
CHANNELS: tuple[str, ...] = get_args(Channel)
#: Timeline entry kinds.
TimelineKind = Literal[
    "created", "state", "grade", "change", "comment", "role", "task", "evidence", "report",
    "notification", "reminder", "overdue", "deadline", "link",
]  # fmt: skip
TIMELINE_KINDS: tuple[str, ...] = get_args(TimelineKind)
#: Outgoing notification event kinds.
EventKind = Literal["opened", "graded", "state", "reminder", "overdue", "report_sent"]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)


class OperatorType(TimestampMixin, Base):
    """An organisation's operator type for the reporting clock (cii, central_state_organ, other)."""

    __tablename__ = "incident_operator"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), unique=True
    )
    operator_type: Mapped[str] = mapped_column(String(24))


class Incident(TimestampMixin, Base):
    __tablename__ = "incident"
    __audited__ = True
    __table_args__ = (Index("ix_incident_org_state", "organization_id", "state", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(8), default="发现", index=True)
    category: Mapped[str | None] = mapped_column(String(32))
    subcategory: Mapped[str | None] = mapped_column(String(32))
    grade: Mapped[str] = mapped_column(String(8), default="一般", index=True)
    #: The facts the grade was computed from and the criteria they reached (grading.grade()).
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reached: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    criteria_version: Mapped[str | None] = mapped_column(String(32))
    #: The reporter type the clock was set for (copied when graded: the deadline must not move later).
    reporter: Mapped[str | None] = mapped_column(String(24))
    #: Drill (演练) incidents: never counted in statistics, never reported to real authorities.
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    origin: Mapped[str] = mapped_column(String(16), default="manual")
    warning_id: Mapped[int | None] = mapped_column(Integer, index=True)
    alert_group_id: Mapped[int | None] = mapped_column(Integer, index=True)
    discovered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    occurred_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    handling_closed_at: Mapped[dt.date | None] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    asset_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    system_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    service_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(100))


class Deadline(Base):
    """A stored deadline of an incident (never recomputed from a changing clock)."""

    __tablename__ = "incident_deadline"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("incident_id", "kind"),
        Index("ix_incident_deadline_next", "done", "next_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: True once met or passed (the sweep reads only open ones).
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    met_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    overdue_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: The smallest reminder offset (minutes before) already recorded; None before any.
    reminded_minutes: Mapped[int | None] = mapped_column(Integer)
    #: When the sweep must look at this deadline next (the next reminder, else the due time): the sweep
    #: reads only ``done = false AND next_at <= now``, so a deadline already reminded costs nothing.
    next_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class TimelineEntry(Base):
    """One line of an incident's append-only timeline (never updated or deleted by ciimap)."""

    __tablename__ = "incident_timeline"
    __table_args__ = (Index("ix_incident_timeline_incident", "incident_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Role(Base):
    __tablename__ = "incident_role"
    __audited__ = True
    __table_args__ = (UniqueConstraint("incident_id", "role", "person"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(8))
    person: Mapped[str] = mapped_column(String(100))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))


class Task(TimestampMixin, Base):
    __tablename__ = "incident_task"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str | None] = mapped_column(String(100))
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class EvidenceFile(Base):
    """An evidence file, stored once by content under ``data_dir/evidence/`` (as compliance does)."""

    __tablename__ = "incident_evidence"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Custody(Base):
    """Chain of custody: who handled an evidence file, when and how (collected, transferred, ...)."""

    __tablename__ = "incident_custody"
    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("incident_evidence.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(1000))


class Report(TimestampMixin, Base):
    """A report form (initial, supplement, summary) with the eight content items of the 2025 measures."""

    __tablename__ = "incident_report"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    #: {"1": text, ..., "8": text}; an initial report may carry only items 1 and 2.
    items: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(100))


class Submission(Base):
    """A report sent: to which authority, when, by whom, through which channel."""

    __tablename__ = "incident_submission"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("incident_report.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    authority: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sent_by: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(200))
    #: Whether it was sent by the deadline of its kind (None when no deadline applied).
    on_time: Mapped[bool | None] = mapped_column(Boolean)


class NotificationEvent(Base):
    """An outgoing notification event for the ``notify`` domain (consumed later; unique idempotency key)."""

    __tablename__ = "incident_event"
    __table_args__ = (Index("ix_incident_event_pending", "consumed_at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(8))
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    system_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    service_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    title: Mapped[str] = mapped_column(String(300))
    link: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Set by the consumer (notify) when it took the event into its outbox.
    consumed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# --- emergency plans (应急预案) and drills (演练) ------------------------------------------------------------

#: What a plan's fallback is on the map.
FallbackKind = Literal["system", "asset", "redundancy_group"]
FALLBACK_KINDS: tuple[str, ...] = get_args(FallbackKind)
#: Drill scenarios generated from the map.
DrillKind = Literal["vendor_update", "ransomware"]
DRILL_KINDS: tuple[str, ...] = get_args(DrillKind)


class Plan(TimestampMixin, Base):
    """An emergency plan (应急预案) for a business service and/or a system: ordered steps with owner
    roles, contacts, the fallback it relies on (checked against the map) and its review cycle."""

    __tablename__ = "incident_plan"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_service.id", ondelete="SET NULL"), index=True
    )
    system_id: Mapped[int | None] = mapped_column(ForeignKey("system.id", ondelete="SET NULL"), index=True)
    #: [{"text": ..., "owner_role": ...}] in order.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: [{"contact_id": id} | {"name": ..., "phone": ..., "role": ...}]
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    fallback_kind: Mapped[str | None] = mapped_column(String(24))
    fallback_ref: Mapped[str | None] = mapped_column(String(200))
    fallback_note: Mapped[str | None] = mapped_column(String(1000))
    review_months: Mapped[int] = mapped_column(Integer, default=12)
    last_reviewed: Mapped[dt.date | None] = mapped_column(Date)
    next_review: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(100))


class Drill(Base):
    """A drill (演练) started from a scenario: the drill incident it opened and the expected impact."""

    __tablename__ = "incident_drill"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(Integer)
    target_name: Mapped[str] = mapped_column(String(200))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), unique=True)
    #: The scenario as generated: selectors, services and systems that go down / degrade, counts.
    scenario: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
