"""``import_feed``: a feed import in the feed command's terms, run by the one import runner."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from ciimap import sources
from ciimap.core.jobs import Progress
from ciimap.ingest.service import import_files
from ciimap.vulns.feeds.source import FeedResult


def import_feed(
    session: Session,
    *,
    kind: str,
    path: str | Path,
    snapshot_date: dt.date | None = None,
    rematch: bool = True,
    allow_shrink: bool = False,
    progress: Progress | None = None,
) -> FeedResult:
    """Parse and store one feed (all-or-nothing in the caller's transaction), then re-match.

    Empty, cut, undecodable and bomb files are refused (one ``InputFileError``) before anything is
    written; so is a KEV/EPSS snapshot that would shrink its catalogue sharply (``allow_shrink``).
    The run is recorded like every import (``ciimap runs list``), a failed one with its error."""
    sources.get(kind, family="feeds")
    result: FeedResult = import_files(
        session,
        kind=kind,
        paths=[Path(path)],
        progress=progress,
        options={"snapshot_date": snapshot_date, "rematch": rematch, "allow_shrink": allow_shrink},
    )
    return result
