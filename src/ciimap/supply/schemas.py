"""Input and output shapes of the supply-chain register."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ciimap.core.schemas import Int32, ReadSchema, UtcDateTime
from ciimap.core.schemas import Schema as _Schema
from ciimap.inventory.models import Layer
from ciimap.supply.models import PlanStatus, RemoteAccess, RiskRating, SecurityReview


class Schema(_Schema):
    #: ``--set contract_number=2024001`` arrives as a number from the CLI; keep it as text.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)


class Certification(Schema):
    """One certificate; a bare string in the input means just its name."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    number: str | None = None
    valid_until: dt.date | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_str(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v


class VendorProfileIn(Schema):
    """Full profile; updates are merged onto the stored profile and validated as a whole."""

    certifications: list[Certification] = []
    contract_number: str | None = None
    contract_start: dt.date | None = None
    contract_end: dt.date | None = None
    service_level: str | None = None
    remote_access: RemoteAccess = "none"
    remote_channel: str | None = None
    remote_reviewed_on: dt.date | None = None
    nda_signed: bool = False
    nda_date: dt.date | None = None
    nda_expires: dt.date | None = None
    security_review: SecurityReview | None = None
    security_review_date: dt.date | None = None
    risk_rating: RiskRating | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _dates(self) -> VendorProfileIn:
        if self.contract_start and self.contract_end and self.contract_end < self.contract_start:
            raise ValueError("contract_end is before contract_start")
        if self.nda_date and self.nda_expires and self.nda_expires < self.nda_date:
            raise ValueError("nda_expires is before nda_date")
        if not self.nda_signed and (self.nda_date or self.nda_expires):
            raise ValueError("nda_date/nda_expires given but nda_signed is false")
        return self


class VendorProfileRead(ReadSchema):
    id: int
    vendor_id: int
    certifications: list[dict[str, Any]]
    contract_number: str | None
    contract_start: dt.date | None
    contract_end: dt.date | None
    service_level: str | None
    remote_access: str
    remote_channel: str | None
    remote_reviewed_on: dt.date | None
    nda_signed: bool
    nda_date: dt.date | None
    nda_expires: dt.date | None
    security_review: str | None
    security_review_date: dt.date | None
    risk_rating: str | None
    notes: str | None
    updated_at: UtcDateTime


class Milestone(Schema):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    due: dt.date | None = None
    done: bool = False
    done_on: dt.date | None = None


class PlanIn(Schema):
    """A substitution item. The current thing is a product, a software row or an asset (at least one)."""

    system_id: Int32
    layer: Layer | None = None
    current_product_id: Int32 | None = None
    current_software_id: Int32 | None = None
    current_asset_id: Int32 | None = None
    candidate_product_id: Int32 | None = None
    status: PlanStatus = "planned"
    milestones: list[Milestone] = []
    start_date: dt.date | None = None
    due_date: dt.date | None = None
    owner_id: Int32 | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _check(self) -> PlanIn:
        if not (self.current_product_id or self.current_software_id or self.current_asset_id):
            raise ValueError("give current_product_id, current_software_id or current_asset_id")
        if self.start_date and self.due_date and self.due_date < self.start_date:
            raise ValueError("due_date is before start_date")
        for ms in self.milestones:
            if ms.due and self.due_date and ms.due > self.due_date:
                raise ValueError(f"milestone '{ms.name}' is due after the plan's due_date")
        return self

    @field_validator("milestones")
    @classmethod
    def _unique(cls, v: list[Milestone]) -> list[Milestone]:
        names = [m.name for m in v]
        if len(names) != len(set(names)):
            raise ValueError("milestone names must be unique")
        return v


class PlanRead(ReadSchema):
    id: int
    system_id: int
    system: str | None = None
    layer: str
    current_product_id: int | None
    current_software_id: int | None
    current_asset_id: int | None
    current: str | None = None
    current_vendor: str | None = None
    candidate_product_id: int | None
    candidate: str | None = None
    candidate_vendor: str | None = None
    status: str
    milestones: list[dict[str, Any]]
    milestones_done: int = 0
    start_date: dt.date | None
    due_date: dt.date | None
    completed_on: dt.date | None
    overdue: bool = False
    owner_id: int | None
    owner: str | None = None
    notes: str | None
    warnings: list[str] = []


class Progress(BaseModel):
    system_id: int | None
    system: str
    is_cii: bool = False
    items: int = 0
    done: int = 0
    cancelled: int = 0
    active: int = 0
    overdue: int = 0
    milestones: int = 0
    milestones_done: int = 0
    percent: float = 0.0
