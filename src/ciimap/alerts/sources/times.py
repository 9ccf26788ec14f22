"""Timestamps as sensors write them; a time without a zone is read in the site's zone, a date without a
year (RFC 3164) gets the year that puts it at most a day after the import's reference time."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
#: RFC 3164 ``Mmm dd hh:mm:ss`` (day space-padded), optionally with a year (Cisco ``Mmm dd yyyy``),
#: fractions and a trailing ``:`` (ASA).
BSD = re.compile(
    r"(?P<mon>[A-Za-z]{3}) +(?P<day>\d{1,2})(?: (?P<year>\d{4}))? (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)(?:\.\d+)?:?"
)
#: ``2018/10/05 09:52:14`` (Huawei) and ``2019-05-10 11:37:47`` (FortiGate's date= time=, Palo Alto).
NUMERIC = re.compile(r"(?P<y>\d{4})[/-](?P<mo>\d\d)[/-](?P<d>\d\d)[ T](?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)")


#: Years a sensor's clock can plausibly show; anything else is a broken or hostile line (and year 1 with
#: a +08:00 offset cannot even be converted to UTC).
YEARS = range(1970, 2200)


def sane(t: dt.datetime | None) -> dt.datetime | None:
    return t if t is not None and t.year in YEARS else None


@dataclass(frozen=True)
class Clock:
    """The site's zone, the reference time for year inference, and a forced year (an option)."""

    zone: ZoneInfo
    reference: dt.datetime
    year: int | None = None

    def iso(self, text: str) -> dt.datetime | None:
        try:
            t = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            return None
        return sane(t if t.tzinfo else t.replace(tzinfo=self.zone))

    def bsd(self, m: re.Match[str]) -> dt.datetime | None:
        month = MONTHS.get(m["mon"].lower())
        if month is None:
            return None
        try:
            if m["year"] or self.year:
                year = int(m["year"] or self.year or 0)
                if year not in YEARS:
                    return None
                return dt.datetime(
                    year, month, int(m["day"]), int(m["h"]), int(m["m"]), int(m["s"]), tzinfo=self.zone
                )
            ref = self.reference.astimezone(self.zone)
            t = dt.datetime(
                ref.year, month, int(m["day"]), int(m["h"]), int(m["m"]), int(m["s"]), tzinfo=self.zone
            )
        except ValueError:  # 31 Feb, hour 25, or 29 Feb of a common year
            return None
        if t - ref > dt.timedelta(days=1):  # "Dec 31" read in January is last year's
            t = t.replace(year=ref.year - 1)
        return t

    def numeric(self, m: re.Match[str]) -> dt.datetime | None:
        if int(m["y"]) not in YEARS:
            return None
        try:
            return dt.datetime(
                int(m["y"]),
                int(m["mo"]),
                int(m["d"]),
                int(m["h"]),
                int(m["m"]),
                int(m["s"]),
                tzinfo=self.zone,
            )
        except ValueError:
            return None
