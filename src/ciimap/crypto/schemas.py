"""Request shapes of the crypto API (responses are plain JSON objects built by the service)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from ciimap.core.schemas import Int32, Schema
from ciimap.crypto.models import Layer, ManualKind, UnitResultValue


class ManualCreate(Schema):
    kind: ManualKind
    layer: Layer
    name: str = Field(min_length=1, max_length=300)
    system_id: Int32 | None = None
    asset_id: Int32 | None = None
    algorithm: str | None = Field(None, max_length=100)
    key_bits: int | None = Field(None, ge=1, le=65536)
    certificate_no: str | None = Field(None, max_length=100, description="商用密码产品认证证书编号")
    not_after: dt.date | None = None
    note: str | None = Field(None, max_length=1000)


class AssessmentIn(Schema):
    """A 密评 of one system (level: the system's MLPS level unless given)."""

    system_id: Int32
    assessed_on: dt.date
    assessor: str = Field(min_length=1, max_length=200)
    level: int | None = Field(None, ge=1, le=4)
    profile: str = Field("2023", min_length=1, max_length=32, description="scoring profile id (2023, 2021)")
    note: str | None = Field(None, max_length=4000)


class ObjectIn(Schema):
    """A test object with its D / A / K results; Ra and Rk are checked by the scoring rule (one message
    naming the value)."""

    name: str = Field(min_length=1, max_length=200)
    asset_id: Int32 | None = None
    d: bool
    a: bool
    k: bool
    ra: float = 1.0
    rk: float = 1.0
    covered_by: Int32 | None = Field(None, description="id of the test object that compensates this one")
    note: str | None = Field(None, max_length=2000)


class UnitIn(Schema):
    """One unit: ``result`` (符合 / 部分符合 / 不符合 / 不适用) or ``objects``."""

    layer: str = Field(min_length=1, max_length=16)
    unit: str = Field(min_length=1, max_length=100)
    result: UnitResultValue | None = None
    objects: list[ObjectIn] = Field([], max_length=500)
    high_risk: bool = False
    note: str | None = Field(None, max_length=4000)
