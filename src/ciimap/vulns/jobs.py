"""Background jobs: feed import (upload via the API) and re-matching.

Other domains queue a re-match after software changes with::

    jobs.submit(session, "vulns.match", {"software_ids": [...]} , actor=...)

or, inside their own unit of work, call ``ciimap.vulns.service.rematch_for(session, software_ids=...)``
directly (synchronous, same transaction; a few milliseconds for one SBOM).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ciimap.core import jobs
from ciimap.vulns import service
from ciimap.vulns.feed_import import import_feed


@jobs.job("vulns.match")
def match_job(session: Session, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    """Full re-match, or only the assets/systems behind the given software/endpoint ids."""
    progress(0, 1, "matching")
    scoped = {
        k: params.get(k) for k in ("software_ids", "asset_ids", "system_ids", "endpoint_ids") if params.get(k)
    }
    result = service.rematch_for(session, **scoped) if scoped else service.match(session)
    progress(1, 1, f"{result.get('findings', 0)} findings", force=True)
    return result


@jobs.job("vulns.feed_import")
def feed_import_job(session: Session, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    """Import an uploaded feed file, then re-match everything (same transaction)."""
    progress(0, 2, f"importing {params['kind']}")
    snap = dt.date.fromisoformat(params["snapshot_date"]) if params.get("snapshot_date") else None
    result = import_feed(
        session,
        kind=params["kind"],
        path=params["path"],
        snapshot_date=snap,
        allow_shrink=bool(params.get("allow_shrink")),
    )
    progress(2, 2, f"{result['records']} records", force=True)
    return dict(result)
