"""Timestamps are UTC on both backends, even when the PostgreSQL server runs in local time.

The test server (scripts/pg.sh) is started with timezone=Asia/Shanghai, as a Chinese operator's would be:
20:00 UTC on 1 January is already 2 January there, so a session in server time would move day groupings
(the dashboard's trend, due dates) to the next day."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text

from ciimap.inventory.models import Vendor

LATE = dt.datetime(2026, 1, 1, 20, 0, tzinfo=dt.UTC)


def test_sessions_read_and_group_in_utc(database):
    with database.unit_of_work() as s:
        s.add(Vendor(name="时区测试", created_at=LATE, updated_at=LATE))
    with database.read_session() as s:
        v = s.scalars(select(Vendor).where(Vendor.name == "时区测试")).one()
        got = v.created_at if v.created_at.tzinfo else v.created_at.replace(tzinfo=dt.UTC)
        assert got == LATE and got.utcoffset() in (None, dt.timedelta(0))
        day = s.scalar(select(func.date(Vendor.created_at)).where(Vendor.name == "时区测试"))
        assert str(day) == "2026-01-01"
        if not database.is_sqlite:
            assert s.scalar(text("SHOW TimeZone")) == "UTC"
