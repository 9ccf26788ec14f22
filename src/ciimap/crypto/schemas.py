"""Request shapes of the crypto API (responses are plain JSON objects built by the service)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from ciimap.core.schemas import Int32, Schema
from ciimap.crypto.models import Layer, ManualKind


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
