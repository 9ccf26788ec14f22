"""State shared by the loaders during one import run."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ciimap.core import bulk
from ciimap.ingest.correlate import Decisions
from ciimap.ingest.models import ChangeEvent


@dataclass
class RunCtx:
    session: Session
    run_id: int
    source: str
    scope: str
    now: dt.datetime
    #: First run of this scope: the baseline, so no "new"/"opened" events (everything would be new).
    baseline: bool
    order: tuple[str, ...]
    decisions: Decisions
    track_scope: bool = True
    #: Rows are declared by their owner (a register), not observed by a scan or agent.
    declares: bool = False
    #: The run's input files (name, path, size, sha256) and per-file notes, as the runner recorded them.
    files: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    stats: Counter[str] = field(default_factory=Counter)
    events: list[dict[str, Any]] = field(default_factory=list)
    _stored_now: Any = None

    @property
    def stored_now(self) -> Any:
        """``now`` as the database stores it (see ``bulk.db_timestamp``), computed once per run."""
        if self._stored_now is None:
            self._stored_now = bulk.db_timestamp(self.session, self.now)
        return self._stored_now

    def event(
        self,
        kind: str,
        asset_id: int | None,
        subject: str | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        self.events.append(
            {
                "run_id": self.run_id,
                "asset_id": asset_id,
                "kind": kind,
                "subject": subject,
                "before": before,
                "after": after,
                "at": self.now,
            }
        )

    def flush_events(self) -> None:
        if self.events:
            bulk.insert_rows(self.session, ChangeEvent.__table__, self.events)
            self.stats["changes"] += len(self.events)
            self.events = []
