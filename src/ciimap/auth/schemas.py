from __future__ import annotations

from typing import Literal

from pydantic import Field

from ciimap.auth.models import Role
from ciimap.core.schemas import Int32, ReadSchema, Schema, UtcDateTime


class LoginIn(Schema):
    username: str
    password: str
    token_name: str = "api"  # noqa: S105 — a label, not a secret
    days: int | None = Field(None, ge=1, le=3650)


class TokenOut(Schema):
    token: str
    prefix: str
    expires_at: UtcDateTime | None


class UserCreate(Schema):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8)
    role: Role = "analyst"
    full_name: str | None = None
    locale: Literal["zh-CN", "en"] = "zh-CN"
    organization_id: Int32 | None = None


class UserUpdate(Schema):
    role: Role | None = None
    full_name: str | None = None
    locale: Literal["zh-CN", "en"] | None = None
    is_active: bool | None = None
    password: str | None = Field(None, min_length=8)


class UserRead(ReadSchema):
    id: int
    username: str
    full_name: str | None
    role: str
    locale: str
    is_active: bool
    last_login: UtcDateTime | None


class RevokedOut(Schema):
    revoked: int


class MeRead(ReadSchema):
    username: str
    role: str
    locale: str
    permissions: list[str]
