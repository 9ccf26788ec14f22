"""The ``import`` job: API uploads and discovery scans queue imports that report progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ciimap.core import jobs
from ciimap.core.errors import Invalid
from ciimap.ingest import service


@jobs.job("import")
def import_job(session: Session, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    """params: {"kind", "paths", "options", "scope"} — see ``service.import_files``."""
    paths = params.get("paths") or []
    if not isinstance(paths, list) or not paths:
        raise Invalid("import job needs a non-empty 'paths' list")
    return service.import_files(
        session,
        kind=str(params.get("kind")),
        paths=[Path(p) for p in paths],
        progress=progress,
        options=params.get("options") or {},
        scope=params.get("scope"),
    )
