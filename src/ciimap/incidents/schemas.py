"""Request shapes of the incidents API (answers are plain JSON objects built by the services)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from ciimap.core.schemas import Int32, Schema
from ciimap.incidents.grading import Facts
from ciimap.incidents.models import (
    CHANNELS,
    GRADES,
    INCIDENT_ROLES,
    REPORT_KINDS,
    STATES,
    Channel,
    DrillKind,
    FallbackKind,
    Grade,
    IncidentRole,
    Reporter,
    ReportKind,
    State,
)

#: Vocabularies for pages (which import no models module).
__all__ = ["CHANNELS", "GRADES", "INCIDENT_ROLES", "REPORT_KINDS", "STATES", "Grade"]


class IncidentCreate(Schema):
    title: str | None = Field(None, min_length=1, max_length=300, description="default: the warning's title")
    organization_id: Int32 | None = None
    description: str | None = Field(None, max_length=20000)
    category: str | None = Field(None, max_length=32)
    subcategory: str | None = Field(None, max_length=32)
    discovered_at: dt.datetime | None = None
    occurred_at: dt.datetime | None = None
    warning_id: Int32 | None = None
    alert_group_id: Int32 | None = None
    asset_ids: list[Int32] | None = Field(None, max_length=1000)
    system_ids: list[Int32] | None = Field(None, max_length=1000)
    service_ids: list[Int32] | None = Field(None, max_length=1000)
    facts: Facts | None = None
    drill: bool = False


class IncidentUpdate(Schema):
    title: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=20000)
    category: str | None = Field(None, max_length=32)
    subcategory: str | None = Field(None, max_length=32)
    occurred_at: dt.datetime | None = None
    asset_ids: list[Int32] | None = Field(None, max_length=1000)
    system_ids: list[Int32] | None = Field(None, max_length=1000)
    service_ids: list[Int32] | None = Field(None, max_length=1000)


class TransitionIn(Schema):
    to: State


class CommentIn(Schema):
    text: str = Field(min_length=1, max_length=20000)


class RoleIn(Schema):
    role: IncidentRole
    person: str = Field(min_length=1, max_length=100)


class TaskIn(Schema):
    title: str = Field(min_length=1, max_length=300)
    owner: str | None = Field(None, max_length=100)
    due_at: dt.datetime | None = None


class ReportIn(Schema):
    kind: ReportKind
    items: dict[str, str] = Field(description='{"1": "...", "2": "..."}: an initial report needs 1 and 2')


class ReportEdit(Schema):
    items: dict[str, str]


class SubmissionIn(Schema):
    authority: str = Field(min_length=1, max_length=200)
    channel: Channel
    sent_at: dt.datetime | None = None
    reference: str | None = Field(None, max_length=200)


class OperatorTypeIn(Schema):
    operator_type: Reporter


class HandOverIn(Schema):
    action: str = Field(min_length=1, max_length=32, description="e.g. transferred, analysed, returned")
    note: str | None = Field(None, max_length=1000)


# --- emergency plans and drills ----------------------------------------------------------------------------


class PlanStep(Schema):
    text: str = Field(min_length=1, max_length=2000)
    owner_role: str = Field(min_length=1, max_length=100, description="e.g. 指挥, 处置, 联络, 记录, 运维值班")


class PlanContact(Schema):
    """An inventory contact (``contact_id``) or free text (``name`` with phone / role)."""

    contact_id: Int32 | None = None
    name: str | None = Field(None, min_length=1, max_length=100)
    phone: str | None = Field(None, max_length=50)
    role: str | None = Field(None, max_length=100)


class PlanIn(Schema):
    title: str = Field(min_length=1, max_length=300)
    organization_id: Int32 | None = None
    service_id: Int32 | None = None
    system_id: Int32 | None = None
    steps: list[PlanStep] = Field(default_factory=list, max_length=200)
    contacts: list[PlanContact] = Field(default_factory=list, max_length=100)
    fallback_kind: FallbackKind | None = None
    fallback_ref: str | None = Field(None, min_length=1, max_length=200)
    fallback_note: str | None = Field(None, max_length=1000)
    review_months: int = Field(12, ge=1, le=120)
    last_reviewed: dt.date | None = None


class PlanUpdate(Schema):
    title: str | None = Field(None, min_length=1, max_length=300)
    service_id: Int32 | None = None
    system_id: Int32 | None = None
    steps: list[PlanStep] | None = Field(None, max_length=200)
    contacts: list[PlanContact] | None = Field(None, max_length=100)
    fallback_kind: FallbackKind | None = None
    fallback_ref: str | None = Field(None, min_length=1, max_length=200)
    fallback_note: str | None = Field(None, max_length=1000)
    review_months: int | None = Field(None, ge=1, le=120)


class PlanReviewIn(Schema):
    reviewed_on: dt.date | None = Field(None, description="default: today (Beijing)")


class DrillStart(Schema):
    kind: DrillKind
    target: str = Field(
        min_length=1, max_length=200, description="vendor (vendor_update) or system (ransomware): id or name"
    )
    organization_id: Int32 | None = None
    notes: str | None = Field(None, max_length=20000)


class DrillNotes(Schema):
    notes: str = Field(max_length=20000)
