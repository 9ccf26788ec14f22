"""Read shapes of the posture figures (``GET /api/posture``, ``ciimap posture --json``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class PostureCard(BaseModel):
    """One figure: ``value`` now, ``parts`` as ``[label key, count]``, ``href`` the filtered page,
    ``trend`` ``[ISO day, count]`` over the last 30 days (None: no history to count from)."""

    key: str
    value: int | None
    href: str
    parts: list[list[Any]]
    tone: str
    trend: list[list[Any]] | None
    of: int | None = None
    names: list[str] | None = None
    links: dict[str, str] | None = None
    next_deadline: str | None = None


class ServiceAtRisk(BaseModel):
    id: int
    name: str
    criticality: str | None
    vulnerable: bool  # needs a system/asset with an open KEV or P1 finding
    spof: bool  # has a single point of failure


class Posture(BaseModel):
    """How exposed the operator is now (安全态势)."""

    as_of: str
    days: int
    cards: list[PostureCard]
    services_at_risk: list[ServiceAtRisk]
