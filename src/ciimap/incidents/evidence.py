"""Evidence files of an incident with their chain of custody.

Files are stored once by content under ``data_dir/evidence/<sha256[:2]>/<sha256>``, the compliance
domain's store (``compliance.assessment.evidence_path``): same place, same layout, one copy per content.
Each file keeps who collected it and every later hand-over (``incident_custody``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.compliance.assessment import evidence_path, evidence_root
from ciimap.core import uploads
from ciimap.core.errors import Invalid, NotFound, TooLarge
from ciimap.incidents import service
from ciimap.incidents.models import Custody, EvidenceFile

_CHUNK = 1 << 20


def _store(source: Path, name: str) -> tuple[str, int]:
    """Copy ``source`` into the store in chunks (upload limit enforced); its SHA-256 and size."""
    root = evidence_root()
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{secrets.token_hex(8)}"
    h, total = hashlib.sha256(), 0
    try:
        with source.open("rb") as src, tmp.open("xb") as out:
            while chunk := src.read(_CHUNK):
                total += len(chunk)
                if total > uploads.limit_bytes():
                    raise TooLarge(f"{name}: {uploads.too_large_message()}")
                h.update(chunk)
                out.write(chunk)
        final = evidence_path(h.hexdigest())
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise Invalid(f"{source}: cannot read the evidence file ({e.strerror or e})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return h.hexdigest(), total


def attach(
    session: Session,
    *,
    incident_id: int,
    viewer_org: int | None,
    source: Path,
    filename: str | None = None,
    description: str | None = None,
) -> EvidenceFile:
    inc = service.get(session, incident_id, viewer_org)
    name = uploads.safe_name(filename or source.name, "evidence")
    digest, size = _store(source, name)
    ev = EvidenceFile(incident_id=inc.id, filename=name, sha256=digest, size=size, description=description)
    session.add(ev)
    session.flush()
    session.add(Custody(evidence_id=ev.id, actor=service.actor(), action="collected", note=description))
    service.log(
        session, inc.id, "evidence", f"证据：{name}（SHA-256 {digest}）", evidence_id=ev.id, sha256=digest
    )
    return ev


def _evidence(session: Session, evidence_id: int, viewer_org: int | None) -> EvidenceFile:
    ev = session.get(EvidenceFile, evidence_id)
    if ev is None:
        raise NotFound(f"evidence {evidence_id} does not exist")
    service.get(session, ev.incident_id, viewer_org)
    return ev


def hand_over(
    session: Session, *, evidence_id: int, viewer_org: int | None, action: str, note: str | None = None
) -> dict[str, Any]:
    """Record that the caller handled the file (transferred, analysed, returned, ...)."""
    ev = _evidence(session, evidence_id, viewer_org)
    if not action.strip():
        raise Invalid("say what was done with the evidence (e.g. transferred, analysed)")
    session.add(Custody(evidence_id=ev.id, actor=service.actor(), action=action[:32], note=note))
    service.log(session, ev.incident_id, "evidence", f"证据 {ev.filename}：{action}", evidence_id=ev.id)
    session.flush()
    return next(
        e for e in listing(session, incident_id=ev.incident_id, viewer_org=viewer_org) if e["id"] == ev.id
    )


def listing(session: Session, *, incident_id: int, viewer_org: int | None) -> list[dict[str, Any]]:
    service.get(session, incident_id, viewer_org)
    files = session.scalars(
        select(EvidenceFile).where(EvidenceFile.incident_id == incident_id).order_by(EvidenceFile.id)
    ).all()
    custody: dict[int, list[dict[str, Any]]] = {}
    if files:
        rows = session.scalars(
            select(Custody).where(Custody.evidence_id.in_([f.id for f in files])).order_by(Custody.id)
        )
        for c in rows:
            custody.setdefault(c.evidence_id, []).append(
                {"at": c.at, "actor": c.actor, "action": c.action, "note": c.note}
            )
    return [
        {"id": f.id, "filename": f.filename, "sha256": f.sha256, "size": f.size,
         "description": f.description, "created_at": f.created_at, "custody": custody.get(f.id, [])}
        for f in files
    ]  # fmt: skip


def file(session: Session, *, evidence_id: int, viewer_org: int | None) -> tuple[Path, str]:
    ev = _evidence(session, evidence_id, viewer_org)
    path = evidence_path(ev.sha256)
    if not path.is_file():
        raise NotFound(
            f"evidence {evidence_id}: the stored file {ev.sha256} is missing from {evidence_root()}"
        )
    return path, ev.filename
