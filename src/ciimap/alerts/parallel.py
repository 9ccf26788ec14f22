"""Large alert imports shared by several queue workers (PostgreSQL).

An uploaded file larger than ``$CIIMAP_ALERT_SPLIT_MB`` (default 64) is cut at line boundaries into
parts (at most :data:`MAX_PARTS`, one per :func:`split_bytes`), each queued as its own job
(``alerts-import-part``) that any ``ciimap worker`` — on this machine or another — takes: it reads,
maps, matches intelligence and writes its part as one run (line numbers stay the whole file's:
option ``first_line``). Grouping and warnings need every alert in time order, so the parts skip them
(option ``part_of``) and the **last part to finish** folds the alerts of all the parts into groups and
evaluates the warning rules (:func:`after_part`; a PostgreSQL advisory lock makes "last" exact).

SQLite has one writer: imports run in-process as one job there, never split.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.orm import Session

from ciimap.alerts import load, warnings
from ciimap.alerts.groups import GroupState, after_chunk
from ciimap.alerts.models import Alert
from ciimap.core import jobs, uploads
from ciimap.core.errors import Invalid
from ciimap.ingest.models import ImportRun

DEFAULT_SPLIT_MB = 64
MAX_PARTS = 16
#: Advisory lock namespace of the split imports (key: this + the parent job id).
LOCK = 0x616C7274_00000000
_READ = 1 << 20


def split_bytes() -> int:
    raw = os.environ.get("CIIMAP_ALERT_SPLIT_MB", "")
    try:
        mb = float(raw) if raw else DEFAULT_SPLIT_MB
    except ValueError:
        mb = -1
    if mb <= 0:
        raise Invalid(f"CIIMAP_ALERT_SPLIT_MB: a positive number of megabytes, not {raw!r}")
    return int(mb * 1024 * 1024)


def parts_for(size: int) -> int:
    """How many parts a file of ``size`` bytes is cut into (1: not split)."""
    return max(1, min(MAX_PARTS, -(-size // split_bytes())))


def _new_folder() -> Path:
    folder = uploads.root() / secrets.token_hex(8)
    folder.mkdir(parents=True)
    return folder


def split(path: Path, parts: int) -> list[tuple[Path, int]]:
    """Cut ``path`` into about ``parts`` files of similar size, each in its own upload folder, only
    between lines, and never before a line that starts with a space, a tab or ``}`` (the inside or end
    of a pretty-printed JSON object). Returns each part with the number of its first line. Read in
    blocks: a very long line is never held whole."""
    size = path.stat().st_size
    target = max(1, -(-size // max(1, parts)))
    out: list[tuple[Path, int]] = []
    line = 1
    written = 0
    dst = None
    at_line_start = True
    try:
        with path.open("rb") as src:
            while block := src.readline(_READ):
                if at_line_start and (
                    dst is None or (written >= target and block[:1] not in (b" ", b"\t", b"}"))
                ):
                    if dst is not None:
                        dst.close()
                    part = _new_folder() / f"{len(out) + 1:02d}-{path.name}"
                    dst = part.open("xb")
                    out.append((part, line))
                    written = 0
                if dst is None:  # pragma: no cover - the first block always opens a part
                    raise RuntimeError("split: no part open")
                dst.write(block)
                written += len(block)
                at_line_start = block.endswith(b"\n")
                if at_line_start:
                    line += 1
    except BaseException:
        for part, _n in out:
            uploads.discard(part.parent)
        raise
    finally:
        if dst is not None:
            dst.close()
    return out


def queue_parts(
    session: Session,
    *,
    batch: int,
    kind: str,
    paths: list[Path],
    options: dict[str, Any],
    actor: str,
) -> dict[str, Any]:
    """Split each file and queue one ``alerts-import-part`` job per part (started when the caller's
    transaction commits); each part's upload folder belongs to its job."""
    queued: list[int] = []
    planned = [(p, parts_for(p.stat().st_size)) for p in paths]
    pieces = [piece for p, n in planned for piece in split(p, n)]
    for part, first in pieces:
        job = jobs.submit(
            session,
            "alerts-import-part",
            {
                "kind": kind,
                "path": str(part),
                "options": {**options, "first_line": first, "part_of": batch},
                "parts": len(pieces),
            },
            actor=actor,
            upload_dir=part.parent,
        )
        queued.append(job.id)
    return {"batch": batch, "parts": len(pieces), "jobs": queued}


def after_part(session: Session, *, kind: str, batch: int, parts: int) -> dict[str, Any] | None:
    """After a part's run (same transaction): if every part has now succeeded, fold them (groups,
    warnings) and return what the fold did; else None. The advisory lock (held to commit) orders the
    parts finishing at once: the last to take it sees every other part's committed run."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK + batch})
    runs = list(
        session.scalars(
            select(ImportRun.id)
            .where(ImportRun.scope == f"{kind}:part-of:{batch}", ImportRun.status == "succeeded")
            .order_by(ImportRun.id)
        )
    )
    if len(runs) < parts:
        return None
    return fold(session, runs)


def fold(session: Session, run_ids: list[int]) -> dict[str, Any]:
    """Group the alerts of ``run_ids`` (in time order, per loader chunk, as one import would) and
    evaluate the warning rules from their first alert on."""
    state = GroupState.start(session, run_ids[0])
    cols = [Alert.__table__.c[c] for c in load.COLUMNS]
    stmt = select(*cols).where(Alert.run_id.in_(run_ids)).order_by(Alert.time, Alert.id).limit(load.CHUNK)
    page = stmt
    while rows := [tuple(r) for r in session.execute(page)]:  # keyset pages: no cursor open during writes
        after_chunk(session, state, load.COLUMNS, rows)
        last = rows[-1]
        page = stmt.where(tuple_(Alert.time, Alert.id) > tuple_(last[1], last[0]))
    first = session.scalar(
        select(func.min(Alert.time)).where(Alert.run_id.in_(run_ids), Alert.reject.is_(None))
    )
    found = warnings.evaluate(session, since=first) if first is not None else {"opened": 0, "updated": 0}
    return {
        "runs": run_ids,
        **state.counts,
        "warnings_opened": found["opened"],
        "warnings_updated": found["updated"],
    }
