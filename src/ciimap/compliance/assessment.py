"""Assessments (测评): per system and cycle, the applicable catalog items × test objects, their results,
evidence files, links to map records, the risk register, scores and the conclusion.

On creation the items are chosen from the catalog (``catalogs.items_for``) by the level, S/A levels and
extensions of the system's current filed grading, else of its ``mlps_*`` fields, and kept with the
assessment (``compliance_assessment_item``): a result for an item outside that selection is refused.
Saving one result is one small transaction (a handful of statements). docs/compliance-assessment.md.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import os
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ciimap.compliance import scoring
from ciimap.compliance import service as grading
from ciimap.compliance.catalogs import items_for, load_catalog
from ciimap.compliance.models import (
    ASSESSMENT_KINDS,
    ASSESSMENT_STATES,
    LABELS,
    LINK_TARGETS,
    RECT_OPEN,
    RESULT_CODES,
    Assessment,
    AssessmentItem,
    Evidence,
    Grading,
    ItemResult,
    Link,
    Rectification,
    Risk,
    TestObject,
)
from ciimap.compliance.schemas import (
    AssessmentIn,
    BulkIn,
    LinkIn,
    LinkRef,
    ResultIn,
    RiskIn,
    TestObjectIn,
)
from ciimap.config import get_settings
from ciimap.core import audit, uploads
from ciimap.core.db import INSERT_BATCH, chunks, utcnow
from ciimap.core.errors import Conflict, Invalid, NotFound, TooLarge, check_choice
from ciimap.inventory import models as inv
from ciimap.vulns.models import Finding

#: Months a cycle may last (the label says which part of the year it is).
CYCLE_MONTHS = (3, 6, 12, 24, 36)
#: Map record behind each link target (``supplier``: a vendor of the map; its supply profile hangs on it).
TARGETS: dict[str, Any] = {
    "asset": inv.Asset,
    "finding": Finding,
    "supplier": inv.Vendor,
    "system": inv.System,
    "contact": inv.Contact,
}
_CHUNK = 1024 * 1024


# --- cycles ------------------------------------------------------------------------------------------------


def cycle_rule(text: str | None = None) -> dict[int, int]:
    """``CIIMAP_ASSESSMENT_CYCLES`` as {level: months}: ``"1:24,2:24,3:12,4:6"``."""
    value = text if text is not None else get_settings().assessment_cycles
    out: dict[int, int] = {}
    for part in value.split(","):
        lvl, sep, months = part.strip().partition(":")
        if not sep or not lvl.strip().isdigit() or not months.strip().isdigit():
            raise Invalid(
                f"CIIMAP_ASSESSMENT_CYCLES must be 'level:months,...' (e.g. 3:12,4:6), got {value!r}"
            )
        m = int(months)
        if m not in CYCLE_MONTHS:
            raise Invalid(
                f"CIIMAP_ASSESSMENT_CYCLES: {m} months is not one of {', '.join(map(str, CYCLE_MONTHS))}"
            )
        out[int(lvl)] = m
    return out


def cycle_months(level: int) -> int:
    """How many months an assessment of ``level`` lasts before the next one is due (12 when not set)."""
    return cycle_rule().get(level, 12)


def cycle_label(day: dt.date, months: int) -> str:
    """The cycle ``day`` falls in: ``2026`` (a year or more), ``2026-H2`` (half-yearly), ``2026-Q4``."""
    if months == 6:
        return f"{day.year}-H{1 if day.month <= 6 else 2}"
    if months == 3:
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


# --- helpers -----------------------------------------------------------------------------------------------


def _get(session: Session, assessment_id: int, *, lock: bool = False) -> Assessment:
    a = session.get(Assessment, assessment_id, with_for_update=lock)
    if a is None:
        raise NotFound(f"assessment {assessment_id} does not exist")
    return a


def _open(session: Session, assessment_id: int) -> Assessment:
    a = _get(session, assessment_id)
    if a.state != "open":
        raise Conflict(f"assessment {a.id} is closed: its results can no longer change")
    return a


def _item(session: Session, a: Assessment, ref: str) -> AssessmentItem:
    """An item of the assessment's selection by id (``22239-2019:8.1.4.1.a``) or stable key."""
    rows = list(
        session.scalars(
            select(AssessmentItem)
            .where(
                AssessmentItem.assessment_id == a.id,
                or_(AssessmentItem.item_id == ref, AssessmentItem.item_key == ref),
            )
            .limit(2)
        )
    )
    if not rows:
        raise Invalid(
            f"item '{ref}' is not in assessment {a.id}'s selection ({a.catalog}, level {a.level} "
            f"S{a.s_level}A{a.a_level}{', ' + '/'.join(a.extensions) if a.extensions else ''})"
        )
    exact = [r for r in rows if r.item_id == ref]
    return exact[0] if exact else rows[0]


def _object(session: Session, a: Assessment, object_id: int) -> TestObject:
    obj = session.get(TestObject, object_id)
    if obj is None or obj.assessment_id != a.id:
        raise Invalid(f"test object {object_id} is not part of assessment {a.id}")
    return obj


def _check_links(session: Session, links: Iterable[LinkRef]) -> list[tuple[str, int]]:
    wanted: list[tuple[str, int]] = sorted({(str(lk.target_type), lk.target_id) for lk in links})
    by_type: dict[str, list[int]] = defaultdict(list)
    for t, i in wanted:
        by_type[t].append(i)
    for t, ids in by_type.items():
        check_choice("target_type", t, LINK_TARGETS)
        model = TARGETS[t]
        found = set(session.scalars(select(model.id).where(model.id.in_(ids))))
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"{t} {', '.join(map(str, missing))} does not exist (link target)")
    return wanted


def _add_links(session: Session, owner_type: str, owner_id: int, links: Iterable[LinkRef]) -> None:
    wanted = _check_links(session, links)
    if not wanted:
        return
    have = set(
        session.execute(
            select(Link.target_type, Link.target_id).where(
                Link.owner_type == owner_type, Link.owner_id == owner_id
            )
        ).tuples()
    )
    session.add_all(
        Link(owner_type=owner_type, owner_id=owner_id, target_type=t, target_id=i)
        for t, i in wanted
        if (t, i) not in have
    )


def links_of(session: Session, owner_type: str, owner_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    ids = list(set(owner_ids))
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return out
    rows = session.scalars(
        select(Link).where(Link.owner_type == owner_type, Link.owner_id.in_(ids)).order_by(Link.id)
    )
    for lk in rows:
        out[lk.owner_id].append(
            {
                "id": lk.id,
                "owner_type": lk.owner_type,
                "owner_id": lk.owner_id,
                "target_type": lk.target_type,
                "target_id": lk.target_id,
            }
        )
    return out


def add_link(session: Session, *, data: LinkIn) -> Link:
    """Link a result, risk or rectification to a map record (an existing link is returned as it is)."""
    owners: dict[str, Any] = {"result": ItemResult, "risk": Risk, "rectification": Rectification}
    if session.get(owners[data.owner_type], data.owner_id) is None:
        raise NotFound(f"{data.owner_type} {data.owner_id} does not exist")
    _add_links(session, data.owner_type, data.owner_id, [data])
    session.flush()
    link = session.scalar(
        select(Link).where(
            Link.owner_type == data.owner_type,
            Link.owner_id == data.owner_id,
            Link.target_type == data.target_type,
            Link.target_id == data.target_id,
        )
    )
    assert link is not None
    return link


def remove_link(session: Session, *, link_id: int) -> None:
    link = session.get(Link, link_id)
    if link is None:
        raise NotFound(f"link {link_id} does not exist")
    session.delete(link)
    session.flush()


# --- creating ----------------------------------------------------------------------------------------------


def system_levels(session: Session, system: inv.System) -> dict[str, Any]:
    """Level, S/A levels and extensions of a system: its current (latest filed) grading, else its
    ``mlps_*`` fields (no extensions). A system with neither has no level: refused."""
    g = session.scalar(
        select(Grading)
        .where(Grading.system_id == system.id, Grading.state == "filed")
        .order_by(Grading.round.desc())
        .limit(1)
    )
    if g is not None:
        return {
            "level": g.level,
            "s_level": g.s_level,
            "a_level": g.a_level,
            "extensions": list(g.extensions or []),
            "grading_id": g.id,
            "level_source": "grading",
        }
    if system.mlps_level is None:
        raise Invalid(
            f"system '{system.name}' has no level: file a grading (ciimap grading ...) or set its mlps_level"
        )
    return {
        "level": system.mlps_level,
        "s_level": system.mlps_s_level or system.mlps_level,
        "a_level": system.mlps_a_level or system.mlps_level,
        "extensions": [],
        "grading_id": None,
        "level_source": "system",
    }


def _object_name(taken: set[str], asset: inv.Asset) -> str:
    name = asset.name[:180]
    if name in taken:
        name = f"{name} (#{asset.id})"
    taken.add(name)
    return name


def create_assessment(session: Session, *, data: AssessmentIn) -> Assessment:
    """Start an assessment: the items that apply are chosen and stored with it; with
    ``include_assets`` every asset of the system becomes a test object."""
    system = session.get(inv.System, data.system_id, with_for_update=True)
    if system is None:
        raise NotFound(f"system {data.system_id} does not exist")
    levels = system_levels(session, system)
    cat = load_catalog(data.catalog)
    extensions = [e for e in levels["extensions"] if e in cat.extensions]
    selected = items_for(cat, levels["level"], extensions, levels["s_level"], levels["a_level"])
    if not selected:
        raise Invalid(f"catalog {cat.id} has no item for level {levels['level']}")
    started = data.started_on or grading._today()
    if started > grading._today():
        raise Invalid(f"started_on {started.isoformat()} is in the future")
    months = cycle_months(levels["level"])
    cycle = data.cycle or cycle_label(started, months)
    dup = session.scalar(
        select(Assessment.id).where(
            Assessment.system_id == system.id, Assessment.cycle == cycle, Assessment.kind == data.kind
        )
    )
    if dup is not None:
        raise Conflict(
            f"system '{system.name}' already has a {data.kind} assessment in cycle {cycle} (id {dup})"
        )
    a = Assessment(
        system_id=system.id,
        grading_id=levels["grading_id"],
        cycle=cycle,
        kind=data.kind,
        body=data.body,
        state="open",
        catalog=cat.id,
        catalog_version=f"{cat.version}/{cat.data_version}",
        level=levels["level"],
        s_level=levels["s_level"],
        a_level=levels["a_level"],
        extensions=extensions,
        level_source=levels["level_source"],
        started_on=started,
        next_due=add_months(started, months),
        notes=data.notes,
    )
    session.add(a)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"system '{system.name}': an assessment in cycle {cycle} was started at the same time"
        ) from None
    rows: list[dict[str, Any]] = [
        {
            "assessment_id": a.id,
            "ordinal": i,
            "item_id": li.id,
            "item_key": li.item.key,
            "level": li.level,
            "part": li.item.part,
            "category": li.item.category.zh,
            "control_point": li.item.control_point.zh,
            "kind": li.item.kind,
        }
        for i, li in enumerate(selected, 1)
    ]
    session.execute(insert(AssessmentItem), rows)
    digest = hashlib.sha256("\n".join(str(r["item_id"]) for r in rows).encode()).hexdigest()
    audit.record_bulk(
        session,
        "create",
        AssessmentItem.__tablename__,
        count=len(rows),
        digest=digest,
        detail={"assessment_id": a.id},
    )
    if data.include_assets:
        assets = session.scalars(
            select(inv.Asset).where(inv.Asset.system_id == system.id).order_by(inv.Asset.id)
        )
        taken: set[str] = set()
        session.add_all(
            TestObject(assessment_id=a.id, kind="asset", asset_id=x.id, name=_object_name(taken, x))
            for x in assets
        )
        session.flush()
    return a


def add_object(session: Session, *, assessment_id: int, data: TestObjectIn) -> TestObject:
    """A test object: an asset of the map (any asset: a system's boundary devices may belong to another)
    or a named non-asset object (a policy document, a machine room)."""
    a = _open(session, assessment_id)
    name = data.name
    if data.asset_id is not None:
        asset = session.get(inv.Asset, data.asset_id)
        if asset is None:
            raise NotFound(f"asset {data.asset_id} does not exist")
        if session.scalar(
            select(TestObject.id).where(TestObject.assessment_id == a.id, TestObject.asset_id == asset.id)
        ):
            raise Conflict(f"asset {asset.id} is already a test object of assessment {a.id}")
        taken = set(session.scalars(select(TestObject.name).where(TestObject.assessment_id == a.id)))
        name = name or _object_name(taken, asset)
    assert name is not None
    if session.scalar(select(TestObject.id).where(TestObject.assessment_id == a.id, TestObject.name == name)):
        raise Conflict(f"assessment {a.id} already has a test object named '{name}'")
    obj = TestObject(
        assessment_id=a.id,
        kind="asset" if data.asset_id is not None else (data.kind or "other"),
        asset_id=data.asset_id,
        name=name,
        description=data.description,
    )
    session.add(obj)
    session.flush()
    return obj


# --- results -----------------------------------------------------------------------------------------------


def _verify_rectifications(
    session: Session, a: Assessment, pairs: list[tuple[AssessmentItem, TestObject]]
) -> list[int]:
    """符合 results of a later assessment verify the open rectifications of the same system, item and
    object (an asset by id, another object by name); each change is audited. One query for any number
    of pairs (a bulk set)."""
    if not pairs:
        return []
    earlier = select(Assessment.id).where(
        Assessment.system_id == a.system_id, Assessment.started_on <= a.started_on
    )
    keys = sorted({item.item_key for item, _ in pairs})
    q = select(Rectification).where(
        Rectification.system_id == a.system_id,
        Rectification.status.in_(RECT_OPEN),
        Rectification.assessment_id != a.id,
        Rectification.assessment_id.in_(earlier),
    )
    if len(keys) == 1:  # one result saved: the indexed (system, item_key, status) lookup
        q = q.where(Rectification.item_key == keys[0])
    wanted: dict[tuple[str, int | None, str | None], tuple[AssessmentItem, TestObject]] = {}
    for item, obj in pairs:
        ident = (item.item_key, obj.asset_id, None if obj.asset_id is not None else obj.name)
        wanted[ident] = (item, obj)
    verified: list[int] = []
    for r in session.scalars(q.order_by(Rectification.id)):
        if r.item_key is None:
            continue
        hit = wanted.get(
            (r.item_key, r.object_asset_id, None if r.object_asset_id is not None else r.object_name)
        )
        if hit is None:
            continue
        item, obj = hit
        r.status = "verified"
        r.verified_on = grading._today()
        r.verified_by_assessment_id = a.id
        r.verification_note = (
            f"复测符合 / verified: assessment {a.id} ({a.cycle}), {item.item_id} on '{obj.name}'"
        )
        verified.append(r.id)
    return verified


def _result_out(
    r: ItemResult, item: AssessmentItem, obj: TestObject, verified: list[int] | None = None
) -> dict[str, Any]:
    return {
        "id": r.id,
        "assessment_id": r.assessment_id,
        "item_id": item.item_id,
        "item_key": item.item_key,
        "object_id": obj.id,
        "object": obj.name,
        "result": r.result,
        "result_zh": LABELS[r.result][0],
        "method": r.method,
        "assessor": r.assessor,
        "notes": r.notes,
        "updated_at": r.updated_at,
        "verified_rectifications": verified or [],
        "evidence": [],
        "links": [],
    }


def set_result(session: Session, *, assessment_id: int, data: ResultIn) -> dict[str, Any]:
    """Save one item × test object result (created or replaced), with its links. A 符合 result verifies the
    open rectifications of earlier assessments on the same item and object."""
    a = _open(session, assessment_id)
    item = _item(session, a, data.item)
    obj = _object(session, a, data.object_id)
    r = session.scalar(
        select(ItemResult).where(ItemResult.item_row_id == item.id, ItemResult.object_id == obj.id)
    )
    if r is None:
        r = ItemResult(assessment_id=a.id, item_row_id=item.id, object_id=obj.id)
        session.add(r)
    r.result, r.method, r.assessor, r.notes = data.result, data.method, data.assessor, data.notes
    try:
        session.flush()
    except IntegrityError:  # the same pair saved at the same moment elsewhere
        raise Conflict(
            f"{item.item_id} on '{obj.name}' was saved at the same time elsewhere: try again"
        ) from None
    if data.links:
        _add_links(session, "result", r.id, data.links)
    verified = _verify_rectifications(session, a, [(item, obj)]) if data.result == "pass" else []
    session.flush()
    out = _result_out(r, item, obj, verified)
    out["links"] = links_of(session, "result", [r.id]).get(r.id, []) if data.links else []
    return out


def get_result(session: Session, *, result_id: int) -> dict[str, Any]:
    r = session.get(ItemResult, result_id)
    if r is None:
        raise NotFound(f"result {result_id} does not exist")
    item = session.get(AssessmentItem, r.item_row_id)
    obj = session.get(TestObject, r.object_id)
    assert item is not None and obj is not None
    out = _result_out(r, item, obj)
    out["evidence"] = [
        {
            "id": e.id,
            "result_id": e.result_id,
            "filename": e.filename,
            "sha256": e.sha256,
            "size": e.size,
            "uploaded_by": e.uploaded_by,
            "created_at": e.created_at,
        }
        for e in session.scalars(select(Evidence).where(Evidence.result_id == r.id).order_by(Evidence.id))
    ]
    out["links"] = links_of(session, "result", [r.id]).get(r.id, [])
    return out


def bulk_set(session: Session, *, assessment_id: int, data: BulkIn) -> dict[str, Any]:
    """One result for many items × objects, in one transaction; audited as one bulk record per action."""
    a = _open(session, assessment_id)
    q = select(AssessmentItem).where(AssessmentItem.assessment_id == a.id)
    if data.category is not None:
        q = q.where(AssessmentItem.category == data.category)
    if data.control_point is not None:
        q = q.where(AssessmentItem.control_point == data.control_point)
    items = list(session.scalars(q.order_by(AssessmentItem.ordinal)))
    if data.items is not None:
        by_ref: dict[str, AssessmentItem] = {}
        for it in items:
            by_ref.setdefault(it.item_key, it)
            by_ref[it.item_id] = it
        outside = [ref for ref in data.items if ref not in by_ref]
        if outside:
            raise Invalid(
                f"item(s) {', '.join(outside[:5])}{' ...' if len(outside) > 5 else ''} not in assessment "
                f"{a.id}'s selection{' (with the category / control point given)' if data.category or data.control_point else ''}"
            )
        items = list({by_ref[ref].id: by_ref[ref] for ref in data.items}.values())
    if not items:
        raise Invalid("no item matches: check the category / control point")
    objs = list(
        session.scalars(select(TestObject).where(TestObject.assessment_id == a.id).order_by(TestObject.id))
    )
    if data.object_ids is not None:
        known = {o.id: o for o in objs}
        outside_o = sorted({i for i in data.object_ids if i not in known})
        if outside_o:
            raise Invalid(f"test object(s) {', '.join(map(str, outside_o))} not part of assessment {a.id}")
        objs = [known[i] for i in dict.fromkeys(data.object_ids)]
    if not objs:
        raise Invalid(f"assessment {a.id} has no test object: add one first")
    item_ids = [it.id for it in items]
    obj_ids = [o.id for o in objs]
    existing = {
        (row.item_row_id, row.object_id): row
        for row in session.execute(
            select(
                ItemResult.id,
                ItemResult.item_row_id,
                ItemResult.object_id,
                ItemResult.result,
                ItemResult.method,
                ItemResult.assessor,
                ItemResult.notes,
            ).where(
                ItemResult.assessment_id == a.id,
                ItemResult.item_row_id.in_(item_ids),
                ItemResult.object_id.in_(obj_ids),
            )
        )
    }
    values = {"result": data.result, "method": data.method, "assessor": data.assessor, "notes": data.notes}
    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    changed: list[int] = []
    written: list[tuple[AssessmentItem, TestObject]] = []  # pairs that now hold this result
    unchanged = 0
    for it in items:
        for o in objs:
            old = existing.get((it.id, o.id))
            if old is None or not data.only_unset:
                written.append((it, o))
            if old is None:
                new_rows.append(
                    {
                        "assessment_id": a.id,
                        "item_row_id": it.id,
                        "object_id": o.id,
                        **values,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            elif data.only_unset or (old.result, old.method, old.assessor, old.notes) == tuple(
                values.values()
            ):
                unchanged += 1
            else:
                changed.append(old.id)
    for rows in chunks(new_rows, INSERT_BATCH):
        session.execute(insert(ItemResult), rows)
    for batch in chunks(changed):
        session.execute(update(ItemResult).where(ItemResult.id.in_(batch)).values(**values, updated_at=now))
    digest = hashlib.sha256(f"{a.id}|{values}|{sorted(item_ids)}|{sorted(obj_ids)}".encode()).hexdigest()
    if new_rows or changed:
        audit.record_bulk(
            session,
            "bulk_set",
            ItemResult.__tablename__,
            count=len(new_rows) + len(changed),
            digest=digest,
            detail={
                "assessment_id": a.id,
                **values,
                "created": len(new_rows),
                "updated": len(changed),
                "items": [it.item_id for it in items],
                "object_ids": obj_ids,
            },
        )
    verified: list[int] = []
    if data.result == "pass":
        verified = _verify_rectifications(session, a, written)
    session.flush()
    return {
        "assessment_id": a.id,
        "result": data.result,
        "created": len(new_rows),
        "updated": len(changed),
        "unchanged": unchanged,
        "verified_rectifications": verified,
    }


# --- evidence ----------------------------------------------------------------------------------------------


def evidence_root() -> Path:
    return Path(get_settings().data_dir).resolve() / "evidence"


def evidence_path(sha256: str) -> Path:
    return evidence_root() / sha256[:2] / sha256


def attach_evidence(
    session: Session, *, result_id: int, source: Path, filename: str | None = None
) -> Evidence:
    """Store a file as evidence of a result: copied under ``data_dir/evidence/`` by its SHA-256 (one copy
    per content), over the upload limit (``CIIMAP_MAX_UPLOAD_MB``) refused with nothing stored."""
    r = session.get(ItemResult, result_id)
    if r is None:
        raise NotFound(f"result {result_id} does not exist")
    _open(session, r.assessment_id)
    try:
        size = source.stat().st_size
    except OSError as e:
        raise Invalid(f"{source}: cannot read the evidence file ({e.strerror or e})") from None
    if size > uploads.limit_bytes():
        raise TooLarge(f"{filename or source.name}: {uploads.too_large_message()}")
    root = evidence_root()
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{secrets.token_hex(8)}"
    h = hashlib.sha256()
    total = 0
    try:
        with source.open("rb") as src, tmp.open("xb") as out:
            while chunk := src.read(_CHUNK):
                total += len(chunk)
                if total > uploads.limit_bytes():  # grew while being read
                    raise TooLarge(f"{filename or source.name}: {uploads.too_large_message()}")
                h.update(chunk)
                out.write(chunk)
        digest = h.hexdigest()
        final = evidence_path(digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    ev = Evidence(
        result_id=r.id,
        filename=uploads.safe_name(filename or source.name, "evidence"),
        sha256=digest,
        size=total,
        uploaded_by=str((session.info.get("actor") or audit.current_actor()).name),
    )
    session.add(ev)
    session.flush()
    return ev


def evidence_file(session: Session, *, evidence_id: int) -> tuple[Path, str]:
    ev = session.get(Evidence, evidence_id)
    if ev is None:
        raise NotFound(f"evidence {evidence_id} does not exist")
    path = evidence_path(ev.sha256)
    if not path.is_file():
        raise NotFound(
            f"evidence {evidence_id}: the stored file {ev.sha256} is missing from {evidence_root()}"
        )
    return path, ev.filename


# --- risks -------------------------------------------------------------------------------------------------


def _risk_out(rk: Risk, item_id: str | None, links: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": rk.id,
        "assessment_id": rk.assessment_id,
        "level": rk.level,
        "item_id": item_id,
        "object_id": rk.object_id,
        "description": rk.description,
        "compensating": rk.compensating,
        "links": links,
    }


def add_risk(session: Session, *, assessment_id: int, data: RiskIn) -> dict[str, Any]:
    """An entry of the risk register (高 / 中 / 低), optionally on an item and a test object."""
    a = _open(session, assessment_id)
    item = _item(session, a, data.item) if data.item else None
    if data.object_id is not None:
        _object(session, a, data.object_id)
    rk = Risk(
        assessment_id=a.id,
        item_row_id=item.id if item else None,
        object_id=data.object_id,
        level=data.level,
        description=data.description,
        compensating=data.compensating,
    )
    session.add(rk)
    session.flush()
    _add_links(session, "risk", rk.id, data.links)
    session.flush()
    return _risk_out(rk, item.item_id if item else None, links_of(session, "risk", [rk.id]).get(rk.id, []))


def delete_risk(session: Session, *, assessment_id: int, risk_id: int) -> None:
    a = _open(session, assessment_id)
    rk = session.get(Risk, risk_id)
    if rk is None or rk.assessment_id != a.id:
        raise NotFound(f"risk {risk_id} does not exist in assessment {a.id}")
    session.delete(rk)
    session.flush()


def _risks(session: Session, assessment_id: int) -> list[dict[str, Any]]:
    rows = list(
        session.execute(
            select(Risk, AssessmentItem.item_id)
            .outerjoin(AssessmentItem, AssessmentItem.id == Risk.item_row_id)
            .where(Risk.assessment_id == assessment_id)
            .order_by(Risk.id)
        ).tuples()
    )
    links = links_of(session, "risk", [rk.id for rk, _ in rows])
    return [_risk_out(rk, item_id, links.get(rk.id, [])) for rk, item_id in rows]


def _risk_counts(session: Session, assessment_id: int) -> Counter[str]:
    return Counter(
        dict(
            list(
                session.execute(
                    select(Risk.level, func.count())
                    .where(Risk.assessment_id == assessment_id)
                    .group_by(Risk.level)
                ).tuples()
            )
        )
    )


# --- reading -----------------------------------------------------------------------------------------------


def _select() -> Any:
    items = (
        select(func.count())
        .where(AssessmentItem.assessment_id == Assessment.id)
        .correlate(Assessment)
        .scalar_subquery()
    )
    objects = (
        select(func.count())
        .where(TestObject.assessment_id == Assessment.id)
        .correlate(Assessment)
        .scalar_subquery()
    )
    return select(Assessment, inv.System.name, items, objects).join(
        inv.System, inv.System.id == Assessment.system_id
    )


def _out(a: Assessment, system: str, items: int, objects: int) -> dict[str, Any]:
    return {
        "id": a.id,
        "system_id": a.system_id,
        "system": system,
        "grading_id": a.grading_id,
        "cycle": a.cycle,
        "kind": a.kind,
        "body": a.body,
        "state": a.state,
        "catalog": a.catalog,
        "catalog_version": a.catalog_version,
        "level": a.level,
        "s_level": a.s_level,
        "a_level": a.a_level,
        "extensions": list(a.extensions or []),
        "level_source": a.level_source,
        "started_on": a.started_on,
        "next_due": a.next_due,
        "closed_on": a.closed_on,
        "score": a.score,
        "conclusion": a.conclusion,
        "high_risks": a.high_risks,
        "medium_risks": a.medium_risks,
        "profile": a.profile,
        "notes": a.notes,
        "items": int(items),
        "objects": int(objects),
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    }


def list_assessments(
    session: Session, *, system_id: int | None = None, state: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    """Assessments, newest first per system name."""
    check_choice("state", state, ASSESSMENT_STATES)
    check_choice("kind", kind, ASSESSMENT_KINDS)
    q = _select().order_by(inv.System.name, Assessment.started_on.desc(), Assessment.id.desc())
    if system_id is not None:
        if session.get(inv.System, system_id) is None:
            raise NotFound(f"system {system_id} does not exist")
        q = q.where(Assessment.system_id == system_id)
    if state is not None:
        q = q.where(Assessment.state == state)
    if kind is not None:
        q = q.where(Assessment.kind == kind)
    return [_out(*row) for row in session.execute(q).tuples()]


def describe(session: Session, *, assessment_id: int) -> dict[str, Any]:
    """One assessment: its fields, result counts, test objects and risk register."""
    row = session.execute(_select().where(Assessment.id == assessment_id)).tuples().first()
    if row is None:
        raise NotFound(f"assessment {assessment_id} does not exist")
    out = _out(*row)
    counts = dict(
        list(
            session.execute(
                select(ItemResult.result, func.count())
                .where(ItemResult.assessment_id == assessment_id)
                .group_by(ItemResult.result)
            ).tuples()
        )
    )
    out["results"] = {code: int(counts.get(code, 0)) for code in RESULT_CODES}
    out["unset"] = out["items"] * out["objects"] - sum(out["results"].values())
    out["test_objects"] = [
        {
            "id": o.id,
            "assessment_id": o.assessment_id,
            "kind": o.kind,
            "asset_id": o.asset_id,
            "name": o.name,
            "description": o.description,
        }
        for o in session.scalars(
            select(TestObject).where(TestObject.assessment_id == assessment_id).order_by(TestObject.id)
        )
    ]
    out["risks"] = _risks(session, assessment_id)
    return out


def _cp_key(part: str, category: str, control_point: str) -> str:
    return f"{part}:{category}/{control_point}"


def items(
    session: Session,
    *,
    assessment_id: int,
    category: str | None = None,
    result: str | None = None,
    object_id: int | None = None,
) -> list[dict[str, Any]]:
    """The workspace grid: every item (narrowed by category; by ``result``, one of the result codes or
    ``unset``: items with such a result on some object) with its results per test object (narrowed by
    ``object_id``) and its score. Two queries whatever the size."""
    check_choice("result", result, (*RESULT_CODES, "unset"))
    a = _get(session, assessment_id)
    q = select(
        AssessmentItem.id,
        AssessmentItem.item_id,
        AssessmentItem.item_key,
        AssessmentItem.level,
        AssessmentItem.part,
        AssessmentItem.category,
        AssessmentItem.control_point,
        AssessmentItem.kind,
    ).where(AssessmentItem.assessment_id == a.id)
    if category is not None:
        q = q.where(AssessmentItem.category == category)
    item_rows = list(session.execute(q.order_by(AssessmentItem.ordinal)))
    rq = select(
        ItemResult.item_row_id,
        ItemResult.id,
        ItemResult.object_id,
        ItemResult.result,
        ItemResult.method,
        ItemResult.assessor,
        ItemResult.notes,
    ).where(ItemResult.assessment_id == a.id)
    if object_id is not None:
        rq = rq.where(ItemResult.object_id == object_id)
    cells: dict[int, list[dict[str, Any]]] = defaultdict(list)
    keys = ("id", "object_id", "result", "method", "assessor", "notes")
    for row_id, *cell in session.execute(rq.order_by(ItemResult.item_row_id, ItemResult.object_id)).tuples():
        cells[row_id].append(dict(zip(keys, cell, strict=True)))
    n_objects = None
    if result == "unset":
        n_objects = (
            1
            if object_id is not None
            else session.scalar(select(func.count()).where(TestObject.assessment_id == a.id)) or 0
        )
    values = scoring.load_profile().spec.values
    out = []
    for it in item_rows:
        rs = cells.get(it.id, [])
        if result == "unset" and len(rs) >= (n_objects or 0):
            continue
        if result not in (None, "unset") and not any(c["result"] == result for c in rs):
            continue
        scored = [values[c["result"]] for c in rs if c["result"] != "na"]  # type: ignore[index]
        out.append(
            {
                "id": it.item_id,
                "key": it.item_key,
                "level": it.level,
                "part": it.part,
                "category": it.category,
                "control_point": it.control_point,
                "kind": it.kind,
                "score": sum(scored) / len(scored) if scored else None,
                "results": rs,
            }
        )
    return out


def score(session: Session, *, assessment_id: int) -> dict[str, Any]:
    """Scores by the profile in force, the risk counts and the conclusion they give now."""
    a = _get(session, assessment_id)
    item_rows = list(
        session.execute(
            select(
                AssessmentItem.id, AssessmentItem.part, AssessmentItem.category, AssessmentItem.control_point
            )
            .where(AssessmentItem.assessment_id == a.id)
            .order_by(AssessmentItem.ordinal)
        ).tuples()
    )
    results = session.execute(
        select(ItemResult.item_row_id, ItemResult.result).where(ItemResult.assessment_id == a.id)
    ).tuples()
    profile = scoring.load_profile()
    s = scoring.score([(i, _cp_key(p, c, cp)) for i, p, c, cp in item_rows], results, profile)
    risks = _risk_counts(session, a.id)
    cps: dict[str, dict[str, Any]] = {}
    for i, p, c, cp in item_rows:
        key = _cp_key(p, c, cp)
        entry = cps.setdefault(
            key,
            {
                "part": p,
                "category": c,
                "control_point": cp,
                "items": 0,
                "items_scored": 0,
                "score": s["control_points"][key],
            },
        )
        entry["items"] += 1
        entry["items_scored"] += s["items"][i] is not None
    conclusion = (
        scoring.conclude(s["score"], risks["high"], risks["medium"], profile)["conclusion"]
        if s["score"] is not None
        else None
    )
    return {
        "assessment_id": a.id,
        "profile": s["profile"],
        "score": s["score"],
        "conclusion": conclusion,
        "high_risks": risks["high"],
        "medium_risks": risks["medium"],
        "results": s["results"],
        "items_scored": s["items_scored"],
        "items_total": s["items_total"],
        "control_points": list(cps.values()),
    }


def close(session: Session, *, assessment_id: int, closed_on: dt.date | None = None) -> Assessment:
    """Close an assessment: its score, risk counts, conclusion and profile are kept; results are fixed."""
    a = _get(session, assessment_id, lock=True)
    if a.state != "open":
        raise Conflict(f"assessment {a.id} is already closed")
    s = score(session, assessment_id=a.id)
    if s["score"] is None:
        raise Invalid(f"assessment {a.id} has no scored result yet: nothing to conclude")
    day = closed_on or grading._today()
    if day > grading._today():
        raise Invalid(f"closed_on {day.isoformat()} is in the future")
    if day < a.started_on:
        raise Invalid(f"closed_on {day.isoformat()} is before the start ({a.started_on.isoformat()})")
    a.state, a.closed_on = "closed", day
    a.score, a.conclusion, a.profile = s["score"], s["conclusion"], s["profile"]
    a.high_risks, a.medium_risks = s["high_risks"], s["medium_risks"]
    session.flush()
    return a
