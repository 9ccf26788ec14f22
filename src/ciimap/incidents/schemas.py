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
