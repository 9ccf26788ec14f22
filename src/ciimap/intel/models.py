"""The indicator table: one row per observable value an intelligence file names (an IP address, a
domain, a URL or a file hash), with its TLP, source, confidence, validity and the raw object."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, utcnow

#: What an indicator's value is. ``other``: a pattern ciimap does not reduce to values (kept with a
#: note, never matched).
IndicatorType = Literal["ip", "domain", "url", "hash", "other"]
INDICATOR_TYPES: tuple[str, ...] = get_args(IndicatorType)
#: The types that are matched against alerts.
MATCHED_TYPES: tuple[str, ...] = ("ip", "domain", "url", "hash")
#: Traffic Light Protocol levels (TLP 2.0 names; TLP 1.0 ``white`` is read as ``clear``).
Tlp = Literal["clear", "green", "amber", "amber+strict", "red"]
TLP_LEVELS: tuple[str, ...] = get_args(Tlp)


class Indicator(Base):
    """One value from an intelligence object (a STIX indicator's pattern, a MISP attribute).
    Re-importing the same object (same source kind and ``source_ref``) replaces its rows."""

    __tablename__ = "intel_indicator"
    __table_args__ = (
        Index("ix_intel_indicator_value", "value"),
        Index("ix_intel_indicator_type_id", "type", "id"),
        Index("ix_intel_indicator_source_ref", "source", "source_ref"),
        Index("ix_intel_indicator_run_id", "run_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(8))
    #: Normalised: canonical IP text, lower-case domain without trailing dot, lower-case hash; the
    #: pattern itself (cut) for ``other``.
    value: Mapped[str] = mapped_column(String(1000))
    #: md5 | sha1 | sha256 | sha512 for hashes.
    hash_algo: Mapped[str | None] = mapped_column(String(8))
    #: The source kind (stix, misp).
    source: Mapped[str] = mapped_column(String(16))
    #: The STIX indicator id or MISP attribute uuid.
    source_ref: Mapped[str] = mapped_column(String(100))
    #: Who produced it: the STIX ``created_by_ref`` identity's name, the MISP event's Orgc.
    producer: Mapped[str | None] = mapped_column(String(255))
    #: The STIX bundle id or MISP event uuid the indicator came in (its context: CVEs named there).
    context: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(500))
    tlp: Mapped[str | None] = mapped_column(String(16))
    #: 0–100 (STIX ``confidence``); NULL when the source gives none.
    confidence: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: Expiry: an indicator past it is no longer active (never matched again).
    valid_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: Threat types and labels (STIX indicator_types/labels, MISP category and tags).
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: CVE ids named by the same bundle or event (STIX vulnerability objects, MISP vulnerability
    #: attributes): linked to stored advisories on read.
    cves: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Why the object was kept without a matched value (a complex pattern), or other remarks.
    note: Mapped[str | None] = mapped_column(String(500))
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    run_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
