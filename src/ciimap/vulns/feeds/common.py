"""What every feed parser shares: the parsed-advisory record, dates and the bulk writer.

Parsers turn a file into plain records; :func:`store_advisories` writes them with a handful of bulk
statements (upsert advisories by id, then replace their aliases, ranges and CPE matches), so the
PyPI OSV database loads in seconds on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from ciimap.core.db import INSERT_BATCH, chunks
from ciimap.inventory.models import CRITICALITY
from ciimap.vulns.models import Advisory as AdvisoryRow
from ciimap.vulns.models import AdvisoryAlias, AffectedRange, CpeMatch

#: Advisory severities, lowest first: the same four-level scale as asset criticality.
SEVERITY_ORDER = CRITICALITY


@dataclass
class AdvisoryRec:
    advisory_id: str
    source: str
    aliases: list[str] = field(default_factory=list)
    summary: str | None = None
    severity: str | None = None
    cvss_vector: str | None = None
    cvss_score: float | None = None
    published: dt.datetime | None = None
    modified: dt.datetime | None = None
    withdrawn: bool = False
    references: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    ranges: list[dict[str, Any]] = field(default_factory=list)
    cpe_matches: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Parsed:
    """A parsed feed: advisories and/or side tables, its own snapshot date, and notes for the user."""

    advisories: list[AdvisoryRec] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # KEV/EPSS rows
    snapshot_date: dt.date | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def parse_dt(value: Any) -> dt.datetime | None:
    """ISO-8601 strings (with ``Z``), YAML-parsed datetimes/dates, or ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        out = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            out = dt.datetime.fromisoformat(text[:10])
        except ValueError:
            return None
    return out if out.tzinfo else out.replace(tzinfo=dt.UTC)


def parse_date(value: Any) -> dt.date | None:
    d = parse_dt(value)
    return d.date() if d else None


def newest(dates: Iterable[dt.datetime | None]) -> dt.date | None:
    best = max((d for d in dates if d is not None), default=None)
    return best.date() if best else None


def _advisory_row(rec: AdvisoryRec, feed_import_id: int) -> dict[str, Any]:
    return {
        "advisory_id": rec.advisory_id,
        "source": rec.source,
        "aliases": rec.aliases,
        "summary": rec.summary,
        "severity": rec.severity,
        "cvss_vector": rec.cvss_vector,
        "cvss_score": rec.cvss_score,
        "published": rec.published,
        "modified": rec.modified,
        "withdrawn": rec.withdrawn,
        "references": rec.references[:50],
        "extra": rec.extra,
        "feed_import_id": feed_import_id,
    }


def store_advisories(session: Session, recs: list[AdvisoryRec], feed_import_id: int) -> dict[str, int]:
    """Upsert advisories by id and replace their aliases, affected ranges and CPE matches."""
    by_id: dict[str, AdvisoryRec] = {}
    for r in recs:  # the last occurrence of an id wins (a feed may repeat an entry)
        by_id[r.advisory_id] = r
    ids = list(by_id)
    existing: dict[str, int] = {}
    for id_part in chunks(ids):
        existing.update(
            session.execute(
                select(AdvisoryRow.advisory_id, AdvisoryRow.id).where(AdvisoryRow.advisory_id.in_(id_part))
            )
            .tuples()
            .all()
        )
    if existing:
        pks = list(existing.values())
        for pk_part in chunks(pks):
            for model in (AdvisoryAlias, AffectedRange, CpeMatch):
                session.execute(delete(model).where(model.advisory_pk.in_(pk_part)))
        session.execute(
            update(AdvisoryRow),
            [{"id": existing[i], **_advisory_row(by_id[i], feed_import_id)} for i in existing],
        )
    new = [_advisory_row(by_id[i], feed_import_id) for i in ids if i not in existing]
    pk_of = dict(existing)
    for new_part in chunks(new, INSERT_BATCH):
        for pk, aid in session.execute(
            insert(AdvisoryRow).returning(AdvisoryRow.id, AdvisoryRow.advisory_id), new_part
        ):
            pk_of[aid] = pk
    aliases: list[dict[str, Any]] = []
    ranges: list[dict[str, Any]] = []
    cpes: list[dict[str, Any]] = []
    for aid, rec in by_id.items():
        pk = pk_of[aid]
        for a in dict.fromkeys([aid, *rec.aliases]):
            aliases.append({"alias": a[:64], "advisory_pk": pk})
        ranges.extend({**r, "advisory_pk": pk} for r in rec.ranges)
        cpes.extend({**c, "advisory_pk": pk} for c in rec.cpe_matches)
    for model, rows in ((AdvisoryAlias, aliases), (AffectedRange, ranges), (CpeMatch, cpes)):
        for row_part in chunks(rows, INSERT_BATCH):
            session.execute(insert(model), row_part)
    return {
        "advisories": len(ids),
        "new": len(new),
        "updated": len(existing),
        "aliases": len(aliases),
        "ranges": len(ranges),
        "cpe_matches": len(cpes),
    }


def worst_severity(labels: Iterable[str | None]) -> str | None:
    known = [s for s in labels if s in SEVERITY_ORDER]
    return max(known, key=SEVERITY_ORDER.index) if known else None


def severity_from_score(score: float | None) -> str | None:
    if score is None:
        return None
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    return "medium" if score >= 4.0 else "low"
