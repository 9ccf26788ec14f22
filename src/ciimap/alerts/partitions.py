"""Raw alerts over time: PostgreSQL day partitions and retention (both databases).

PostgreSQL: ``alert`` is partitioned by range of ``time``, one partition per UTC day
(``alert_pYYYYMMDD``), plus a DEFAULT partition (``alert_default``) that catches alerts of days with no
partition yet (an old log imported late), so a load never fails for want of a partition.
:func:`ensure_days` creates the days ahead (and moves rows of a new day out of the default partition);
:func:`purge` drops whole days past retention (instant, no vacuum) and deletes the default partition's
old rows in batches. SQLite: one table, old rows deleted in batches of :data:`BATCH` (each batch its
own short transaction, so imports are not locked out for long).

Retention: ``$CIIMAP_ALERT_RETENTION_DAYS`` (default :data:`DEFAULT_RETENTION_DAYS`; ``0`` keeps
alerts forever). Alert groups whose last alert is past retention go with their alerts; warnings stay
(incidents are opened from them).

Run by ``ciimap alerts maintain`` and the job ``alerts-maintain`` (PostgreSQL: a procrastinate periodic
task every hour, ``alerts/jobs.py``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from ciimap.alerts.models import Alert, AlertGroup
from ciimap.core.db import Database, get_database, utcnow
from ciimap.core.errors import Invalid

DEFAULT_RETENTION_DAYS = 180
#: Day partitions kept ready ahead of today (UTC).
DAYS_AHEAD = 7
#: Rows deleted per statement (and per transaction on SQLite).
BATCH = 10_000
PARTITION = re.compile(r"^alert_p(\d{8})$")


def retention_days() -> int:
    raw = os.environ.get("CIIMAP_ALERT_RETENTION_DAYS", "")
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = -1
    if days < 0:
        raise Invalid(f"CIIMAP_ALERT_RETENTION_DAYS: a number of days (0: keep forever), not {raw!r}")
    return days


def partitioned(session: Session) -> bool:
    """Whether ``alert`` is a partitioned table (PostgreSQL after migration alr3)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    kind = session.scalar(text("SELECT relkind FROM pg_class WHERE oid = to_regclass('alert')"))
    return kind == "p"


def days(session: Session) -> dict[dt.date, str]:
    """The day partitions that exist: day → table name."""
    rows = session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass('alert')"
        )
    )
    out = {}
    for name in rows:
        m = PARTITION.match(name)
        if m:
            out[dt.datetime.strptime(m.group(1), "%Y%m%d").replace(tzinfo=dt.UTC).date()] = name
    return out


def _bounds(day: dt.date) -> tuple[str, str]:
    lo = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return lo.isoformat(), (lo + dt.timedelta(days=1)).isoformat()


def create_day(session: Session, day: dt.date) -> str:
    """Create the partition of one UTC day; rows of that day already in the default partition are
    moved into it (attaching checks the default partition holds none of them)."""
    name = f"alert_p{day:%Y%m%d}"
    lo, hi = _bounds(day)
    rng = {"lo": lo, "hi": hi}
    held = session.scalar(text("SELECT 1 FROM alert_default WHERE time >= :lo AND time < :hi LIMIT 1"), rng)
    # identifiers: a date-formatted name; bounds are ISO timestamps we formatted (not user input)
    if held is None:
        session.execute(text(f"CREATE TABLE {name} PARTITION OF alert FOR VALUES FROM ('{lo}') TO ('{hi}')"))
        return name
    session.execute(text(f"CREATE TABLE {name} (LIKE alert INCLUDING DEFAULTS)"))
    session.execute(
        text(
            f"WITH moved AS (DELETE FROM alert_default WHERE time >= :lo AND time < :hi RETURNING *) "  # noqa: S608
            f"INSERT INTO {name} SELECT * FROM moved"
        ),
        rng,
    )
    session.execute(text(f"ALTER TABLE alert ATTACH PARTITION {name} FOR VALUES FROM ('{lo}') TO ('{hi}')"))
    return name


def ensure_days(
    session: Session,
    *,
    today: dt.date | None = None,
    ahead: int = DAYS_AHEAD,
    back: int = 0,
    keep: int | None = None,
) -> list[str]:
    """Day partitions from ``today - back`` to ``today + ahead``, and one for every day that has rows
    in the default partition (within retention); returns the names created."""
    if not partitioned(session):
        return []
    today = today or utcnow().date()
    have = days(session)
    want = {today + dt.timedelta(days=d) for d in range(-back, ahead + 1)}
    for (day,) in session.execute(text("SELECT DISTINCT (time AT TIME ZONE 'UTC')::date FROM alert_default")):
        want.add(day)
    keep = retention_days() if keep is None else keep
    if keep:
        want = {d for d in want if d >= today - dt.timedelta(days=keep)}
    return [create_day(session, d) for d in sorted(want - set(have))]


def cutoff(now: dt.datetime | None = None, keep: int | None = None) -> dt.datetime | None:
    """Alerts older than this are past retention (None: kept forever)."""
    keep = retention_days() if keep is None else keep
    if not keep:
        return None
    return (now or utcnow()) - dt.timedelta(days=keep)


def drop_days(session: Session, before: dt.datetime) -> list[str]:
    """Drop the day partitions wholly before ``before`` (PostgreSQL)."""
    if not partitioned(session):
        return []
    gone = []
    for day, name in sorted(days(session).items()):
        if dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(days=1) <= before:
            session.execute(text(f"DROP TABLE {name}"))
            gone.append(name)
    return gone


def delete_batch(session: Session, before: dt.datetime, limit: int = BATCH) -> int:
    """Delete up to ``limit`` alerts older than ``before``; the number deleted (0: none left)."""
    ids = select(Alert.id).where(Alert.time < before).order_by(Alert.time).limit(limit)
    if partitioned(session):  # only the default partition can still hold old rows after drop_days
        rows = session.execute(
            text(
                "DELETE FROM alert_default WHERE ctid IN "
                "(SELECT ctid FROM alert_default WHERE time < :before LIMIT :n)"
            ),
            {"before": before, "n": limit},
        )
        return int(getattr(rows, "rowcount", 0) or 0)
    rows = session.execute(delete(Alert).where(Alert.id.in_(ids.scalar_subquery())))
    return int(getattr(rows, "rowcount", 0) or 0)


def purge_groups(session: Session, before: dt.datetime) -> int:
    """Groups whose last alert is past retention (their alerts are gone)."""
    rows = session.execute(delete(AlertGroup).where(AlertGroup.last_seen < before))
    return int(getattr(rows, "rowcount", 0) or 0)


def maintain(
    db: Database | None = None, *, now: dt.datetime | None = None, keep: int | None = None
) -> dict[str, Any]:
    """Create the coming days' partitions, then apply retention: drop old day partitions and delete
    old rows in batches, each in its own transaction. Idempotent; safe while imports run (a batch
    holds its locks briefly)."""
    db = db or get_database()
    keep = retention_days() if keep is None else keep
    now = now or utcnow()
    out: dict[str, Any] = {"retention_days": keep, "cutoff": None, "created": [], "dropped": [], "deleted": 0}
    with db.unit_of_work() as s:
        out["partitioned"] = partitioned(s)
        out["created"] = ensure_days(s, today=now.date(), keep=keep)
    before = cutoff(now, keep)
    if before is None:
        return out
    out["cutoff"] = before.isoformat()
    with db.unit_of_work() as s:
        out["dropped"] = drop_days(s, before)
    while True:
        with db.unit_of_work() as s:
            n = delete_batch(s, before)
        out["deleted"] += n
        if n < BATCH:
            break
    with db.unit_of_work() as s:
        out["groups_deleted"] = purge_groups(s, before)
    return out
